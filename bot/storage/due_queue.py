"""A member's cards and the due queue: their stored review state, what is due, what is new.

Like :mod:`bot.storage.crud`: async functions taking the session first and keyword
arguments after; callers own the transaction.
"""

from __future__ import annotations

import operator
from datetime import datetime
from functools import cache, reduce
from typing import Any

from sqlalchemy import bindparam, func, or_, union_all
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from bot.core.scheduling import CARD_COLUMNS, CardState
from bot.storage.models import Item, ReviewState
from bot.storage.scope import visible_in
from bot.storage.tags import has_tag, tag_pattern


def card_state(row: ReviewState) -> CardState:
    """A stored review state as the scheduler's value."""
    return CardState(**{name: getattr(row, name) for name in CARD_COLUMNS})


async def get_review_state(
    session: AsyncSession, *, user_id: int, item_id: int
) -> ReviewState | None:
    """The member's stored card for the item, if they have seen it."""
    return await session.get(ReviewState, (user_id, item_id))


def _apply_state(row: ReviewState, state: CardState) -> None:
    for name, value in state.columns().items():
        setattr(row, name, value)


async def save_review_state(
    session: AsyncSession, *, user_id: int, item_id: int, state: CardState, now: datetime
) -> ReviewState:
    """Insert or update the member's card for the item."""
    row = await session.get(ReviewState, (user_id, item_id))
    if row is None:
        row = ReviewState(user_id=user_id, item_id=item_id, due=state.due, first_seen_at=now)
    _apply_state(row, state)
    session.add(row)
    return row


# The due queue's statements are built once, with bound parameters (``user_id``,
# ``guild_id``, ``now``, ``since``, ``cap``): building a statement like these in
# SQLAlchemy costs as much as SQLite takes to run it, and a member's pick runs several.


def _visible_parts(with_guild: bool) -> list[Any]:
    """:func:`visible_in` as disjoint conditions, each one range of ``ix_items_guild_active_id``.

    An ``OR`` of the two makes the database merge both ranges and sort them; a query per
    part walks its range already in deck (id) order. The server is ``:guild_id``.
    """
    parts: list[Any] = [col(Item.guild_id).is_(None)]
    if with_guild:
        parts.append(col(Item.guild_id) == bindparam("guild_id"))
    return parts


def _bound_tag() -> Any:
    """Items carrying the tag whose :func:`tag_pattern` is bound as ``:tag``."""
    return col(Item.tags).like(bindparam("tag"), escape="\\")


def _visible(with_guild: bool, tagged: bool = False) -> Any:
    """Active and in :func:`visible_in`, for a prebuilt statement (the server is ``:guild_id``);
    ``tagged``: also carrying the tag whose :func:`tag_pattern` is ``:tag``."""
    visible = or_(*_visible_parts(with_guild)) & col(Item.active).is_(True)
    return visible & _bound_tag() if tagged else visible


def _queue_params(
    user_id: int, guild_id: int | None, tag: str | None, **more: Any
) -> dict[str, Any]:
    """The bound values of a due-queue statement (``:tag`` only when there is one)."""
    params: dict[str, Any] = {"user_id": user_id, "guild_id": guild_id, **more}
    if tag:
        params["tag"] = tag_pattern(tag)
    return params


def _due_cards(with_guild: bool, tagged: bool = False) -> Any:
    """The member's visible cards due at ``:now``: a range of the covering due index."""
    return (
        select(col(ReviewState.item_id))
        .join(Item, col(ReviewState.item_id) == col(Item.id))
        .where(
            ReviewState.user_id == bindparam("user_id"),
            col(ReviewState.due) <= bindparam("now"),
            _visible(with_guild, tagged),
        )
    )


@cache
def _next_due_statement(with_guild: bool, tagged: bool = False) -> SelectOfScalar[Item]:
    return (
        select(Item)
        .join(ReviewState, col(ReviewState.item_id) == col(Item.id))
        .where(
            ReviewState.user_id == bindparam("user_id"),
            col(ReviewState.due) <= bindparam("now"),
            _visible(with_guild, tagged),
        )
        .order_by(col(ReviewState.due))
        .limit(1)
    )


async def next_due_item(
    session: AsyncSession,
    *,
    user_id: int,
    guild_id: int | None,
    now: datetime,
    tag: str | None = None,
) -> Item | None:
    """The member's most overdue item visible here (with ``tag``, when given), or None."""
    params = _queue_params(user_id, guild_id, tag, now=now)
    statement = _next_due_statement(guild_id is not None, bool(tag))
    return (await session.exec(statement, params=params)).first()


@cache
def _count_due_statement(
    with_guild: bool, capped: bool, tagged: bool = False
) -> SelectOfScalar[int]:
    due = _due_cards(with_guild, tagged)
    if capped:
        due = due.limit(bindparam("cap"))
    return select(func.count()).select_from(due.subquery())


async def count_due(
    session: AsyncSession,
    *,
    user_id: int,
    guild_id: int | None,
    now: datetime,
    cap: int | None = None,
    tag: str | None = None,
) -> int:
    """How many of the member's items (with ``tag``) are due now (at most ``cap``).

    A capped count stops early, which keeps the review footer cheap for a big backlog.
    """
    statement = _count_due_statement(guild_id is not None, cap is not None, bool(tag))
    params = _queue_params(user_id, guild_id, tag, now=now, cap=cap)
    return int((await session.exec(statement, params=params)).one())


