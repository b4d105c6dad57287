# Waiters take ``timeout=`` on purpose: it is the test-facing API.
# ruff: noqa: ASYNC109
"""A fake Discord (REST API + gateway websocket) for end-to-end tests of discord.py bots.

Run the real, unmodified discord.py client against it::

    server = FakeDiscord()
    await server.start()
    with point_discord_py_at(server):
        await client.login(server.token)
        ...

The fake records what the bot does (``callbacks``, ``messages``, ``modals``,
``registered_commands``, ``requests``, ``unhandled``) and lets tests drive interactions
(``send_slash_command``, ``click_button``, ``submit_modal``...) and members' messages
(``send_user_message``, ``send_dm``; the bot's answers: ``wait_for_reply``).

:class:`FakeDiscord` only assembles the parts, each in a module of its own:

* :mod:`.state` -- storage and lookups (:class:`FakeState`) and world setup;
* :mod:`.message_store` -- stored messages and the ``messages`` records;
* :mod:`.waiting` -- ``wait_for*`` and the record queries;
* :mod:`.drivers` -- ``send_slash_command``, ``click_button``, ``submit_modal``...;
* :mod:`.member_messages` -- ``send_user_message``/``send_dm``: members' messages as
  MESSAGE_CREATE, intents honoured;
* :mod:`.rest` -- REST dispatch, auth, faults, request bodies;
* :mod:`.routes_commands`, :mod:`.routes_interactions`, :mod:`.routes_channels`,
  :mod:`.routes_guilds` -- the REST handlers per area;
* :mod:`.gateway` -- the gateway websocket.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import web

from .drivers import UNSET, InteractionDriversMixin
from .gateway import Gateway
from .member_messages import MemberMessagesMixin
from .rest import Body, HTTPError, RestMixin, compile_routes, error_response, json_response
from .routes_channels import ChannelRoutesMixin
from .routes_commands import CommandRoutesMixin
from .routes_guilds import GuildRoutesMixin
from .routes_interactions import InteractionRoutesMixin
from .state import (
    API_PREFIX,
    DEFAULT_ATTACHMENT_LIMIT,
    InteractionState,
    StoredMessage,
    WorldBuilderMixin,
)
from .waiting import WaitersMixin

__all__ = [
    "API_PREFIX",
    "DEFAULT_ATTACHMENT_LIMIT",
    "UNSET",
    "Body",
    "FakeDiscord",
    "HTTPError",
    "InteractionState",
    "StoredMessage",
    "error_response",
    "json_response",
]

log = logging.getLogger(__name__)


class FakeDiscord(
    WaitersMixin,
    MemberMessagesMixin,
    InteractionDriversMixin,
    WorldBuilderMixin,
    RestMixin,
    CommandRoutesMixin,
    InteractionRoutesMixin,
    ChannelRoutesMixin,
    GuildRoutesMixin,
):
    """In-process fake Discord server (REST + gateway) bound to ``host`` on a free port.

    Args:
        host: interface to bind.
        port: TCP port, ``0`` = pick a free one.
        application_id: the application id (defaults to a fresh snowflake); also the bot
            user id unless ``bot_user_id`` is given.
        bot_name: username of the bot user.
        token: token the bot must log in with; ``None`` accepts any token.
        ack_deadline_s: interaction acknowledgement deadline (Discord: 3 s).
        heartbeat_interval_ms: ``heartbeat_interval`` sent in HELLO.
        attachment_size_limit: ``attachment_size_limit`` put in every interaction.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        application_id: int | None = None,
        bot_user_id: int | None = None,
        bot_name: str = "TutorBot",
        token: str | None = None,
        ack_deadline_s: float = 3.0,
        heartbeat_interval_ms: int = 41250,
        attachment_size_limit: int = DEFAULT_ATTACHMENT_LIMIT,
    ) -> None:
        super().__init__(
            host=host,
            port=port,
            application_id=application_id,
            bot_user_id=bot_user_id,
            bot_name=bot_name,
            token=token,
            ack_deadline_s=ack_deadline_s,
            heartbeat_interval_ms=heartbeat_interval_ms,
            attachment_size_limit=attachment_size_limit,
        )
        self.gateway = Gateway(self)
        self._routes = []
        self._build_routes()

    def _build_routes(self) -> None:
        """Assemble the REST route table from the per-area route mixins (order matters)."""
        self._routes = compile_routes(
            [
                *self._identity_routes(),
                *self._command_routes(),
                *self._interaction_routes(),
                *self._channel_routes(),
                *self._guild_routes(),
            ]
        )

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Bind and start serving."""
        app = web.Application(client_max_size=200 * 1024 * 1024)
        app.router.add_get("/ws/", self.gateway.handle)
        app.router.add_get("/attachments/{channel_id}/{attachment_id}/{filename}", self._serve_file)
        app.router.add_route("*", "/{tail:.*}", self._rest)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self._requested_port)
        await site.start()
        addresses = self._runner.addresses
        self.port = int(addresses[0][1])
        log.info("FakeDiscord listening on %s", self.base_url)

    async def stop(self) -> None:
        """Close gateway sockets and shut the server down."""
        for task in list(self._bg_tasks):
            task.cancel()
        if self._bg_tasks:
            await asyncio.gather(*self._bg_tasks, return_exceptions=True)
        await self.gateway.close_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeDiscord:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ------------------------------------------------------------------ gateway control

    async def dispatch_event(self, event: str, data: dict[str, Any]) -> int:
        """Dispatch an arbitrary gateway event to the connected bot; returns its sequence."""
        return await self.gateway.dispatch(event, data)

    def fail_gateway(self, *, times: int = 1, status: int = 503) -> None:
        """Refuse the next ``times`` gateway connections with HTTP ``status`` (the websocket
        handshake fails, as when Discord's gateway is down); ``times=-1`` means forever.
        ``gateway.refused_count`` counts the refusals."""
        self.gateway.refuse(times=times, status=status)

    async def disconnect_gateway(
        self, resume: bool = True, *, code: int = 4000, timeout: float = 10.0
    ) -> None:
        """Drop the bot's gateway connection and wait until it is back.

        ``resume=True`` closes the socket with ``code`` (4000 → discord.py RESUMEs
        immediately) and waits for RESUMED; events dispatched meanwhile are buffered and
        replayed. ``resume=False`` sends INVALID_SESSION(false) and waits for a fresh
        IDENTIFY/READY.
        """
        if resume:
            before = self.gateway.resume_count
            await self.gateway.drop_connection(code)
            self._notify()
            await self.wait_for(
                lambda: self.gateway.resume_count > before, timeout=timeout, what="RESUME"
            )
        else:
            before = self.gateway.identify_count
            await self.gateway.invalidate()
            await self.wait_for(
                lambda: self.gateway.identify_count > before, timeout=timeout, what="re-IDENTIFY"
            )
