"""Data access for leaderboards and ``/stats``: per-member totals, answer times, histories.

Each function takes the session first and keyword arguments after; none of them writes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Integer, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.stats import AnswerEvent
from bot.storage.models import Attempt, Item, User


def _correct_sum() -> Any:
    return func.coalesce(func.sum(func.cast(col(Attempt.correct), Integer)), 0)


async def leaderboard_rows(
    session: AsyncSession,
    *,
    guild_id: int | None,
    platform: str,
    since: datetime | None = None,
    deck: str | None = None,
) -> list[tuple[int, str, int, int]]:
    """Per member who answered in this scope: (user id, display name, correct, answered).

    The scope is one server's answers (``attempts.guild_id``); with ``guild_id`` None it is
    the answers given outside any server by members of ``platform`` (the console's local
    profiles, or Discord DMs). ``since`` limits it to answers at or after that instant,
    ``deck`` to one deck's items. Unordered: ranking is :mod:`bot.core.leaderboard`'s job.
    """
    statement = (
        select(
            Attempt.user_id,
            User.display_name,
            _correct_sum(),
            func.count(col(Attempt.id)),
        )
        .select_from(Attempt)
        .join(User, col(User.id) == col(Attempt.user_id))
    )
    if guild_id is None:
        statement = statement.where(col(Attempt.guild_id).is_(None), User.platform == platform)
    else:
        statement = statement.where(col(Attempt.guild_id) == guild_id)
    if since is not None:
        statement = statement.where(col(Attempt.created_at) >= since)
    if deck is not None:
        statement = statement.join(Item, col(Item.id) == col(Attempt.item_id)).where(
            Item.deck == deck
        )
    statement = statement.group_by(col(Attempt.user_id), User.display_name)
    rows = (await session.exec(statement)).all()
    return [
        (int(uid), str(name), int(correct), int(answered)) for uid, name, correct, answered in rows
    ]


async def answer_totals(
    session: AsyncSession, *, user_id: int, guild_id: int | None = None
) -> tuple[int, int]:
    """(answers, correct answers) of the member: everywhere, or in one server only."""
    statement = select(func.count(col(Attempt.id)), _correct_sum()).where(
        Attempt.user_id == user_id
    )
    if guild_id is not None:
        statement = statement.where(col(Attempt.guild_id) == guild_id)
    answered, correct = (await session.exec(statement)).one()
    return int(answered), int(correct)


async def answers_since(
    session: AsyncSession, *, user_id: int, since: datetime, guild_id: int | None = None
) -> list[tuple[datetime, bool]]:
    """(time, correct) of the member's answers since ``since`` (streaks and the chart).

    With ``guild_id`` only the answers given in that server.
    """
    statement = select(Attempt.created_at, Attempt.correct).where(
        Attempt.user_id == user_id, col(Attempt.created_at) >= since
    )
    if guild_id is not None:
        statement = statement.where(col(Attempt.guild_id) == guild_id)
    return [(when, bool(correct)) for when, correct in (await session.exec(statement)).all()]


async def review_histories(
    session: AsyncSession, *, user_id: int, since: datetime
) -> list[AnswerEvent]:
    """The member's whole answer history of every item they answered since ``since``.

    Retention replays each item's history through FSRS to know the card's state before each
    answer, so earlier answers of those items are included; items not answered recently
    are not loaded. Ordered by item, then time.
    """
    recent = (
        select(Attempt.item_id)
        .where(Attempt.user_id == user_id, col(Attempt.created_at) >= since)
        .distinct()
    )
    statement = (
        select(Attempt)
        .where(Attempt.user_id == user_id, col(Attempt.item_id).in_(recent))
        .order_by(col(Attempt.item_id), col(Attempt.created_at), col(Attempt.id))
    )
    return [
        AnswerEvent(
            item_id=row.item_id,
            created_at=row.created_at,
            rating=row.rating,
            correct=row.correct,
            duration_ms=row.duration_ms,
            guild_id=row.guild_id,
        )
        for row in (await session.exec(statement)).all()
    ]
