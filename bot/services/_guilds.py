"""Small helpers the server-settings, reminder, daily-quiz, question-bank and import services
share."""

from __future__ import annotations

from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core import permissions
from bot.core.learners import Learner
from bot.errors import BadInput, PermissionDenied, StorageError
from bot.storage import crud
from bot.storage.models import Guild, User

SERVER_ONLY = "That only works in a server, not in DMs."


async def guild_of(session: AsyncSession, learner: Learner) -> Guild:
    """The row of the server the request came from (created on first sight).

    Raises :class:`BadInput` in DMs, where there is no server.
    """
    if learner.guild_id is None:
        raise BadInput(SERVER_ONLY)
    return await crud.ensure_guild(session, guild_id=learner.guild_id, name=learner.guild_name)


async def member_of(session: AsyncSession, learner: Learner) -> User:
    """The member's row (created on first sight, display name kept up to date)."""
    return await crud.get_or_create_user(
        session,
        platform=learner.platform,
        external_id=learner.external_id,
        display_name=learner.display_name,
    )


async def bank_actor(session: AsyncSession, learner: Learner) -> tuple[int, int]:
    """(server id, acting member's users.id) for a change to the server's questions, creating
    both rows when new. Raises :class:`PermissionDenied` in DMs, where there is no server."""
    if learner.guild_id is None:
        raise PermissionDenied(permissions.SERVER_ONLY)
    await crud.ensure_guild(session, guild_id=learner.guild_id, name=learner.guild_name)
    user = await member_of(session, learner)
    if user.id is None:
        raise StorageError("That change could not be saved. Please try again.")
    return learner.guild_id, user.id


async def audit(
    session: AsyncSession,
    guild: Guild,
    actor: User,
    action: str,
    details: dict[str, object],
    *,
    now: datetime,
) -> None:
    """Record a settings change in the server's audit log (the caller commits)."""
    await crud.record_audit(
        session,
        guild_id=guild.id,
        actor_user_id=actor.id,
        action=action,
        details=dict(details),
        now=now,
    )


def timezone_of(guild: Guild | None, default: str) -> str:
    """The server's time zone, or ``default`` when it never chose one."""
    if guild is None or not guild.timezone:
        return default
    return guild.timezone


def system_learner(guild: Guild) -> Learner:
    """Who "asks" a scheduled quiz's shared questions (no member is behind it)."""
    return Learner(
        platform="system",
        external_id="daily-quiz",
        display_name="Daily quiz",
        guild_id=guild.id,
        guild_name=guild.name,
    )
