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


@pytest.mark.slow
def test_cli_json_runs_one_job() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot.training.cli",
            "train",
            "--preset",
            "single-step",
            "--steps",
            "2",
            "--seed",
            "3",
            "--json",
        ],
        env=ENV,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["preset"] == "single-step"
    assert result["steps"] == 2
    assert len(result["losses"]) == 3
    assert result["loss_after"] < result["loss_before"]
    assert result["worker_rss_mb"] > 100
