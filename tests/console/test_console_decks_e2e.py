"""End to end: decks in and out of ``python -m bot console`` (a subprocess, piped input).

An Anki package built in the test is imported with its review history, listed, reviewed
(its picture shown as a file path), exported as an Anki package and as Quizlet text; a
Quizlet set is pasted line by line.
"""

from __future__ import annotations

import re
import sqlite3
import zipfile
from pathlib import Path

import pytest

from tests.console.test_console_e2e import run_console
from tests.decks.anki_builders import sample_media, sample_notes, write_anki21b_package

pytestmark = pytest.mark.slow

PICTURE_LINE = re.compile(r"^🖼 (\S+/media/[0-9a-f]+\.png)$", re.MULTILINE)
SAVED_LINE = re.compile(r"^Saved to (.+)$", re.MULTILINE)


def saved_paths(out: str) -> list[Path]:
    return [Path(path) for path in SAVED_LINE.findall(out)]


def server_items(tmp_path: Path, deck: str) -> list[tuple[str, str]]:
    with sqlite3.connect(tmp_path / "tutor.db") as conn:
        rows = conn.execute(
            "SELECT kind, json_extract(payload, '$.front') FROM items "
            "WHERE guild_id IS NOT NULL AND deck = ? ORDER BY id",
            (deck,),
        ).fetchall()
    return [(str(kind), str(front)) for kind, front in rows]


def test_import_review_and_export_an_anki_package(tmp_path: Path) -> None:
    package = write_anki21b_package(tmp_path / "my deck.apkg", sample_notes(), media=sample_media())
    script = "\n".join(
        [
            f'/question import "{package}" --history',
            "/question list",
            "/review",
            "reveal",
            "good",
            "/question export apkg",
            "/question export science-biology quizlet",
            "/quit",
        ]
    )
    result = run_console(tmp_path, script + "\n")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Traceback" not in out + result.stderr
    assert "── Imported 11 questions ──" in out
    assert "2 cards scheduled from your Anki reviews; 2 due now." in out
    assert "page 1 of 2" in out and "science-biology · flashcard · easy · What is this?" in out

    # The card due first is the one with the picture: its file is shown, and it exists.
    review = out.split("/question list 2)", 1)[1]
    assert review.index("What is this?") < review.index("Saved: Good")
    pictures = PICTURE_LINE.findall(review)
    assert pictures and Path(pictures[0]).is_file()
    assert Path(pictures[0]).parent == tmp_path / "media"
    assert Path(pictures[0]).read_bytes() == sample_media()["img_0.png"]

    anki, quizlet = saved_paths(out)
    assert anki.parent == quizlet.parent == tmp_path / "exports"
    assert anki.name.startswith("questions-") and anki.name.endswith(".apkg")
    assert anki.name.count("questions-") == 1
    with zipfile.ZipFile(anki) as archive:
        assert "collection.anki2" in archive.namelist()
    assert quizlet.name.endswith("science-biology-quizlet.txt")
    assert "What is this?\tA cell" in quizlet.read_text(encoding="utf-8")


def test_a_pasted_set_is_imported_after_the_empty_line(tmp_path: Path) -> None:
    script = "\n".join(
        [
            "/question paste My-Set",
            "/question paste",
            "/question paste my-set",
            "",  # nothing pasted yet: asked again
            "osmosis\twater crossing a membrane",
            "mitosis\tone cell becomes two",
            "",
            "/question paste my-set",
            "meiosis\tfour cells with half the chromosomes",
            "no tab here",
            "",
            "/question list my-set",
            "/quit",
        ]
    )
    result = run_console(tmp_path, script + "\n")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Traceback" not in out + result.stderr
    assert "'My-Set' isn't a valid deck name" in out
    assert "Use /question paste <deck>, e.g. /question paste biology-terms." in out
    assert "── Paste a set into my-set ──" in out
    assert "! Nothing pasted yet. Paste the cards, or type /cancel." in out
    assert "── Imported 2 questions ──" in out and "Into my-set: 2 new questions" in out
    # All or nothing: the second paste has a bad line, so meiosis is not stored.
    assert "── Nothing imported — 1 problem ──" in out
    assert "line 2: no tab between the term and its definition" in out
    assert "my-set · flashcard · easy · osmosis" in out
    assert server_items(tmp_path, "my-set") == [
        ("flashcard", "osmosis"),
        ("flashcard", "mitosis"),
    ]
