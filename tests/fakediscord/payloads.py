"""World state (guilds, channels, members) and the Discord JSON payloads built from it.

The payload shapes follow what discord.py 2.7 parses (``discord/types/*.py``), with
every key discord.py indexes directly (``data['x']``) present.
"""

from __future__ import annotations

import datetime as dt
import itertools
import threading
import time
from dataclasses import dataclass, field
from typing import Any

DISCORD_EPOCH_MS = 1420070400000
ALL_PERMISSIONS = (1 << 53) - 1
ADMINISTRATOR = 1 << 3
EVERYONE_PERMISSIONS = (
    (1 << 0) | (1 << 6) | (1 << 10) | (1 << 11) | (1 << 14) | (1 << 15) | (1 << 16)
    | (1 << 18) | (1 << 20) | (1 << 21) | (1 << 26) | (1 << 31)
)  # fmt: skip
"""Permissions of a new guild's ``@everyone`` role."""
DM_APP_PERMISSIONS = (1 << 10) | (1 << 11) | (1 << 14) | (1 << 15) | (1 << 16) | (1 << 31)
"""``app_permissions`` of an interaction sent from a DM."""
THREAD_TYPES = (10, 11, 12)
"""Announcement, public and private threads."""

_counter = itertools.count()
_lock = threading.Lock()


def snowflake() -> int:
    """Return a new, strictly increasing, Discord-like snowflake."""
    with _lock:
        ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
        return (ms << 22) | (next(_counter) & 0x3FFFFF)


def iso_now() -> str:
    """Current UTC time as Discord's ISO-8601 timestamp."""
    return dt.datetime.now(dt.UTC).isoformat()


@dataclass
class RoleState:
    """A guild role."""

    id: int
    name: str
    permissions: int = 0
    position: int = 0

    def payload(self) -> dict[str, Any]:
        """Role object."""
        return {
            "id": str(self.id),
            "name": self.name,
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "icon": None,
            "unicode_emoji": None,
            "position": self.position,
            "permissions": str(self.permissions),
            "managed": False,
            "mentionable": False,
            "flags": 0,
        }


@dataclass
class UserState:
    """A Discord user (human or bot)."""

    id: int
    name: str
    bot: bool = False
    global_name: str | None = None

    def payload(self) -> dict[str, Any]:
        """User object."""
        return {
            "id": str(self.id),
            "username": self.name,
            "global_name": self.global_name or self.name,
            "discriminator": "0",
            "avatar": None,
            "bot": self.bot,
            "system": False,
            "public_flags": 0,
            "flags": 0,
            "banner": None,
            "accent_color": None,
            "avatar_decoration_data": None,
        }


@dataclass
class MemberState:
    """A guild member; ``roles`` excludes @everyone."""

    user: UserState
    guild_id: int
    roles: list[int] = field(default_factory=list)
    nick: str | None = None
    joined_at: str = field(default_factory=iso_now)

    @property
    def id(self) -> int:
        """The member's user id."""
        return self.user.id

    def payload(self, *, with_user: bool = True) -> dict[str, Any]:
        """Guild member object."""
        data: dict[str, Any] = {
            "roles": [str(r) for r in self.roles],
            "nick": self.nick,
            "avatar": None,
            "banner": None,
            "joined_at": self.joined_at,
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "pending": False,
            "flags": 0,
            "communication_disabled_until": None,
        }
        if with_user:
            data["user"] = self.user.payload()
        return data


@dataclass
class OverwriteState:
    """A channel permission overwrite for a role (``type`` 0) or a member (``type`` 1)."""

    id: int
    type: int
    allow: int = 0
    deny: int = 0

    def payload(self) -> dict[str, Any]:
        """Overwrite object."""
        return {
            "id": str(self.id),
            "type": self.type,
            "allow": str(self.allow),
            "deny": str(self.deny),
        }


@dataclass
class ChannelState:
    """A guild channel (type 0 text, 2 voice, 4 category, 5 news, 15 forum), a thread
    (type 11 public, 12 private; ``parent_id`` is its channel) or a DM (type 1)."""

    id: int
    name: str
    type: int = 0
    guild_id: int | None = None
    position: int = 0
    parent_id: int | None = None
    recipient_ids: list[int] = field(default_factory=list)
    overwrites: dict[int, OverwriteState] = field(default_factory=dict)
    """Permission overwrites by role or member id."""
    owner_id: int | None = None
    """Who started the thread (threads only)."""

    @property
    def is_thread(self) -> bool:
        """Whether this is a thread (its permissions are its parent channel's)."""
        return self.type in THREAD_TYPES

    def payload(self, users: dict[int, UserState] | None = None) -> dict[str, Any]:
        """Channel object (DM channels include ``recipients`` when ``users`` is given)."""
        if self.is_thread:
            return self.thread_payload()
        if self.type == 1:
            recipients = [users[u].payload() for u in self.recipient_ids if users and u in users]
            return {
                "id": str(self.id),
                "type": 1,
                "last_message_id": None,
                "recipients": recipients,
                "flags": 0,
            }
        data: dict[str, Any] = {
            "id": str(self.id),
            "type": self.type,
            "guild_id": str(self.guild_id),
            "name": self.name,
            "position": self.position,
            "permission_overwrites": [o.payload() for o in self.overwrites.values()],
            "parent_id": str(self.parent_id) if self.parent_id else None,
            "nsfw": False,
            "flags": 0,
        }
        if self.type in (0, 5, 15):
            data.update(
                topic=None,
                last_message_id=None,
                rate_limit_per_user=0,
                default_auto_archive_duration=1440,
            )
        if self.type == 2:
            data.update(bitrate=64000, user_limit=0, rtc_region=None)
        return data

    def thread_payload(self) -> dict[str, Any]:
        """Thread channel object (what GUILD_CREATE ``threads`` and THREAD_CREATE carry)."""
        return {
            "id": str(self.id),
            "type": self.type,
            "guild_id": str(self.guild_id),
            "parent_id": str(self.parent_id),
            "owner_id": str(self.owner_id or 0),
            "name": self.name,
            "last_message_id": None,
            "rate_limit_per_user": 0,
            "message_count": 0,
            "member_count": 0,
            "flags": 0,
            "thread_metadata": {
                "archived": False,
                "auto_archive_duration": 1440,
                "archive_timestamp": iso_now(),
                "locked": False,
            },
        }


