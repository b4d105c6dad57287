"""The charts: ``/stats`` (answers per day and accuracy) and ``/forecast`` (reviews due per
day), as PNGs.

matplotlib is imported inside the drawing functions (it takes a moment to import and only the
charts need it) and always draws with the Agg backend, so no display is needed. Drawing takes
tens of milliseconds: async callers run it with ``asyncio.to_thread``.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING

from bot.core.forecast import DueDay
from bot.core.stats import DayActivity
from bot.log import get_logger

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

log = get_logger(__name__)

#: The chart's size in pixels (width, height); the PNG is exactly this big.
CHART_SIZE_PX = (800, 400)
_DPI = 100
_BAR_COLOUR = "#93c5fd"
_LINE_COLOUR = "#1d4ed8"


def _day_bars(
    days: Sequence[date],
    counts: Sequence[int],
    *,
    size_px: tuple[int, int],
    ylabel: str,
    headroom: float,
    day_format: str,
    colours: Sequence[str] | str = _BAR_COLOUR,
    label: str | None = None,
) -> tuple[Figure, Axes]:
    """A figure of one bar per day, with integer counts and about ten day labels."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    width, height = size_px
    figure = Figure(figsize=(width / _DPI, height / _DPI), dpi=_DPI)
    FigureCanvasAgg(figure)
    bars = figure.add_subplot(1, 1, 1)
    positions = list(range(len(days)))
    bars.bar(positions, list(counts), color=colours, label=label)
    bars.set_ylabel(ylabel)
    bars.set_ylim(0, max([*counts, 1]) * headroom)
    bars.yaxis.set_major_locator(MaxNLocator(integer=True))
    step = max(1, math.ceil(len(days) / 10))
    bars.set_xticks(positions[::step])
    bars.set_xticklabels([day.strftime(day_format) for day in days][::step], fontsize=8)
    bars.set_xlim(-0.6, len(days) - 0.4)
    bars.grid(True, axis="y", alpha=0.3)
    return figure, bars


def _png(figure: Figure, what: str) -> bytes:
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=_DPI)
    data = buffer.getvalue()
    width, height = figure.canvas.get_width_height()
    log.debug("drew a %dx%d %s chart (%d bytes)", width, height, what, len(data))
    return data


def activity_chart_png(
    days: Sequence[DayActivity],
    *,
    title: str = "Last 30 days",
    size_px: tuple[int, int] = CHART_SIZE_PX,
) -> bytes:
    """A PNG of answers per day (bars, left axis) and accuracy in % (line, right axis).

    Days without answers have no accuracy point, so the line only joins days with answers.
    The image is exactly ``size_px`` pixels (no tight bounding box).
    """
    figure, bars = _day_bars(
        [day.day for day in days],
        [day.answered for day in days],
        size_px=size_px,
        ylabel="answers",
        headroom=1.25,
        day_format="%d %b",
        label="answers",
    )
    positions = list(range(len(days)))
    accuracy = bars.twinx()
    values = [day.accuracy_percent for day in days]
    accuracy.plot(
        [p for p, v in zip(positions, values, strict=True) if v is not None],
        [v for v in values if v is not None],
        color=_LINE_COLOUR,
        marker="o",
        markersize=3,
        linewidth=2,
        label="accuracy %",
    )
    accuracy.set_ylim(0, 125)
    accuracy.set_yticks([0, 25, 50, 75, 100])
    accuracy.set_ylabel("accuracy %")
    bars.set_title(title, fontsize=11)
    bar_handles, bar_labels = bars.get_legend_handles_labels()
    line_handles, line_labels = accuracy.get_legend_handles_labels()
    bars.legend(
        bar_handles + line_handles,
        bar_labels + line_labels,
        loc="upper left",
        fontsize=8,
        ncols=2,
        framealpha=0.8,
    )
    return _png(figure, "activity")


def forecast_chart_png(
    days: Sequence[DueDay],
    *,
    title: str = "Next 30 days",
    size_px: tuple[int, int] = CHART_SIZE_PX,
) -> bytes:
    """A PNG of the reviews due per local day (bars); the first bar, today, is darker.

    Today's bar also holds the overdue reviews. The image is exactly ``size_px`` pixels.
    """
    figure, bars = _day_bars(
        [day.day for day in days],
        [day.due for day in days],
        size_px=size_px,
        ylabel="reviews due",
        headroom=1.15,
        day_format="%a %d %b",
        colours=[_LINE_COLOUR if index == 0 else _BAR_COLOUR for index in range(len(days))],
    )
    bars.set_title(title, fontsize=11)
    return _png(figure, "forecast")
