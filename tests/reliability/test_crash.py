"""Kill -9 the answer path under load: the database stays sound and no acknowledged
answer is lost."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot import PROJECT_ROOT
from tests.conftest import TEST_DATABASE_URL

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(bool(TEST_DATABASE_URL), reason="kills a process holding a SQLite file"),
]


def test_kill_minus_nine_under_load_loses_no_acknowledged_answer(tmp_path: Path) -> None:
    path = tmp_path / "tutor.db"
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.reliability.answer_load", f"sqlite+aiosqlite:///{path}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=PROJECT_ROOT,
    )
    assert process.stdout is not None
    acked: set[tuple[int, str]] = set()
    deadline = time.monotonic() + 60
    try:
        assert process.stdout.readline().strip() == "ready"
        while len(acked) < 400 and time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            _ack, prompt_id, member = line.split()
            acked.add((int(prompt_id), member))
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    assert len(acked) >= 400, process.stderr.read() if process.stderr else ""

    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        stored = set(
            conn.execute(
                "SELECT attempts.prompt_id, users.external_id FROM attempts "
                "JOIN users ON users.id = attempts.user_id"
            ).fetchall()
        )
        duplicates = conn.execute(
            "SELECT count(*) FROM (SELECT prompt_id, user_id FROM attempts "
            "GROUP BY prompt_id, user_id HAVING count(*) > 1)"
        ).fetchone()
    assert acked <= stored, f"lost {len(acked - stored)} acknowledged answers"
    assert duplicates == (0,)
