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
(``send_slash_command``, ``click_button``, ``submit_modal``...).
"""

from __future__ import annotations

import asyncio
import enum
import fnmatch
import json
import logging
import re
import secrets
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiohttp import BodyPartReader, web

from .gateway import Gateway
from .models import (
    EPHEMERAL_FLAG,
    LOADING_FLAG,
    AttachmentRecord,
    AutocompleteRecord,
    CallbackRecord,
    InteractionHandle,
    MessageAction,
    MessageKind,
    MessageRecord,
    ModalRecord,
    RequestRecord,
    RouteFault,
)
from .payloads import (
    ADMINISTRATOR,
    ALL_PERMISSIONS,
    ChannelState,
    GuildState,
    MemberState,
    RoleState,
    UserState,
    application_payload,
    bot_user_payload,
    iso_now,
    snowflake,
)

log = logging.getLogger(__name__)

T = TypeVar("T")

API_PREFIX = "/api/v10"
EVERYONE_PERMISSIONS = (
    (1 << 0) | (1 << 6) | (1 << 10) | (1 << 11) | (1 << 14) | (1 << 15) | (1 << 16)
    | (1 << 18) | (1 << 20) | (1 << 21) | (1 << 26) | (1 << 31)
)  # fmt: skip
DM_APP_PERMISSIONS = (1 << 10) | (1 << 11) | (1 << 14) | (1 << 15) | (1 << 16) | (1 << 31)
DEFAULT_ATTACHMENT_LIMIT = 10 * 1024 * 1024

INTERACTION_PING = 1
INTERACTION_APPLICATION_COMMAND = 2
INTERACTION_COMPONENT = 3
INTERACTION_AUTOCOMPLETE = 4
INTERACTION_MODAL_SUBMIT = 5

CALLBACK_PONG = 1
CALLBACK_CHANNEL_MESSAGE = 4
CALLBACK_DEFERRED_CHANNEL_MESSAGE = 5
CALLBACK_DEFERRED_UPDATE_MESSAGE = 6
CALLBACK_UPDATE_MESSAGE = 7
CALLBACK_AUTOCOMPLETE_RESULT = 8
CALLBACK_MODAL = 9

OPTION_SUB_COMMAND = 1
OPTION_SUB_COMMAND_GROUP = 2
SELECT_TYPES = (3, 5, 6, 7, 8)


class _Unset(enum.Enum):
    UNSET = enum.auto()


UNSET = _Unset.UNSET
"""Sentinel: "use the default guild/channel"."""


def json_response(data: Any, status: int = 200) -> web.Response:
    """A JSON response whose Content-Type is *exactly* ``application/json``.

    discord.py's ``json_or_text`` compares the header verbatim, so aiohttp's
    ``json_response``/``Response(text=...)`` (which append ``; charset=utf-8``) would make it
    treat the body as text.
    """
    return web.Response(
        body=json.dumps(data).encode(), status=status, content_type="application/json"
    )


def error_response(status: int, code: int, message: str) -> web.Response:
    """A Discord-style JSON error."""
    return json_response({"code": code, "message": message}, status=status)


class HTTPError(Exception):
    """Raised by handlers to answer with a Discord JSON error."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status = status
        self.code = code
        self.message = message


@dataclass
class Body:
    """A parsed request body: JSON (or ``payload_json``) plus uploaded files."""

    json: Any = None
    files: list[tuple[int, str, str | None, bytes]] = field(default_factory=list)
    """``(index, filename, content_type, data)`` for each ``files[n]`` part."""


@dataclass
class StoredMessage:
    """Current state of a message (what ``GET`` returns)."""

    payload: dict[str, Any]
    kind: MessageKind
    interaction_id: int | None
    files: list[AttachmentRecord]
    deleted: bool = False

    @property
    def id(self) -> int:
        """Message id."""
        return int(self.payload["id"])

    @property
    def channel_id(self) -> int:
        """Channel id."""
        return int(self.payload["channel_id"])


@dataclass
class InteractionState:
    """Server-side bookkeeping for one dispatched interaction."""

    handle: InteractionHandle
    created_at: float
    source_message_id: int | None = None
    dispatched_at: float | None = None
    acked: bool = False
    ack_type: int | None = None
    original_message_id: int | None = None
    deferred_ephemeral: bool = False


Handler = Callable[[web.Request, "re.Match[str]", Body], Awaitable[web.StreamResponse]]


