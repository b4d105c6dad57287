"""Kill -9 the answer path under load, then restart it: the database stays sound and no
acknowledged answer is lost or stored twice (issue 6).

Runs on a SQLite file, or on a fresh PostgreSQL database when ``TEST_DATABASE_URL`` is set
(there the answers take the asyncpg lane). On both, after the crash and again after a
restarted process has answered more:

- every answer a member was told about is stored, and no answer is stored twice;
- no attempt is without its card update, and no card update without its attempt: each
  member's card for an item has had exactly as many reviews (``reps``) as they have
  attempts at that item, so the two were written in one transaction;
- no member row twice, no attempt pointing at a missing member, prompt or item.

Then what each database can say about its own soundness: SQLite's ``PRAGMA
integrity_check`` and ``foreign_key_check``; on PostgreSQL (no ``amcheck``, no superuser)
every index is valid, every constraint validated, and each unique key reads the same rows
through its index as through the table itself.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path
from typing import IO, Any

import asyncpg  # type: ignore[import-untyped]
import pytest

from bot import PROJECT_ROOT
from bot.storage.db import sqlite_path
from bot.storage.pg_lane import asyncpg_connect_args

pytestmark = pytest.mark.slow

#: Answers acknowledged before the kill, and by the restarted process before it stops.
ACKED_BEFORE_KILL = 400
ACKED_AFTER_RESTART = 50
#: Generous: the helper starts (migrations, decks) on a possibly loaded 2-core machine.
TIMEOUT_S = 60.0

#: Member and prompt of every stored answer.
STORED = (
    "SELECT attempts.prompt_id, users.external_id FROM attempts "
    "JOIN users ON users.id = attempts.user_id"
)
#: What must never be found, on any database: each query lists the offending rows.
BROKEN: dict[str, str] = {
    "answered twice": (
        "SELECT prompt_id, user_id, count(*) FROM attempts "
        "GROUP BY prompt_id, user_id HAVING count(*) > 1"
    ),
    "attempt without its card": (
        "SELECT a.id FROM attempts a LEFT JOIN review_states rs "
        "ON rs.user_id = a.user_id AND rs.item_id = a.item_id WHERE rs.user_id IS NULL"
    ),
    "card whose reviews are not its attempts": (
        "SELECT rs.user_id, rs.item_id, rs.reps, count(a.id) FROM review_states rs "
        "LEFT JOIN attempts a ON a.user_id = rs.user_id AND a.item_id = rs.item_id "
        "GROUP BY rs.user_id, rs.item_id, rs.reps HAVING rs.reps <> count(a.id)"
    ),
    "member stored twice": (
        "SELECT platform, external_id, count(*) FROM users "
        "GROUP BY platform, external_id HAVING count(*) > 1"
    ),
    "attempt of a missing member, prompt or item": (
        "SELECT a.id FROM attempts a LEFT JOIN users u ON u.id = a.user_id "
        "LEFT JOIN prompts p ON p.id = a.prompt_id LEFT JOIN items i ON i.id = a.item_id "
        "WHERE u.id IS NULL OR p.id IS NULL OR i.id IS NULL"
    ),
}
#: PostgreSQL's own word: indexes left invalid and constraints never validated.
PG_BROKEN: dict[str, str] = {
    "invalid index": (
        "SELECT i.indexrelid::regclass::text FROM pg_index i "
        "JOIN pg_class c ON c.oid = i.indrelid "
        "WHERE c.relnamespace = current_schema()::regnamespace "
        "AND NOT (i.indisvalid AND i.indisready AND i.indislive)"
    ),
    "constraint not validated": (
        "SELECT conname FROM pg_constraint "
        "WHERE connamespace = current_schema()::regnamespace AND NOT convalidated"
    ),
}
#: Unique keys whose index must hold exactly the table's rows.
UNIQUE_KEYS: dict[str, str] = {
    "attempts": "prompt_id, user_id",
    "review_states": "user_id, item_id",
    "users": "platform, external_id",
}

Answer = tuple[int, str]


def start_answering(db_url: str, stderr: IO[str], *args: str) -> subprocess.Popen[str]:
    """The helper process answering on ``db_url`` (see ``answer_load``)."""
    return subprocess.Popen(
        [sys.executable, "-m", "tests.reliability.answer_load", db_url, *args],
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
        cwd=PROJECT_ROOT,
    )


def parse_acks(text: str) -> set[Answer]:
    """The answers acknowledged in the helper's complete ``ack`` lines."""
    acked: set[Answer] = set()
    for line in text.splitlines(keepends=True):
        if line.startswith("ack ") and line.endswith("\n"):
            _ack, prompt_id, member = line.split()
            acked.add((int(prompt_id), member))
    return acked


