"""The statements of one answer, for the SQLite lane (plain ``sqlite3``, run in its thread).

They read and write the same tables as the SQLModel classes in :mod:`bot.storage.models`,
in the same formats (timestamps as naive-UTC text, JSON as text, booleans as 0/1); the
storage tests check that rows written here read back through the models.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime

from bot.core.answering import AnswerFacts, AttemptRow, PromptRow
from bot.core.scheduling import CARD_COLUMNS, CardState
from bot.errors import StorageError
from bot.storage.lane import from_sqlite_time, to_sqlite_time

DAMAGED = "The database has a damaged answer row. Run `python -m bot health` and check the log."


def member_id(
    conn: sqlite3.Connection, *, platform: str, external_id: str, display_name: str, now: datetime
) -> int:
    """The member's row id, created on first sight."""
    found = conn.execute(
        "SELECT id FROM users WHERE platform = ? AND external_id = ?", (platform, external_id)
    ).fetchone()
    if found is None:
        conn.execute(
            "INSERT INTO users (platform, external_id, display_name, created_at) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (platform, external_id) DO NOTHING",
            (platform, external_id, display_name[:100], to_sqlite_time(now)),
        )
        found = conn.execute(
            "SELECT id FROM users WHERE platform = ? AND external_id = ?",
            (platform, external_id),
        ).fetchone()
    return int(found[0])


def prompt_row(conn: sqlite3.Connection, prompt_id: int) -> PromptRow | None:
    """The prompt and its item, or None when it does not exist."""
    row = conn.execute(
        "SELECT p.id, p.item_id, p.user_id, p.guild_id, p.mode, p.session_id, p.position, "
        "p.presented_at, p.revealed_at, i.deck, i.guild_id, i.payload, i.content_hash "
        "FROM prompts p JOIN items i ON i.id = p.item_id WHERE p.id = ?",
        (prompt_id,),
    ).fetchone()
    if row is None:
        return None
    presented = from_sqlite_time(row[7])
    if presented is None:
        raise StorageError(DAMAGED)
    return PromptRow(
        id=row[0],
        item_id=row[1],
        user_id=row[2],
        guild_id=row[3],
        mode=row[4],
        session_id=row[5],
        position=row[6],
        presented_at=presented,
        revealed_at=from_sqlite_time(row[8]),
        item_deck=row[9],
        item_guild_id=row[10],
        item_payload=json.loads(row[11]),
        item_hash=row[12],
    )


def card_state(conn: sqlite3.Connection, *, user_id: int, item_id: int) -> CardState | None:
    """The member's stored card for the item."""
    row = conn.execute(
        f"SELECT {', '.join(CARD_COLUMNS)} FROM review_states WHERE user_id = ? AND item_id = ?",
        (user_id, item_id),
    ).fetchone()
    if row is None:
        return None
    values = dict(zip(CARD_COLUMNS, row, strict=True))
    due = from_sqlite_time(values.pop("due"))
    if due is None:
        raise StorageError(DAMAGED)
    values["last_review"] = from_sqlite_time(values["last_review"])
    return CardState(due=due, **values)


def chosen_retention(
    conn: sqlite3.Connection, *, user_id: int, guild_id: int | None
) -> float | None:
    """The member's own desired retention, else their server's (None: neither chose one)."""
    row = conn.execute(
        "SELECT u.desired_retention, g.desired_retention FROM users u "
        "LEFT JOIN guilds g ON g.id = ? WHERE u.id = ?",
        (guild_id, user_id),
    ).fetchone()
    if row is None:
        return None
    own, server = row
    value = own if own is not None else server
    return float(value) if value is not None else None


def answer_facts(
    conn: sqlite3.Connection,
    *,
    platform: str,
    external_id: str,
    display_name: str,
    prompt_id: int,
    now: datetime,
) -> AnswerFacts:
    """The member (created on first sight), the prompt with its item, their card, and the
    desired retention they or their server chose."""
    user_id = member_id(
        conn, platform=platform, external_id=external_id, display_name=display_name, now=now
    )
    row = prompt_row(conn, prompt_id)
    if row is None:
        return AnswerFacts(user_id=user_id, prompt=None, card=None)
    card = card_state(conn, user_id=user_id, item_id=row.item_id)
    retention = chosen_retention(conn, user_id=user_id, guild_id=row.guild_id)
    return AnswerFacts(user_id=user_id, prompt=row, card=card, retention=retention)


def insert_attempt(conn: sqlite3.Connection, attempt: AttemptRow) -> bool:
    """Append to the attempt log; False when this member already answered this prompt."""
    row = conn.execute(
        "INSERT INTO attempts (user_id, item_id, prompt_id, guild_id, mode, answer, correct, "
        "score, rating, duration_ms, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (prompt_id, user_id) DO NOTHING RETURNING id",
        (
            attempt.user_id,
            attempt.item_id,
            attempt.prompt_id,
            attempt.guild_id,
            attempt.mode,
            attempt.answer,
            1 if attempt.correct else 0,
            attempt.score,
            attempt.rating,
            attempt.duration_ms,
            to_sqlite_time(attempt.created_at),
        ),
    ).fetchone()
    return row is not None


def earlier_attempt(
    conn: sqlite3.Connection, *, prompt_id: int, user_id: int
) -> tuple[str, bool] | None:
    """(answer, correct) of the member's earlier answer to this prompt."""
    row = conn.execute(
        "SELECT answer, correct FROM attempts WHERE prompt_id = ? AND user_id = ?",
        (prompt_id, user_id),
    ).fetchone()
    return (str(row[0]), bool(row[1])) if row is not None else None


#: Insert or update a member's card; ``first_seen_at`` is kept from the first insert.
_SAVE_CARD = (
    f"INSERT INTO review_states (user_id, item_id, {', '.join(CARD_COLUMNS)}, first_seen_at) "
    f"VALUES ({', '.join('?' * (len(CARD_COLUMNS) + 3))}) "
    "ON CONFLICT (user_id, item_id) DO UPDATE SET "
    + ", ".join(f"{name} = excluded.{name}" for name in CARD_COLUMNS)
)


def save_card_state(
    conn: sqlite3.Connection, *, user_id: int, item_id: int, state: CardState, now: datetime
) -> None:
    """Insert or update the member's card (``first_seen_at`` kept from the first insert)."""
    columns = state.columns()
    values = [
        to_sqlite_time(value) if isinstance(value, datetime) else value
        for value in columns.values()
    ]
    conn.execute(_SAVE_CARD, (user_id, item_id, *values, to_sqlite_time(now)))
