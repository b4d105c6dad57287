"""Member review reminders: opt in at a local time, get one DM on days reviews are due.

The service owns no timer: an adapter's periodic job asks :meth:`ReminderService.due_reminders`
whom to remind and sends the DMs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core import daily
from bot.core.clock import Clock
from bot.core.learners import Learner
from bot.core.replies import Reply, Tone
from bot.errors import BadInput
from bot.log import get_logger
from bot.services import _guilds
from bot.services.exam import exam_reminder_line
from bot.storage import daily as store
from bot.storage import due_queue
from bot.storage.db import Database
from bot.storage.guild_settings import study_preferences

log = get_logger(__name__)

DEFAULT_REMIND_TIME = "18:00"


@dataclass(frozen=True, slots=True)
class ReminderNotice:
    """A DM to send: the member's platform id and the message."""

    user_id: int
    platform: str
    external_id: str
    local_date: date
    due: int
    reply: Reply


class ReminderService:
    """Turns members' reminders on and off, and finds whom to remind.

    ``default_timezone`` is the reminder time zone of a member who names none, in DMs or
    on a server that never chose one.
    """

    def __init__(
        self, db: Database, *, clock: Clock, default_timezone: str = daily.DEFAULT_TIMEZONE
    ) -> None:
        self.db = db
        self.clock = clock
        self.default_timezone = daily.parse_timezone(default_timezone)

    async def set_reminder(
        self,
        actor: Learner,
        enabled: bool,
        *,
        time_text: str | None = None,
        timezone: str | None = None,
    ) -> Reply:
        """Turn the member's review reminders on (at a local time) or off.

        Without ``timezone`` the member keeps theirs, else gets the server's.
        """
        if not enabled:
            async with self.db.session() as session:
                user = await _guilds.member_of(session, actor)
                user.remind_enabled = False
                session.add(user)
                await session.commit()
            return Reply(
                title="Reminders off",
                text="No more reminder DMs. Turn them back on with /remind on.",
                tone=Tone.INFO,
                private=True,
            )
        at = daily.parse_hhmm(time_text) if time_text else None
        tz_name = daily.parse_timezone(timezone) if timezone else None
        async with self.db.session() as session:
            user = await _guilds.member_of(session, actor)
            if tz_name is None:
                tz_name = user.remind_timezone
            if tz_name is None:
                server_zone, _new = await study_preferences(session, guild_id=actor.guild_id)
                tz_name = server_zone
            tz_name = tz_name or self.default_timezone
            remind_at = daily.format_hhmm(at) if at else user.remind_time or DEFAULT_REMIND_TIME
            user.remind_enabled = True
            user.remind_time = remind_at
            user.remind_timezone = tz_name
            session.add(user)
            await session.commit()
        return Reply(
            title="🔔 Reminders on",
            text=(
                f"On days you have reviews due, I'll DM you after {remind_at} ({tz_name}). "
                "Make sure your DMs are open for this server."
            ),
            tone=Tone.SUCCESS,
            footer="Change the time with /remind on time:HH:MM, or stop with /remind off.",
            private=True,
        )

    async def due_reminders(self, now: datetime | None = None) -> list[ReminderNotice]:
        """Members to DM now: reminder time passed today, reviews due, not reminded today.

        Each returned member is already marked reminded for their local date, so a DM that
        fails is not retried that day and two processes never both send.
        """
        now = now or self.clock.now()
        async with self.db.session() as session:
            members = await store.reminder_members(session)
        notices = []
        for user in members:
            if user.id is None or user.remind_time is None:
                continue  # the query only returns stored members with a time
            try:
                at = daily.parse_hhmm(user.remind_time)
                tz_name = daily.parse_timezone(user.remind_timezone or daily.DEFAULT_TIMEZONE)
            except BadInput:
                log.warning("member %s has an invalid reminder setting; skipping", user.id)
                continue
            local = daily.reminder_due(now, at, tz_name, user.last_reminded_on)
            if local is None:
                continue
            async with self.db.session() as session:
                due = await _count_due(session, user.id, now)
                if due == 0:
                    continue
                if not await store.claim_reminder(
                    session, user_id=user.id, local_date=local.isoformat()
                ):
                    continue
                guild_ids = await store.member_guild_ids(session, user_id=user.id)
                exam_line = await exam_reminder_line(
                    session, user_id=user.id, guild_ids=guild_ids, today=local
                )
            noun = "review is" if due == 1 else "reviews are"
            text = f"{due} {noun} due. Run /review when you have a few minutes."
            notices.append(
                ReminderNotice(
                    user_id=user.id,
                    platform=user.platform,
                    external_id=user.external_id,
                    local_date=local,
                    due=due,
                    reply=Reply(
                        title="📚 Time for a quick review",
                        text=text if exam_line is None else f"{text}\n{exam_line}",
                        footer="Turn these off with /remind off.",
                    ),
                )
            )
        return notices


async def _count_due(session: AsyncSession, user_id: int, now: datetime) -> int:
    """Due items everywhere: bundled ones once, plus each server's own."""
    bundled = await due_queue.count_due(session, user_id=user_id, guild_id=None, now=now)
    total = bundled
    for guild_id in await store.member_guild_ids(session, user_id=user_id):
        scoped = await due_queue.count_due(session, user_id=user_id, guild_id=guild_id, now=now)
        total += scoped - bundled
    return total
