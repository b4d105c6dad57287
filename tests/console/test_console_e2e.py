"""End to end: ``python -m bot console`` as a subprocess with piped input."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bot import PROJECT_ROOT

pytestmark = pytest.mark.slow


def run_console(
    tmp_path: Path, script: str, *extra_env: tuple[str, str]
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'tutor.db'}",
        "PYTHONPATH": str(PROJECT_ROOT),
    }
    env.pop("DISCORD_TOKEN", None)
    env.update(dict(extra_env))
    return subprocess.run(
        [sys.executable, "-m", "bot", "console", "--user", "tester"],
        input=script,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env=env,
    )


def stored_attempts(tmp_path: Path) -> list[tuple[str, int, int]]:
    with sqlite3.connect(tmp_path / "tutor.db") as conn:
        return conn.execute("SELECT mode, correct, rating FROM attempts ORDER BY id").fetchall()


SESSION = "\n".join(
    [
        "/review",
        "reveal",
        "good",
        "next",
        "/practice",
        "hint",
        "A",
        "/explain",
        "Training adjusts the weights so the loss goes down and predictions get better.",
        "/test",
        *(["A", "next"] * 9),
        "A",
        "/stats",
        "/quit",
    ]
)


def test_a_whole_session_is_stored(tmp_path: Path) -> None:
    result = run_console(tmp_path, SESSION + "\n")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    out = result.stdout
    assert "Saved: Good" in out
    assert "Hint:" in out and "Solution:" in out and "Common mistakes:" in out
    assert "concepts" in out
    assert "Test finished —" in out and "By difficulty:" in out
    assert "Answered: 13" in out
    modes = [mode for mode, _c, _r in stored_attempts(tmp_path)]
    assert modes == ["review", "practice", "explain"] + ["test"] * 10
    for _mode, correct, rating in stored_attempts(tmp_path):
        assert rating in (1, 2, 3, 4)
        assert (rating == 1) == (not correct)


def test_progress_is_still_there_next_time(tmp_path: Path) -> None:
    run_console(tmp_path, "/quiz\nA\n/quit\n")
    second = run_console(tmp_path, "/stats\n")
    assert second.returncode == 0
    assert "Answered: 1" in second.stdout


def test_corrupt_database_gives_one_clear_line(tmp_path: Path) -> None:
    (tmp_path / "tutor.db").write_bytes(b"garbage" * 1000)
    result = run_console(tmp_path, "/stats\n")
    assert result.returncode == 2
    assert "damaged" in result.stderr and "Traceback" not in result.stderr
    assert (tmp_path / "tutor.db").read_bytes() == b"garbage" * 1000


def test_missing_content_folder_gives_one_clear_line(tmp_path: Path) -> None:
    result = run_console(tmp_path, "/stats\n", ("CONTENT_DIR", str(tmp_path / "nowhere")))
    assert result.returncode == 2
    assert "CONTENT_DIR" in result.stderr and "is not a folder" in result.stderr
    assert "Traceback" not in result.stderr


def test_train_in_the_console(tmp_path: Path) -> None:
    result = run_console(
        tmp_path, "/train\n/train house-prices adam lr=0.05 steps=30\n/train single-step sgd 99\n"
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Training: single-step (SGD, lr 0.1)" in out and "Loss before:" in out
    assert "picture saved to" in out and list((tmp_path / "charts").glob("*loss_curve.png"))
    assert "Learning rate must be a number from 0.00001 to 10 (got '99')." in out


def test_health_command(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'tutor.db'}",
        "PYTHONPATH": str(PROJECT_ROOT),
    }
    ok = subprocess.run(
        [sys.executable, "-m", "bot", "health"], capture_output=True, text=True, env=env
    )
    assert ok.returncode == 0 and ok.stdout.startswith("ok:")
    broken = tmp_path / "decks"
    broken.mkdir()
    (broken / "bad.yaml").write_text("deck: [unclosed\n", encoding="utf-8")
    env["CONTENT_DIR"] = str(broken)
    bad = subprocess.run(
        [sys.executable, "-m", "bot", "health"], capture_output=True, text=True, env=env
    )
    assert bad.returncode == 1 and bad.stderr.splitlines()[-1].startswith("unhealthy:")
    env["CONTENT_DIR"] = str(tmp_path / "missing")  # a bad setting, not an unhealthy bot
    refused = subprocess.run(
        [sys.executable, "-m", "bot", "health"], capture_output=True, text=True, env=env
    )
    assert refused.returncode == 2 and refused.stderr.startswith("Bad setting — CONTENT_DIR")


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("NEW_ITEMS_PER_DAY", "lots", "NEW_ITEMS_PER_DAY"),
        ("SHARD_IDS", "[5]", "outside 0..1"),
    ],
)
def test_bad_settings_are_one_clear_line(
    tmp_path: Path, name: str, value: str, message: str
) -> None:
    result = run_console(tmp_path, "/stats\n", (name, value), ("SHARD_COUNT", "2"))
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_question_added_in_the_console_comes_up_in_quiz(tmp_path: Path) -> None:
    script = "\n".join(
        [
            "/question add",
            "my-deck",
            "",  # kind: Enter for mcq
            "easy",
            "Which optimizer keeps running averages of the gradients?",
            "Plain SGD",
            "Plain SGD",  # a repeated option: refused, typed again
            "",
            "Plain SGD",
            "Adam",
            "",
            "Adam",
            "Adam keeps running averages of the gradients and their squares.",
            "/quiz my-deck",
            "B",
            "/question list",
            "/quit",
        ]
    )
    result = run_console(tmp_path, script + "\n")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Traceback" not in out + result.stderr
    assert "! Option B 'Plain SGD' repeats option A." in out
    assert "Added #" in out and "to my-deck" in out
    assert "Which optimizer keeps running averages of the gradients?" in out.split("Added #")[1]
    assert "Correct" in out and "their squares" in out
    assert "my-deck · mcq · easy · Which optimizer" in out
    with sqlite3.connect(tmp_path / "tutor.db") as conn:
        ((guild_id, mode, correct),) = conn.execute(
            "SELECT a.guild_id, a.mode, a.correct FROM attempts a "
            "JOIN items i ON i.id = a.item_id WHERE i.deck = 'my-deck'"
        ).fetchall()
    assert (guild_id, mode, correct) == (1, "quiz", 1)
