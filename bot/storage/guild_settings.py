"""Data access for a server's own study settings (time zone, new cards per day, retention).

Like :mod:`bot.storage.crud`: async functions taking the session first and keyword
arguments after; callers own the transaction.
"""

from __future__ import annotations

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.storage.models import Guild


async def study_preferences(
    session: AsyncSession, *, guild_id: int | None
) -> tuple[str | None, int | None]:
    """The server's time zone (IANA name) and cap on new cards per member per day.

    Each is None when the server never set it (use the bot's defaults then), and both are
    None for ``guild_id`` None (DMs, the console) or a server not seen yet. Reads only:
    no guild row is created.
    """
    if guild_id is None:
        return None, None
    statement = select(Guild.timezone, Guild.new_items_per_day).where(Guild.id == guild_id)
    row = (await session.exec(statement)).first()
    if row is None:
        return None, None
    timezone, new_per_day = row
    return timezone, new_per_day


async def server_retention(session: AsyncSession, *, guild_id: int | None) -> float | None:
    """The server's desired retention (``/settings retention``), None when never set.

    None too for ``guild_id`` None (DMs) or a server not seen yet. Reads only.
    """
    if guild_id is None:
        return None
    statement = select(Guild.desired_retention).where(Guild.id == guild_id)
    return (await session.exec(statement)).first()
