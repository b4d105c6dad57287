"""The console adapter in-process: typed keys, bad input and rendering."""

from __future__ import annotations

import io
import sqlite3

import pytest

from bot.console.app import ConsoleApp
from bot.console.render import render_reply
from bot.core.learners import Learner
from bot.core.replies import Choice, Reply, ReplyField
from bot.services.study import StudyServices
from bot.storage.answer_store import SqliteAnswerStore


def make_app(study: StudyServices, learner: Learner) -> tuple[ConsoleApp, io.StringIO]:
    out = io.StringIO()
    return ConsoleApp(study, learner, out=out), out


async def feed(app: ConsoleApp, out: io.StringIO, line: str) -> str:
    start = out.tell()
    await app.handle_line(line)
    out.seek(start)
    text = out.read()
    out.seek(0, io.SEEK_END)
    return text


async def test_unknown_command_and_stray_text(study: StudyServices, alice: Learner) -> None:
    app, out = make_app(study, alice)
    assert "Unknown command /dance" in await feed(app, out, "/dance")
    assert "Start with a command" in await feed(app, out, "B")


async def test_letter_out_of_range_then_a_valid_answer(
    study: StudyServices, alice: Learner
) -> None:
    app, out = make_app(study, alice)
    await feed(app, out, "/quiz")
    assert "F isn't an option here. Pick one of A–D." in await feed(app, out, "F")
    answered = await feed(app, out, "b")
    assert "Correct" in answered or "Not quite" in answered
    assert "already answered" in await feed(app, out, "B")


async def test_stats_mid_question_keeps_the_question_open(
    study: StudyServices, alice: Learner
) -> None:
    app, out = make_app(study, alice)
    await feed(app, out, "/quiz")
    assert "Stats" in await feed(app, out, "/stats")
    answered = await feed(app, out, "A")
    assert "Correct" in answered or "Not quite" in answered


async def test_empty_explanation_is_refused_then_accepted(
    study: StudyServices, alice: Learner
) -> None:
    app, out = make_app(study, alice)
    await feed(app, out, "/explain")
    assert "answer is empty" in await feed(app, out, "")
    result = await feed(app, out, "The loss measures error and the optimizer updates weights")
    assert "concepts" in result


async def test_quit_stops(study: StudyServices, alice: Learner) -> None:
    app, _out = make_app(study, alice)
    assert await app.handle_line("/quit") is False


def test_render_shows_code_fields_and_choices() -> None:
    reply = Reply(
        title="Question",
        text="What **prints**?",
        code="print(1)",
        fields=(ReplyField("Accuracy", "80%", inline=True), ReplyField("Solution", "1. Run it.")),
        choices=(Choice("A", "A", "an:1:0"), Choice("B", "B", "an:1:1")),
        footer="Pick A–B.",
    )
    text = render_reply(reply)
    assert "What prints?" in text and "    print(1)" in text
    assert "Accuracy: 80%" in text and "Solution:\n  1. Run it." in text
    assert text.endswith("→ Type A, B")


async def test_a_locked_database_gets_one_clear_line_and_loses_nothing(
    study: StudyServices, alice: Learner
) -> None:
    store = study.answers.store
    if not isinstance(store, SqliteAnswerStore):
        pytest.skip("the lock is SQLite's")
    app, out = make_app(study, alice)
    await feed(app, out, "/quiz")
    # Another program holds the write lock for longer than the busy timeout.
    blocker = sqlite3.connect(store.lane.path, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        refused = await feed(app, out, "A")
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert refused.startswith("! ") and "busy" in refused and "Traceback" not in refused
    answered = await feed(app, out, "A")  # the same answer, once the lock is gone
    assert "Correct" in answered or "Not quite" in answered