async def next_due_after(
    session: AsyncSession,
    *,
    user_id: int,
    guild_id: int | None,
    now: datetime,
    tag: str | None = None,
) -> datetime | None:
    """When the member's next item (with ``tag``, when given) comes due (after ``now``)."""
    statement = (
        select(func.min(ReviewState.due))
        .join(Item, col(ReviewState.item_id) == col(Item.id))
        .where(
            ReviewState.user_id == user_id,
            col(ReviewState.due) > now,
            col(Item.active).is_(True),
            visible_in(guild_id),
        )
    )
    if tag:
        statement = statement.where(has_tag(tag))
    # min() keeps the column's type, so the value comes back as an aware datetime.
    return (await session.exec(statement)).one()


@cache
def _count_new_since_statement(with_guild: bool) -> SelectOfScalar[int]:
    """Built once per shape (a big share of a sub-millisecond query is building it)."""
    return (
        select(func.count())
        .select_from(ReviewState)
        .join(Item, col(Item.id) == col(ReviewState.item_id))
        .where(
            ReviewState.user_id == bindparam("user_id"),
            col(ReviewState.first_seen_at) >= bindparam("since"),
            or_(*_visible_parts(with_guild)),
        )
    )


async def count_new_since(
    session: AsyncSession, *, user_id: int, guild_id: int | None, since: datetime
) -> int:
    """Items visible in ``guild_id`` the member saw for the first time at or after ``since``.

    Another server's own items never count, so neither a server's new-card budget nor its
    figures show what the member studied in other servers. A range of
    ``ix_review_states_user_first_seen`` (today's cards only, however many the member has),
    each checked against its item by primary key.
    """
    params: dict[str, Any] = {"user_id": user_id, "since": since}
    if guild_id is not None:
        params["guild_id"] = guild_id
    statement = _count_new_since_statement(guild_id is not None)
    return int((await session.exec(statement, params=params)).one())


def _first_unseen(part: Any, tagged: bool = False) -> Any:
    """The id of the first active item of ``part`` that ``:user_id`` has no card for
    (``tagged``: carrying the tag whose pattern is ``:tag``).

    Walks the part's items in id order on ``ix_items_guild_active_id`` and probes the
    ``(user_id, item_id)`` key of each: an anti-join, which SQLite runs a little faster
    as ``LEFT JOIN … IS NULL`` than as ``NOT EXISTS``.
    """
    card = (col(ReviewState.user_id) == bindparam("user_id")) & (
        col(ReviewState.item_id) == col(Item.id)
    )
    conditions = [part, col(Item.active).is_(True), col(ReviewState.item_id).is_(None)]
    if tagged:
        conditions.append(_bound_tag())
    return (
        select(col(Item.id))
        .outerjoin(ReviewState, card)
        .where(*conditions)
        .order_by(col(Item.id))
        .limit(1)
        .subquery()
    )


@cache
def _next_new_statement(with_guild: bool, tagged: bool = False) -> SelectOfScalar[Item]:
    firsts = [_first_unseen(part, tagged) for part in _visible_parts(with_guild)]
    candidates = union_all(*(select(first.c.id) for first in firsts))
    return select(Item).where(col(Item.id).in_(candidates)).order_by(col(Item.id)).limit(1)


async def next_new_item(
    session: AsyncSession, *, user_id: int, guild_id: int | None, tag: str | None = None
) -> Item | None:
    """The first item (in deck order, with ``tag`` when given) the member has never seen.

    The first unseen item of each scope (bundled, the server's own) is found by walking
    that scope's items in order; the lower id wins. The cost grows with the cards the
    member has before their first unseen item, not with the number of items.
    """
    statement = _next_new_statement(guild_id is not None, bool(tag))
    params = _queue_params(user_id, guild_id, tag)
    return (await session.exec(statement, params=params)).first()


@cache
def _count_unseen_statement(with_guild: bool, tagged: bool = False) -> SelectOfScalar[int]:
    tag_filter = [_bound_tag()] if tagged else []
    totals = [
        select(func.count())
        .select_from(Item)
        .where(part, col(Item.active).is_(True), *tag_filter)
        .scalar_subquery()
        for part in _visible_parts(with_guild)
    ]
    seen = (
        select(func.count())
        .select_from(ReviewState)
        .join(Item, col(Item.id) == col(ReviewState.item_id))
        .where(ReviewState.user_id == bindparam("user_id"), _visible(with_guild, tagged))
        .scalar_subquery()
    )
    return select(reduce(operator.add, totals) - seen)


async def count_unseen(
    session: AsyncSession, *, user_id: int, guild_id: int | None, tag: str | None = None
) -> int:
    """How many visible items (with ``tag``, when given) the member has never seen.

    The scope's active items (counted on ``ix_items_guild_active_id`` alone) minus the
    member's cards of them: no probe per item, so a big bank costs one index range.
    """
    statement = _count_unseen_statement(guild_id is not None, bool(tag))
    params = _queue_params(user_id, guild_id, tag)
    return int((await session.exec(statement, params=params)).one())
