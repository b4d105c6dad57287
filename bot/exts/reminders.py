"""/remind: opt-in DMs when a member has reviews due, sent by a periodic job.

Every few minutes the job asks :meth:`ReminderService.due_reminders` whom to remind (local
reminder time passed, reviews due, not reminded today) and DMs them. A DM that fails —
DMs closed, member gone — is logged and not retried until the member's next local day.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.exts.client import learner_for
from bot.exts.dailyquiz import channel_send_kwargs
from bot.exts.jobs import CogScheduler
from bot.exts.server_settings import timezone_autocomplete
from bot.log import get_logger
from bot.services.reminders import ReminderNotice, ReminderService

if TYPE_CHECKING:
    from bot.exts.client import TutorBot

log = get_logger(__name__)

#: How often due reminders are checked.
REMINDER_INTERVAL = timedelta(minutes=5)


class RemindersCog(commands.Cog, name="Reminders"):
    """Review reminders by DM."""

    remind = app_commands.Group(
        name="remind",
        description="A DM when your reviews are due.",
        allowed_contexts=app_commands.AppCommandContext(
            guild=True, dm_channel=True, private_channel=True
        ),
    )

    def __init__(self, bot: TutorBot, *, service: ReminderService | None = None) -> None:
        self.bot = bot
        self.service = service or bot.services.reminders
        self.jobs = CogScheduler()

    async def cog_load(self) -> None:
        """Start the periodic reminder check."""
        self.jobs.start()
        self.jobs.every("reminders", self._tick, REMINDER_INTERVAL)

    async def cog_unload(self) -> None:
        """Stop the periodic check."""
        await self.jobs.stop()

    async def _tick(self) -> None:
        try:
            await self.send_due_reminders()
        except Exception:
            log.exception("reminder check failed")

    async def send_due_reminders(self, now: datetime | None = None) -> int:
        """DM every member whose reminder is due at ``now``; returns how many got one."""
        sent = 0
        for notice in await self.service.due_reminders(now):
            if notice.platform != "discord":
                continue
            if await self._deliver(notice):
                sent += 1
        return sent

    async def _deliver(self, notice: ReminderNotice) -> bool:
        try:
            user_id = int(notice.external_id)
            user = self.bot.get_user(user_id) or await self.bot.fetch_user(user_id)
            await user.send(**channel_send_kwargs(notice.reply))
        except (ValueError, discord.HTTPException) as error:
            # Already marked reminded for the day: no retry storm for closed DMs.
            log.info("could not DM reminder to member %s: %s", notice.user_id, error)
            return False
        return True

    @remind.command(name="on")
    @app_commands.describe(
        time="Local time for the reminder, 24-hour HH:MM (default 18:00)",
        timezone="IANA time zone, e.g. Europe/Berlin (default: the server's)",
    )
    async def remind_on(
        self,
        interaction: discord.Interaction[Any],
        time: str | None = None,
        timezone: str | None = None,
    ) -> None:
        """DM me once a day when I have reviews due."""
        work = self.service.set_reminder(
            learner_for(interaction), True, time_text=time, timezone=timezone
        )
        await self.bot.deliver(interaction, work)

    @remind.command(name="off")
    async def remind_off(self, interaction: discord.Interaction[Any]) -> None:
        """Stop review reminder DMs."""
        await self.bot.deliver(
            interaction, self.service.set_reminder(learner_for(interaction), False)
        )

    remind_on.autocomplete("timezone")(timezone_autocomplete)


async def setup(bot: TutorBot) -> None:
    """Load the cog (discord.py extension entry point)."""
    await bot.add_cog(RemindersCog(bot))