class FakeDiscord:
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
        self.host = host
        self._requested_port = port
        self.port: int | None = None
        self.application_id: int = application_id or snowflake()
        self.bot_user = UserState(id=bot_user_id or self.application_id, name=bot_name, bot=True)
        self.token = token
        self.ack_deadline_s = ack_deadline_s
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.attachment_size_limit = attachment_size_limit

        self.users: dict[int, UserState] = {self.bot_user.id: self.bot_user}
        self.guilds: dict[int, GuildState] = {}
        self.dm_channels: dict[int, ChannelState] = {}
        """DM channel per recipient user id."""
        self.commands: dict[int | None, dict[int, dict[str, Any]]] = {None: {}}
        """Registered application commands: ``{guild_id or None: {command_id: payload}}``."""

        self.callbacks: list[CallbackRecord] = []
        self.messages: list[MessageRecord] = []
        self.modals: list[ModalRecord] = []
        self.autocompletes: list[AutocompleteRecord] = []
        self.requests: list[RequestRecord] = []
        self.unhandled: list[tuple[str, str]] = []
        self.interactions: dict[int, InteractionState] = {}
        self.faults: list[RouteFault] = []
        self.uploads: dict[int, AttachmentRecord] = {}
        """Files attached to slash command options (served under ``/attachments``)."""

        self._store: dict[int, StoredMessage] = {}
        self._by_token: dict[str, int] = {}
        self._changed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._bg_tasks: set[asyncio.Task[Any]] = set()
        self.gateway = Gateway(self)
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self._build_routes()

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

    @property
    def base_url(self) -> str:
        """``http://host:port``."""
        if self.port is None:
            raise RuntimeError("FakeDiscord is not started")
        return f"http://{self.host}:{self.port}"

    @property
    def api_base(self) -> str:
        """Value for ``discord.http.Route.BASE`` (``http://127.0.0.1:PORT/api/v10``)."""
        return self.base_url + API_PREFIX

    @property
    def gateway_url(self) -> str:
        """Value for ``DiscordWebSocket.DEFAULT_GATEWAY`` (``ws://127.0.0.1:PORT/ws/``)."""
        return f"ws://{self.host}:{self.port}/ws/"

    @property
    def bot_user_id(self) -> int:
        """The bot user's id."""
        return self.bot_user.id

    @property
    def registered_commands(self) -> dict[int | None, list[dict[str, Any]]]:
        """Registered commands per guild id (``None`` = global)."""
        return {gid: list(cmds.values()) for gid, cmds in self.commands.items()}

    def command_names(self, guild_id: int | None = None) -> set[str]:
        """Names of the commands registered globally (or for ``guild_id``)."""
        return {c["name"] for c in self.commands.get(guild_id, {}).values()}

    # ------------------------------------------------------------------ world setup

    def add_user(self, user_id: int, name: str, *, bot: bool = False) -> UserState:
        """Create (or return) a user."""
        user = self.users.get(user_id)
        if user is None:
            user = self.users[user_id] = UserState(id=user_id, name=name, bot=bot)
        return user

    def add_guild(
        self,
        guild_id: int,
        name: str,
        *,
        owner_id: int,
        owner_name: str = "owner",
        channels: Sequence[str | tuple[int, str]] = ("general",),
        members: Mapping[int, str] | None = None,
    ) -> GuildState:
        """Create a guild with text ``channels`` (names or ``(id, name)``) and ``members``.

        Creates an ``@everyone`` role (id = guild id), an ``Admin`` role (ADMINISTRATOR)
        and adds the owner and the bot as members. If the bot is connected the
        GUILD_CREATE is dispatched live.
        """
        guild = GuildState(id=guild_id, name=name, owner_id=owner_id)
        guild.roles[guild_id] = RoleState(guild_id, "@everyone", EVERYONE_PERMISSIONS, 0)
        admin_role = RoleState(snowflake(), "Admin", ADMINISTRATOR, 2)
        guild.roles[admin_role.id] = admin_role
        bot_role = RoleState(snowflake(), self.bot_user.name, ALL_PERMISSIONS & ~ADMINISTRATOR, 1)
        guild.roles[bot_role.id] = bot_role
        self.guilds[guild_id] = guild
        for pos, spec in enumerate(channels):
            cid, cname = spec if isinstance(spec, tuple) else (snowflake(), spec)
            guild.channels[cid] = ChannelState(id=cid, name=cname, guild_id=guild_id, position=pos)
        owner = self.add_user(owner_id, owner_name)
        guild.members[owner_id] = MemberState(user=owner, guild_id=guild_id, roles=[admin_role.id])
        guild.members[self.bot_user.id] = MemberState(
            user=self.bot_user, guild_id=guild_id, roles=[bot_role.id]
        )
        for uid, uname in (members or {}).items():
            self.add_member(guild_id, uid, uname)
        self._dispatch_soon("GUILD_CREATE", guild.payload)
        return guild

    def add_channel(
        self, guild_id: int, name: str, *, channel_id: int | None = None, type: int = 0
    ) -> ChannelState:
        """Add a channel (type 0 text, 2 voice, 4 category...) to a guild."""
        guild = self.guilds[guild_id]
        chan = ChannelState(
            id=channel_id or snowflake(),
            name=name,
            type=type,
            guild_id=guild_id,
            position=len(guild.channels),
        )
        guild.channels[chan.id] = chan
        self._dispatch_soon("CHANNEL_CREATE", chan.payload)
        return chan

    def add_role(self, guild_id: int, name: str, permissions: int = 0) -> RoleState:
        """Add a role to a guild."""
        guild = self.guilds[guild_id]
        role = RoleState(snowflake(), name, permissions, len(guild.roles))
        guild.roles[role.id] = role
        self._dispatch_soon(
            "GUILD_ROLE_CREATE", lambda: {"guild_id": str(guild_id), "role": role.payload()}
        )
        return role

    def add_member(
        self,
        guild_id: int,
        user_id: int,
        name: str,
        *,
        admin: bool = False,
        permissions: int | None = None,
        roles: Iterable[int] = (),
        nick: str | None = None,
        bot: bool = False,
    ) -> MemberState:
        """Add a member; ``admin`` gives the Admin role, ``permissions`` a dedicated role."""
        guild = self.guilds[guild_id]
        user = self.add_user(user_id, name, bot=bot)
        role_ids = list(roles)
        if admin:
            role_ids.append(next(r.id for r in guild.roles.values() if r.name == "Admin"))
        if permissions is not None:
            role = RoleState(snowflake(), f"perms-{user_id}", permissions, 1)
            guild.roles[role.id] = role
            role_ids.append(role.id)
        member = MemberState(user=user, guild_id=guild_id, roles=role_ids, nick=nick)
        guild.members[user_id] = member
        self._dispatch_soon(
            "GUILD_MEMBER_ADD", lambda: {**member.payload(), "guild_id": str(guild_id)}
        )
        return member

    def default_guild(self) -> GuildState:
        """The first guild added."""
        if not self.guilds:
            raise LookupError("no guild: call add_guild first")
        return next(iter(self.guilds.values()))

    def dm_channel(self, user_id: int) -> ChannelState:
        """The bot's DM channel with ``user_id`` (created on demand)."""
        chan = self.dm_channels.get(user_id)
        if chan is None:
            self.add_user(user_id, f"user{user_id}")
            chan = ChannelState(id=snowflake(), name="", type=1, recipient_ids=[user_id])
            self.dm_channels[user_id] = chan
        return chan

    def channel(self, channel_id: int) -> ChannelState | None:
        """Find a guild or DM channel by id."""
        for guild in self.guilds.values():
            if channel_id in guild.channels:
                return guild.channels[channel_id]
        for chan in self.dm_channels.values():
            if chan.id == channel_id:
                return chan
        return None

    def _dispatch_soon(self, event: str, make: Callable[[], dict[str, Any]]) -> None:
        """Dispatch a live update if a bot is connected (no-op before it connects)."""
        sess = self.gateway.latest
        if sess is None or sess.closed:
            return
        task = asyncio.get_running_loop().create_task(self.gateway.dispatch(event, make(), sess))
        self._bg_tasks.add(task)
        task.add_done_callback(self._bg_tasks.discard)

    def _bot_user_payload(self) -> dict[str, Any]:
        return bot_user_payload(self.bot_user)

    # ------------------------------------------------------------------ faults

    def fail_route(
        self,
        method: str,
        path_glob: str,
        *,
        status: int = 500,
        times: int = 1,
        code: int = 0,
        message: str = "Injected failure",
        delay_s: float = 0.0,
    ) -> RouteFault:
        """Answer the next ``times`` requests matching ``method``/``path_glob`` with ``status``.

        ``path_glob`` is an fnmatch pattern relative to the API base, e.g.
        ``"/interactions/*/callback"`` or ``"/channels/*/messages"``; ``method`` may be
        ``"*"``; ``times=-1`` means forever. Note discord.py retries 500/502/504 after
        ``1 + 2*attempt`` seconds.
        """
        fault = RouteFault(
            method.upper(), path_glob, status, delay_s, times, {"code": code, "message": message}
        )
        self.faults.append(fault)
        return fault

    def slow_route(
        self, method: str, path_glob: str, delay_s: float, *, times: int = 1
    ) -> RouteFault:
        """Delay the next ``times`` matching requests by ``delay_s`` before handling them.

        The delay counts towards a callback's ``elapsed_s`` (it models a slow network).
        """
        fault = RouteFault(method.upper(), path_glob, None, delay_s, times)
        self.faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        """Remove all programmed faults."""
        self.faults.clear()

    def _take_fault(self, method: str, path: str) -> RouteFault | None:
        for fault in self.faults:
            if fault.times == 0:
                continue
            if fault.method not in ("*", method) or not fnmatch.fnmatchcase(path, fault.path_glob):
                continue
            fault.hits += 1
            if fault.times > 0:
                fault.times -= 1
            return fault
        return None

    # ------------------------------------------------------------------ waiting

    def _notify(self) -> None:
        """Wake every ``wait_for`` waiter."""
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_for(
        self, probe: Callable[[], T | None], *, timeout: float = 5.0, what: str = "condition"
    ) -> T:
        """Wait until ``probe()`` returns something truthy and return it."""
        deadline = time.monotonic() + timeout
        while True:
            event = self._changed
            result = probe()
            if result:
                return result
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
            try:
                await asyncio.wait_for(event.wait(), timeout=remaining)
            except TimeoutError:
                continue

    async def wait_for_gateway_ready(self, *, timeout: float = 10.0) -> None:
        """Wait until a client has identified (READY + GUILD_CREATEs sent)."""
        await self.wait_for(
            lambda: self.gateway.latest is not None and self.gateway.latest.connected,
            timeout=timeout,
            what="gateway IDENTIFY",
        )

    async def wait_for_commands(
        self, *names: str, guild_id: int | None = None, timeout: float = 5.0
    ) -> list[dict[str, Any]]:
        """Wait until all ``names`` are registered (globally or for ``guild_id``)."""
        return await self.wait_for(
            lambda: (
                list(self.commands.get(guild_id, {}).values())
                if set(names) <= self.command_names(guild_id)
                else None
            ),
            timeout=timeout,
            what=f"commands {names} (guild {guild_id})",
        )

    def messages_for(self, handle: InteractionHandle | int) -> list[MessageRecord]:
        """All message records produced by an interaction (responses, edits, followups)."""
        iid = handle if isinstance(handle, int) else handle.id
        return [m for m in self.messages if m.interaction_id == iid]

    def callbacks_for(self, handle: InteractionHandle | int) -> list[CallbackRecord]:
        """All callback attempts for an interaction."""
        iid = handle if isinstance(handle, int) else handle.id
        return [c for c in self.callbacks if c.interaction_id == iid]

    async def wait_for_callback(
        self, handle: InteractionHandle, *, timeout: float = 5.0
    ) -> CallbackRecord:
        """Wait for the first callback attempt (accepted or rejected) for ``handle``."""
        return await self.wait_for(
            lambda: next(iter(self.callbacks_for(handle)), None),
            timeout=timeout,
            what=f"callback for interaction {handle.id}",
        )

    def _first_response(
        self, handle: InteractionHandle
    ) -> MessageRecord | ModalRecord | AutocompleteRecord | None:
        for modal in self.modals:
            if modal.interaction_id == handle.id:
                return modal
        for auto in self.autocompletes:
            if auto.interaction_id == handle.id:
                return auto
        for msg in self.messages_for(handle):
            if not msg.loading and msg.action != "delete":
                return msg
        return None

    async def wait_for_response(
        self, handle: InteractionHandle, *, timeout: float = 5.0
    ) -> MessageRecord | ModalRecord | AutocompleteRecord:
        """First visible answer: a message (type 4/7, edit of a deferred original, followup),
        a modal (type 9) or autocomplete choices (type 8)."""
        return await self.wait_for(
            lambda: self._first_response(handle),
            timeout=timeout,
            what=f"response to interaction {handle.id}",
        )

    async def _wait_for_kind(
        self, handle: InteractionHandle, kind: type[T], what: str, timeout: float
    ) -> T:
        """The first response to ``handle``, which must be a ``kind``."""
        resp = await self.wait_for_response(handle, timeout=timeout)
        if not isinstance(resp, kind):
            raise AssertionError(f"expected {what}, bot answered with {resp!r}")
        return resp

    async def wait_for_message(
        self, handle: InteractionHandle, *, timeout: float = 5.0
    ) -> MessageRecord:
        """Like :meth:`wait_for_response` but requires a message."""
        return await self._wait_for_kind(handle, MessageRecord, "a message", timeout)

    async def wait_for_modal(
        self, handle: InteractionHandle, *, timeout: float = 5.0
    ) -> ModalRecord:
        """Wait for the bot to open a modal in response to ``handle``."""
        return await self._wait_for_kind(handle, ModalRecord, "a modal", timeout)

    async def wait_for_autocomplete(
        self, handle: InteractionHandle, *, timeout: float = 5.0
    ) -> AutocompleteRecord:
        """Wait for the autocomplete choices returned for ``handle``."""
        return await self._wait_for_kind(
            handle, AutocompleteRecord, "autocomplete choices", timeout
        )

    async def wait_for_followup(
        self, handle: InteractionHandle, index: int = 0, *, timeout: float = 5.0
    ) -> MessageRecord:
        """Wait for the ``index``-th followup message (``POST /webhooks/{app}/{token}``)."""

        def probe() -> MessageRecord | None:
            followups = [m for m in self.messages_for(handle) if m.kind == "followup"]
            return followups[index] if len(followups) > index else None

        return await self.wait_for(probe, timeout=timeout, what=f"followup #{index} of {handle.id}")

    async def wait_for_edit(
        self, handle: InteractionHandle, *, index: int = 0, timeout: float = 5.0
    ) -> MessageRecord:
        """Wait for the ``index``-th edit made through ``handle`` (type 7 or webhook PATCH)."""

        def probe() -> MessageRecord | None:
            edits = [m for m in self.messages_for(handle) if m.action == "edit"]
            return edits[index] if len(edits) > index else None

        return await self.wait_for(probe, timeout=timeout, what=f"edit #{index} via {handle.id}")

    async def wait_for_channel_message(
        self,
        channel_id: int | None = None,
        *,
        predicate: Callable[[MessageRecord], bool] | None = None,
        after: int = 0,
        timeout: float = 5.0,
    ) -> MessageRecord:
        """Wait for a message the bot created via ``POST /channels/{id}/messages``.

        ``after`` skips records before that index of ``server.messages`` (pass
        ``len(server.messages)`` taken before triggering the bot).
        """

        def probe() -> MessageRecord | None:
            for msg in self.messages[after:]:
                if msg.kind not in ("channel", "dm") or msg.action != "create":
                    continue
                if channel_id is not None and msg.channel_id != channel_id:
                    continue
                if predicate is None or predicate(msg):
                    return msg
            return None

        return await self.wait_for(probe, timeout=timeout, what=f"message in channel {channel_id}")

    def get_message(self, message_id: int) -> MessageRecord:
        """Current state of a message as a record (``KeyError`` if unknown)."""
        stored = self._store[message_id]
        return self._snapshot(
            stored, "edit" if stored.payload.get("edited_timestamp") else "create"
        )

    # ------------------------------------------------------------------ gateway control

    async def dispatch_event(self, event: str, data: dict[str, Any]) -> int:
        """Dispatch an arbitrary gateway event to the connected bot; returns its sequence."""
        return await self.gateway.dispatch(event, data)

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

    # ------------------------------------------------------------------ interaction drivers

    def _resolve_place(
        self, user_id: int, guild_id: int | _Unset | None, channel_id: int | None
    ) -> tuple[int | None, int]:
        gid = self.default_guild().id if guild_id is UNSET else guild_id
        if gid is None:
            return None, channel_id or self.dm_channel(user_id).id
        guild = self.guilds[gid]
        if channel_id is None:
            channel_id = guild.text_channel_ids[0]
        if channel_id not in guild.channels:
            raise ValueError(f"channel {channel_id} is not in guild {gid}")
        return gid, channel_id

    def find_command(self, name: str, guild_id: int | None, type: int = 1) -> dict[str, Any]:
        """Look a registered command up like Discord does (guild first, then global)."""
        scopes: list[int | None] = [guild_id, None] if guild_id is not None else [None]
        for scope in scopes:
            for cmd in self.commands.get(scope, {}).values():
                if cmd["name"] == name and int(cmd.get("type", 1)) == type:
                    return cmd
        known = {scope: sorted(self.command_names(scope)) for scope in self.commands}
        raise LookupError(f"command {name!r} (type {type}) not registered; registered: {known}")

    async def send_slash_command(
        self,
        name: str,
        *,
        user_id: int,
        guild_id: int | _Unset | None = UNSET,
        channel_id: int | None = None,
        options: Mapping[str, Any] | list[dict[str, Any]] | None = None,
        subcommand: str | None = None,
    ) -> InteractionHandle:
        """Dispatch an APPLICATION_COMMAND (type 2) interaction for a registered command.

        ``guild_id=None`` sends it from the user's DM; the default is the first guild.
        ``options`` maps option names to values typed by the registered definition
        (3 str, 4 int, 10 float, 5 bool, 6 user id, 7 channel id, 8 role id, 9 user/role
        id, 11 ``(filename, bytes)``); a list is used verbatim. ``subcommand`` is
        ``"sub"`` or ``"group sub"``.
        """
        return await self._command_interaction(
            INTERACTION_APPLICATION_COMMAND,
            name,
            user_id=user_id,
            guild_id=guild_id,
            channel_id=channel_id,
            options=options,
            subcommand=subcommand,
            focused=None,
        )

    async def send_autocomplete(
        self,
        name: str,
        *,
        focused: str,
        user_id: int,
        guild_id: int | _Unset | None = UNSET,
        channel_id: int | None = None,
        options: Mapping[str, Any] | None = None,
        subcommand: str | None = None,
    ) -> InteractionHandle:
        """Dispatch an APPLICATION_COMMAND_AUTOCOMPLETE (type 4) interaction.

        ``options`` holds what the user typed so far; ``focused`` names the option being
        completed (its value is sent as a string, as Discord does). Await
        :meth:`wait_for_autocomplete` for the choices.
        """
        return await self._command_interaction(
            INTERACTION_AUTOCOMPLETE,
            name,
            user_id=user_id,
            guild_id=guild_id,
            channel_id=channel_id,
            options=options,
            subcommand=subcommand,
            focused=focused,
        )

    async def _command_interaction(
        self,
        itype: int,
        name: str,
        *,
        user_id: int,
        guild_id: int | _Unset | None,
        channel_id: int | None,
        options: Mapping[str, Any] | list[dict[str, Any]] | None,
        subcommand: str | None,
        focused: str | None,
    ) -> InteractionHandle:
        gid, cid = self._resolve_place(user_id, guild_id, channel_id)
        cmd = self.find_command(name, gid)
        defs: list[dict[str, Any]] = cmd.get("options", []) or []
        path = subcommand.split() if subcommand else []
        chain: list[dict[str, Any]] = []
        for part in path:
            match = next(
                (
                    d
                    for d in defs
                    if d["name"] == part
                    and d["type"] in (OPTION_SUB_COMMAND, OPTION_SUB_COMMAND_GROUP)
                ),
                None,
            )
            if match is None:
                raise LookupError(f"/{name} has no subcommand {part!r}")
            chain.append(match)
            defs = match.get("options", []) or []
        resolved: dict[str, dict[str, Any]] = {}
        if isinstance(options, list):
            leaf = options
        else:
            leaf = self._build_options(defs, options or {}, focused, gid, resolved)
        for sub in reversed(chain):
            leaf = [{"type": sub["type"], "name": sub["name"], "options": leaf}]
        data: dict[str, Any] = {"id": cmd["id"], "name": cmd["name"], "type": 1}
        if leaf:
            data["options"] = leaf
        if resolved:
            data["resolved"] = resolved
        if cmd.get("guild_id"):
            data["guild_id"] = cmd["guild_id"]
        return await self._dispatch_interaction(
            itype, data, user_id=user_id, guild_id=gid, channel_id=cid
        )

    def _build_options(
        self,
        defs: list[dict[str, Any]],
        values: Mapping[str, Any],
        focused: str | None,
        guild_id: int | None,
        resolved: dict[str, dict[str, Any]],
    ) -> list[dict[str, Any]]:
        by_name = {d["name"]: d for d in defs}
        out: list[dict[str, Any]] = []
        for opt_name, value in values.items():
            if opt_name not in by_name:
                raise ValueError(f"unknown option {opt_name!r}; known: {sorted(by_name)}")
            otype = int(by_name[opt_name]["type"])
            option: dict[str, Any] = {"name": opt_name, "type": otype}
            if opt_name == focused:
                option["value"] = str(value)
                option["focused"] = True
            else:
                option["value"] = self._convert_option(otype, value, guild_id, resolved)
            out.append(option)
        if focused is not None and focused not in values:
            if focused not in by_name:
                raise ValueError(f"unknown focused option {focused!r}")
            out.append(
                {
                    "name": focused,
                    "type": int(by_name[focused]["type"]),
                    "value": "",
                    "focused": True,
                }
            )
        return out

    def _convert_option(
        self, otype: int, value: Any, guild_id: int | None, resolved: dict[str, dict[str, Any]]
    ) -> Any:
        if otype == 3:
            return str(value)
        if otype == 4:
            return int(value)
        if otype == 10:
            return float(value)
        if otype == 5:
            return bool(value)
        if otype in (6, 9) and int(value) in self.users:
            uid = int(value)
            resolved.setdefault("users", {})[str(uid)] = self.users[uid].payload()
            if guild_id is not None and uid in self.guilds[guild_id].members:
                guild = self.guilds[guild_id]
                member = guild.members[uid].payload(with_user=False)
                member["permissions"] = str(guild.member_permissions(uid))
                resolved.setdefault("members", {})[str(uid)] = member
            return str(uid)
        if otype in (8, 9) and guild_id is not None and int(value) in self.guilds[guild_id].roles:
            role = self.guilds[guild_id].roles[int(value)]
            resolved.setdefault("roles", {})[str(role.id)] = role.payload()
            return str(role.id)
        if otype == 7:
            chan = self.channel(int(value))
            if chan is None:
                raise ValueError(f"unknown channel {value}")
            data = {
                "id": str(chan.id),
                "name": chan.name,
                "type": chan.type,
                "permissions": str(ALL_PERMISSIONS),
                "parent_id": str(chan.parent_id) if chan.parent_id else None,
                "guild_id": str(chan.guild_id) if chan.guild_id else None,
            }
            resolved.setdefault("channels", {})[str(chan.id)] = data
            return str(chan.id)
        if otype == 11:
            filename, blob = value
            att = AttachmentRecord(snowflake(), str(filename), None, bytes(blob))
            self.uploads[att.id] = att
            resolved.setdefault("attachments", {})[str(att.id)] = self._attachment_payload(0, att)
            return str(att.id)
        raise ValueError(f"cannot convert {value!r} for option type {otype}")

    async def click_button(
        self,
        message: MessageRecord | int,
        custom_id: str,
        *,
        user_id: int,
        values: Sequence[str] | None = None,
    ) -> InteractionHandle:
        """Dispatch a MESSAGE_COMPONENT (type 3) interaction for a component of ``message``.

        Works for buttons and (with ``values``) select menus; the component must exist in
        the message's *current* state, and the interaction carries that message payload.
        """
        mid = message if isinstance(message, int) else message.id
        stored = self._store.get(mid)
        if stored is None or stored.deleted:
            raise LookupError(f"message {mid} is unknown or deleted")
        current = self._snapshot(stored, "create")
        component = current.component(custom_id)
        ctype = int(component["type"])
        if ctype == 2 and component.get("disabled"):
            raise ValueError(f"button {custom_id!r} is disabled")
        data: dict[str, Any] = {"custom_id": custom_id, "component_type": ctype}
        if component.get("id") is not None:
            data["id"] = component["id"]
        if ctype in SELECT_TYPES:
            data["values"] = list(values or [])
        chan_id = stored.channel_id
        chan = self.channel(chan_id)
        gid = chan.guild_id if chan is not None else None
        return await self._dispatch_interaction(
            INTERACTION_COMPONENT,
            data,
            user_id=user_id,
            guild_id=gid,
            channel_id=chan_id,
            message=stored,
        )

    select_menu = click_button

    async def submit_modal(
        self,
        modal: ModalRecord | str,
        values: Mapping[str, str | Sequence[str]],
        *,
        user_id: int | None = None,
        guild_id: int | _Unset | None = UNSET,
        channel_id: int | None = None,
        message: MessageRecord | int | None = None,
    ) -> InteractionHandle:
        """Dispatch a MODAL_SUBMIT (type 5) mirroring the modal the bot opened.

        ``modal`` is a :class:`ModalRecord` or a modal custom_id (latest opened wins).
        ``values`` is keyed by input custom_id *or* label. User, guild, channel and
        message default to those of the interaction that opened the modal.
        """
        record = modal if isinstance(modal, ModalRecord) else self._latest_modal(modal)
        origin = self.interactions.get(record.interaction_id)
        if user_id is None:
            if origin is None:
                raise ValueError("user_id is required")
            user_id = origin.handle.user_id
        if guild_id is UNSET and channel_id is None and origin is not None:
            guild_id, channel_id = origin.handle.guild_id, origin.handle.channel_id
        gid, cid = self._resolve_place(user_id, guild_id, channel_id)
        if message is None and origin is not None and origin.source_message_id is not None:
            message = origin.source_message_id
        stored = None
        if message is not None:
            stored = self._store[message if isinstance(message, int) else message.id]
        remaining = dict(values)
        components = [self._mirror_component(c, remaining, None) for c in record.components]
        if remaining:
            raise ValueError(
                f"modal {record.custom_id!r} has no inputs {sorted(remaining)}; "
                f"inputs: {record.input_custom_ids}"
            )
        data = {"custom_id": record.custom_id, "components": components}
        return await self._dispatch_interaction(
            INTERACTION_MODAL_SUBMIT,
            data,
            user_id=user_id,
            guild_id=gid,
            channel_id=cid,
            message=stored,
        )

    def _latest_modal(self, custom_id: str) -> ModalRecord:
        for rec in reversed(self.modals):
            if rec.custom_id == custom_id:
                return rec
        raise LookupError(f"bot never opened a modal {custom_id!r}")

    def _mirror_component(
        self, comp: dict[str, Any], values: dict[str, str | Sequence[str]], label: str | None
    ) -> dict[str, Any]:
        ctype = int(comp["type"])
        out: dict[str, Any] = {"type": ctype}
        if comp.get("id") is not None:
            out["id"] = comp["id"]
        if ctype == 1:
            out["components"] = [
                self._mirror_component(c, values, None) for c in comp["components"]
            ]
        elif ctype == 18:
            out["component"] = self._mirror_component(comp["component"], values, comp.get("label"))
        elif "custom_id" in comp:
            cid = comp["custom_id"]
            out["custom_id"] = cid
            lbl = label or comp.get("label")
            key = cid if cid in values else (lbl if lbl in values else None)
            value = values.pop(key) if key is not None else None
            if ctype == 4:
                out["value"] = "" if value is None else str(value)
            else:
                out["values"] = (
                    [] if value is None else [value] if isinstance(value, str) else list(value)
                )
        return out

    async def _dispatch_interaction(
        self,
        itype: int,
        data: dict[str, Any],
        *,
        user_id: int,
        guild_id: int | None,
        channel_id: int,
        message: StoredMessage | None = None,
    ) -> InteractionHandle:
        iid = snowflake()
        token = f"itok.{iid}.{secrets.token_urlsafe(24)}"
        user = self.users.get(user_id) or self.add_user(user_id, f"user{user_id}")
        payload: dict[str, Any] = {
            "id": str(iid),
            "application_id": str(self.application_id),
            "type": itype,
            "data": data,
            "token": token,
            "version": 1,
            "locale": "en-US",
            "entitlements": [],
            "attachment_size_limit": self.attachment_size_limit,
            "channel_id": str(channel_id),
        }
        if guild_id is not None:
            guild = self.guilds[guild_id]
            member = guild.members.get(user_id)
            if member is None:
                raise ValueError(f"user {user_id} is not a member of guild {guild_id}")
            perms = str(guild.member_permissions(user_id))
            payload.update(
                guild_id=str(guild_id),
                guild_locale="en-US",
                guild={"id": str(guild_id), "locale": "en-US", "features": []},
                member={**member.payload(), "permissions": perms},
                channel={**guild.channels[channel_id].payload(), "permissions": perms},
                app_permissions=str(guild.member_permissions(self.bot_user.id)),
                authorizing_integration_owners={"0": str(guild_id)},
                context=0,
            )
        else:
            chan = self.channel(channel_id) or self.dm_channel(user_id)
            payload.update(
                user=user.payload(),
                channel=chan.payload(self.users),
                app_permissions=str(DM_APP_PERMISSIONS),
                authorizing_integration_owners={"0": "0"},
                context=1,
            )
        if message is not None:
            payload["message"] = message.payload
        handle = InteractionHandle(
            id=iid,
            token=token,
            type=itype,
            user_id=user_id,
            guild_id=guild_id,
            channel_id=channel_id,
            payload=payload,
        )
        self.interactions[iid] = InteractionState(
            handle=handle,
            created_at=time.monotonic(),
            source_message_id=message.id if message is not None else None,
        )
        self._by_token[token] = iid
        await self.gateway.dispatch("INTERACTION_CREATE", payload)
        log.debug("dispatched interaction %s type %s", iid, itype)
        return handle

    def _mark_delivered(self, interaction_id: int) -> None:
        """Called by the gateway when INTERACTION_CREATE is written to a socket."""
        state = self.interactions.get(interaction_id)
        if state is not None and state.dispatched_at is None:
            state.dispatched_at = time.monotonic()

    # ------------------------------------------------------------------ messages

    def _attachment_payload(self, channel_id: int, att: AttachmentRecord) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(att.id),
            "filename": att.filename,
            "size": att.size,
            "url": f"{self.base_url}/attachments/{channel_id}/{att.id}/{att.filename}",
            "proxy_url": f"{self.base_url}/attachments/{channel_id}/{att.id}/{att.filename}",
            "content_type": att.content_type,
        }
        if att.description is not None:
            data["description"] = att.description
        return data

    def _new_files(self, body: Body, meta: list[dict[str, Any]]) -> list[AttachmentRecord]:
        by_index = {str(m.get("id")): m for m in meta}
        files = []
        for index, filename, ctype, blob in body.files:
            info = by_index.get(str(index), {})
            files.append(
                AttachmentRecord(
                    id=snowflake(),
                    filename=str(info.get("filename") or filename),
                    content_type=ctype,
                    data=blob,
                    description=info.get("description"),
                )
            )
        return files

    def _create_message(
        self,
        channel_id: int,
        body: Body,
        *,
        kind: MessageKind,
        interaction: InteractionState | None,
        flags: int | None = None,
        record: bool = True,
        message_id: int | None = None,
    ) -> StoredMessage:
        data: dict[str, Any] = body.json if isinstance(body.json, dict) else {}
        chan = self.channel(channel_id)
        files = self._new_files(body, data.get("attachments") or [])
        msg: dict[str, Any] = {
            "id": str(message_id or snowflake()),
            "channel_id": str(channel_id),
            "author": self.bot_user.payload(),
            "content": data.get("content") or "",
            "timestamp": iso_now(),
            "edited_timestamp": None,
            "tts": bool(data.get("tts", False)),
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "mention_channels": [],
            "attachments": [],
            "embeds": data.get("embeds") or [],
            "reactions": [],
            "pinned": False,
            "type": 0,
            "flags": int(data.get("flags") or 0) if flags is None else flags,
            "components": data.get("components") or [],
        }
        if chan is not None and chan.guild_id is not None:
            msg["guild_id"] = str(chan.guild_id)
        if data.get("message_reference"):
            msg["message_reference"] = data["message_reference"]
            msg["type"] = 19
        if interaction is not None:
            handle = interaction.handle
            msg["application_id"] = str(self.application_id)
            msg["webhook_id"] = str(self.application_id)
            meta: dict[str, Any] = {
                "id": str(handle.id),
                "type": handle.type,
                "user": self.users[handle.user_id].payload(),
                "authorizing_integration_owners": handle.payload.get(
                    "authorizing_integration_owners", {}
                ),
            }
            if interaction.source_message_id is not None:
                meta["interacted_message_id"] = str(interaction.source_message_id)
            msg["interaction_metadata"] = meta
            if handle.type == INTERACTION_APPLICATION_COMMAND and kind == "interaction_response":
                msg["type"] = 20
        stored = StoredMessage(
            payload=msg,
            kind=kind,
            interaction_id=interaction.handle.id if interaction else None,
            files=files,
        )
        msg["attachments"] = [self._attachment_payload(channel_id, f) for f in files]
        self._store[stored.id] = stored
        if record:
            self._record(stored, "create", data)
        return stored

    def _edit_message(
        self,
        stored: StoredMessage,
        body: Body,
        *,
        interaction: InteractionState | None,
        kind: MessageKind | None = None,
        clear_loading: bool = True,
    ) -> StoredMessage:
        data: dict[str, Any] = body.json if isinstance(body.json, dict) else {}
        msg = stored.payload
        if "content" in data:
            msg["content"] = data["content"] or ""
        if "embeds" in data:
            msg["embeds"] = data["embeds"] or []
        if "components" in data:
            msg["components"] = data["components"] or []
        if "flags" in data and data["flags"] is not None:
            keep = int(msg["flags"]) & EPHEMERAL_FLAG
            msg["flags"] = int(data["flags"]) | keep
        if clear_loading:
            msg["flags"] = int(msg["flags"]) & ~LOADING_FLAG
        new_files = self._new_files(body, data.get("attachments") or [])
        if "attachments" in data:
            keep_ids = {str(a.get("id")) for a in data["attachments"] or []}
            stored.files = [f for f in stored.files if str(f.id) in keep_ids] + new_files
        else:
            stored.files = stored.files + new_files
        msg["attachments"] = [self._attachment_payload(stored.channel_id, f) for f in stored.files]
        msg["edited_timestamp"] = iso_now()
        if kind is not None:
            stored.kind = kind
        self._record(
            stored, "edit", data, interaction_id=interaction.handle.id if interaction else None
        )
        return stored

    def _snapshot(
        self, stored: StoredMessage, action: MessageAction, *, interaction_id: int | None = None
    ) -> MessageRecord:
        msg = stored.payload
        return MessageRecord(
            id=stored.id,
            channel_id=stored.channel_id,
            guild_id=int(msg["guild_id"]) if msg.get("guild_id") else None,
            kind=stored.kind,
            action=action,
            content=msg["content"],
            embeds=json.loads(json.dumps(msg["embeds"])),
            components=json.loads(json.dumps(msg["components"])),
            attachments=list(stored.files),
            flags=int(msg["flags"]),
            interaction_id=interaction_id if interaction_id is not None else stored.interaction_id,
            payload={},
        )

    def _record(
        self,
        stored: StoredMessage,
        action: MessageAction,
        request_payload: dict[str, Any],
        *,
        interaction_id: int | None = None,
    ) -> MessageRecord:
        rec = self._snapshot(stored, action, interaction_id=interaction_id)
        rec = MessageRecord(**{**rec.__dict__, "payload": request_payload})
        self.messages.append(rec)
        log.debug("message %s %s (%s): %r", action, rec.id, rec.kind, rec.content[:80])
        self._notify()
        return rec

    # ------------------------------------------------------------------ REST plumbing

    def _build_routes(self) -> None:
        app = r"(?P<app>\d+)"
        gid = r"(?P<guild>\d+)"
        cid = r"(?P<channel>\d+)"
        tok = r"(?P<token>[^/]+)"
        table: list[tuple[str, str, Handler]] = [
            ("GET", r"/users/@me", self._h_me),
            ("GET", r"/users/(?P<user>\d+)", self._h_user),
            ("POST", r"/users/@me/channels", self._h_open_dm),
            ("GET", r"/oauth2/applications/@me", self._h_app),
            ("GET", r"/applications/@me", self._h_app),
            ("GET", r"/gateway", self._h_gateway),
            ("GET", r"/gateway/bot", self._h_gateway_bot),
            ("GET", rf"/applications/{app}/commands", self._h_list_commands),
            ("PUT", rf"/applications/{app}/commands", self._h_put_commands),
            ("POST", rf"/applications/{app}/commands", self._h_post_command),
            ("GET", rf"/applications/{app}/commands/(?P<cmd>\d+)", self._h_get_command),
            ("PATCH", rf"/applications/{app}/commands/(?P<cmd>\d+)", self._h_patch_command),
            ("DELETE", rf"/applications/{app}/commands/(?P<cmd>\d+)", self._h_delete_command),
            ("GET", rf"/applications/{app}/guilds/{gid}/commands", self._h_list_commands),
            ("PUT", rf"/applications/{app}/guilds/{gid}/commands", self._h_put_commands),
            ("POST", rf"/applications/{app}/guilds/{gid}/commands", self._h_post_command),
            (
                "GET",
                rf"/applications/{app}/guilds/{gid}/commands/(?P<cmd>\d+)",
                self._h_get_command,
            ),
            (
                "PATCH",
                rf"/applications/{app}/guilds/{gid}/commands/(?P<cmd>\d+)",
                self._h_patch_command,
            ),
            (
                "DELETE",
                rf"/applications/{app}/guilds/{gid}/commands/(?P<cmd>\d+)",
                self._h_delete_command,
            ),
            ("POST", rf"/interactions/(?P<iid>\d+)/{tok}/callback", self._h_callback),
            ("POST", rf"/webhooks/{app}/{tok}", self._h_followup),
            ("GET", rf"/webhooks/{app}/{tok}/messages/(?P<mid>@original|\d+)", self._h_wh_get),
            ("PATCH", rf"/webhooks/{app}/{tok}/messages/(?P<mid>@original|\d+)", self._h_wh_edit),
            (
                "DELETE",
                rf"/webhooks/{app}/{tok}/messages/(?P<mid>@original|\d+)",
                self._h_wh_delete,
            ),
            ("POST", rf"/channels/{cid}/messages", self._h_channel_post),
            ("GET", rf"/channels/{cid}/messages", self._h_channel_history),
            ("GET", rf"/channels/{cid}/messages/(?P<mid>\d+)", self._h_channel_get_msg),
            ("PATCH", rf"/channels/{cid}/messages/(?P<mid>\d+)", self._h_channel_edit_msg),
            ("DELETE", rf"/channels/{cid}/messages/(?P<mid>\d+)", self._h_channel_delete_msg),
            ("PUT", rf"/channels/{cid}/messages/(?P<mid>\d+)/reactions/.+", self._h_no_content),
            ("DELETE", rf"/channels/{cid}/messages/(?P<mid>\d+)/reactions/.+", self._h_no_content),
            ("POST", rf"/channels/{cid}/typing", self._h_no_content),
            ("GET", rf"/channels/{cid}", self._h_get_channel),
            ("GET", rf"/guilds/{gid}", self._h_get_guild),
            ("GET", rf"/guilds/{gid}/channels", self._h_guild_channels),
            ("GET", rf"/guilds/{gid}/roles", self._h_guild_roles),
            ("GET", rf"/guilds/{gid}/members/(?P<user>\d+)", self._h_get_member),
        ]
        self._routes = [(m, re.compile(p + r"/?"), h) for m, p, h in table]

    async def _read_body(self, request: web.Request) -> Body:
        body = Body()
        if request.method in ("GET", "DELETE", "HEAD") or not request.can_read_body:
            return body
        if request.content_type.startswith("multipart/"):
            reader = await request.multipart()
            while True:
                part = await reader.next()
                if part is None:
                    break
                if not isinstance(part, BodyPartReader):
                    continue
                name = part.name or ""
                blob = await part.read(decode=False)
                if name == "payload_json":
                    body.json = json.loads(blob.decode())
                elif m := re.fullmatch(r"files\[(\d+)\]", name):
                    ctype = part.headers.get("Content-Type")
                    body.files.append(
                        (int(m[1]), part.filename or f"file{m[1]}", ctype, bytes(blob))
                    )
                else:
                    log.warning("multipart: ignoring part %r", name)
            return body
        raw = await request.read()
        if raw:
            body.json = json.loads(raw.decode())
        return body

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        if path.startswith(API_PREFIX):
            path = path[len(API_PREFIX) :] or "/"
        method = request.method
        status = 500
        try:
            fault = self._take_fault(method, path)
            if fault is not None:
                if fault.delay_s:
                    await asyncio.sleep(fault.delay_s)
                if fault.status is not None:
                    body = fault.body or {"code": 0, "message": "Injected failure"}
                    log.info("fault: %s %s -> %s", method, path, fault.status)
                    status = fault.status
                    return json_response(body, status=fault.status)
            for rmethod, pattern, handler in self._routes:
                if rmethod != method:
                    continue
                match = pattern.fullmatch(path)
                if match is None:
                    continue
                if not self._authorized(request, path):
                    status = 401
                    return error_response(401, 0, "401: Unauthorized")
                try:
                    resp = await handler(request, match, await self._read_body(request))
                except HTTPError as exc:
                    status = exc.status
                    return error_response(exc.status, exc.code, exc.message)
                status = resp.status
                return resp
            log.warning("FakeDiscord: unhandled route %s %s", method, path)
            self.unhandled.append((method, path))
            status = 404
            return error_response(404, 0, f"404: Not Found (fake has no route {method} {path})")
        finally:
            self.requests.append(
                RequestRecord(method, path, dict(request.query), status, time.monotonic())
            )
            self._notify()

    def _authorized(self, request: web.Request, path: str) -> bool:
        if path.startswith(("/interactions/", "/webhooks/")) or self.token is None:
            return True
        return request.headers.get("Authorization") == f"Bot {self.token}"

    async def _serve_file(self, request: web.Request) -> web.StreamResponse:
        aid = int(request.match_info["attachment_id"])
        att = self.uploads.get(aid)
        if att is None:
            for stored in self._store.values():
                att = next((f for f in stored.files if f.id == aid), None)
                if att is not None:
                    break
        if att is None:
            return web.Response(status=404)
        return web.Response(
            body=att.data, content_type=att.content_type or "application/octet-stream"
        )

    # ------------------------------------------------------------------ REST handlers

    async def _h_me(self, request: web.Request, m: re.Match[str], body: Body) -> web.Response:
        return json_response(self._bot_user_payload())

    async def _h_user(self, request: web.Request, m: re.Match[str], body: Body) -> web.Response:
        user = self.users.get(int(m["user"]))
        if user is None:
            raise HTTPError(404, 10013, "Unknown User")
        return json_response(user.payload())

    async def _h_app(self, request: web.Request, m: re.Match[str], body: Body) -> web.Response:
        owner = (
            self.users[self.default_guild().owner_id]
            if self.guilds
            else UserState(id=self.application_id + 1, name="owner")
        )
        return json_response(application_payload(self.application_id, self.bot_user, owner))

    async def _h_gateway(self, request: web.Request, m: re.Match[str], body: Body) -> web.Response:
        return json_response({"url": self.gateway_url})

    async def _h_gateway_bot(
        self, request: web.Request, m: re.Match[str], body: Body
    ) -> web.Response:
        return json_response(
            {
                "url": self.gateway_url,
                "shards": 1,
                "session_start_limit": {
                    "total": 1000,
                    "remaining": 1000,
                    "reset_after": 0,
                    "max_concurrency": 1,
                },
            }
        )

    def _check_app(self, m: re.Match[str]) -> None:
        if int(m["app"]) != self.application_id:
            raise HTTPError(404, 10002, "Unknown Application")

    @staticmethod
    def _scope(m: re.Match[str]) -> int | None:
        guild = m.groupdict().get("guild")
        return int(guild) if guild else None

    def _command_payload(
        self, data: dict[str, Any], scope: int | None, existing: dict[str, Any] | None
    ) -> dict[str, Any]:
        cmd: dict[str, Any] = {
            "type": 1,
            "description": "",
            "options": [],
            "default_member_permissions": None,
            "dm_permission": True,
            "nsfw": False,
            "name_localizations": None,
            "description_localizations": None,
            **data,
        }
        cmd["id"] = existing["id"] if existing else str(snowflake())
        cmd["application_id"] = str(self.application_id)
        cmd["version"] = str(snowflake())
        if scope is not None:
            cmd["guild_id"] = str(scope)
        if int(cmd["type"]) != 1:
            cmd["description"] = ""
        return cmd

    async def _h_list_commands(
        self, request: web.Request, m: re.Match[str], body: Body
    ) -> web.Response:
        self._check_app(m)
        return json_response(list(self.commands.get(self._scope(m), {}).values()))

    async def _h_put_commands(
        self, request: web.Request, m: re.Match[str], body: Body
    ) -> web.Response:
        self._check_app(m)
        scope = self._scope(m)
        if scope is not None and scope not in self.guilds:
            raise HTTPError(404, 10004, "Unknown Guild")
        old = {(c["name"], int(c.get("type", 1))): c for c in self.commands.get(scope, {}).values()}
        new: dict[int, dict[str, Any]] = {}
        for data in body.json or []:
            key = (data["name"], int(data.get("type", 1)))
            cmd = self._command_payload(data, scope, old.get(key))
            new[int(cmd["id"])] = cmd
        self.commands[scope] = new
        log.info(
            "commands synced for %s: %s", scope or "global", sorted(c["name"] for c in new.values())
        )
        self._notify()
        return json_response(list(new.values()))

    async def _h_post_command(
        self, request: web.Request, m: re.Match[str], body: Body
    ) -> web.Response:
        self._check_app(m)
        scope = self._scope(m)
        cmds = self.commands.setdefault(scope, {})
        data = body.json or {}
        existing = next(
            (
                c
                for c in cmds.values()
                if c["name"] == data.get("name")
                and int(c.get("type", 1)) == int(data.get("type", 1))
            ),
            None,
        )
        cmd = self._command_payload(data, scope, existing)
        cmds[int(cmd["id"])] = cmd
        self._notify()
        return json_response(cmd, status=200 if existing else 201)

    def _get_cmd(self, m: re.Match[str]) -> tuple[dict[int, dict[str, Any]], dict[str, Any]]:
        self._check_app(m)
        cmds = self.commands.get(self._scope(m), {})
        cmd = cmds.get(int(m["cmd"]))
        if cmd is None:
            raise HTTPError(404, 10063, "Unknown application command")
        return cmds, cmd

    async def _h_get_command(
        self, request: web.Request, m: re.Match[str], body: Body
    ) -> web.Response:
        return json_response(self._get_cmd(m)[1])

    async def _h_patch_command(
        self, request: web.Request, m: re.Match[str], body: Body
    ) -> web.Response:
        _, cmd = self._get_cmd(m)
        cmd.update(body.json or {})
        self._notify()
        return json_response(cmd)

    async def _h_delete_command(
        self, request: web.Request, m: re.Match[str], body: Body
    ) -> web.Response:
        cmds, cmd = self._get_cmd(m)
        del cmds[int(cmd["id"])]
        self._notify()
        return web.Response(status=204)

    # -- interaction callback ------------------------------------------------------------

    async def _h_callback(self, request: web.Request, m: re.Match[str], body: Body) -> web.Response:
        received = time.monotonic()
        iid = int(m["iid"])
        state = self.interactions.get(iid)
        if state is None or state.handle.token != m["token"]:
            raise HTTPError(404, 10062, "Unknown interaction")
        payload: dict[str, Any] = body.json or {}
        cb_type = int(payload.get("type", 0))
        data = payload.get("data")
        elapsed = received - (state.dispatched_at or state.created_at)
        status, code = 200, None
        if state.acked:
            status, code = 400, 40060
        elif elapsed > self.ack_deadline_s:
            status, code = 404, 10062
        files = self._new_files(body, (data or {}).get("attachments") or []) if data else []
        self.callbacks.append(CallbackRecord(iid, cb_type, data, elapsed, status, code, files))
        log.info(
            "callback type %s for interaction %s after %.1f ms -> %s",
            cb_type,
            iid,
            elapsed * 1000,
            status,
        )
        self._notify()
        if code == 40060:
            raise HTTPError(400, 40060, "Interaction has already been acknowledged.")
        if code == 10062:
            raise HTTPError(404, 10062, "Unknown interaction")
        resource: dict[str, Any] = {"type": cb_type}
        info: dict[str, Any] = {"id": str(iid), "type": state.handle.type}
        data = data or {}
        msg_body = Body(json=data, files=body.files)
        flags = int(data.get("flags") or 0)
        if cb_type == CALLBACK_CHANNEL_MESSAGE:
            stored = self._create_message(
                state.handle.channel_id, msg_body, kind="interaction_response", interaction=state
            )
            state.original_message_id = stored.id
            resource["message"] = stored.payload
            info.update(
                response_message_id=str(stored.id),
                response_message_loading=False,
                response_message_ephemeral=bool(flags & EPHEMERAL_FLAG),
            )
        elif cb_type == CALLBACK_DEFERRED_CHANNEL_MESSAGE:
            stored = self._create_message(
                state.handle.channel_id,
                Body(json={"content": ""}),
                kind="interaction_response",
                interaction=state,
                flags=LOADING_FLAG | (flags & EPHEMERAL_FLAG),
                record=False,
            )
            state.original_message_id = stored.id
            state.deferred_ephemeral = bool(flags & EPHEMERAL_FLAG)
            resource["message"] = stored.payload
            info.update(
                response_message_id=str(stored.id),
                response_message_loading=True,
                response_message_ephemeral=state.deferred_ephemeral,
            )
        elif cb_type in (CALLBACK_DEFERRED_UPDATE_MESSAGE, CALLBACK_UPDATE_MESSAGE):
            if state.source_message_id is None:
                raise HTTPError(400, 50035, "Invalid Form Body: no message to update")
            stored = self._store[state.source_message_id]
            state.original_message_id = stored.id
            if cb_type == CALLBACK_UPDATE_MESSAGE:
                self._edit_message(stored, msg_body, interaction=state)
                resource["message"] = stored.payload
            info.update(response_message_id=str(stored.id))
        elif cb_type == CALLBACK_AUTOCOMPLETE_RESULT:
            self.autocompletes.append(AutocompleteRecord(iid, list(data.get("choices", []))))
        elif cb_type == CALLBACK_MODAL:
            self.modals.append(
                ModalRecord(
                    iid,
                    str(data.get("custom_id")),
                    str(data.get("title")),
                    data.get("components", []),
                )
            )
        elif cb_type != CALLBACK_PONG:
            log.warning("callback type %s not modelled", cb_type)
        state.acked = True
        state.ack_type = cb_type
        self._notify()
        if request.query.get("with_response") not in ("1", "true", "True"):
            return web.Response(status=204)
        return json_response({"interaction": info, "resource": resource})

    # -- interaction webhooks --------------------------------------------------------------

    def _interaction_for_token(self, m: re.Match[str]) -> InteractionState:
        iid = self._by_token.get(m["token"])
        state = self.interactions.get(iid) if iid is not None else None
        if int(m["app"]) != self.application_id or state is None or not state.acked:
            raise HTTPError(404, 10015, "Unknown Webhook")
        return state

    def _webhook_message(self, m: re.Match[str], state: InteractionState) -> StoredMessage:
        mid_s = m["mid"]
        mid = state.original_message_id if mid_s == "@original" else int(mid_s)
        stored = self._store.get(mid) if mid is not None else None
        if stored is None or stored.deleted:
            raise HTTPError(404, 10008, "Unknown Message")
        return stored

    async def _h_followup(self, request: web.Request, m: re.Match[str], body: Body) -> web.Response:
        state = self._interaction_for_token(m)
        data = body.json if isinstance(body.json, dict) else {}
        original = self._store.get(state.original_message_id or 0)
        if original is not None and original.payload["flags"] & LOADING_FLAG:
            # Discord: the first followup after a type-5 defer replaces the "thinking" message.
            self._edit_message(original, body, interaction=state, kind="followup")
            stored = original
            flags = int(stored.payload["flags"]) & ~EPHEMERAL_FLAG
            stored.payload["flags"] = flags | (EPHEMERAL_FLAG if state.deferred_ephemeral else 0)
            rec = self.messages.pop()
            self.messages.append(
                MessageRecord(
                    **{**rec.__dict__, "action": "create", "flags": stored.payload["flags"]}
                )
            )
        else:
            stored = self._create_message(
                state.handle.channel_id,
                body,
                kind="followup",
                interaction=state,
                flags=int(data.get("flags") or 0),
            )
        if request.query.get("wait") in ("1", "true", "True"):
            return json_response(stored.payload)
        return web.Response(status=204)

    async def _h_wh_get(self, request: web.Request, m: re.Match[str], body: Body) -> web.Response:
        state = self._interaction_for_token(m)
        return json_response(self._webhook_message(m, state).payload)

    async def _h_wh_edit(self, request: web.Request, m: re.Match[str], body: Body) -> web.Response:
        state = self._interaction_for_token(m)
        stored = self._webhook_message(m, state)
        self._edit_message(stored, body, interaction=state)
        return json_response(stored.payload)

    async def _h_wh_delete(
        self, request: web.Request, m: re.Match[str], body: Body
    ) -> web.Response:
        state = self._interaction_for_token(m)
        stored = self._webhook_message(m, state)
        stored.deleted = True
        self._record(stored, "delete", {}, interaction_id=state.handle.id)
        return web.Response(status=204)

    # -- channels -------------------------------------------------------------------------

    def _require_channel(self, m: re.Match[str]) -> ChannelState:
        chan = self.channel(int(m["channel"]))
        if chan is None:
            raise HTTPError(404, 10003, "Unknown Channel")
        return chan

    def _channel_message(self, m: re.Match[str]) -> StoredMessage:
        chan = self._require_channel(m)
        stored = self._store.get(int(m["mid"]))
        if stored is None or stored.deleted or stored.channel_id != chan.id:
            raise HTTPError(404, 10008, "Unknown Message")
        return stored

    async def _h_channel_post(
        self, request: web.Request, m: re.Match[str], body: Body
    ) -> web.Response:
        chan = self._require_channel(m)
        data = body.json if isinstance(body.json, dict) else {}
        if not (data.get("content") or data.get("embeds") or data.get("components") or body.files):
            raise HTTPError(400, 50006, "Cannot send an empty message")
        kind: MessageKind = "dm" if chan.type == 1 else "channel"
        stored = self._create_message(chan.id, body, kind=kind, interaction=None)
        return json_response(stored.payload)

    async def _h_channel_history(
        self, request: web.Request, m: re.Match[str], body: Body
    ) -> web.Response:
        chan = self._require_channel(m)
        limit = int(request.query.get("limit", 50))
        msgs = [
            s.payload
            for s in self._store.values()
            if s.channel_id == chan.id and not s.deleted and not s.payload["flags"] & EPHEMERAL_FLAG
        ]
        msgs.sort(key=lambda p: int(p["id"]), reverse=True)
        return json_response(msgs[:limit])

    async def _h_channel_get_msg(
        self, request: web.Request, m: re.Match[str], body: Body
    ) -> web.Response:
        return json_response(self._channel_message(m).payload)

    async def _h_channel_edit_msg(
        self, request: web.Request, m: re.Match[str], body: Body
    ) -> web.Response:
        stored = self._channel_message(m)
        self._edit_message(stored, body, interaction=None)
        return json_response(stored.payload)

    async def _h_channel_delete_msg(
        self, request: web.Request, m: re.Match[str], body: Body
    ) -> web.Response:
        stored = self._channel_message(m)
        stored.deleted = True
        self._record(stored, "delete", {})
        return web.Response(status=204)

    async def _h_no_content(
        self, request: web.Request, m: re.Match[str], body: Body
    ) -> web.Response:
        return web.Response(status=204)

    async def _h_get_channel(
        self, request: web.Request, m: re.Match[str], body: Body
    ) -> web.Response:
        return json_response(self._require_channel(m).payload(self.users))

    async def _h_open_dm(self, request: web.Request, m: re.Match[str], body: Body) -> web.Response:
        data = body.json or {}
        uid = int(data["recipient_id"])
        return json_response(self.dm_channel(uid).payload(self.users))

    # -- guilds ---------------------------------------------------------------------------

    def _require_guild(self, m: re.Match[str]) -> GuildState:
        guild = self.guilds.get(int(m["guild"]))
        if guild is None:
            raise HTTPError(404, 10004, "Unknown Guild")
        return guild

    async def _h_get_guild(
        self, request: web.Request, m: re.Match[str], body: Body
    ) -> web.Response:
        data = self._require_guild(m).payload()
        for key in ("channels", "members", "threads", "presences", "voice_states"):
            data.pop(key, None)
        return json_response(data)

    async def _h_guild_channels(
        self, request: web.Request, m: re.Match[str], body: Body
    ) -> web.Response:
        return json_response([c.payload() for c in self._require_guild(m).channels.values()])

    async def _h_guild_roles(
        self, request: web.Request, m: re.Match[str], body: Body
    ) -> web.Response:
        return json_response([r.payload() for r in self._require_guild(m).roles.values()])

    async def _h_get_member(
        self, request: web.Request, m: re.Match[str], body: Body
    ) -> web.Response:
        member = self._require_guild(m).members.get(int(m["user"]))
        if member is None:
            raise HTTPError(404, 10007, "Unknown Member")
        return json_response(member.payload())
