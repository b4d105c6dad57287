"""Opening the database: engine, SQLite pragmas, migrations and friendly failures.

Several processes may open a fresh database at once (the bot and ``health``, or two
shards): migrations run under a write lock (SQLite ``BEGIN IMMEDIATE``, a PostgreSQL
advisory lock), so the second waits and then finds the schema up to date.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    async_sessionmaker,
    create_async_engine,
)
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.errors import StorageError
from bot.log import get_logger
from bot.storage.urls import DatabaseUrlError, describe_url, normalise_database_url

log = get_logger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 5000
#: How long a process waits for another one's migrations or content sync (seconds).
STARTUP_LOCK_TIMEOUT_S = 60
#: The PostgreSQL advisory lock held while migrating or syncing content ("tutr").
PG_STARTUP_LOCK = 0x74757472
#: Seconds to wait for a PostgreSQL server to answer a connection.
PG_CONNECT_TIMEOUT_S = 10


def alembic_config() -> Config:
    """An Alembic config pointing at the bundled migrations (no ini file needed)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def _set_sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    try:
        cursor = dbapi_connection.cursor()
        # The busy timeout first, so the others wait for a lock instead of failing.
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        # WAL lets readers work while one writer commits; NORMAL sync is safe with WAL.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()
    except Exception:
        # A file that is not a database fails here; close the driver connection (and its
        # thread) so nothing is left running behind the friendly error.
        dbapi_connection.close()
        raise


def _describe_network_failure(error: BaseException, url: str) -> str | None:
    """One line for a PostgreSQL server that cannot be reached or refuses us, else None."""
    parsed = make_url(url)
    server = f"{parsed.host or 'localhost'}:{parsed.port or 5432}"
    message = str(getattr(error, "orig", error)).lower()
    if isinstance(error, socket.gaierror):
        return (
            f"Cannot find the database host '{parsed.host}'. "
            "Check the host name in DATABASE_URL and your network."
        )
    if isinstance(error, ConnectionRefusedError) or "connect call failed" in message:
        return (
            f"Nothing answers at {server}: is PostgreSQL running there? "
            "Start it, or fix the host and port in DATABASE_URL."
        )
    if isinstance(error, TimeoutError | asyncio.TimeoutError):
        return (
            f"The PostgreSQL server at {server} did not answer in time. "
            "Check that it is up and reachable from here."
        )
    if "password authentication failed" in message or "authentication" in message:
        return (
            f"PostgreSQL refused the user '{parsed.username}': wrong user or password. "
            "Fix them in DATABASE_URL."
        )
    if "does not exist" in message and "database" in message:
        return (
            f"The PostgreSQL database '{parsed.database}' does not exist on {server}. "
            f"Create it (createdb {parsed.database}) or fix DATABASE_URL."
        )
    if "role" in message and "does not exist" in message:
        return (
            f"PostgreSQL has no user '{parsed.username}'. "
            "Create it or fix the user in DATABASE_URL."
        )
    if isinstance(error, OSError):
        return f"Cannot reach the database at {server} ({error}). Check DATABASE_URL."
    return None


def describe_storage_failure(error: BaseException, url: str) -> str:
    """Turn a driver error into one line telling the member what to do next."""
    where = describe_url(url)
    if not make_url(url).drivername.startswith("sqlite"):
        network = _describe_network_failure(error, url)
        if network is not None:
            return network
    message = str(getattr(error, "orig", error)).lower()
    if "not a database" in message or "malformed" in message or "corrupt" in message:
        return (
            f"The database file {where} is damaged. Move it aside (nothing is deleted) "
            "and start again, or set DATABASE_URL to another database."
        )
    if "locked" in message or "busy" in message:
        return (
            f"The database {where} is locked by another program. "
            "Close other copies of the tutor and try again."
        )
    if "readonly" in message or "read-only" in message or "permission" in message:
        return f"The database {where} is read-only. Check its file permissions and try again."
    if "unable to open" in message:
        return f"Cannot open the database {where}. Check that its folder exists and is writable."
    return f"The database {where} cannot be used right now ({error.__class__.__name__}). Try again."


def sqlite_path(url: str) -> Path | None:
    """The file behind a SQLite URL, or None for other databases and in-memory SQLite."""
    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite") or not parsed.database:
        return None
    if parsed.database == ":memory:":
        return None
    if parsed.database.startswith("file:"):  # a SQLite URI (``?uri=true``)
        path = parsed.database.removeprefix("file:").split("?", 1)[0]
        return Path(path) if path and path != ":memory:" else None
    return Path(parsed.database)


