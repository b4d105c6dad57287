"""What the console shows is only ever text: control sequences, blank fields, bad bytes."""

from __future__ import annotations

import io
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bot import PROJECT_ROOT
from bot.console.app import undecodable_offset
from bot.console.render import render_reply, safe_text
from bot.core.replies import Reply, ReplyField
from bot.services.study import StudyServices
from tests.console.test_console_questions import feed, make_app

ESC = "\x1b"
CLEAR_SCREEN = f"{ESC}[2J"
INVISIBLE = "has only spaces or invisible characters (such as zero-width spaces)"


# --------------------------------------------------------------------------- safe_text


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (f"{CLEAR_SCREEN}Question?", "^[[2JQuestion?"),
        ("bell\x07 nul\x00 del\x7f", "bell^G nul^@ del^?"),
        ("csi\x9b2J next\x85line", "csi\ufffd2J next\ufffdline"),
        ("abc\u202edcba \u2066x\u2069", "abc\ufffddcba \ufffdx\ufffd"),
        ("over\rwrite", "over^Mwrite"),
        ("windows\r\nline\n\ttab", "windows\nline\n\ttab"),
        ("bad byte \udcff", "bad byte \ufffd"),
        ("plain text — café ✓ 日本", "plain text — café ✓ 日本"),
    ],
)
def test_safe_text_shows_controls_as_text(text: str, shown: str) -> None:
    assert safe_text(text) == shown


def test_every_control_character_is_neutralised() -> None:
    controls = "".join(chr(code) for code in (*range(0x20), *range(0x7F, 0xA0)))
    shown = safe_text(controls)
    assert set(shown) & set(controls) == {"\t", "\n"}


def test_every_part_of_a_reply_goes_out_safely(study: StudyServices, tmp_path: Path) -> None:
    reply = Reply(
        title=f"Title{CLEAR_SCREEN}",
        text=f"Text{ESC}]0;pwned{ESC}\\",
        code=f"print('{ESC}[31m')",
        fields=(
            ReplyField(f"Name{ESC}", "Value\x9b", inline=True),
            ReplyField("F", "\u202eX"),
        ),
        footer=f"Footer{ESC}c",
    )
    assert ESC in render_reply(reply)  # rendering keeps the text; the writer makes it safe
    app = make_app(study, tmp_path)
    app.show(reply)
    out = app.out.getvalue() if isinstance(app.out, io.StringIO) else ""
    assert "Title^[[2J" in out and "Text^[]0;pwned^[\\" in out and "Footer^[c" in out
    assert not set(out) & {ESC, "\x9b", "\u202e"}


# --------------------------------------------------------------------------- stored questions


async def test_a_stored_question_with_escape_codes_is_shown_as_text(
    study: StudyServices, tmp_path: Path
) -> None:
    app = make_app(study, tmp_path)
    added = await feed(
        app,
        "/question add my-deck mcq easy",
        f"{CLEAR_SCREEN}Which optimizer keeps running averages?",
        "Plain SGD",
        f"Adam{ESC}[5m",
        "",
        "B",
        "Adam keeps averages of the gradients.",
    )
    assert "Added #" in added
    shown = added + await feed(app, "/quiz my-deck") + await feed(app, "/question list")
    assert "^[[2JWhich optimizer keeps running averages?" in shown
    assert "Adam^[[5m" in shown
    assert ESC not in shown


async def test_blank_fields_are_asked_again_by_name(study: StudyServices, tmp_path: Path) -> None:
    app = make_app(study, tmp_path)
    out = await feed(app, "/question add my-deck mcq easy", "\u200b\u2060")
    assert f"! Question {INVISIBLE}; type some visible text. Try again, or type /cancel." in out
    assert out.rstrip().splitlines()[-1].startswith("[4/7] Question")
    out = await feed(app, "A real question?", "one", "\ufeff", "")
    assert f"! Option B {INVISIBLE}" in out
    out = await feed(app, "one", "two", "", "\u200b")
    assert "! The correct option is empty" in out


# --------------------------------------------------------------------------- bytes, not text


