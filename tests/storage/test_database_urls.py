"""``DATABASE_URL`` as people paste it, one line for each way a database can be unusable,
and processes that start together on a fresh database."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func
from sqlalchemy.engine import make_url
from sqlmodel import col, select

from bot import PROJECT_ROOT
from bot.core.deck_files import load_library
from bot.errors import StorageError
from bot.storage.db import Database, describe_storage_failure
from bot.storage.models import Item
from bot.storage.urls import DatabaseUrlError, normalise_database_url
from tests.conftest import TEST_DATABASE_URL

needs_postgres = pytest.mark.skipif(not TEST_DATABASE_URL, reason="needs TEST_DATABASE_URL")


# -- what people paste -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pasted", "expected"),
    [
        ("sqlite:///data/x.db", "sqlite+aiosqlite:///data/x.db"),
        ("sqlite+aiosqlite:///data/x.db", "sqlite+aiosqlite:///data/x.db"),
        ("sqlite+pysqlite:////abs/x.db", "sqlite+aiosqlite:////abs/x.db"),
        ("  sqlite:///data/x.db\n", "sqlite+aiosqlite:///data/x.db"),
        ("postgresql://u:p@h:5432/db", "postgresql+asyncpg://u:p@h:5432/db"),
        ("postgres://u:p@h/db", "postgresql+asyncpg://u:p@h/db"),
        ("postgresql+psycopg2://u:p@h/db", "postgresql+asyncpg://u:p@h/db"),
        ("postgresql+asyncpg://u:p@h/db", "postgresql+asyncpg://u:p@h/db"),
        ("postgres://u:p@h/db?sslmode=require", "postgresql+asyncpg://u:p@h/db?ssl=require"),
        ("postgres://u:p@h/db?connect_timeout=5", "postgresql+asyncpg://u:p@h/db?timeout=5"),
        ("postgres://u:p%40ss@h/db", "postgresql+asyncpg://u:p%40ss@h/db"),
    ],
)
def test_pasted_urls_use_the_async_drivers(pasted: str, expected: str) -> None:
    assert normalise_database_url(pasted) == expected


def test_a_tilde_in_a_sqlite_path_is_the_home_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", "/home/ada")
    assert (
        normalise_database_url("sqlite:///~/tutor.db") == "sqlite+aiosqlite:////home/ada/tutor.db"
    )


@pytest.mark.parametrize(
    ("pasted", "says"),
    [
        ("", "empty"),
        ("data/tutor.db", "not a database URL"),
        ("mysql://u:p@h/db", "'mysql' databases are not supported"),
        ("sqlite://data/x.db", "three slashes"),
        ("postgresql:///db", "needs a host"),
        ("postgresql://u:p@h:5432", "needs a database name"),
        ("postgresql://u:p@h:port/db", "cannot be read as a URL"),
        ("postgres://u:p@h/db?sslmode=maybe", "sslmode/ssl 'maybe' is unknown"),
    ],
)
def test_unusable_urls_are_one_line_saying_what_would_work(pasted: str, says: str) -> None:
    with pytest.raises(DatabaseUrlError) as refused:
        normalise_database_url(pasted)
    message = str(refused.value)
    assert says in message
    assert "\n" not in message


SCHEMES = st.sampled_from(
    [
        "sqlite",
        "sqlite+aiosqlite",
        "postgres",
        "postgresql",
        "postgresql+asyncpg",
        "postgresql+psycopg2",
        "mysql",
        "http",
        "",
        "sq lite",
    ]
)
PARTS = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), max_size=12)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(
    scheme=SCHEMES,
    user=PARTS,
    password=PARTS,
    host=PARTS,
    port=st.one_of(st.none(), st.integers(-5, 70000).map(str), PARTS),
    database=PARTS,
    query=st.one_of(st.just(""), PARTS.map(lambda q: "?" + q), st.just("?sslmode=require")),
)
def test_any_url_is_normalised_or_refused_in_one_line(
    scheme: str, user: str, password: str, host: str, port: str | None, database: str, query: str
) -> None:
    authority = f"{user}:{password}@{host}" + (f":{port}" if port is not None else "")
    raw = f"{scheme}://{authority}/{database}{query}"
    try:
        url = normalise_database_url(raw)
    except DatabaseUrlError as error:
        assert str(error) and "\n" not in str(error)
        return
    assert url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://"))
    assert normalise_database_url(url) == url  # idempotent
    make_url(url)  # and the engine can read it


@given(st.text(max_size=60))
def test_any_text_is_normalised_or_refused_in_one_line(raw: str) -> None:
    try:
        url = normalise_database_url(raw)
    except DatabaseUrlError as error:
        assert "\n" not in str(error)
        return
    assert normalise_database_url(url) == url


# -- one line for each unusable database ------------------------------------------------------


async def _connect_error(url: str) -> str:
    database = Database(url)
    try:
        with pytest.raises(StorageError) as refused:
            await database.connect()
    finally:
        await database.close()
    message = refused.value.message
    assert "\n" not in message
    return message


async def test_a_missing_folder_is_created(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "tutor.db"
    database = Database(f"sqlite:///{target}")
    try:
        await database.connect()
    finally:
        await database.close()
    assert target.is_file()


async def test_a_folder_that_cannot_be_created_is_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    message = await _connect_error(f"sqlite:///{blocker}/sub/tutor.db")
    assert message.startswith(f"Cannot create the folder {blocker}/sub for the database")


async def test_a_read_only_database_is_refused_at_start(tmp_path: Path) -> None:
    path = tmp_path / "tutor.db"
    database = Database(f"sqlite:///{path}")
    await database.connect()
    await database.close()
    # Root reads and writes any file, so open it read-only the way SQLite itself allows.
    message = await _connect_error(f"sqlite:///file:{path}?mode=ro&uri=true")
    assert "is read-only" in message


async def test_a_file_without_write_permission_is_refused_before_opening(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "tutor.db"
    path.write_bytes(b"")
    real_access = os.access
    monkeypatch.setattr(
        os, "access", lambda p, mode: False if Path(p) == path else real_access(p, mode)
    )
    message = await _connect_error(f"sqlite:///{path}")
    assert message.startswith(f"The database {path} is read-only.")


async def test_an_unreachable_postgresql_is_one_line() -> None:
    message = await _connect_error("postgresql://tutor:secret@127.0.0.1:9/tutor")
    assert message.startswith("Nothing answers at 127.0.0.1:9: is PostgreSQL running there?")
    assert "secret" not in message


async def test_an_unknown_postgresql_host_is_one_line() -> None:
    message = await _connect_error("postgres://tutor:secret@no-such-host.invalid/tutor")
    assert message.startswith("Cannot find the database host 'no-such-host.invalid'.")


def test_an_unparsable_url_given_to_the_database_is_one_line() -> None:
    with pytest.raises(StorageError, match=r"^DATABASE_URL cannot be used: 'mysql' databases"):
        Database("mysql://u:p@h/db")


@needs_postgres
async def test_a_wrong_postgresql_password_is_one_line() -> None:
    url = make_url(TEST_DATABASE_URL).set(password="definitely-wrong")
    message = await _connect_error(url.render_as_string(hide_password=False))
    assert message.startswith(f"PostgreSQL refused the user '{url.username}': wrong user")
    assert "definitely-wrong" not in message


@needs_postgres
async def test_a_missing_postgresql_database_is_one_line() -> None:
    url = make_url(TEST_DATABASE_URL).set(database="no_such_tutor_db")
    message = await _connect_error(url.render_as_string(hide_password=False))
    assert "The PostgreSQL database 'no_such_tutor_db' does not exist" in message
    assert "createdb no_such_tutor_db" in message


def test_a_locked_file_is_described_as_locked() -> None:
    error = sqlite3.OperationalError("database is locked")
    assert "locked by another program" in describe_storage_failure(error, "sqlite:///x.db")


# -- processes starting together ---------------------------------------------------------------

STARTER = """
import asyncio, sys
from bot.app import open_services
from bot.settings import Settings

async def main() -> None:
    settings = Settings(_env_file=None, database_url=sys.argv[1], training_workers=0)
    services = await open_services(settings)
    await services.close()

asyncio.run(main())
"""


async def test_processes_starting_together_on_a_fresh_database_all_start(db_url: str) -> None:
    """Without the start-up lock, two of three fail about every time (tables, items.key)."""
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    starters = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            STARTER,
            db_url,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        for _ in range(3)
    ]
    outcomes = [await starter.communicate() for starter in starters]
    for starter, (_out, err) in zip(starters, outcomes, strict=True):
        assert starter.returncode == 0, err.decode()
    database = Database(db_url)
    try:
        async with database.session() as session:
            count = (
                await session.exec(
                    select(func.count()).select_from(Item).where(col(Item.guild_id).is_(None))
                )
            ).one()
    finally:
        await database.close()
    library = load_library(PROJECT_ROOT / "content")
    assert count == sum(1 for _ in library.items())
