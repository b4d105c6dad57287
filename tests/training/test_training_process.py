"""Process-level checks: TensorFlow stays out of the bot process; the CLI works."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ENV = dict(os.environ, PYTHONPATH=str(ROOT), TF_CPP_MIN_LOG_LEVEL="3")


def test_importing_the_lab_does_not_import_tensorflow() -> None:
    code = (
        "import sys\n"
        "import bot.training, bot.training.pool, bot.training.jobs, bot.training.render\n"
        "import bot.training.cli, bot.training.protocol, bot.training.worker\n"
        "import bot.training.lab, bot.cli, bot.app, bot.exts.client, bot.exts.study\n"
        "import bot.exts.lab, bot.exts.runner, bot.console.app\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in {'tensorflow', 'keras'})\n"
        "print(bad)\n"
        "sys.exit(1 if bad else 0)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=ENV, cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_cli_bad_option_is_one_line_and_exit_2() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bot.training.cli", "--learning-rate", "abc"],
        env=ENV,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.strip().splitlines() == [
        "error: Learning rate must be a number from 0.00001 to 10 (got 'abc')."
    ]


def _bot_env(tmp_path: Path) -> dict[str, str]:
    """``python -m bot``'s environment, with TensorFlow asked to be as chatty as it gets."""
    return dict(
        os.environ,
        PYTHONPATH=str(ROOT),
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'tutor.db'}",
        LOG_LEVEL="WARNING",
        TF_CPP_MIN_LOG_LEVEL="0",
        TF_CPP_MAX_VLOG_LEVEL="1",
    )


@pytest.mark.slow
def test_cli_output_into_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "train", "--steps", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_bot_env(tmp_path),
        cwd=ROOT,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # like `| head` that has already gone
    try:
        errors = process.stderr.read().decode("utf-8", "replace")
        code = process.wait(timeout=180)
    finally:
        process.kill()
        process.wait()
    assert "Traceback" not in errors and "BrokenPipe" not in errors, errors
    assert errors == ""
    assert code in (0, 141)


@pytest.mark.slow
def test_cli_json_runs_one_job(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot",
            "train",
            "--preset",
            "single-step",
            "--steps",
            "2",
            "--seed",
            "3",
            "--json",
        ],
        env=_bot_env(tmp_path),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    # TensorFlow's start-up notices (CPU features, oneDNN, absl) went to the log, not here.
    assert done.stderr == ""
    result = json.loads(done.stdout)
    assert result["preset"] == "single-step"
    assert result["steps"] == 2
    assert len(result["losses"]) == 3
    assert result["loss_after"] < result["loss_before"]
    assert result["worker_rss_mb"] > 100
