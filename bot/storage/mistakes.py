"""Questions a member answered wrong lately and has not yet got right twice in a row since.

A question is a *mistake to retry* for a member in a server when, among the member's answers
given in that server (``attempts.guild_id``; outside any server: those given outside any
server) in the last :data:`MISTAKE_WINDOW`, at least one is wrong and fewer than
:data:`RIGHT_IN_A_ROW` answers came after the last wrong one (every such answer is right, in
any mode). Only active items visible there count (bundled ones and the server's own).

Order: the mistake the member last answered longest ago comes first, so one just retried
(right or wrong) goes to the back of the line, and a question never retried comes up in
the order it was missed.

One statement, portable SQL (SQLite and PostgreSQL): the member's recent answers are one
range of ``ix_attempts_user_created`` (each row then checked for the server); the later
steps work on those rows only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam, func, or_, select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.storage.models import Attempt, Item
from bot.storage.tags import tag_pattern

#: How far back a wrong answer makes a question one to retry.
MISTAKE_WINDOW = timedelta(days=14)
#: Right answers in a row, after the last wrong one, that clear a mistake.
RIGHT_IN_A_ROW = 2


@dataclass(frozen=True, slots=True)
class Mistake:
    """A question to retry: how often it was missed lately, and the right answers since."""

    item_id: int
    #: Wrong answers within :data:`MISTAKE_WINDOW`.
    misses: int
    #: Right answers after the last wrong one (fewer than :data:`RIGHT_IN_A_ROW`).
    right_since: int


@cache
def _mistakes_statement(with_guild: bool, tagged: bool) -> Select[Any]:
    """The member's mistakes (``:user_id``, ``:guild_id``, ``:since``, ``:tag``), in order."""
    # ``guild_id + 0`` is checked on the member's rows only: without statistics, SQLite
    # could otherwise walk ``ix_attempts_guild_created`` (every member's recent answers).
    server = col(Attempt.guild_id) + 0
    answered_here = server == bindparam("guild_id") if with_guild else server.is_(None)
    recent = (
        select(
            col(Attempt.item_id).label("item_id"),
            col(Attempt.id).label("id"),
            col(Attempt.correct).label("correct"),
        )
        .where(
            col(Attempt.user_id) == bindparam("user_id"),
            col(Attempt.created_at) >= bindparam("since"),
            answered_here,
        )
        .cte("recent")
    )
    wrong = (
        select(
            recent.c.item_id,
            func.max(recent.c.id).label("last_wrong"),
            func.count().label("misses"),
        )
        .where(recent.c.correct.is_(False))
        .group_by(recent.c.item_id)
        .subquery("wrong")
    )
    # The last wrong answer and every (right) answer after it.
    since_wrong = func.count(recent.c.id)
    scope: list[Any] = [col(Item.guild_id).is_(None)]
    if with_guild:
        scope.append(col(Item.guild_id) == bindparam("guild_id"))
    visible: list[Any] = [or_(*scope), col(Item.active).is_(True)]
    if tagged:
        visible.append(col(Item.tags).like(bindparam("tag"), escape="\\"))
    return (
        select(wrong.c.item_id, wrong.c.misses, (since_wrong - 1).label("right_since"))
        .select_from(wrong)
        .join(recent, (recent.c.item_id == wrong.c.item_id) & (recent.c.id >= wrong.c.last_wrong))
        .join(Item, col(Item.id) == wrong.c.item_id)
        .where(*visible)
        .group_by(wrong.c.item_id, wrong.c.misses)
        .having(since_wrong <= RIGHT_IN_A_ROW)
        .order_by(func.max(recent.c.id), wrong.c.item_id)
    )


def _params(user_id: int, guild_id: int | None, now: datetime, tag: str | None) -> dict[str, Any]:
    params: dict[str, Any] = {"user_id": user_id, "since": now - MISTAKE_WINDOW}
    if guild_id is not None:
        params["guild_id"] = guild_id
    if tag:
        params["tag"] = tag_pattern(tag)
    return params


async def mistakes(
    session: AsyncSession,
    *,
    user_id: int,
    guild_id: int | None,
    now: datetime,
    tag: str | None = None,
    limit: int | None = None,
) -> list[Mistake]:
    """The member's mistakes to retry in ``guild_id`` (with ``tag``, when given), in order."""
    statement = _mistakes_statement(guild_id is not None, bool(tag))
    if limit is not None:
        statement = statement.limit(limit)
    connection = await session.connection()
    rows = await connection.execute(statement, _params(user_id, guild_id, now, tag))
    return [Mistake(item_id=i, misses=int(m), right_since=int(r)) for i, m, r in rows.all()]


async def next_mistake(
    session: AsyncSession,
    *,
    user_id: int,
    guild_id: int | None,
    now: datetime,
    tag: str | None = None,
) -> tuple[Item, Mistake] | None:
    """The member's first mistake to retry and its item, or None when none is left."""
    found = await mistakes(session, user_id=user_id, guild_id=guild_id, now=now, tag=tag, limit=1)
    if not found:
        return None
    item = await session.get(Item, found[0].item_id)
    return None if item is None else (item, found[0])


async def count_mistakes(
    session: AsyncSession,
    *,
    user_id: int,
    guild_id: int | None,
    now: datetime,
    tag: str | None = None,
) -> int:
    """How many mistakes the member has to retry in ``guild_id`` (with ``tag``)."""
    listed = _mistakes_statement(guild_id is not None, bool(tag)).order_by(None).subquery()
    statement = select(func.count()).select_from(listed)
    connection = await session.connection()
    result = await connection.execute(statement, _params(user_id, guild_id, now, tag))
    return int(result.scalar_one())
