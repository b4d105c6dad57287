"""End to end: typed questions in ``python -m bot console`` with piped input."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.console.test_console_e2e import run_console

pytestmark = pytest.mark.slow

DECK = """\
deck: trivia
title: Typed trivia
items:
  - id: capital-of-france
    kind: typed
    question: What is the capital of France?
    answers: [Paris]
    hint: City of light.
    image: eiffel.png
  - id: backprop-computes
    kind: typed
    question: What does backpropagation compute?
    answers: [gradient]
    explanation: The gradient of the loss for every weight.
  - id: half
    kind: typed
    question: Half of one, as a number?
    answers: ["0.5"]
    fractions: true
"""


def test_typed_questions_are_answered_by_typing(tmp_path: Path) -> None:
    content = tmp_path / "content"
    content.mkdir()
    (content / "trivia.yaml").write_text(DECK, encoding="utf-8")
    script = "\n".join(["/review", "hint", "  PARIS ", "next", "gradiant", "next", "2/3", "/quit"])
    result = run_console(tmp_path, script + "\n", ("CONTENT_DIR", str(content)))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Traceback" not in out + result.stderr
    first, second, third = out.split("── Question · trivia · medium ──")[1:4]
    assert "What is the capital of France?\n🖼 " in first and "/media/eiffel.png\n" in first
    assert "→ Type your answer — or hint" in first
    assert "💡 Hint:\n  City of light." in second and "── ✅ Correct ──\nParis" in second
    assert "── ✅ Close enough: *gradient* ──" in third
    assert "You typed “gradiant”\nThe answer is gradient" in third
    assert "The gradient of the loss for every weight." in third
    assert "── ❌ Not quite ──\nYou typed “2/3”\nThe answer is 0.5" in out
    with sqlite3.connect(tmp_path / "tutor.db") as conn:
        rows = conn.execute("SELECT mode, answer, correct, rating FROM attempts ORDER BY id")
        assert rows.fetchall() == [
            ("review", "PARIS", 1, 3),
            ("review", "gradiant", 1, 3),
            ("review", "2/3", 0, 1),
        ]
