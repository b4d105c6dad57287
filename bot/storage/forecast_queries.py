"""What ``/forecast`` reads: a member's cards due per day and their memory states.

Only the cards of items visible in the server (bundled ones and the server's own, still
active) count, as in the due queue. Neither query reads an item's payload: the counts are
one aggregate row, the memory states only the card columns.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.scheduling import CARD_COLUMNS, CardState
from bot.storage.models import Item, ReviewState
from bot.storage.scope import visible_in


def _visible_cards(user_id: int, guild_id: int | None) -> list[Any]:
    """The member's cards of active items visible in ``guild_id``."""
    return [
        ReviewState.user_id == user_id,
        col(Item.active).is_(True),
        visible_in(guild_id),
    ]


async def due_before(
    session: AsyncSession,
    *,
    user_id: int,
    guild_id: int | None,
    ends: Sequence[datetime],
) -> tuple[int, tuple[int, ...]]:
    """How many cards the member has here, and how many are due before each of ``ends``.

    One aggregate row: a ``count`` and, per end, a ``sum`` of a ``CASE`` on the due time,
    which SQLite and PostgreSQL run alike (local days are computed by the caller, so no
    database date function or time zone is involved).
    """
    sums = [
        func.coalesce(func.sum(case((col(ReviewState.due) < end, 1), else_=0)), 0) for end in ends
    ]
    statement = (
        select(func.count(), *sums)
        .select_from(ReviewState)
        .join(Item, col(Item.id) == col(ReviewState.item_id))
        .where(*_visible_cards(user_id, guild_id))
    )
    connection = await session.connection()
    total, *counts = (await connection.execute(statement)).one()
    return int(total), tuple(int(count) for count in counts)


async def memory_states(
    session: AsyncSession, *, user_id: int, guild_id: int | None
) -> list[CardState]:
    """The member's reviewed cards here (those with a stability and a last review)."""
    columns = [col(getattr(ReviewState, name)) for name in CARD_COLUMNS]
    statement = (
        select(*columns)
        .join(Item, col(Item.id) == col(ReviewState.item_id))
        .where(
            *_visible_cards(user_id, guild_id),
            col(ReviewState.stability).is_not(None),
            col(ReviewState.last_review).is_not(None),
        )
    )
    connection = await session.connection()
    rows = (await connection.execute(statement)).all()
    return [CardState(*row) for row in rows]
