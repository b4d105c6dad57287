"""Shared fixtures: a fake clock, a temporary SQLite database and a ready engine."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from bot import PROJECT_ROOT
from bot.core.clock import FakeClock
from bot.core.content import DeckLibrary, load_library
from bot.core.scheduling import SchedulerConfig
from bot.core.tutor import Learner, Tutor, TutorConfig
from bot.storage.db import Database

pytest_plugins = ["tests.fakediscord.fixtures"]

CONTENT_DIR = PROJECT_ROOT / "content"


@pytest.fixture
def clock() -> FakeClock:
    """A clock that starts on Monday 2026-01-05 09:00 UTC and moves only when told."""
    return FakeClock()


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """A SQLite file in the test's temporary folder."""
    return f"sqlite+aiosqlite:///{tmp_path / 'tutor.db'}"


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
async def tutor(db: Database, clock: FakeClock, library: DeckLibrary) -> Tutor:
    """An engine over the shipped decks, with fuzz-free FSRS and a seeded RNG."""
    engine = Tutor(
        db,
        clock=clock,
        config=TutorConfig(new_items_per_day=20, scheduler=SchedulerConfig(enable_fuzzing=False)),
        rng=random.Random(7),
    )
    await engine.load_content(library)
    return engine


@pytest.fixture
def alice() -> Learner:
    """A console member."""
    return Learner(platform="local", external_id="alice", display_name="Alice")


@pytest.fixture
def bob() -> Learner:
    """Another console member."""
    return Learner(platform="local", external_id="bob", display_name="Bob")
