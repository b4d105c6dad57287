"""Data access for daily quizzes, server settings and reminders.

Like :mod:`bot.storage.crud`: async functions taking the session first and keyword
arguments after; callers own the transaction unless a function says it commits (the claim
functions do, because the database's answer *is* their result).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.log import get_logger
from bot.storage.models import Attempt, AuditEntry, DailyQuiz, Guild, ReviewState, User

log = get_logger(__name__)

OPEN = "open"
POSTING = "posting"
CLOSED = "closed"
SKIPPED = "skipped"


# -- settings -------------------------------------------------------------------------------


async def enabled_guilds(session: AsyncSession) -> list[Guild]:
    """Servers with the daily quiz turned on."""
    statement = select(Guild).where(col(Guild.daily_enabled).is_(True)).order_by(col(Guild.id))
    return list((await session.exec(statement)).all())


async def has_extra_time_members(session: AsyncSession, *, guild_id: int) -> bool:
    """Whether a member with extra time is known on this server.

    Known means: answered here, or turned extra time on from here (audit log).
    """
    answered = select(Attempt.user_id).where(Attempt.guild_id == guild_id)
    turned_on = select(AuditEntry.actor_user_id).where(
        AuditEntry.guild_id == guild_id, AuditEntry.action == "settings.extra_time"
    )
    statement = (
        select(User.id)
        .where(
            col(User.extra_time).is_(True),
            col(User.id).in_(answered) | col(User.id).in_(turned_on),
        )
        .limit(1)
    )
    return (await session.exec(statement)).first() is not None


# -- daily quizzes --------------------------------------------------------------------------


async def get_daily_quiz(
    session: AsyncSession, *, guild_id: int, local_date: str
) -> DailyQuiz | None:
    """The server's quiz row for ``local_date`` ("YYYY-MM-DD"), if any."""
    statement = select(DailyQuiz).where(
        DailyQuiz.guild_id == guild_id, DailyQuiz.local_date == local_date
    )
    return (await session.exec(statement)).first()


async def claim_daily_quiz(
    session: AsyncSession,
    *,
    guild_id: int,
    local_date: str,
    scheduled_for: datetime,
    channel_id: int | None,
    now: datetime,
    status: str = POSTING,
) -> DailyQuiz | None:
    """Insert the server's quiz row for ``local_date`` and commit; None if one exists.

    The unique key (guild, local date) decides: whoever inserts first owns the day, even
    across processes. The guild row must exist. ``now`` is kept as the claim time.
    """
    quiz = DailyQuiz(
        guild_id=guild_id,
        local_date=local_date,
        status=status,
        channel_id=channel_id,
        scheduled_for=scheduled_for,
        claimed_at=now,
    )
    session.add(quiz)
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        log.info("daily quiz of guild %s for %s already claimed", guild_id, local_date)
        return None
    return quiz


async def set_quiz_status(
    session: AsyncSession,
    *,
    quiz_id: int,
    from_statuses: Sequence[str],
    to_status: str,
    values: dict[str, Any] | None = None,
) -> bool:
    """Move a quiz from one of ``from_statuses`` to ``to_status`` and commit.

    Returns False (changing nothing) when the quiz is in another state — e.g. another task
    or process already closed it — so each transition happens exactly once.
    """
    statement = (
        update(DailyQuiz)
        .where(col(DailyQuiz.id) == quiz_id, col(DailyQuiz.status).in_(list(from_statuses)))
        .values(status=to_status, **(values or {}))
    )
    result = await session.exec(statement)
    await session.commit()
    return bool(result.rowcount)


async def release_daily_quiz(session: AsyncSession, *, quiz_id: int) -> bool:
    """Delete a quiz still ``posting`` (nothing of it reached the channel) and commit.

    Frees its local date so a retry (after fixing the channel) can post.
    """
    statement = delete(DailyQuiz).where(
        col(DailyQuiz.id) == quiz_id, col(DailyQuiz.status) == POSTING
    )
    result = await session.exec(statement)
    await session.commit()
    return bool(result.rowcount)


async def quizzes_with_status(session: AsyncSession, *, statuses: Sequence[str]) -> list[DailyQuiz]:
    """Every quiz in one of ``statuses`` (to resume after a restart)."""
    statement = (
        select(DailyQuiz)
        .where(col(DailyQuiz.status).in_(list(statuses)))
        .order_by(col(DailyQuiz.id))
    )
    return list((await session.exec(statement)).all())


