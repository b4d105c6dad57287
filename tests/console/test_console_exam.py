"""``/exam`` in the console: set, show and clear, the server's exam with --server."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from bot.console.app import console_learner
from bot.console.commands import console_app
from bot.console.exam import exam_commands, split_date
from bot.errors import BadInput
from bot.services.container import Services
from tests.console.test_console_app import feed


async def test_exam_set_show_clear(services: Services, tmp_path: Path) -> None:
    out = io.StringIO()
    app = console_app(services, user="tester", data_dir=tmp_path, out=out)
    assert "No exam set" in await feed(app, out, "/exam")
    shown = await feed(app, out, "/exam set Jan 25 tensorflow-training-basics")
    assert "Exam in 20 days — Sun 25 Jan" in shown and "New cards" in shown
    assert "Deck tensorflow-training-basics" in await feed(app, out, "/exam")
    assert "Server exam set" in await feed(app, out, "/exam set 2026-03-01 --server")
    assert "Exam in 20 days" in await feed(app, out, "/exam show")  # own wins
    assert "Exam cleared" in await feed(app, out, "/exam clear")
    assert "Exam in 55 days" in await feed(app, out, "/exam")
    assert "Exam cleared" in await feed(app, out, "/exam clear --server")
    assert "No exam set" in await feed(app, out, "/exam")
    assert "couldn't read" in await feed(app, out, "/exam set someday")
    assert "/exam set 2027-01-15" in await feed(app, out, "/exam dance")
    assert "/exam" in await feed(app, out, "/help")


def test_split_date() -> None:
    assert split_date(["2027-01-15"]) == ("2027-01-15", None)
    assert split_date(["2027-01-15", "bio"]) == ("2027-01-15", "bio")
    assert split_date(["15", "Jan", "bio"]) == ("15 Jan", "bio")
    assert split_date(["Jan", "15"]) == ("Jan 15", None)
    with pytest.raises(BadInput):
        split_date([])


async def test_usage_for_stray_words(services: Services) -> None:
    command = exam_commands(services.exam)["/exam"]
    with pytest.raises(BadInput, match="--server"):
        await command(console_learner("tester"), ["clear", "now"])
    with pytest.raises(BadInput, match="--server"):
        await command(console_learner("tester"), ["--server"])
