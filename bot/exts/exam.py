"""``/exam set|show|clear``: an exam date, its countdown and a study plan, privately.

Discord cannot run a command group by itself, so the countdown is ``/exam show``. A
server-wide exam (``server:true``) needs the moderators' permission, as the question bank.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.exts.checks import ensure_moderator
from bot.exts.client import deck_autocomplete, learner_for
from bot.services.exam import ExamService

if TYPE_CHECKING:
    from bot.exts.client import TutorBot


class ExamCog(commands.Cog, name="Exam"):
    """The ``/exam`` commands: thin calls into :class:`ExamService`."""

    exam = app_commands.Group(
        name="exam", description="Your exam date, the countdown and a plan to be ready"
    )

    def __init__(self, bot: TutorBot, *, service: ExamService | None = None) -> None:
        self.bot = bot
        self.service = service or bot.services.exam

    @exam.command(name="set")
    @app_commands.describe(
        date="2027-01-15, 15 Jan or Jan 15 (in the server's time zone)",
        deck="Plan for one deck only (default: every deck here)",
        server="Set it for the whole server (moderators)",
    )
    async def set_exam(
        self,
        interaction: discord.Interaction[Any],
        date: str,
        deck: str | None = None,
        server: bool = False,
    ) -> None:
        """Set your exam date (or the server's) and see the plan."""
        if server:
            await ensure_moderator(self.bot, interaction)
        work = self.service.set(learner_for(interaction), date, deck, server_wide=server)
        await self.bot.deliver(interaction, work)

    @exam.command(name="show")
    async def show(self, interaction: discord.Interaction[Any]) -> None:
        """The countdown to your exam and today's plan — only you see it."""
        await self.bot.deliver(interaction, self.service.show(learner_for(interaction)))

    @exam.command(name="clear")
    @app_commands.describe(server="Remove the whole server's exam (moderators)")
    async def clear(self, interaction: discord.Interaction[Any], server: bool = False) -> None:
        """Remove your exam date (or the server's)."""
        if server:
            await ensure_moderator(self.bot, interaction)
        work = self.service.clear(learner_for(interaction), server_wide=server)
        await self.bot.deliver(interaction, work)

    set_exam.autocomplete("deck")(deck_autocomplete)


async def setup(bot: TutorBot) -> None:
    """Load the cog (discord.py extension entry point)."""
    await bot.add_cog(ExamCog(bot))
