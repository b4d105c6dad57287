"""In-memory state of a :class:`~tests.fakediscord.server.FakeDiscord`.

:class:`FakeState` is the base every area mixin of the server builds on: it owns all the
storage (config, users, guilds, DM channels, registered commands, interactions, stored
messages and the records tests assert on), the lookups over it, and the change
notification that wakes ``wait_for`` waiters. :class:`WorldBuilderMixin` adds the
test-facing ``add_guild``/``add_channel``/``add_thread``/``add_role``/``add_member`` world
setup.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .models import (
    AttachmentRecord,
    AutocompleteRecord,
    CallbackRecord,
    InteractionHandle,
    MessageKind,
    MessageRecord,
    ModalRecord,
    RequestRecord,
    RouteFault,
)
from .payloads import (
    ADMINISTRATOR,
    ALL_PERMISSIONS,
    EVERYONE_PERMISSIONS,
    ChannelState,
    GuildState,
    MemberState,
    OverwriteState,
    RoleState,
    UserState,
    bot_user_payload,
    snowflake,
)

if TYPE_CHECKING:
    from .gateway import Gateway


API_PREFIX = "/api/v10"
DEFAULT_ATTACHMENT_LIMIT = 10 * 1024 * 1024


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


class FakeState:
    """Storage and lookups shared by every part of the fake (see ``FakeDiscord`` for args)."""

    gateway: Gateway
    """Set by ``FakeDiscord.__init__`` (the gateway needs the assembled server)."""

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
        self.typing: list[int] = []
        """Channel ids the bot showed "is typing…" in (``POST /channels/{id}/typing``)."""
        self.interactions: dict[int, InteractionState] = {}
        self.faults: list[RouteFault] = []
        self.uploads: dict[int, AttachmentRecord] = {}
        """Files attached to slash command options (served under ``/attachments``)."""

        self._store: dict[int, StoredMessage] = {}
        self._by_token: dict[str, int] = {}
        self._changed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._bg_tasks: set[asyncio.Task[Any]] = set()

    # ------------------------------------------------------------------ addresses

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

    # ------------------------------------------------------------------ commands

    @property
    def registered_commands(self) -> dict[int | None, list[dict[str, Any]]]:
        """Registered commands per guild id (``None`` = global)."""
        return {gid: list(cmds.values()) for gid, cmds in self.commands.items()}

    def command_names(self, guild_id: int | None = None) -> set[str]:
        """Names of the commands registered globally (or for ``guild_id``)."""
        return {c["name"] for c in self.commands.get(guild_id, {}).values()}

    def find_command(self, name: str, guild_id: int | None, type: int = 1) -> dict[str, Any]:
        """Look a registered command up like Discord does (guild first, then global)."""
        scopes: list[int | None] = [guild_id, None] if guild_id is not None else [None]
        for scope in scopes:
            for cmd in self.commands.get(scope, {}).values():
                if cmd["name"] == name and int(cmd.get("type", 1)) == type:
                    return cmd
        known = {scope: sorted(self.command_names(scope)) for scope in self.commands}
        raise LookupError(f"command {name!r} (type {type}) not registered; registered: {known}")

    # ------------------------------------------------------------------ users and channels

    def add_user(self, user_id: int, name: str, *, bot: bool = False) -> UserState:
        """Create (or return) a user."""
        user = self.users.get(user_id)
        if user is None:
            user = self.users[user_id] = UserState(id=user_id, name=name, bot=bot)
        return user

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

    # ------------------------------------------------------------------ internals

    def _bot_user_payload(self) -> dict[str, Any]:
        return bot_user_payload(self.bot_user)

    def _notify(self) -> None:
        """Wake every ``wait_for`` waiter."""
        self._changed.set()
        self._changed = asyncio.Event()

    def _dispatch_soon(self, event: str, make: Callable[[], dict[str, Any]]) -> None:
        """Dispatch a live update if a bot is connected (no-op before it connects)."""
        sess = self.gateway.latest
        if sess is None or sess.closed:
            return
        task = asyncio.get_running_loop().create_task(self.gateway.dispatch(event, make(), sess))
        self._bg_tasks.add(task)
        task.add_done_callback(self._bg_tasks.discard)

    def _mark_delivered(self, interaction_id: int) -> None:
        """Called by the gateway when INTERACTION_CREATE is written to a socket."""
        state = self.interactions.get(interaction_id)
        if state is not None and state.dispatched_at is None:
            state.dispatched_at = time.monotonic()


class WorldBuilderMixin(FakeState):
    """Test-facing world setup: guilds, channels, roles and members (dispatched live)."""

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

    def add_thread(
        self,
        guild_id: int,
        parent_id: int,
        name: str,
        *,
        owner_id: int,
        thread_id: int | None = None,
        private: bool = False,
    ) -> ChannelState:
        """Start a thread (type 11, or 12 when ``private``) in channel ``parent_id``.

        The thread has its parent's permissions; THREAD_CREATE is dispatched live.
        """
        guild = self.guilds[guild_id]
        if parent_id not in guild.channels:
            raise ValueError(f"channel {parent_id} is not in guild {guild_id}")
        thread = ChannelState(
            id=thread_id or snowflake(),
            name=name,
            type=12 if private else 11,
            guild_id=guild_id,
            parent_id=parent_id,
            owner_id=owner_id,
        )
        guild.channels[thread.id] = thread
        self._dispatch_soon("THREAD_CREATE", lambda: {**thread.payload(), "newly_created": True})
        return thread

    def set_overwrite(
        self,
        guild_id: int,
        channel_id: int,
        target_id: int,
        *,
        allow: int = 0,
        deny: int = 0,
    ) -> OverwriteState:
        """Set a channel's permission overwrite for a role or a member (by ``target_id``).

        ``target_id`` of the guild (``@everyone``) or one of its roles makes a role
        overwrite, anything else a member overwrite. Interactions from that channel then
        carry the member's channel-level permissions, as Discord's do; the CHANNEL_UPDATE
        is dispatched live.
        """
        guild = self.guilds[guild_id]
        channel = guild.channels[channel_id]
        kind = 0 if target_id in guild.roles else 1
        overwrite = OverwriteState(target_id, kind, allow, deny)
        channel.overwrites[target_id] = overwrite
        self._dispatch_soon("CHANNEL_UPDATE", channel.payload)
        return overwrite

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
