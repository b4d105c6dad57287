"""A fast lane for PostgreSQL answers: plain asyncpg on a small pool of its own.

Through SQLAlchemy's async ORM an answer costs about 6 ms of CPU on the event loop, which
caps a process at ~160 answers a second. Here a job is a coroutine given a bare
``asyncpg`` connection inside a transaction: its statements are prepared once per
connection, and an answer is two round trips between ``BEGIN`` and ``COMMIT`` (see
:mod:`bot.storage.pg_answer_sql`). A job that raises is rolled back whole, so a failed
answer leaves nothing half-written; a job that raises :class:`StaleRead` (what it read
changed before it wrote) is rolled back and run again. The caller is answered only after
the commit, so whatever a member was told is stored.

Concurrency is bounded by the pool: at most ``size`` answers are in a transaction at once
and the rest wait for a connection. PostgreSQL flushes the commits of concurrent
transactions together, so a few connections already group their commits.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg
from sqlalchemy.engine import make_url

from bot.errors import StorageError, TutorError
from bot.log import get_logger
from bot.storage.answer_rows import StaleRead, is_asyncpg_url
from bot.storage.db import describe_storage_failure

log = get_logger(__name__)

T = TypeVar("T")

#: Connections of the lane's pool, i.e. answers in a transaction at once (the rest wait for
#: a connection). Each answer waits for its commit to be flushed; more connections let
#: PostgreSQL flush more commits at once, which matters when the disk is slow (see
#: docs/benchmarks.md). Eight stays well below PostgreSQL's default ``max_connections``
#: (100) with several shard processes, each also holding SQLAlchemy's pool. The setting
#: ``DATABASE_ANSWER_CONNECTIONS`` (:mod:`bot.settings`, same default) changes it.
DEFAULT_POOL_SIZE = 8
#: Runs of one job before a conflict that keeps coming back is reported to the member.
MAX_TRIES = 5
NOT_SAVED = "Your answer could not be saved. Please try again."


def asyncpg_connect_args(url: str) -> dict[str, Any]:
    """Keyword arguments for :func:`asyncpg.connect` from a SQLAlchemy URL.

    Uses SQLAlchemy's own asyncpg dialect, so user, password (URL-decoded), host, port,
    database, several hosts and the query options reach asyncpg exactly as they reach the
    ORM's connections; ``prepared_statement_cache_size`` becomes asyncpg's
    ``statement_cache_size``.
    """
    parsed = make_url(url)
    if not is_asyncpg_url(url):
        raise ValueError(f"not a postgresql+asyncpg URL: {parsed.drivername}")
    dialect = PGDialect_asyncpg()  # type: ignore[no-untyped-call]
    _args, options = dialect.create_connect_args(parsed)  # type: ignore[no-untyped-call]
    kwargs: dict[str, Any] = dict(options)
    if "prepared_statement_cache_size" in kwargs:
        kwargs["statement_cache_size"] = kwargs.pop("prepared_statement_cache_size")
    # A function name is meaningless in a URL; SQLAlchemy would fail on it too.
    kwargs.pop("prepared_statement_name_func", None)
    return kwargs


async def _reset_connection(conn: asyncpg.Connection) -> None:
    """Cheaper than asyncpg's default reset (one more round trip per answer).

    Jobs change no session state (no ``SET``, ``LISTEN`` or session locks), so a connection
    only needs rolling back if a cancelled job left its transaction open.
    """
    if conn.is_in_transaction():
        await conn.execute("ROLLBACK")


class PgLane:
    """Runs answer jobs on a small asyncpg pool, each in its own transaction."""

    def __init__(self, url: str, *, size: int = DEFAULT_POOL_SIZE) -> None:
        if size < 1:
            raise ValueError("the pool needs at least one connection")
        self.url = url
        self.size = size
        self._connect_args = asyncpg_connect_args(url)
        self._pool: asyncpg.Pool | None = None
        self._pool_lock = asyncio.Lock()
        #: Transactions committed and jobs run again after a conflict (tests, benchmarks).
        self.commits = 0
        self.retries = 0

    async def _ensure_pool(self) -> asyncpg.Pool:
        if self._pool is not None:
            return self._pool
        async with self._pool_lock:
            if self._pool is None:
                try:
                    self._pool = await asyncpg.create_pool(
                        min_size=1,
                        max_size=self.size,
                        reset=_reset_connection,
                        **self._connect_args,
                    )
                except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as error:
                    log.warning("answer lane cannot connect: %s", error)
                    raise StorageError(describe_storage_failure(error, self.url)) from error
                log.info("answer lane: asyncpg pool of up to %d connections", self.size)
            return self._pool

    async def run(self, job: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
        """Run ``job(connection)`` in one transaction; returns its result after the commit.

        A :class:`~bot.errors.TutorError` from the job reaches the caller as it is (after
        the rollback); driver and server errors become :class:`StorageError`.
        """
        pool = await self._ensure_pool()
        for attempt in range(1, MAX_TRIES + 1):
            try:
                async with pool.acquire() as conn, conn.transaction():
                    result = await job(conn)
            except TutorError:
                raise
            except (
                StaleRead,
                asyncpg.SerializationError,
                asyncpg.DeadlockDetectedError,
            ) as error:
                if attempt == MAX_TRIES:
                    log.warning("answer gave up after %d conflicts: %s", attempt, error)
                    raise StorageError(NOT_SAVED) from error
                self.retries += 1
                log.debug("answer conflict (%s); running it again", error)
            except asyncpg.IntegrityConstraintViolationError as error:
                # e.g. the member was forgotten (/forget-me) while their answer was in flight.
                log.warning("answer not stored: %s", error)
                raise StorageError(NOT_SAVED) from error
            except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as error:
                log.warning("answer lane: database error: %s", error)
                raise StorageError(describe_storage_failure(error, self.url)) from error
            else:
                self.commits += 1
                return result
        raise AssertionError("unreachable")

    async def close(self) -> None:
        """Wait for the answers in flight, then close the pool's connections."""
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()
