"""Opening the database: engine, SQLite pragmas, migrations and friendly failures."""

from __future__ import annotations

import os
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
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.errors import StorageError
from bot.log import get_logger

log = get_logger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 5000


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


def describe_storage_failure(error: BaseException, url: str) -> str:
    """Turn a driver error into one line telling the member what to do next."""
    where = sqlite_path(url) or make_url(url).render_as_string(hide_password=True)
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
    return Path(parsed.database)


class Database:
    """The bot's database: one async engine, sessions on demand, migrations on connect."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.is_sqlite = make_url(url).drivername.startswith("sqlite")
        path = sqlite_path(url)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        self.engine: AsyncEngine = create_async_engine(url, echo=echo)
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
        except StorageError:
            raise
        except (OperationalError, DBAPIError, sqlite3.Error) as error:
            log.warning("database unavailable: %s", error)
            raise StorageError(describe_storage_failure(error, self.url)) from error

    def _check_sqlite_file(self) -> None:
        """Refuse paths SQLite cannot use, before any driver thread is started for them."""
        path = sqlite_path(self.url)
        if path is None:
            return
        if path.exists() and not path.is_file():
            raise StorageError(
                f"Cannot open the database {path}: it is a folder, not a file. "
                "Set DATABASE_URL to a file path."
            )
        folder = path.parent if path.parent != Path() else Path.cwd()
        if not path.exists() and not os.access(folder, os.W_OK):
            raise StorageError(
                f"Cannot create the database {path}: its folder is not writable. "
                "Check the folder's permissions or set DATABASE_URL."
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