async def recent_daily_items(
    session: AsyncSession, *, guild_id: int, since_date: str
) -> dict[int, str]:
    """Items asked in the server's quizzes since ``since_date``: item → last local date."""
    statement = select(DailyQuiz.local_date, DailyQuiz.item_ids).where(
        DailyQuiz.guild_id == guild_id, col(DailyQuiz.local_date) >= since_date
    )
    used: dict[int, str] = {}
    for local_date, item_ids in (await session.exec(statement)).all():
        for item_id in item_ids or []:
            used[int(item_id)] = max(used.get(int(item_id), ""), local_date)
    return used


# -- members --------------------------------------------------------------------------------


async def active_member_ids(session: AsyncSession, *, guild_id: int, since: datetime) -> list[int]:
    """Members who answered anything on this server since ``since``."""
    statement = (
        select(Attempt.user_id)
        .where(Attempt.guild_id == guild_id, col(Attempt.created_at) >= since)
        .distinct()
    )
    return sorted((await session.exec(statement)).all())


async def review_schedules(
    session: AsyncSession, *, user_ids: Sequence[int], now: datetime
) -> dict[int, tuple[set[int], set[int]]]:
    """For each member: (items due now, items ever seen)."""
    schedules: dict[int, tuple[set[int], set[int]]] = {uid: (set(), set()) for uid in user_ids}
    if not user_ids:
        return schedules
    statement = select(ReviewState.user_id, ReviewState.item_id, ReviewState.due).where(
        col(ReviewState.user_id).in_(list(user_ids))
    )
    for user_id, item_id, due in (await session.exec(statement)).all():
        due_items, seen = schedules[user_id]
        seen.add(item_id)
        if due <= now:
            due_items.add(item_id)
    return schedules


async def prompt_attempts(
    session: AsyncSession, *, prompt_ids: Sequence[int], guild_id: int
) -> list[tuple[Attempt, User]]:
    """Every answer given on server ``guild_id`` to the prompts, with the member, oldest first."""
    if not prompt_ids:
        return []
    statement = (
        select(Attempt, User)
        .join(User, col(User.id) == col(Attempt.user_id))
        .where(col(Attempt.prompt_id).in_(list(prompt_ids)), col(Attempt.guild_id) == guild_id)
        .order_by(col(Attempt.id))
    )
    return [(attempt, user) for attempt, user in (await session.exec(statement)).all()]


async def answered_daily_items(
    session: AsyncSession,
    *,
    user_id: int,
    item_ids: Sequence[int],
    prompt_ids: Sequence[int],
    since: datetime,
    guild_id: int,
) -> set[int]:
    """Items of a quiz the member answered: live (its prompts) or as a catch-up since then.

    A catch-up answer counts only when given on the quiz's server ``guild_id``: the same
    item in another server's daily quiz is that server's business.
    """
    if not item_ids:
        return set()
    live = col(Attempt.prompt_id).in_(list(prompt_ids or [-1]))
    catch_up = and_(
        col(Attempt.mode) == "daily",
        col(Attempt.created_at) >= since,
        col(Attempt.guild_id) == guild_id,
    )
    statement = select(Attempt.item_id).where(
        Attempt.user_id == user_id, col(Attempt.item_id).in_(list(item_ids)), or_(live, catch_up)
    )
    return set((await session.exec(statement)).all())


async def member_guild_ids(session: AsyncSession, *, user_id: int) -> list[int]:
    """Servers the member answered on (their server-added items can be due)."""
    statement = (
        select(Attempt.guild_id)
        .where(Attempt.user_id == user_id, col(Attempt.guild_id).is_not(None))
        .distinct()
    )
    return sorted(gid for gid in (await session.exec(statement)).all() if gid is not None)


# -- reminders ------------------------------------------------------------------------------


async def reminder_members(session: AsyncSession) -> list[User]:
    """Members with reminders turned on."""
    statement = (
        select(User)
        .where(col(User.remind_enabled).is_(True), col(User.remind_time).is_not(None))
        .order_by(col(User.id))
    )
    return list((await session.exec(statement)).all())


async def claim_reminder(session: AsyncSession, *, user_id: int, local_date: str) -> bool:
    """Mark the member reminded on ``local_date`` and commit; False if already done today.

    Claiming before sending means a failed DM is not retried all day, and two processes
    never both send.
    """
    statement = (
        update(User)
        .where(
            col(User.id) == user_id,
            col(User.last_reminded_on).is_(None) | (col(User.last_reminded_on) != local_date),
        )
        .values(last_reminded_on=local_date)
    )
    result = await session.exec(statement)
    await session.commit()
    return bool(result.rowcount)
