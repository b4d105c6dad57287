"""Data access for calibration in ``/stats``: a member's answers, a few columns each.

Reads only ``item_id``, ``rating``, ``created_at`` and ``guild_id`` of ``attempts`` (never
item payloads), in item then time order, so each card's history can be replayed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import or_, true
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.calibration import ReviewEvent
from bot.storage.models import Attempt

#: Calibration counts this many of the member's latest answers in scope (and any given at
#: the same moment as the earliest of them).
MAX_COUNTED = 5000
#: At most this many answers are read for the replay (earlier answers of those items
#: included); a longer read loses the last answers of its last items, never their start.
MAX_READ = 20000


def _in_scope(guild_id: int | None, *, serverless: bool) -> Any:
    """Answers in ``guild_id`` (``serverless``: also those outside any server); all if None."""
    if guild_id is None:
        return true()
    here = col(Attempt.guild_id) == guild_id
    return or_(here, col(Attempt.guild_id).is_(None)) if serverless else here


def _counts(guild: int | None, wanted: int | None, *, serverless: bool) -> bool:
    """Whether an answer given in ``guild`` is in the scope of ``wanted``."""
    return wanted is None or guild == wanted or (serverless and guild is None)


async def _cutoff(
    session: AsyncSession, *, user_id: int, guild_id: int | None, serverless: bool, limit: int
) -> datetime | None:
    """The time of the member's ``limit``-th latest answer in scope, or None if fewer."""
    statement = (
        select(Attempt.created_at)
        .where(Attempt.user_id == user_id, _in_scope(guild_id, serverless=serverless))
        .order_by(col(Attempt.created_at).desc(), col(Attempt.id).desc())
        .offset(limit - 1)
        .limit(1)
    )
    return (await session.exec(statement)).first()


async def calibration_events(
    session: AsyncSession,
    *,
    user_id: int,
    guild_id: int | None = None,
    serverless: bool = False,
    max_counted: int = MAX_COUNTED,
    max_read: int = MAX_READ,
) -> list[ReviewEvent]:
    """The member's answers to replay, ordered by item then time, with what counts marked.

    Counted: answers in scope (``guild_id``'s, ``serverless``: and outside any server; all
    with ``guild_id`` None) among the latest ``max_counted`` in scope. Every answer of
    those items is read, wherever it was given: a card is shared by every server, so the
    prediction before an answer here depends on them too.
    """
    since = await _cutoff(
        session, user_id=user_id, guild_id=guild_id, serverless=serverless, limit=max_counted
    )
    recent = select(Attempt.item_id).where(
        Attempt.user_id == user_id, _in_scope(guild_id, serverless=serverless)
    )
    if since is not None:
        recent = recent.where(col(Attempt.created_at) >= since)
    statement = (
        select(Attempt.item_id, Attempt.rating, Attempt.created_at, Attempt.guild_id)
        .where(Attempt.user_id == user_id, col(Attempt.item_id).in_(recent.distinct()))
        .order_by(col(Attempt.item_id), col(Attempt.created_at), col(Attempt.id))
        .limit(max_read)
    )
    return [
        ReviewEvent(
            item_id=item_id,
            at=at,
            rating=rating,
            counted=(since is None or at >= since)
            and _counts(guild, guild_id, serverless=serverless),
        )
        for item_id, rating, at, guild in (await session.exec(statement)).all()
    ]
