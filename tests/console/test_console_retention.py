"""``/me retention`` and ``/settings retention`` in the console: the workload preview, then
"Type yes to save"."""

from __future__ import annotations

import io
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bot import PROJECT_ROOT
from bot.console.app import LOCAL_GUILD_ID, ConsoleApp, console_learner
from bot.console.me import me_commands
from bot.services.member_settings import MemberSettingsService, WorkloadEstimates
from bot.services.server_settings import ServerSettingsService
from bot.services.study import StudyServices
from bot.services.study_context import FROM_MEMBER, FROM_SERVER
from tests.console.test_console_questions import feed


def fake_reviews(retention: float) -> float:
    return round(retention * 100) - 60.0


def make_app(study: StudyServices) -> ConsoleApp:
    ctx = study.context
    server = ServerSettingsService(ctx.db, clock=ctx.clock, retentions=ctx.retentions)
    service = MemberSettingsService(
        ctx, server_settings=server, workloads=WorkloadEstimates(fake_reviews)
    )
    return ConsoleApp(
        study, console_learner("alice"), out=io.StringIO(), commands=me_commands(service)
    )


async def test_a_value_is_previewed_and_saved_only_after_yes(study: StudyServices) -> None:
    app = make_app(study)
    learner = app.learner
    shown = await feed(app, "/me retention")
    assert "Your desired retention is 90% (the bot's default)." in shown
    preview = await feed(app, "/me retention 85%")
    assert "At 85% you'd do about 25 reviews a day for 500 cards, vs 30 at 90%." in preview
    assert "Type yes to save 85%" in preview
    assert (await study.context.retention_for(learner)).source != FROM_MEMBER
    again = await feed(app, "maybe")
    assert "! Type yes to save 85%" in again
    saved = await feed(app, "yes")
    assert "Desired retention saved: 85%" in saved
    effective = await study.context.retention_for(learner)
    assert (effective.value, effective.source) == (0.85, FROM_MEMBER)
    declined = await feed(app, "/me retention 0.9", "no")
    assert "Nothing changed" in declined
    assert (await study.context.retention_for(learner)).value == 0.85
    reset = await feed(app, "/me retention reset")
    assert "Desired retention reset" in reset and "90%" in reset


async def test_the_console_user_sets_their_local_servers_retention(
    study: StudyServices,
) -> None:
    app = make_app(study)
    assert app.learner.guild_id == LOCAL_GUILD_ID
    saved = await feed(app, "/settings retention 80", "yes")
    assert "Desired retention saved: 80%" in saved
    effective = await study.context.retention_for(app.learner)
    assert (effective.value, effective.source) == (0.8, FROM_SERVER)
    assert "80% (set here)" in await feed(app, "/settings retention")
    cancelled = await feed(app, "/settings retention 75", "/cancel")
    assert "nothing was saved" in cancelled


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("/me retention 101", "between 70% and 97%"),
        ("/me retention lots", "isn't a retention"),
        ("/me", "Type /me retention"),
        ("/me retention 85 90", "Type /me retention"),
        ("/settings timezone UTC", "The console has /settings retention"),
        ("/settings retention reset", "Type a value for the server"),
    ],
)
async def test_bad_lines_say_what_to_type(study: StudyServices, line: str, message: str) -> None:
    app = make_app(study)
    printed = await feed(app, line)
    assert printed.startswith("! ") and message in printed


@pytest.mark.slow
def test_the_real_console_previews_with_the_simulation_and_saves(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'tutor.db'}",
        "PYTHONPATH": str(PROJECT_ROOT),
    }
    env.pop("DISCORD_TOKEN", None)
    result = subprocess.run(
        [sys.executable, "-m", "bot", "console", "--user", "tester"],
        input="/settings retention 85\nyes\n/me retention\n/help\n/quit\n",
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    assert "At 85% you'd do about " in result.stdout
    assert "reviews a day for 500 cards, vs " in result.stdout
    assert "Desired retention saved: 85%" in result.stdout
    assert "85% (this server's setting)" in result.stdout
    assert "/me retention [value|reset]" in result.stdout
    with sqlite3.connect(tmp_path / "tutor.db") as conn:
        rows = conn.execute("SELECT desired_retention FROM guilds").fetchall()
    assert rows == [(0.85,)]
