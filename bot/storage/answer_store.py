"""Where an answer is stored: one interface, one implementation per database.

An answer is read → decide → write. The store reads the facts (the member, created on
first sight; the prompt with its item; the member's card), calls the service's ``decide``
(pure rules, :func:`bot.core.answering.decide_answer`), then appends the attempt and saves
the card — all in one transaction, exactly once per member and prompt. A repeat answer
raises :class:`~bot.errors.AlreadyAnswered` naming the first answer, and nothing is written.

- :class:`SqliteAnswerStore`: plain ``sqlite3`` on the lane's own connection, whose thread
  group-commits the answers that arrive together (:mod:`bot.storage.lane`).
- :class:`PgAnswerStore`: plain ``asyncpg`` on a small pool, one transaction per answer in
  two round trips (:mod:`bot.storage.pg_lane`); loaded only for a PostgreSQL URL.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from bot.core.answering import AnswerFacts, AnswerPlan, already_answered_message
from bot.errors import AlreadyAnswered, StorageError
from bot.storage import answer_sql
from bot.storage.answer_rows import StaleRead, is_asyncpg_url
from bot.storage.db import sqlite_path
from bot.storage.lane import SqliteLane

if TYPE_CHECKING:
    import asyncpg  # type: ignore[import-untyped]

    from bot.storage.pg_lane import PgLane

#: The service's rules: what to write for the facts read (may raise a friendly error).
Decide = Callable[[AnswerFacts], AnswerPlan]


class AnswerStore(Protocol):
    """Stores one answer in one transaction, exactly once per member and prompt."""

    async def record(self, lookup: dict[str, Any], decide: Decide) -> AnswerPlan:
        """Read the facts by ``lookup``, ``decide``, write; returns the stored plan.

        ``lookup`` holds ``platform``, ``external_id``, ``display_name``, ``prompt_id`` and
        ``now`` (:meth:`bot.core.answering.AnswerRequest.lookup`).
        """
        ...

    async def close(self) -> None:
        """Finish the answers in flight and release the connections."""
        ...


class SqliteAnswerStore:
    """Answers on a SQLite file, group-committed by the lane's thread."""

    def __init__(self, path: Path) -> None:
        self.lane = SqliteLane(path)

    async def record(self, lookup: dict[str, Any], decide: Decide) -> AnswerPlan:
        """See :meth:`AnswerStore.record`."""

        def job(conn: sqlite3.Connection) -> AnswerPlan:
            facts = answer_sql.answer_facts(conn, **lookup)
            plan = decide(facts)
            if not answer_sql.insert_attempt(conn, plan.attempt):
                earlier = answer_sql.earlier_attempt(
                    conn, prompt_id=plan.attempt.prompt_id, user_id=facts.user_id
                )
                raise AlreadyAnswered(already_answered_message(plan.outcome.item, earlier))
            answer_sql.save_card_state(
                conn,
                user_id=facts.user_id,
                item_id=plan.outcome.item.id,
                state=plan.outcome.state,
                now=plan.attempt.created_at,
            )
            return plan

        return await self.lane.run(job)

    async def close(self) -> None:
        """See :meth:`AnswerStore.close`."""
        await self.lane.close()


class PgAnswerStore:
    """Answers on PostgreSQL: one transaction of two round trips each."""

    def __init__(self, url: str, *, connections: int | None = None) -> None:
        from bot.storage.pg_lane import DEFAULT_POOL_SIZE, PgLane  # the driver only if used

        self.lane: PgLane = PgLane(url, size=connections or DEFAULT_POOL_SIZE)

    async def record(self, lookup: dict[str, Any], decide: Decide) -> AnswerPlan:
        """See :meth:`AnswerStore.record`."""
        from bot.storage import pg_answer_sql

        async def job(conn: asyncpg.Connection) -> AnswerPlan:
            facts = await pg_answer_sql.answer_facts(conn, **lookup)
            plan = decide(facts)
            written = await pg_answer_sql.write_answer(
                conn, attempt=plan.attempt, state=plan.outcome.state, read=facts.card
            )
            if not written.attempt_stored:
                earlier = await pg_answer_sql.earlier_attempt(
                    conn, prompt_id=plan.attempt.prompt_id, user_id=facts.user_id
                )
                raise AlreadyAnswered(already_answered_message(plan.outcome.item, earlier))
            if not written.card_stored:
                # Another answer of this member to this item got in first: decide again.
                raise StaleRead(f"card of member {facts.user_id} for item {plan.outcome.item.id}")
            return plan

        return await self.lane.run(job)

    async def close(self) -> None:
        """See :meth:`AnswerStore.close`."""
        await self.lane.close()


def open_answer_store(url: str, *, connections: int | None = None) -> AnswerStore:
    """The store for ``url``: a SQLite file or PostgreSQL (asyncpg).

    Raises :class:`StorageError` for any other database (an in-memory SQLite database has
    no file to share between the lane and the rest of the bot).
    """
    path = sqlite_path(url)
    if path is not None:
        return SqliteAnswerStore(path)
    if is_asyncpg_url(url):
        return PgAnswerStore(url, connections=connections)
    raise StorageError(
        "DATABASE_URL must point at a SQLite file (sqlite:///data/tutor.db) or PostgreSQL "
        "(postgresql://user:password@host/db)."
    )