def read_sqlite(path: Path) -> tuple[set[Answer], dict[str, Any]]:
    """Stored answers and every problem found in the SQLite file."""
    with closing(sqlite3.connect(path)) as conn:
        problems: dict[str, Any] = {}
        verdict = conn.execute("PRAGMA integrity_check").fetchall()
        if verdict != [("ok",)]:
            problems["integrity_check"] = verdict
        problems["foreign_key_check"] = conn.execute("PRAGMA foreign_key_check").fetchall()
        for name, sql in BROKEN.items():
            problems[name] = conn.execute(sql).fetchall()
        stored = {(int(p), str(m)) for p, m in conn.execute(STORED).fetchall()}
    return stored, problems


async def read_postgres(db_url: str) -> tuple[set[Answer], dict[str, Any]]:
    """Stored answers and every problem found in the PostgreSQL database (one snapshot)."""
    conn = await asyncpg.connect(**asyncpg_connect_args(db_url))
    problems: dict[str, Any] = {}
    try:
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            stored = {(int(p), str(m)) for p, m in await conn.fetch(STORED)}
            for name, sql in {**BROKEN, **PG_BROKEN}.items():
                problems[name] = [tuple(row) for row in await conn.fetch(sql)]
            for table, key in UNIQUE_KEYS.items():
                problems[
                    f"index of {table} ({key}) differs from the table"
                ] = await index_differs_from_table(conn, table, key)
    finally:
        await conn.close()
    return stored, problems


#: Plan settings that read a key from the table alone, then from its index alone (no JIT:
#: the disabled plans' huge costs would make PostgreSQL compile these small queries).
FROM_HEAP = (
    "SET LOCAL jit = off; SET LOCAL enable_seqscan = on; SET LOCAL enable_sort = on; "
    "SET LOCAL enable_indexscan = off; SET LOCAL enable_indexonlyscan = off; "
    "SET LOCAL enable_bitmapscan = off"
)
FROM_INDEX = (
    "SET LOCAL jit = off; SET LOCAL enable_seqscan = off; SET LOCAL enable_sort = off; "
    "SET LOCAL enable_indexscan = on; SET LOCAL enable_indexonlyscan = on; "
    "SET LOCAL enable_bitmapscan = off"
)


async def index_differs_from_table(conn: asyncpg.Connection, table: str, key: str) -> list[Any]:
    """Rows of ``key`` found only through the table's heap or only through its index."""
    rows = f"SELECT {key} FROM {table} ORDER BY {key}"
    await conn.execute(FROM_HEAP)
    from_heap = [tuple(r) for r in await conn.fetch(rows)]
    await conn.execute(FROM_INDEX)
    plan = "\n".join(r[0] for r in await conn.fetch(f"EXPLAIN {rows}"))
    assert "Index" in plan and "Seq Scan" not in plan, plan
    from_index = [tuple(r) for r in await conn.fetch(rows)]
    if from_heap == from_index:
        return []
    heap, index = set(from_heap), set(from_index)
    return [("table only", sorted(heap - index)), ("index only", sorted(index - heap))]


def assert_sound(db_url: str, acked: set[Answer], when: str) -> None:
    """Every acknowledged answer is stored, once, and the database is sound."""
    path = sqlite_path(db_url)
    if path is not None:
        stored, problems = read_sqlite(path)
    else:
        stored, problems = asyncio.run(read_postgres(db_url))
    assert {name: rows for name, rows in problems.items() if rows} == {}, when
    lost = acked - stored
    assert not lost, f"{when}: lost {len(lost)} acknowledged answers, e.g. {sorted(lost)[:5]}"


def test_kill_minus_nine_under_load_loses_no_acknowledged_answer(
    db_url: str, tmp_path: Path
) -> None:
    log_path = tmp_path / "answer_load.log"
    with log_path.open("w") as stderr:
        crashed = start_answering(db_url, stderr)
        assert crashed.stdout is not None
        acked: set[Answer] = set()
        deadline = time.monotonic() + TIMEOUT_S
        try:
            assert crashed.stdout.readline().strip() == "ready", log_path.read_text()
            while len(acked) < ACKED_BEFORE_KILL and time.monotonic() < deadline:
                line = crashed.stdout.readline()
                if not line:
                    break
                acked |= parse_acks(line)
        finally:
            crashed.send_signal(signal.SIGKILL)
            crashed.wait(timeout=10)
        # What it wrote before it died was acknowledged too.
        acked |= parse_acks(crashed.stdout.read())
        assert len(acked) >= ACKED_BEFORE_KILL, log_path.read_text()
        assert_sound(db_url, acked, "after kill -9")

        restarted = start_answering(db_url, stderr, str(ACKED_AFTER_RESTART))
        try:
            out, _ = restarted.communicate(timeout=TIMEOUT_S)
        finally:
            if restarted.poll() is None:
                restarted.kill()
                restarted.wait(timeout=10)
    assert restarted.returncode == 0, log_path.read_text()
    lines = out.splitlines()
    assert (lines[0], lines[-1]) == ("ready", "done"), log_path.read_text()
    answered_again = parse_acks(out)
    assert len(answered_again) >= ACKED_AFTER_RESTART
    assert not answered_again & acked, "a new prompt reused an answered one"
    assert_sound(db_url, acked | answered_again, "after the restart")
