"""Shared fixtures: a fake clock, a temporary SQLite database and the study services."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
from hypothesis import settings as hypothesis_settings
from sqlalchemy.engine import make_url

from bot import PROJECT_ROOT
from bot.core.clock import FakeClock
from bot.core.deck_files import DeckLibrary, load_library
from bot.core.learners import Learner
from bot.services.study import StudyServices
from bot.storage.db import Database
from tests.study_helpers import build_study

pytest_plugins = ["tests.fakediscord.fixtures"]

CONTENT_DIR = PROJECT_ROOT / "content"

# Property tests draw the same inputs on every run by default, so a red CI always means a
# change broke something (and reproduces locally). ``HYPOTHESIS_PROFILE=explore`` draws new
# random inputs each run and ``FUZZ_SCALE=20`` multiplies the number of examples: run both
# now and then to hunt for new failures, then pin what they find as plain tests.
hypothesis_settings.register_profile("repeatable", derandomize=True, print_blob=True)
hypothesis_settings.register_profile("explore", derandomize=False, print_blob=True)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))


@pytest.fixture
def clock() -> FakeClock:
    """A clock that starts on Monday 2026-01-05 09:00 UTC and moves only when told."""
    return FakeClock()


#: Set to a PostgreSQL URL (``postgresql+asyncpg://user:pw@host/db``) to run the storage
#: tests against PostgreSQL: each test gets a fresh database created next to that one.
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")


def _postgres_admin(statement: str) -> None:
    import asyncpg  # type: ignore[import-untyped]

    url = make_url(TEST_DATABASE_URL)

    async def run() -> None:
        conn = await asyncpg.connect(
            user=url.username,
            password=url.password,
            host=url.host or "localhost",
            port=url.port or 5432,
            database=url.database or "postgres",
        )
        try:
            await conn.execute(statement)
        finally:
            await conn.close()

    asyncio.run(run())


@pytest.fixture
def db_url(tmp_path: Path) -> Iterator[str]:
    """A SQLite file in the test's folder, or a fresh PostgreSQL database (TEST_DATABASE_URL)."""
    if not TEST_DATABASE_URL:
        yield f"sqlite+aiosqlite:///{tmp_path / 'tutor.db'}"
        return
    name = f"tutor_test_{uuid.uuid4().hex[:12]}"
    _postgres_admin(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(TEST_DATABASE_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        _postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest_asyncio.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    """A migrated database on a temporary file."""
    database = Database(db_url)
    await database.connect()
    yield database
    await database.close()


@pytest.fixture(scope="session")
def library() -> DeckLibrary:
    """The shipped decks."""
    return load_library(CONTENT_DIR)


@pytest_asyncio.fixture
async def study(
    db: Database, clock: FakeClock, library: DeckLibrary
) -> AsyncIterator[StudyServices]:
    """The study services over the shipped decks, with fuzz-free FSRS and a seeded RNG."""
    services = build_study(db, clock)
    await services.decks.sync_content(library)
    yield services
    await services.close()


@pytest.fixture
def alice() -> Learner:
    """A console member."""
    return Learner(platform="local", external_id="alice", display_name="Alice")


@pytest.fixture
def bob() -> Learner:
    """Another console member."""
    return Learner(platform="local", external_id="bob", display_name="Bob")
