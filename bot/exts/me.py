"""/me: a member's own study settings, in servers and DMs (their desired retention), and the
Save / Cancel buttons under every retention preview (``/settings retention`` too)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.exts.checks import ensure_server_admin
from bot.exts.client import is_private_message, learner_for
from bot.services.member_settings import RETENTION_PREFIX, saves_server_setting

if TYPE_CHECKING:
    from bot.exts.client import TutorBot


class MeCog(commands.Cog, name="Me"):
    """Your own settings, which follow you into every server."""

    me = app_commands.Group(
        name="me",
        description="Your own study settings, in every server.",
        allowed_contexts=app_commands.AppCommandContext(
            guild=True, dm_channel=True, private_channel=True
        ),
    )

    def __init__(self, bot: TutorBot) -> None:
        self.bot = bot
        self.service = bot.services.member_settings

    async def cog_load(self) -> None:
        """Route the Save / Cancel buttons of retention previews here."""
        self.bot.register_button(RETENTION_PREFIX, self.on_retention_button)

    @me.command(name="retention")
    @app_commands.describe(
        value="70–97 (like 85, 85% or 0.85); reset goes back to the server's. "
        "Leave empty to see yours."
    )
    async def retention(
        self, interaction: discord.Interaction[Any], value: str | None = None
    ) -> None:
        """How well you want to remember cards when they come back (shows the workload first)."""
        work = self.service.retention(learner_for(interaction), value, scope="me")
        await self.bot.deliver(interaction, work)

    async def on_retention_button(self, interaction: discord.Interaction[Any], token: str) -> None:
        """Save / Cancel: a server's value needs the same permission as /settings."""
        if saves_server_setting(token):
            await ensure_server_admin(self.bot, interaction)
        work = self.service.act(learner_for(interaction), token)
        await self.bot.deliver(interaction, work, edit=is_private_message(interaction))


async def setup(bot: TutorBot) -> None:
    """Load the cog (discord.py extension entry point)."""
    await bot.add_cog(MeCog(bot))
