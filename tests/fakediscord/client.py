"""Helpers to run a real discord.py client against a :class:`FakeDiscord`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TypeVar

import discord

from .patching import point_discord_py_at
from .server import FakeDiscord

log = logging.getLogger(__name__)

ClientT = TypeVar("ClientT", bound=discord.Client)

FAKE_TOKEN = "fake-bot-token"


@asynccontextmanager
async def running_client(
    client: ClientT,
    server: FakeDiscord,
    *,
    token: str = FAKE_TOKEN,
    ready_timeout: float = 10.0,
    guild_ready_timeout: float | None = 0.05,
) -> AsyncIterator[ClientT]:
    """Log ``client`` in against ``server``, connect, wait for ``on_ready``, close on exit.

    ``guild_ready_timeout`` overrides the client's wait after the last GUILD_CREATE
    (discord.py default 2 s) so READY fires quickly; pass ``None`` to keep the client's
    own value. ``setup_hook`` (e.g. ``tree.sync()``) runs during login as usual.
    """
    if guild_ready_timeout is not None:
        client._connection.guild_ready_timeout = guild_ready_timeout
    with point_discord_py_at(server):
        await client.login(token)
        runner = asyncio.create_task(client.connect(reconnect=True), name="fake-discord-client")
        ready = asyncio.create_task(client.wait_until_ready(), name="fake-discord-ready")
        try:
            done, _ = await asyncio.wait(
                {runner, ready}, timeout=ready_timeout, return_when=asyncio.FIRST_COMPLETED
            )
            if ready not in done:
                if runner in done:
                    runner.result()  # re-raise the connection error
                raise TimeoutError(f"client not ready after {ready_timeout}s")
            yield client
        finally:
            ready.cancel()
            await client.close()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(runner, timeout=5)
            with contextlib.suppress(asyncio.CancelledError):
                await ready
