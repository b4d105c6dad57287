"""Data access for leaderboards and ``/stats``: per-member totals, answer times, histories.

Each function takes the session first and keyword arguments after; none of them writes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Integer, func, or_, true
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


def _answered_in(guild_id: int | None, *, serverless: bool) -> Any:
    """Which of a member's answers count: everywhere, or one server's.

    With ``guild_id`` None every answer counts (DMs and the console without a server). With
    a server only the answers given there (``attempts.guild_id``), never another server's;
    ``serverless`` adds the answers given outside any server, which belong to no server.
    """
    if guild_id is None:
        return true()
    here = col(Attempt.guild_id) == guild_id
    return or_(here, col(Attempt.guild_id).is_(None)) if serverless else here


async def answer_totals(
    session: AsyncSession, *, user_id: int, guild_id: int | None = None, serverless: bool = False
) -> tuple[int, int]:
    """(answers, correct answers) of the member: everywhere, or in one server only.

    ``serverless`` also counts, with ``guild_id``, the answers given outside any server.
    """
    statement = select(func.count(col(Attempt.id)), _correct_sum()).where(
        Attempt.user_id == user_id, _answered_in(guild_id, serverless=serverless)
    )
    answered, correct = (await session.exec(statement)).one()
    return int(answered), int(correct)


async def answers_since(
    session: AsyncSession,
    *,
    user_id: int,
    since: datetime,
    guild_id: int | None = None,
    serverless: bool = False,
) -> list[tuple[datetime, bool]]:
    """(time, correct) of the member's answers since ``since`` (streaks and the chart).

    With ``guild_id`` only the answers given in that server (``serverless``: and outside
    any server).
    """
    statement = select(Attempt.created_at, Attempt.correct).where(
        Attempt.user_id == user_id,
        col(Attempt.created_at) >= since,
        _answered_in(guild_id, serverless=serverless),
    )
    return [(when, bool(correct)) for when, correct in (await session.exec(statement)).all()]


async def review_histories(
    session: AsyncSession,
    *,
    user_id: int,
    since: datetime,
    guild_id: int | None = None,
    serverless: bool = False,
) -> list[AnswerEvent]:
    """The member's whole answer history of every item they answered since ``since``.

    Retention replays each item's history through FSRS to know the card's state before each
    answer, so earlier answers of those items are included (wherever they were given: a
    card is shared by every server); items not answered recently are not loaded, and with
    ``guild_id`` neither are items not answered recently in that server (``serverless``:
    or outside any server). Ordered by item, then time.
    """
    recent = (
        select(Attempt.item_id)
        .where(
            Attempt.user_id == user_id,
            col(Attempt.created_at) >= since,
            _answered_in(guild_id, serverless=serverless),
        )
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
