"""End to end: ``/review mistakes`` and ``tag:`` filters in ``python -m bot console``."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from tests.console.test_console_e2e import run_console

pytestmark = pytest.mark.slow

DECK = """
deck: chem-deck
title: Chemistry
description: Two questions, one tagged.
items:
  - id: atom-card
    kind: flashcard
    front: What is an atom?
    back: The smallest unit of an element.
    tags: [Chem, week-1]
  - id: atom-quiz
    kind: mcq
    question: What is in an atom's nucleus?
    options: [Protons and neutrons, Electrons]
    answer: A
    explanation: Electrons orbit the nucleus.
    difficulty: easy
    tags: [chem]
  - id: plain-quiz
    kind: mcq
    question: An untagged question?
    options: ["Yes", "No"]
    answer: A
    explanation: It has no tags.
    difficulty: easy
"""

SESSION = [
    "/review mistakes",
    "/quiz tag:CHEM",
    "B",
    "/stats",
    "/review mistakes",
    "A",
    "next",
    "A",
    "next",
    "/quiz tag:physics",
    "/review tag:chem",
    "reveal",
    "good",
    "next",
    "/review everything",
    "/practice tag:chem",
    "/quit",
]


def test_mistakes_and_tags_in_the_console(tmp_path: Path) -> None:
    content = tmp_path / "decks"
    content.mkdir()
    (content / "chem-deck.yaml").write_text(DECK, encoding="utf-8")
    result = run_console(tmp_path, "\n".join(SESSION) + "\n", ("CONTENT_DIR", str(content)))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Traceback" not in out + result.stderr
    blocks = re.split(r"\n(?=── )", out)
    # Nothing missed yet.
    assert "Nothing to retry — you got everything right the last two times. 🎉" in out
    # The tagged quiz asks the tagged question; B is wrong.
    assert "What is in an atom's nucleus?" in out and "Not quite" in out
    assert "Mistakes to retry: 1" in out
    retries = [b for b in blocks if "(Retry · " in b]
    assert len(retries) == 2
    assert all("What is in an atom's nucleus?" in b for b in retries)
    assert "1 to go · missed once lately" in retries[0]
    assert "right 1 of 2 in a row" in retries[1]
    assert "next (Next mistake)" in out
    assert out.count("── No mistakes to retry ──") == 2
    assert (
        "! No questions are tagged 'physics' here. Tags in use: chem, week-1. "
        "Pick one of those, or leave the tag out."
    ) in out
    # /review tag:chem: the tagged flashcard (new), then the tagged question is due now.
    assert "What is an atom?" in out and "New · tagged chem" in out
    assert "Type /review for your due cards or /review mistakes" in out
    assert "tag: works with /quiz and /review." in out
    with sqlite3.connect(tmp_path / "tutor.db") as conn:
        rows = conn.execute(
            "SELECT a.mode, a.correct, i.slug FROM attempts a JOIN items i ON i.id = a.item_id "
            "ORDER BY a.id"
        ).fetchall()
    assert rows == [
        ("quiz", 0, "atom-quiz"),
        ("mistakes", 1, "atom-quiz"),
        ("mistakes", 1, "atom-quiz"),
        ("review", 1, "atom-card"),
    ]