class Database:
    """The bot's database: one async engine, sessions on demand, migrations on connect."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        try:
            self.url = normalise_database_url(url)
        except DatabaseUrlError as error:
            raise StorageError(f"DATABASE_URL cannot be used: {error}.") from None
        self.is_sqlite = make_url(self.url).drivername.startswith("sqlite")
        options: dict[str, Any] = {}
        if not self.is_sqlite and "timeout" not in make_url(self.url).query:
            options["connect_args"] = {"timeout": PG_CONNECT_TIMEOUT_S}
        self.engine: AsyncEngine = create_async_engine(self.url, echo=echo, **options)
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _set_sqlite_pragmas)
        self.sessionmaker = async_sessionmaker(
            self.engine, class_=AsyncSession, expire_on_commit=False
        )

    async def connect(self) -> None:
        """Check the database answers and bring its schema up to date.

        Raises :class:`StorageError` with a friendly message when the file is corrupt,
        locked or unreachable.
        """
        self._check_sqlite_file()
        try:
            async with self.engine.begin() as connection:
                await self._lock_for_startup(connection)
                if self.is_sqlite:
                    result = await connection.execute(text("PRAGMA quick_check"))
                    verdict = result.scalar()
                    if verdict != "ok":
                        raise StorageError(
                            describe_storage_failure(
                                sqlite3.DatabaseError("database disk image is malformed"),
                                self.url,
                            )
                        )
                await connection.run_sync(self._upgrade)
                # A harmless write: a read-only file, replica or user fails here, at start,
                # rather than on a member's first answer.
                await connection.execute(
                    text("UPDATE alembic_version SET version_num = version_num")
                )
        except StorageError:
            raise
        except (OperationalError, DBAPIError, sqlite3.Error, OSError, TimeoutError) as error:
            # The caller shows the one friendly line; the driver's words are for LOG_LEVEL=INFO.
            log.info("database unavailable: %s", error)
            raise StorageError(describe_storage_failure(error, self.url)) from error

    async def _lock_for_startup(self, connection: AsyncConnection) -> None:
        """Hold the database's write lock until ``connection``'s transaction ends.

        SQLite: ``BEGIN IMMEDIATE`` (other writers wait up to :data:`STARTUP_LOCK_TIMEOUT_S`);
        PostgreSQL: a transaction-scoped advisory lock.
        """
        if self.is_sqlite:
            await connection.exec_driver_sql(f"PRAGMA busy_timeout={STARTUP_LOCK_TIMEOUT_S * 1000}")
            await connection.exec_driver_sql("BEGIN IMMEDIATE")
            await connection.exec_driver_sql(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        else:
            await connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_STARTUP_LOCK}
            )

    @asynccontextmanager
    async def exclusive_session(self) -> AsyncIterator[AsyncSession]:
        """A session holding the start-up write lock (for the content sync); caller commits.

        Two processes syncing the bundled decks at once take turns, so the second finds the
        first one's items instead of inserting them again.
        """
        async with self.session() as session:
            connection = await session.connection()
            await self._lock_for_startup(connection)
            yield session

    def _check_sqlite_file(self) -> None:
        """Refuse paths SQLite cannot use, before any driver thread is started for them.

        Creates a missing folder; a folder that cannot be made or written, a path that is a
        folder and a read-only file each get one line saying what to do.
        """
        path = sqlite_path(self.url)
        if path is None:
            return
        if path.exists() and not path.is_file():
            raise StorageError(
                f"Cannot open the database {path}: it is a folder, not a file. "
                "Set DATABASE_URL to a file path."
            )
        folder = path.parent if path.parent != Path() else Path.cwd()
        if not folder.is_dir():
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                reason = error.strerror or error.__class__.__name__
                raise StorageError(
                    f"Cannot create the folder {folder} for the database ({reason}). "
                    "Create it yourself or set DATABASE_URL to a writable place."
                ) from None
        if not path.exists() and not os.access(folder, os.W_OK):
            raise StorageError(
                f"Cannot create the database {path}: its folder is not writable. "
                "Check the folder's permissions or set DATABASE_URL."
            )
        if path.exists() and not os.access(path, os.W_OK):
            raise StorageError(
                f"The database {path} is read-only. "
                "Check its file permissions (the tutor must write to it) and try again."
            )

    @staticmethod
    def _upgrade(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, "head")

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session; the caller commits. Driver errors become :class:`StorageError`."""
        async with self.sessionmaker() as session:
            try:
                yield session
            except (OperationalError, sqlite3.OperationalError) as error:
                await session.rollback()
                log.warning("database error: %s", error)
                raise StorageError(describe_storage_failure(error, self.url)) from error

    async def close(self) -> None:
        """Release every connection."""
        await self.engine.dispose()
