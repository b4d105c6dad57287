"""Point an unmodified discord.py at a :class:`FakeDiscord`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route

if TYPE_CHECKING:
    from .server import FakeDiscord


def apply_discord_py_urls(api_base: str, gateway_url: str) -> tuple[str, yarl.URL]:
    """Set ``Route.BASE`` and ``DiscordWebSocket.DEFAULT_GATEWAY``; return the old values.

    These two class attributes are all discord.py 2.7 needs: REST (including the
    interaction webhooks in ``discord/webhook/async_.py``, which import the same ``Route``)
    is built from ``Route.BASE``, and the gateway from ``DEFAULT_GATEWAY`` (with
    ``?v=10&encoding=json&compress=zlib-stream`` appended, which the fake honours). After
    READY the client resumes against ``resume_gateway_url``, which the fake also sets to
    itself. Auto-sharded clients ask ``GET /gateway/bot``, which the fake answers.
    """
    old = (Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY)
    Route.BASE = api_base
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)
    return old


@contextmanager
def point_discord_py_at(server: FakeDiscord) -> Iterator[FakeDiscord]:
    """Context manager: route discord.py to ``server`` and restore the URLs afterwards."""
    old_base, old_gateway = apply_discord_py_urls(server.api_base, server.gateway_url)
    try:
        yield server
    finally:
        Route.BASE = old_base
        DiscordWebSocket.DEFAULT_GATEWAY = old_gateway
