"""Fixtures for the Discord adapter: the real TutorBot running against the fake Discord."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from bot.app import discord_bot
from bot.exts.client import TutorBot
from bot.settings import Settings
from tests.fakediscord import FakeDiscord, running_client

#: The fake enforces a scaled-down acknowledgement deadline; the bot's budget scales with it.
ACK_DEADLINE_S = 1.0
ACK_BUDGET_S = 0.4


@pytest.fixture
def bot_settings(db_url: str, tmp_path: Path) -> Settings:
    """Settings for a bot on a temporary database (PostgreSQL with TEST_DATABASE_URL)."""
    return Settings(
        discord_token="fake-token",
        database_url=db_url,
        media_dir=tmp_path / "media",
        discord_ack_budget_s=ACK_BUDGET_S,
        fsrs_fuzzing=False,
        training_workers=0,  # the /train tests turn the lab on themselves
    )


@pytest_asyncio.fixture
async def tutor_bot(fake_discord: FakeDiscord, bot_settings: Settings) -> AsyncIterator[TutorBot]:
    """A connected TutorBot (commands synced) talking to the fake."""
    fake_discord.ack_deadline_s = ACK_DEADLINE_S
    bot = discord_bot(bot_settings)
    async with running_client(bot, fake_discord):
        await fake_discord.wait_for_commands("review", "quiz", "help")
        yield bot
