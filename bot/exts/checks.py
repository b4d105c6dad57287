"""Server-side permission checks for slash commands and buttons.

Powers come from the member's *server-level* permissions (their roles; the owner has all)
and the server's moderator role, never from ``interaction.permissions``: Discord resolves
those for the interaction's channel, overwrites included, so "Manage Messages" granted in
one channel would otherwise give question-bank powers over the whole server.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import discord

from bot.core.permissions import (
    ROLES_UNKNOWN,
    SERVER_ONLY,
    require_admin,
    require_moderator,
)
from bot.errors import PermissionDenied
from bot.log import get_logger

if TYPE_CHECKING:
    from bot.exts.client import TutorBot

log = get_logger(__name__)


@dataclass(frozen=True)
class Standing:
    """A member's server-level permissions and the ids of their roles."""

    permissions: discord.Permissions
    role_ids: frozenset[int]

    @classmethod
    def of(cls, member: discord.Member) -> Standing:
        """From a member whose server (roles and owner) discord.py knows."""
        return cls(member.guild_permissions, frozenset(role.id for role in member.roles))


def _member(interaction: discord.Interaction[Any]) -> tuple[discord.Member, int]:
    """The member who interacted and their server's id; :class:`PermissionDenied` in DMs."""
    user = interaction.user
    guild_id = interaction.guild_id
    if guild_id is None or not isinstance(user, discord.Member):
        raise PermissionDenied(SERVER_ONLY)
    return user, guild_id


def cached_standing(interaction: discord.Interaction[Any]) -> Standing | None:
    """The member's :class:`Standing` from the bot's cache of the server; ``None`` when the
    server is not cached (then the member's roles carry no permissions we could read)."""
    member, guild_id = _member(interaction)
    guild: discord.Guild | None = interaction.client.get_guild(guild_id)
    if guild is None or guild.unavailable or member.guild is not guild:
        return None
    return Standing.of(member)


async def server_standing(bot: TutorBot, interaction: discord.Interaction[Any]) -> Standing:
    """The member's :class:`Standing`: from the cache, else asked of Discord (the server with
    its roles and owner, and the member with their roles)."""
    cached = cached_standing(interaction)
    if cached is not None:
        return cached
    member, guild_id = _member(interaction)
    try:
        guild = await bot.fetch_guild(guild_id)
        fetched = await guild.fetch_member(member.id)
    except discord.HTTPException as error:
        log.warning("could not fetch member %s of guild %s: %s", member.id, guild_id, error)
        raise PermissionDenied(ROLES_UNKNOWN) from error
    return Standing.of(fetched)


async def ensure_moderator(bot: TutorBot, interaction: discord.Interaction[Any]) -> None:
    """Raise :class:`PermissionDenied` unless the member moderates this server.

    Moderators: Administrator or Manage Messages from their roles (or the owner), or the
    server's configured moderator role (from the database).
    """
    _, guild_id = _member(interaction)
    standing = await server_standing(bot, interaction)
    require_moderator(
        administrator=standing.permissions.administrator,
        manage_messages=standing.permissions.manage_messages,
        role_ids=standing.role_ids,
        moderator_role_id=await bot.services.server_settings.moderator_role(guild_id),
    )


async def ensure_server_admin(bot: TutorBot, interaction: discord.Interaction[Any]) -> None:
    """Raise :class:`PermissionDenied` unless the member may change server settings
    (Administrator or Manage Server from their roles, or the owner); works also when the
    server is not in the bot's cache."""
    permissions = (await server_standing(bot, interaction)).permissions
    require_admin(administrator=permissions.administrator, manage_guild=permissions.manage_guild)
