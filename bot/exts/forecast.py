"""``/forecast``: a member's reviews due per day for the next 30 days, privately."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.exts.client import learner_for
from bot.services.forecast import ForecastService

if TYPE_CHECKING:
    from bot.exts.client import TutorBot


class ForecastCog(commands.Cog, name="Forecast"):
    """The ``/forecast`` command: a thin call into :class:`ForecastService`."""

    def __init__(self, bot: TutorBot, *, service: ForecastService | None = None) -> None:
        self.bot = bot
        self.service = service or bot.services.forecast

    @app_commands.command(name="forecast")
    @app_commands.allowed_contexts(guilds=True, dms=True, private_channels=True)
    async def forecast(self, interaction: discord.Interaction[Any]) -> None:
        """Reviews due in the next 30 days, your recall now and cards at risk — only you see it."""
        work = self.service.forecast(learner_for(interaction))
        await self.bot.deliver(interaction, work)


async def setup(bot: TutorBot) -> None:
    """Load the cog (discord.py extension entry point)."""
    await bot.add_cog(ForecastCog(bot))