@dataclass
class GuildState:
    """A guild with its channels, roles and members."""

    id: int
    name: str
    owner_id: int
    channels: dict[int, ChannelState] = field(default_factory=dict)
    roles: dict[int, RoleState] = field(default_factory=dict)
    members: dict[int, MemberState] = field(default_factory=dict)

    @property
    def text_channel_ids(self) -> list[int]:
        """Ids of the text channels, in insertion order."""
        return [c.id for c in self.channels.values() if c.type == 0]

    def member_permissions(self, user_id: int) -> int:
        """Computed guild-level permissions of a member (owner/admin = everything)."""
        if user_id == self.owner_id:
            return ALL_PERMISSIONS
        perms = self.roles[self.id].permissions if self.id in self.roles else 0
        member = self.members.get(user_id)
        if member is not None:
            for role_id in member.roles:
                role = self.roles.get(role_id)
                if role is not None:
                    perms |= role.permissions
        if perms & ADMINISTRATOR:
            return ALL_PERMISSIONS
        return perms

    def channel_permissions(self, user_id: int, channel_id: int) -> int:
        """A member's permissions in a channel: guild-level, then the channel's overwrites.

        Discord's order: Administrator (or owner) has everything; else the ``@everyone``
        overwrite, then the member's roles' overwrites together, then the member's own.
        A thread has its parent channel's permissions.
        """
        perms = self.member_permissions(user_id)
        channel = self.channels.get(channel_id)
        if channel is not None and channel.is_thread and channel.parent_id is not None:
            channel = self.channels.get(channel.parent_id)
        if perms == ALL_PERMISSIONS or channel is None:
            return perms
        everyone = channel.overwrites.get(self.id)
        if everyone is not None:
            perms = (perms & ~everyone.deny) | everyone.allow
        member = self.members.get(user_id)
        role_ids = set(member.roles) if member is not None else set()
        allow = deny = 0
        for overwrite in channel.overwrites.values():
            if overwrite.type == 0 and overwrite.id in role_ids:
                allow |= overwrite.allow
                deny |= overwrite.deny
        perms = (perms & ~deny) | allow
        own = channel.overwrites.get(user_id)
        if own is not None and own.type == 1:
            perms = (perms & ~own.deny) | own.allow
        return perms

    def payload(self) -> dict[str, Any]:
        """Full GUILD_CREATE payload."""
        return {
            "id": str(self.id),
            "name": self.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": str(self.owner_id),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "premium_progress_bar_enabled": False,
            "preferred_locale": "en-US",
            "features": [],
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "safety_alerts_channel_id": None,
            "vanity_url_code": None,
            "max_members": 500000,
            "max_video_channel_users": 25,
            "unavailable": False,
            "large": False,
            "lazy": True,
            "joined_at": iso_now(),
            # member_count == len(members) makes discord.py treat the guild as chunked.
            "member_count": len(self.members),
            "roles": [r.payload() for r in self.roles.values()],
            "emojis": [],
            "stickers": [],
            "channels": [c.payload() for c in self.channels.values() if not c.is_thread],
            "threads": [c.payload() for c in self.channels.values() if c.is_thread],
            "members": [m.payload() for m in self.members.values()],
            "presences": [],
            "voice_states": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }


def application_payload(app_id: int, bot: UserState, owner: UserState) -> dict[str, Any]:
    """``GET /oauth2/applications/@me`` body."""
    return {
        "id": str(app_id),
        "name": bot.name,
        "icon": None,
        "description": "Fake application for tests",
        "rpc_origins": [],
        "bot_public": True,
        "bot_require_code_grant": False,
        "bot": bot.payload(),
        "owner": owner.payload(),
        "team": None,
        "summary": "",
        "verify_key": "0" * 64,
        "flags": 1 << 23,  # GATEWAY_MESSAGE_CONTENT_LIMITED
        "interactions_endpoint_url": None,
        "tags": [],
        "install_params": None,
        "custom_install_url": None,
        "approximate_guild_count": 1,
        "redirect_uris": [],
        "event_webhooks_url": None,
        "event_webhooks_status": 1,
        "event_webhooks_types": [],
        "integration_types_config": {"0": {}},
    }


def bot_user_payload(bot: UserState) -> dict[str, Any]:
    """``GET /users/@me`` body / READY ``user``."""
    data = bot.payload()
    data.update(verified=True, mfa_enabled=False, email=None, locale="en-US", premium_type=0)
    return data
