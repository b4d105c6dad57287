"""Fixtures of the console tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from bot.app import open_services
from bot.core.clock import FakeClock
from bot.services.container import Services
from bot.settings import Settings


@pytest_asyncio.fixture
async def services(db_url: str, clock: FakeClock) -> AsyncIterator[Services]:
    """Every service, built by the composition root as the console builds them."""
    opened = await open_services(
        Settings(database_url=db_url, training_workers=0, fsrs_fuzzing=False),
        clock=clock,
        console=True,
    )
    yield opened
    await opened.close()
