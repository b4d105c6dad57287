"""pytest plugin: ``pytest_plugins = ["tests.fakediscord.fixtures"]``.

Provides the ``fake_discord`` fixture (function scope): a started :class:`FakeDiscord`
with one guild, with discord.py's REST/gateway URLs pointed at it for the test's duration.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest_asyncio

from .patching import point_discord_py_at
from .server import FakeDiscord

log = logging.getLogger(__name__)

GUILD_ID = 111111111111111111
CHANNEL_ID = 222222222222222222
ALICE_ID = 333333333333333333
"""Guild owner, has the Admin role (ADMINISTRATOR)."""
BOB_ID = 444444444444444444
"""Regular member (only @everyone)."""
APPLICATION_ID = 999999999999999999
"""Also the bot user's id."""


def make_fake_discord(**kwargs: object) -> FakeDiscord:
    """A not-yet-started FakeDiscord with the standard test guild (Alice owner, Bob)."""
    kwargs.setdefault("application_id", APPLICATION_ID)
    server = FakeDiscord(**kwargs)  # type: ignore[arg-type]
    server.add_guild(
        GUILD_ID,
        "Study Hall",
        owner_id=ALICE_ID,
        owner_name="Alice",
        channels=[(CHANNEL_ID, "general")],
        members={BOB_ID: "Bob"},
    )
    return server


@pytest_asyncio.fixture
async def fake_discord() -> AsyncIterator[FakeDiscord]:
    """A started FakeDiscord (guild GUILD_ID, channel CHANNEL_ID, Alice admin, Bob)."""
    server = make_fake_discord()
    await server.start()
    try:
        with point_discord_py_at(server):
            yield server
    finally:
        if server.unhandled:
            log.warning("FakeDiscord saw unhandled routes: %s", server.unhandled)
        await server.stop()
