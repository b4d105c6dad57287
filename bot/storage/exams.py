"""Data access for exams (``/exam``): a member's own exam date and a server-wide one.

Like :mod:`bot.storage.crud`: async functions taking the session first and keyword
arguments after; callers own the transaction. ``user_id`` None means the server-wide exam;
``guild_id`` None means DMs (personal exams only). The plan reads only card columns and
counts, never an item's payload.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, func, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.scheduling import CARD_COLUMNS, CardState
from bot.storage.models import Exam, Item, ReviewState
from bot.storage.scope import visible_in


def _same(column: Any, value: int | None) -> Any:
    """``column = value``, or ``column IS NULL`` for None."""
    return col(column).is_(None) if value is None else col(column) == value


async def find_exam(
    session: AsyncSession, *, guild_id: int | None, user_id: int | None
) -> Exam | None:
    """The member's own exam here (``user_id`` None: the server-wide one), if set."""
    statement = (
        select(Exam)
        .where(_same(Exam.guild_id, guild_id), _same(Exam.user_id, user_id))
        .order_by(col(Exam.created_at).desc(), col(Exam.id).desc())
        .limit(1)
    )
    return (await session.exec(statement)).first()


async def effective_exam(
    session: AsyncSession, *, guild_id: int | None, user_id: int
) -> Exam | None:
    """The exam that applies to the member here: their own, else their server's."""
    own = await find_exam(session, guild_id=guild_id, user_id=user_id)
    if own is not None or guild_id is None:
        return own
    return await find_exam(session, guild_id=guild_id, user_id=None)


async def delete_exam(session: AsyncSession, *, guild_id: int | None, user_id: int | None) -> int:
    """Remove the member's own exam here (``user_id`` None: the server-wide one); the count."""
    statement = delete(Exam).where(_same(Exam.guild_id, guild_id), _same(Exam.user_id, user_id))
    result = await session.exec(statement)
    return int(result.rowcount or 0)


async def replace_exam(
    session: AsyncSession,
    *,
    guild_id: int | None,
    user_id: int | None,
    deck: str | None,
    exam_on: date,
    set_by: int,
    now: datetime,
) -> Exam:
    """Set the exam (replacing the old one of the same member and server, or the server's)."""
    await delete_exam(session, guild_id=guild_id, user_id=user_id)
    row = Exam(
        guild_id=guild_id,
        user_id=user_id,
        deck=deck,
        exam_on=exam_on,
        set_by=set_by,
        created_at=now,
    )
    session.add(row)
    await session.flush()
    return row


async def member_exams(
    session: AsyncSession, *, user_id: int, guild_ids: Iterable[int]
) -> list[Exam]:
    """The member's own exams everywhere and the server-wide ones of ``guild_ids``."""
    servers = list(guild_ids)
    conditions = [col(Exam.user_id) == user_id]
    if servers:
        conditions.append(col(Exam.user_id).is_(None) & col(Exam.guild_id).in_(servers))
    statement = select(Exam).where(or_(*conditions)).order_by(col(Exam.id))
    return list((await session.exec(statement)).all())


def _in_scope(user_id: int, guild_id: int | None, deck: str | None) -> list[Any]:
    conditions = [ReviewState.user_id == user_id, col(Item.active).is_(True), visible_in(guild_id)]
    if deck is not None:
        conditions.append(col(Item.deck) == deck)
    return conditions


async def exam_cards(
    session: AsyncSession, *, user_id: int, guild_id: int | None, deck: str | None
) -> dict[int, CardState]:
    """The member's cards of active items visible here (in ``deck``), by item id."""
    columns = [col(getattr(ReviewState, name)) for name in CARD_COLUMNS]
    statement = (
        select(col(ReviewState.item_id), *columns)
        .join(Item, col(Item.id) == col(ReviewState.item_id))
        .where(*_in_scope(user_id, guild_id, deck))
    )
    connection = await session.connection()
    rows = (await connection.execute(statement)).all()
    return {int(row[0]): CardState(**dict(zip(CARD_COLUMNS, row[1:], strict=True))) for row in rows}


async def count_unseen_in(
    session: AsyncSession, *, user_id: int, guild_id: int | None, deck: str | None
) -> int:
    """How many active items visible here (in ``deck``) the member has no card for."""
    scope = [col(Item.active).is_(True), visible_in(guild_id)]
    if deck is not None:
        scope.append(col(Item.deck) == deck)
    total = (await session.exec(select(func.count()).select_from(Item).where(*scope))).one()
    seen = (
        await session.exec(
            select(func.count())
            .select_from(ReviewState)
            .join(Item, col(Item.id) == col(ReviewState.item_id))
            .where(*_in_scope(user_id, guild_id, deck))
        )
    ).one()
    return max(0, int(total) - int(seen))


async def next_unseen_in(
    session: AsyncSession, *, user_id: int, guild_id: int | None, deck: str | None
) -> Item | None:
    """The first active item visible here (in ``deck``), in deck order, the member has not
    seen: the extra new cards an exam plan asks for beyond the daily cap."""
    card = (col(ReviewState.user_id) == user_id) & (col(ReviewState.item_id) == col(Item.id))
    conditions = [
        col(Item.active).is_(True),
        visible_in(guild_id),
        col(ReviewState.item_id).is_(None),
    ]
    if deck is not None:
        conditions.append(col(Item.deck) == deck)
    statement = (
        select(Item).outerjoin(ReviewState, card).where(*conditions).order_by(col(Item.id)).limit(1)
    )
    return (await session.exec(statement)).first()


async def count_new_in(
    session: AsyncSession,
    *,
    user_id: int,
    guild_id: int | None,
    deck: str | None,
    since: datetime,
) -> int:
    """The member's cards visible here (in ``deck``) first seen at or after ``since``."""
    statement = (
        select(func.count())
        .select_from(ReviewState)
        .join(Item, col(Item.id) == col(ReviewState.item_id))
        .where(*_in_scope(user_id, guild_id, deck), col(ReviewState.first_seen_at) >= since)
    )
    return int((await session.exec(statement)).one())
