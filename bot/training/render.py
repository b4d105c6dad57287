"""Turn a :class:`TrainResult` into a neutral :class:`Reply` (no TensorFlow).

:func:`loss_curve_png` draws with matplotlib's Agg backend, imported lazily; it takes tens
of milliseconds, so async callers should use :func:`render_train_result_async`, which
runs the drawing in a thread.
"""

from __future__ import annotations

import asyncio
import io
import math

from bot.core.replies import Image, Reply, ReplyBuilder, Tone
from bot.training.jobs import OPTIMIZER_LABELS, TrainResult, Weights

#: Weight lists longer than this are shortened in replies.
_MAX_SHOWN_VALUES = 4


def _num(value: float) -> str:
    """A compact number: 4 significant digits, no exponent for everyday sizes."""
    if value == 0:
        return "0"
    if 1e-4 <= abs(value) < 1e6:
        return f"{value:.4g}"
    return f"{value:.3e}"


def _weights(weights: Weights) -> str:
    parts = []
    for name, values in weights.items():
        shown = [_num(v) for v in values[:_MAX_SHOWN_VALUES]]
        if len(values) > _MAX_SHOWN_VALUES:
            shown.append("…")
        text = shown[0] if len(values) == 1 else "[" + ", ".join(shown) + "]"
        parts.append(f"{name} = {text}")
    return ", ".join(parts)


def _change(result: TrainResult) -> str:
    change = result.loss_change
    if change is None:
        return ""
    text = ("+" if change > 0 else "") + _num(change)
    if result.loss_before:
        text += f" ({change / result.loss_before * 100:+.1f}%)"
    return text


def warming_up_text(seconds: int) -> str:
    """The notice while a job waits for the lab to start: ``"Warming up the lab — about
    8 s…"``."""
    return f"Warming up the lab — about {max(1, seconds)} s…"


def train_title(result: TrainResult) -> str:
    """``"Training: single-step (SGD, lr 0.1)"``."""
    label = OPTIMIZER_LABELS.get(result.optimizer, result.optimizer)
    return f"Training: {result.preset} ({label}, lr {result.lr:g})"


def render_train_result(result: TrainResult, *, with_image: bool = True) -> Reply:
    """A short, friendly reply: losses, weights (tiny models), time and a loss curve.

    The loss-curve PNG is attached when more than one step ran (``with_image=False``
    skips drawing it). A job that waited for the lab to start shows a "Warm-up" field.
    """
    builder = ReplyBuilder(title=train_title(result))
    steps_word = "step" if result.steps == 1 else "steps"
    if result.diverged:
        builder.tone = Tone.WARNING
        builder.text = (
            f"Diverged — try a smaller learning rate. The loss became NaN or infinite "
            f"after step {result.diverged_at_step} of {result.steps}, so training stopped."
        )
        builder.add_field("Loss before", _num(result.loss_before), inline=True)
        builder.add_field("Loss after", "diverged (NaN or infinite)", inline=True)
        if len(result.losses) > 1:
            builder.add_field("Last finite loss", _num(result.losses[-1]), inline=True)
    else:
        after = result.loss_after if result.loss_after is not None else result.loss_before
        improved = after < result.loss_before
        builder.tone = Tone.SUCCESS if improved else Tone.INFO
        if result.preset == "no-apply":
            builder.tone = Tone.INFO
        builder.text = result.note
        builder.add_field("Loss before", _num(result.loss_before), inline=True)
        builder.add_field("Loss after", _num(after), inline=True)
        builder.add_field("Change", _change(result) or "0", inline=True)
    if result.weights_before is not None:
        builder.add_field("Weights before", _weights(result.weights_before))
        after_w = result.weights_after
        if after_w is not None:
            same = after_w == result.weights_before
            builder.add_field("Weights after", _weights(after_w) + (" (unchanged)" if same else ""))
    builder.add_field("Time", f"{result.elapsed_ms:.0f} ms", inline=True)
    if result.warm_up_s is not None:
        builder.add_field(
            "Warm-up", f"{result.warm_up_s:.1f} s (the lab started first)", inline=True
        )
    builder.footer = f"{result.steps} {steps_word} · seed {result.seed}"
    reply = builder.build()
    if with_image and result.steps > 1 and len(result.losses) > 1:
        png = loss_curve_png(result.losses, title=train_title(result))
        reply = Reply(
            text=reply.text,
            title=reply.title,
            tone=reply.tone,
            fields=reply.fields,
            footer=reply.footer,
            image=Image(
                filename="loss_curve.png",
                data=png,
                description=f"Loss over {len(result.losses) - 1} steps",
            ),
        )
    return reply


async def render_train_result_async(result: TrainResult) -> Reply:
    """:func:`render_train_result` in a worker thread (drawing must not block the loop)."""
    return await asyncio.to_thread(render_train_result, result)


def loss_curve_png(losses: list[float], *, title: str = "Loss") -> bytes:
    """A small PNG line chart of ``losses`` (index = steps taken).

    Uses a log scale when the values span more than two orders of magnitude.
    """
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    values = [v for v in losses if math.isfinite(v)]
    figure = Figure(figsize=(5.0, 3.0), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot(1, 1, 1)
    axes.plot(range(len(values)), values, color="#3b82f6", linewidth=2)
    axes.set_xlabel("step")
    axes.set_ylabel("loss (MSE)")
    axes.set_title(title, fontsize=10)
    axes.grid(True, alpha=0.3)
    positive = [v for v in values if v > 0]
    if len(positive) == len(values) and positive and max(positive) / min(positive) > 100:
        axes.set_yscale("log")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