def test_undecodable_offset_counts_bytes() -> None:
    assert undecodable_offset("plain") is None
    assert undecodable_offset("caf\udce9") == 3
    assert undecodable_offset("é\udcff") == 2  # é is two bytes in UTF-8


async def test_a_line_that_is_not_utf8_is_refused(study: StudyServices, tmp_path: Path) -> None:
    app = make_app(study, tmp_path)
    out = await feed(app, "/qu\udcefiz")
    assert out == (
        "! That line isn't UTF-8 text (byte offset 3), so it was ignored. Type it again "
        "(set your terminal to UTF-8 if this keeps happening).\n\n"
    )


async def test_run_reads_past_bytes_that_are_not_utf8(study: StudyServices, tmp_path: Path) -> None:
    app = make_app(study, tmp_path)
    raw = io.BytesIO(b"/st\xe9ts\n/stats\n/quit\n")
    stdin = io.TextIOWrapper(raw, encoding="utf-8", errors="strict")
    assert await app.run(stdin) == 0
    out = app.out.getvalue() if isinstance(app.out, io.StringIO) else ""
    assert "That line isn't UTF-8 text (byte offset 3)" in out
    assert "Stats" in out and "Bye!" in out


async def test_an_import_file_that_is_not_utf8_is_named(
    study: StudyServices, tmp_path: Path
) -> None:
    path = tmp_path / "bank.csv"
    header = "deck,kind,question,options,answer,explanation,difficulty"
    path.write_bytes(f"{header}\nd1,mcq,Café?,a|b,A,Why.,easy\n".encode("latin-1"))
    out = await feed(make_app(study, tmp_path), f"/question import {path}")
    assert out.startswith("! bank.csv isn't UTF-8 text (line 2, byte offset 67).")


# --------------------------------------------------------------------------- end to end


def run_console(tmp_path: Path, script: bytes) -> subprocess.CompletedProcess[bytes]:
    """``python -m bot console`` on the shipped decks plus one whose field name is an escape."""
    content = tmp_path / "content"
    shutil.copytree(PROJECT_ROOT / "content", content)
    (content / "zz-bad.yaml").write_text(
        "deck: bad\ntitle: Bad\nitems:\n  - id: cc\n    kind: flashcard\n    front: F\n"
        '    back: B\n    "\\e[2J": x\n',
        encoding="utf-8",
    )
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'tutor.db'}",
        "PYTHONPATH": str(PROJECT_ROOT),
        "CONTENT_DIR": str(content),
    }
    env.pop("DISCORD_TOKEN", None)
    return subprocess.run(
        [sys.executable, "-m", "bot", "console", "--user", "tester"],
        input=script,
        capture_output=True,
        timeout=120,
        cwd=tmp_path,
        env=env,
        check=False,
    )


@pytest.mark.slow
def test_console_never_prints_an_escape_byte(tmp_path: Path) -> None:
    question = f"{CLEAR_SCREEN}Which optimizer keeps running averages?"
    script = "\n".join(
        [
            "/question add my-deck mcq easy",
            question,
            "Plain SGD",
            "Adam",
            "",
            "B",
            f"Adam keeps averages.{ESC}[0m",
            "/quiz my-deck",
            "/quit",
        ]
    )
    # A line that isn't UTF-8 in the middle, too.
    result = run_console(tmp_path, script.encode().replace(b"/quiz", b"/st\xffats\n/quiz") + b"\n")
    assert result.returncode == 0, result.stderr
    assert b"\x1b" not in result.stdout and b"Traceback" not in result.stdout + result.stderr
    out = result.stdout.decode()
    assert "zz-bad.yaml:8: item 'cc': unknown field '^[[2J'" in out  # shown at start-up
    assert "^[[2JWhich optimizer keeps running averages?" in out
    assert "That line isn't UTF-8 text (byte offset 3)" in out
    with sqlite3.connect(tmp_path / "tutor.db") as conn:
        rows = conn.execute("SELECT payload FROM items WHERE deck = 'my-deck'").fetchall()
    assert [json.loads(payload)["question"] for (payload,) in rows] == [question]  # as typed
