"""Server-side permission checks for slash commands and buttons."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord

from bot.core.permissions import SERVER_ONLY, require_admin, require_moderator
from bot.errors import PermissionDenied

if TYPE_CHECKING:
    from bot.exts.client import TutorBot


def _member(interaction: discord.Interaction[Any]) -> tuple[discord.Member, int]:
    """The member who interacted and their server's id; :class:`PermissionDenied` in DMs."""
    user = interaction.user
    guild_id = interaction.guild_id
    if guild_id is None or not isinstance(user, discord.Member):
        raise PermissionDenied(SERVER_ONLY)
    return user, guild_id


async def ensure_moderator(bot: TutorBot, interaction: discord.Interaction[Any]) -> None:
    """Raise :class:`PermissionDenied` unless the member moderates this server.

    Uses the permissions Discord resolved for this interaction and the server's configured
    moderator role from the database.
    """
    member, guild_id = _member(interaction)
    role_id = await bot.services.server_settings.moderator_role(guild_id)
    # The permissions Discord resolved for this interaction (roles and channel overwrites).
    permissions = interaction.permissions
    require_moderator(
        administrator=permissions.administrator,
        manage_messages=permissions.manage_messages,
        role_ids=[role.id for role in member.roles],
        moderator_role_id=role_id,
    )


def ensure_admin(interaction: discord.Interaction[Any]) -> None:
    """Raise :class:`PermissionDenied` unless the member may change server settings."""
    _member(interaction)
    permissions = interaction.permissions
    require_admin(administrator=permissions.administrator, manage_guild=permissions.manage_guild)
