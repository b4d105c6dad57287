"""Data access for a member's own study settings that follow them into every server
(their desired retention).

Like :mod:`bot.storage.crud`: async functions taking the session first and keyword
arguments after; callers own the transaction.
"""

from __future__ import annotations

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.storage.models import User


async def member_retention(
    session: AsyncSession, *, platform: str, external_id: str
) -> float | None:
    """The member's own desired retention (``/me retention``), None when never set or when
    the member has no row yet. Reads only: no row is created."""
    statement = select(User.desired_retention).where(
        User.platform == platform, User.external_id == external_id
    )
    return (await session.exec(statement)).first()
