"""A fast lane for SQLite writes: one thread, one connection, batched transactions.

Each answer touches a handful of rows. Through the async driver every statement is a
thread hop and a pass through the ORM, which caps a 2-core machine at a few hundred
answers a second. Here a job is a plain function run on a dedicated ``sqlite3``
connection: the jobs that arrive together share one ``BEGIN IMMEDIATE … COMMIT`` (group
commit), and each runs inside its own SAVEPOINT, so a job that raises (a repeat answer, a
bad input) is rolled back alone and its caller gets the exception. A job's caller is
answered only after the commit, so whatever a member was told is on disk.

The lane's connection never checkpoints the write-ahead log itself: SQLite would do it
inside a commit every 1,000 pages, and every answer of that batch would wait for the copy
and the fsync (the slowest 1 % of answers). A second thread does it on its own connection
after commits, at most every :data:`CHECKPOINT_INTERVAL_S`; a passive checkpoint never
blocks the lane's writes.
"""

from __future__ import annotations

import asyncio
import queue
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from bot.errors import StorageError
from bot.log import get_logger
from bot.storage.db import SQLITE_BUSY_TIMEOUT_MS

log = get_logger(__name__)

T = TypeVar("T")
Job = Callable[[sqlite3.Connection], Any]
#: Least time between two checkpoints of the write-ahead log (a busy lane commits often).
CHECKPOINT_INTERVAL_S = 0.25
#: The text format SQLAlchemy uses for SQLite DATETIME columns (naive UTC).
SQLITE_TIME_FORMAT = "%Y-%m-%d %H:%M:%S.%f"


def to_sqlite_time(moment: datetime) -> str:
    """An aware datetime as stored in SQLite by the models (naive UTC text)."""
    return moment.astimezone(UTC).strftime(SQLITE_TIME_FORMAT)


def from_sqlite_time(value: str | None) -> datetime | None:
    """The inverse of :func:`to_sqlite_time` (aware UTC)."""
    if value is None:
        return None
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


@dataclass(slots=True)
class _Work:
    job: Job
    future: asyncio.Future[Any]
    loop: asyncio.AbstractEventLoop


_STOP = object()


class SqliteLane:
    """Runs jobs on one SQLite connection in a background thread, batch by batch."""

    def __init__(self, path: Path, *, max_batch: int = 500) -> None:
        self.path = path
        self.max_batch = max_batch
        self._queue: queue.SimpleQueue[_Work | object] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._checkpointer = Checkpointer(path)
        #: Transactions committed so far (for tests and benchmarks).
        self.batches = 0

    @property
    def checkpoints(self) -> int:
        """Checkpoints of the write-ahead log run so far (for tests)."""
        return self._checkpointer.runs

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        conn.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        # Checkpoints are the checkpointer's (module docstring), never inside a commit.
        conn.execute("PRAGMA wal_autocheckpoint=0")
        return conn

    def _ensure_thread(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._serve, name="sqlite-lane", daemon=True)
                self._thread.start()
                self._checkpointer.start()

    async def run(self, job: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``job(connection)`` in the next batch; returns its result after the commit."""
        self._ensure_thread()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._queue.put(_Work(job=job, future=future, loop=loop))
        return await future

    async def close(self) -> None:
        """Finish queued jobs and stop the thread."""
        thread = self._thread
        if thread is None:
            return
        self._queue.put(_STOP)
        await asyncio.to_thread(thread.join, 30)
        self._thread = None
        await asyncio.to_thread(self._checkpointer.stop)

    # -- the thread -----------------------------------------------------------------------

    def _serve(self) -> None:
        try:
            conn = self._connect()
        except sqlite3.Error as error:
            log.error("sqlite lane cannot open %s: %s", self.path, error)
            self._fail_all(StorageError(f"Cannot open the database {self.path}: {error}"))
            return
        try:
            while True:
                first = self._queue.get()
                if first is _STOP:
                    return
                batch: list[_Work] = [first]  # type: ignore[list-item]
                stop = False
                while len(batch) < self.max_batch:
                    try:
                        more = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if more is _STOP:
                        stop = True
                        break
                    batch.append(more)  # type: ignore[arg-type]
                self._run_batch(conn, batch)
                if stop:
                    return
        finally:
            conn.close()

    def _run_batch(self, conn: sqlite3.Connection, batch: list[_Work]) -> None:
        outcomes: list[tuple[bool, Any]] = []
        try:
            conn.execute("BEGIN IMMEDIATE")
            for work in batch:
                conn.execute("SAVEPOINT job")
                try:
                    result = work.job(conn)
                except Exception as error:
                    conn.execute("ROLLBACK TO job")
                    conn.execute("RELEASE job")
                    outcomes.append((False, error))
                else:
                    conn.execute("RELEASE job")
                    outcomes.append((True, result))
            conn.execute("COMMIT")
            self.batches += 1
            self._checkpointer.poke()
        except sqlite3.Error as error:
            log.error("sqlite lane batch failed: %s", error)
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            failure = StorageError(
                "Your answer could not be saved (the database is busy or damaged). Try again."
            )
            outcomes = [(False, failure)] * len(batch)
        for work, (ok, value) in zip(batch, outcomes, strict=True):
            work.loop.call_soon_threadsafe(_settle, work.future, ok, value)

    def _fail_all(self, error: Exception) -> None:
        while True:
            try:
                work = self._queue.get_nowait()
            except queue.Empty:
                return
            if isinstance(work, _Work):
                work.loop.call_soon_threadsafe(_settle, work.future, False, error)


class Checkpointer:
    """Copies the write-ahead log into the database file on its own thread and connection.

    :meth:`poke` after a commit asks for a passive checkpoint (one that never waits for
    or blocks readers and writers); pokes that arrive while one runs, or within
    :data:`CHECKPOINT_INTERVAL_S` of the last, are served by a single checkpoint.
    """

    def __init__(self, path: Path, *, interval_s: float = CHECKPOINT_INTERVAL_S) -> None:
        self.path = path
        self.interval_s = interval_s
        self._wanted = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        #: Checkpoints run so far (for tests).
        self.runs = 0

    def start(self) -> None:
        """Start the thread (again, after :meth:`stop`)."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._serve, name="sqlite-checkpoint", daemon=True)
        self._thread.start()

    def poke(self) -> None:
        """Ask for a checkpoint soon."""
        self._wanted.set()

    def stop(self) -> None:
        """Run a last checkpoint, then end the thread (blocking)."""
        thread = self._thread
        if thread is None:
            return
        self._stopping.set()
        self._wanted.set()
        thread.join(30)
        self._thread = None

    def _serve(self) -> None:
        try:
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            conn.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        except sqlite3.Error as error:
            log.error("sqlite checkpointer cannot open %s: %s", self.path, error)
            return
        try:
            while True:
                self._wanted.wait()
                self._wanted.clear()
                self._checkpoint(conn)
                if self._stopping.wait(self.interval_s):
                    if self._wanted.is_set():  # stop() asks for a last one
                        self._checkpoint(conn)
                    return
        finally:
            conn.close()

    def _checkpoint(self, conn: sqlite3.Connection) -> None:
        try:
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            self.runs += 1
        except sqlite3.Error as error:
            log.warning("sqlite checkpoint failed (retried after the next commit): %s", error)


def _settle(future: asyncio.Future[Any], ok: bool, value: Any) -> None:
    if future.done():
        return
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value)
