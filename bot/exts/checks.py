"""Server-side permission checks for slash commands and buttons."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord

from bot.core.permissions import SERVER_ONLY, require_admin, require_moderator
from bot.errors import PermissionDenied
from bot.storage import crud

if TYPE_CHECKING:
    from bot.exts.client import TutorBot


def _member(interaction: discord.Interaction[Any]) -> discord.Member:
    user = interaction.user
    if interaction.guild_id is None or not isinstance(user, discord.Member):
        raise PermissionDenied(SERVER_ONLY)
    return user


async def ensure_moderator(bot: TutorBot, interaction: discord.Interaction[Any]) -> None:
    """Raise :class:`PermissionDenied` unless the member moderates this server.

    Uses the permissions Discord resolved for this interaction and the server's configured
    moderator role from the database.
    """
    member = _member(interaction)
    assert interaction.guild_id is not None
    async with bot.engine.db.session() as session:
        guild = await crud.ensure_guild(session, guild_id=interaction.guild_id)
        role_id = guild.moderator_role_id
        await session.commit()
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
