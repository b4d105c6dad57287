"""Group commit for answers: many members' answers written in one transaction.

When a daily quiz brings hundreds of clicks in a minute, committing each answer on its own
makes the database the bottleneck (one fsync-ordered commit each). The writer collects the
answers that arrive while the previous batch is being written and stores them together:
one multi-row insert into the attempt log, one multi-row upsert of review states, one
commit. A caller's ``submit`` returns only after its batch committed, so every answer a
member has been told about is on disk.

The unique key on (prompt, member) still decides "answered once": a repeat is skipped by
``ON CONFLICT DO NOTHING`` and its caller gets :class:`~bot.errors.AlreadyAnswered`.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, IntegrityError

from bot.errors import AlreadyAnswered, StorageError
from bot.log import get_logger
from bot.storage.db import Database, describe_storage_failure
from bot.storage.models import Attempt, ReviewState

log = get_logger(__name__)

ATTEMPTS: Table = Attempt.__table__  # type: ignore[attr-defined]
REVIEW_STATES: Table = ReviewState.__table__  # type: ignore[attr-defined]
#: Review-state columns an answer updates (``first_seen_at`` is kept from the first insert).
STATE_UPDATES = ("due", "state", "step", "stability", "difficulty", "last_review", "reps", "lapses")
ALREADY_ANSWERED = "You already answered this one."


@dataclass(slots=True)
class _Pending:
    attempt: dict[str, Any]
    state: dict[str, Any]
    done: asyncio.Future[None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )

    @property
    def key(self) -> tuple[int, int]:
        return (int(self.attempt["prompt_id"]), int(self.attempt["user_id"]))


class AnswerWriter:
    """Writes answers (attempt row + new review state) in batches, one commit per batch."""

    def __init__(self, db: Database, *, max_batch: int = 500) -> None:
        self.db = db
        self.max_batch = max_batch
        self._queue: asyncio.Queue[_Pending] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        insert = sqlite.insert if db.is_sqlite else postgresql.insert
        # Built once: constructing these per batch costs more than running them.
        self._insert_attempts = (
            insert(ATTEMPTS)
            .on_conflict_do_nothing(index_elements=["prompt_id", "user_id"])
            .returning(ATTEMPTS.c.prompt_id, ATTEMPTS.c.user_id)
        )
        upsert = insert(REVIEW_STATES)
        self._upsert_states = upsert.on_conflict_do_update(
            index_elements=["user_id", "item_id"],
            set_={name: upsert.excluded[name] for name in STATE_UPDATES},
        )
        #: Batches written so far (for benchmarks and tests).
        self.batches = 0

    async def submit(self, *, attempt: dict[str, Any], state: dict[str, Any]) -> None:
        """Store one answer; returns once it is committed.

        Raises :class:`AlreadyAnswered` when this member already answered this prompt.
        """
        self._ensure_running()
        pending = _Pending(attempt=attempt, state=state)
        await self._queue.put(pending)
        await pending.done

    def _ensure_running(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="answer-writer")

    async def close(self) -> None:
        """Write what is queued, then stop."""
        if self._task is None:
            return
        await self._queue.join()
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self.max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                await self._write(batch)
            except Exception as error:  # never let the writer die; callers hear about it
                log.exception("answer batch failed")
                for pending in batch:
                    if not pending.done.done():
                        pending.done.set_exception(error)
            finally:
                for _ in batch:
                    self._queue.task_done()

    async def _write(self, batch: list[_Pending]) -> None:
        # A repeat inside the same batch is refused before it reaches the database.
        first: dict[tuple[int, int], _Pending] = {}
        for pending in batch:
            if pending.key in first:
                pending.done.set_exception(AlreadyAnswered(ALREADY_ANSWERED))
            else:
                first[pending.key] = pending
        unique = list(first.values())
        try:
            inserted = await self._insert_batch(unique)
        except IntegrityError:
            # One bad row (e.g. a member deleted meanwhile) must not sink the others.
            log.warning("answer batch of %d hit a constraint; writing one by one", len(unique))
            for pending in unique:
                try:
                    got = await self._insert_batch([pending])
                except IntegrityError as error:
                    pending.done.set_exception(
                        StorageError("That answer could not be saved. Please try again.")
                    )
                    log.warning("answer not stored: %s", error)
                    continue
                self._settle([pending], got)
            return
        except DBAPIError as error:
            failure = StorageError(describe_storage_failure(error, self.db.url))
            for pending in unique:
                pending.done.set_exception(failure)
            return
        self.batches += 1
        self._settle(unique, inserted)

    @staticmethod
    def _settle(batch: list[_Pending], inserted: set[tuple[int, int]]) -> None:
        for pending in batch:
            if pending.done.done():
                continue
            if pending.key in inserted:
                pending.done.set_result(None)
            else:
                pending.done.set_exception(AlreadyAnswered(ALREADY_ANSWERED))

    async def _insert_batch(self, batch: list[_Pending]) -> set[tuple[int, int]]:
        """One transaction: new attempts (repeats skipped), then their review states."""
        async with self.db.engine.begin() as conn:
            result = await conn.execute(self._insert_attempts, [p.attempt for p in batch])
            inserted = {(int(row[0]), int(row[1])) for row in result.all()}
            # One row per (member, item): PostgreSQL refuses to upsert a row twice in one
            # statement, and the later answer carries the newer state anyway.
            latest = {
                (p.state["user_id"], p.state["item_id"]): p.state
                for p in batch
                if p.key in inserted
            }
            states = list(latest.values())
            if states:
                await conn.execute(self._upsert_states, states)
        return inserted
