"""``/forecast`` in the console: wired by ``console_app``, the chart saved as a file."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from bot.console.app import console_learner
from bot.console.commands import console_app, forecast_command
from bot.core.forecast import NOTHING_TO_FORECAST
from bot.errors import BadInput
from bot.services.container import Services
from bot.services.forecast import ForecastService
from bot.services.study import StudyServices
from tests.console.test_console_app import feed


async def test_forecast_before_and_after_studying(services: Services, tmp_path: Path) -> None:
    out = io.StringIO()
    app = console_app(services, user="tester", data_dir=tmp_path, out=out)
    assert NOTHING_TO_FORECAST in await feed(app, out, "/forecast")
    assert not (tmp_path / "charts").exists()

    await feed(app, out, "/quiz")
    await feed(app, out, "A")
    shown = await feed(app, out, "/forecast")
    assert "Forecast" in shown and "Today " in shown
    assert "Recall now" in shown and "At risk this week" in shown
    assert "forecast.png" in shown
    [chart] = (tmp_path / "charts").glob("*forecast*.png")
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "/forecast" in await feed(app, out, "/help")


async def test_forecast_takes_no_options(study: StudyServices) -> None:
    command = forecast_command(ForecastService(study.context))
    with pytest.raises(BadInput, match="no options"):
        await command(console_learner("tester"), ["week"])
