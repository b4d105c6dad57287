"""Community commands: /leaderboard, /export-me and /forget-me, and their buttons.

The rules live in :mod:`bot.core.leaderboard` and :mod:`bot.core.privacy`, the work in
:mod:`bot.services.leaderboard` and :mod:`bot.services.privacy`; this cog only turns
interactions into calls and replies. Buttons carry their state in the custom_id
(``lb:<period>:<page>:<deck>``, ``fm:ok|no:<member id>``), so they work after a restart.
"""

from __future__ import annotations

import dataclasses
import gzip
import io
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import discord
from discord import app_commands
from discord.ext import commands

from bot.core import leaderboard, privacy
from bot.core.privacy import DataExport, forget_confirmation
from bot.exts.client import deck_autocomplete, is_private_message, learner_for
from bot.exts.render import render
from bot.log import get_logger

if TYPE_CHECKING:
    from bot.exts.client import TutorBot

log = get_logger(__name__)

PeriodOption = Literal["week", "month", "all"]
T = TypeVar("T")


async def _ready(value: T) -> T:
    return value


class Community(commands.Cog):
    """Leaderboards and members' own data."""

    def __init__(self, bot: TutorBot) -> None:
        self.bot = bot
        self.boards = bot.services.leaderboard
        self.member_data = bot.services.privacy

    async def cog_load(self) -> None:
        """Route the leaderboard's page buttons and the forget-me confirmation here."""
        self.bot.register_button(leaderboard.TOKEN_PREFIX, self.on_page_button)
        self.bot.register_button(privacy.TOKEN_PREFIX, self.on_forget_button)

    # -- leaderboard ----------------------------------------------------------------------

    @app_commands.command(name="leaderboard")
    @app_commands.guild_only()
    @app_commands.describe(
        period="week = last 7 days, month = last 30 days, all = all time (default: week)",
        deck="Only one deck (default: all decks)",
    )
    async def leaderboard(
        self,
        interaction: discord.Interaction[Any],
        period: PeriodOption = "week",
        deck: str | None = None,
    ) -> None:
        """This server's top members by correct answers — only you see it."""
        work = self.boards.show(learner_for(interaction), period, deck)
        await self.bot.deliver(interaction, work)

    async def on_page_button(self, interaction: discord.Interaction[Any], token: str) -> None:
        """Prev/Next: show that page, in place when the leaderboard is the clicker's own."""
        work = self.boards.act(learner_for(interaction), token)
        await self.bot.deliver(interaction, work, edit=is_private_message(interaction))

    # -- members' own data ----------------------------------------------------------------

    @app_commands.command(name="export-me")
    @app_commands.allowed_contexts(guilds=True, dms=True, private_channels=True)
    async def export_me(self, interaction: discord.Interaction[Any]) -> None:
        """Get a copy of everything I store about you, as a JSON file — only you see it."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        export = await self.member_data.export(learner_for(interaction))
        if export is None:
            await interaction.followup.send(privacy.NOTHING_STORED, ephemeral=True)
            return
        attachment = _attachment(export, limit=interaction.filesize_limit)
        if attachment is None:
            message = "Your data is too large to attach here. Please ask the bot's owner."
            await interaction.followup.send(message, ephemeral=True)
            return
        files = [attachment]
        if export.deck_data is not None and export.deck_filename is not None:
            if len(export.data) + len(export.deck_data) <= interaction.filesize_limit:
                files.append(discord.File(io.BytesIO(export.deck_data), export.deck_filename))
            else:
                log.warning("export-me: the Anki package does not fit beside the JSON file")
                export = dataclasses.replace(export, deck_data=None, deck_filename=None)
        embed = render(export.summary()).embed
        await interaction.followup.send(embed=embed, files=files, ephemeral=True)

    @app_commands.command(name="forget-me")
    @app_commands.allowed_contexts(guilds=True, dms=True, private_channels=True)
    async def forget_me(self, interaction: discord.Interaction[Any]) -> None:
        """Delete everything I store about you (asks you to confirm first)."""
        reply = forget_confirmation(learner_for(interaction))
        await self.bot.deliver(interaction, _ready(reply))

    async def on_forget_button(self, interaction: discord.Interaction[Any], token: str) -> None:
        """Delete everything / Cancel: only the member who asked may click."""
        work = self.member_data.act(learner_for(interaction), token)
        await self.bot.deliver(interaction, work, edit=is_private_message(interaction))

    leaderboard.autocomplete("deck")(deck_autocomplete)


def _attachment(export: DataExport, *, limit: int) -> discord.File | None:
    """The export as a file, gzip-compressed when it is too big to attach as it is."""
    if len(export.data) <= limit:
        return discord.File(io.BytesIO(export.data), filename=export.filename)
    packed = gzip.compress(export.data)
    if len(packed) > limit:
        log.warning("export of %d bytes does not fit in %d bytes", len(export.data), limit)
        return None
    return discord.File(io.BytesIO(packed), filename=f"{export.filename}.gz")


async def setup(bot: TutorBot) -> None:
    """Load the cog (discord.py extension entry point)."""
    await bot.add_cog(Community(bot))
