"""The SQLite lane never checkpoints the write-ahead log inside a commit: its checkpointer
thread does, on its own connection, after commits."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from bot.storage.db import Database
from bot.storage.lane import SqliteLane
from tests.dbquery import query


def _autocheckpoint(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0])


def _add_guild(guild_id: int) -> Callable[[sqlite3.Connection], None]:
    def job(conn: sqlite3.Connection) -> None:
        conn.execute(
            "INSERT INTO guilds (id, name, created_at, daily_enabled, daily_questions, "
            "daily_window_minutes) VALUES (?, 'g', '2026-01-05 09:00:00.000000', 0, 1, 60)",
            (guild_id,),
        )

    return job


async def test_the_checkpointer_not_the_commit_copies_the_log(tmp_path: Path) -> None:
    path = tmp_path / "lane.db"
    url = f"sqlite+aiosqlite:///{path}"
    db = Database(url)
    await db.connect()
    await db.close()
    lane = SqliteLane(path)
    assert await lane.run(_autocheckpoint) == 0
    for guild_id in range(1, 41):
        await lane.run(_add_guild(guild_id))
    await lane.close()
    assert lane.batches >= 1
    assert lane.checkpoints >= 1
    # Everything committed is in the file, and nothing waits in the log any more.
    assert query(url, "SELECT count(*) FROM guilds") == [(40,)]
    with sqlite3.connect(path) as conn:
        busy, frames, copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    assert busy == 0 and frames == copied


async def test_a_closed_lane_starts_again_with_its_checkpointer(tmp_path: Path) -> None:
    path = tmp_path / "lane.db"
    db = Database(f"sqlite+aiosqlite:///{path}")
    await db.connect()
    await db.close()
    lane = SqliteLane(path)
    await lane.run(_add_guild(1))
    await lane.close()
    first = lane.checkpoints
    await lane.run(_add_guild(2))
    await lane.close()
    assert lane.checkpoints > first
