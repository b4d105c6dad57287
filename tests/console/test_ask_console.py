"""End to end: ``/ask`` in the offline console (a subprocess with piped input)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.console.test_console_e2e import run_console

pytestmark = pytest.mark.slow

SESSION = [
    "/ask Which function tells us how bad the model's predictions are?",
    "quiz",
    "A",
    "/ask What role does the loss play in training?",
    "worked",
    "hint",
    "/ask and why does it go down?",
    "/ask how do I bake sourdough bread?",
    "/ask",
    "/help",
    "/quit",
]


def blocks(out: str) -> list[str]:
    """The console's output, one block per reply (blocks start with a ``──`` title)."""
    return out.split("\n── ")


def test_ask_answers_quizzes_and_shows_worked_problems(tmp_path: Path) -> None:
    result = run_console(tmp_path, "\n".join(SESSION) + "\n")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    out = result.stdout
    replies = blocks(out)
    first = next(r for r in replies if "Which function tells us" in r)
    assert first.startswith("From tensorflow-training-basics")
    assert "The question this comes from" in first and "Loss function" in first
    assert "Type quiz (Quiz me on this), worked (Show a worked problem)" in first
    assert "✅ Correct" in out
    assert "── Practice · tensorflow-training-basics" in out and "Hint:" in out
    assert out.count("The question this comes from") == 3  # the follow-up was answered too
    assert "I couldn't find that in this server's study material" in out and "/decks" in out
    assert "Ask me a question about your decks" in out
    assert "/ask <question>" in out
    with sqlite3.connect(tmp_path / "tutor.db") as conn:
        modes = conn.execute("SELECT mode, correct FROM attempts ORDER BY id").fetchall()
    assert modes == [("quiz", 1)]
