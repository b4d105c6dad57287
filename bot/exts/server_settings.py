"""/settings: the server's daily quiz, moderator role, time zone, new cards per day and
desired retention (admins), and a member's own accessibility setting."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

import discord
from discord import app_commands
from discord.ext import commands

from bot.core import daily
from bot.core.replies import Reply, Tone
from bot.exts.checks import ensure_server_admin
from bot.exts.client import deck_autocomplete, learner_for
from bot.exts.dailyquiz import COG_NAME
from bot.log import get_logger
from bot.services.server_settings import CHANNEL, ROLE, ServerSettingsService, SettingsReply

if TYPE_CHECKING:
    from bot.exts.client import TutorBot

log = get_logger(__name__)

OnOff = Literal["on", "off"]


async def timezone_autocomplete(
    interaction: discord.Interaction[Any], current: str
) -> list[app_commands.Choice[str]]:
    """IANA time zones containing what the member typed so far (at most 25)."""
    return [app_commands.Choice(name=n, value=n) for n in daily.timezone_choices(current)]


def with_mentions(result: SettingsReply) -> Reply:
    """The reply with its channel and role placeholders as Discord mentions."""
    mentions: dict[str, str] = {}
    if result.channel_id is not None:
        mentions[CHANNEL] = f"<#{result.channel_id}>"
    if result.role_id is not None:
        mentions[ROLE] = f"<@&{result.role_id}>"

    def fill(text: str) -> str:
        for placeholder, mention in mentions.items():
            text = text.replace(placeholder, mention)
        return text

    reply = result.reply
    return replace(
        reply,
        text=fill(reply.text),
        footer=fill(reply.footer),
        fields=tuple(replace(f, name=fill(f.name), value=fill(f.value)) for f in reply.fields),
    )


def can_post_in(channel: discord.TextChannel) -> bool:
    """Whether the bot may send embeds in ``channel`` (True when it can't tell)."""
    me = channel.guild.me
    if me is None:
        return True
    permissions = channel.permissions_for(me)
    return permissions.send_messages and permissions.embed_links


@runtime_checkable
class Reschedules(Protocol):
    """The daily-quiz cog, as far as settings changes need it."""

    async def reschedule_guild(self, guild_id: int) -> None:
        """Apply the server's current schedule."""


class ServerSettingsCog(commands.Cog, name="Settings"):
    """Server settings (daily quiz, moderator role, time zone, new cards per day, retention)
    and per-member settings."""

    settings = app_commands.Group(
        name="settings",
        description="Daily quiz, moderator role, time zone, new cards, retention and your own.",
        guild_only=True,
    )

    def __init__(self, bot: TutorBot, *, service: ServerSettingsService | None = None) -> None:
        self.bot = bot
        self.service = service or bot.services.server_settings

    async def _reschedule(self, guild_id: int | None) -> None:
        """Apply new daily-quiz settings to the scheduler right away."""
        # Extensions are re-imported on load, so match the cog by shape, not by class.
        cog = self.bot.get_cog(COG_NAME)
        if guild_id is not None and isinstance(cog, Reschedules):
            await cog.reschedule_guild(guild_id)

    @settings.command(name="daily-quiz")
    @app_commands.describe(
        channel="Where the quiz is posted",
        time="Local posting time, 24-hour HH:MM (e.g. 08:30)",
        timezone="IANA time zone, e.g. Europe/Berlin (default: the server's, see "
        "/settings timezone)",
        questions="Questions per quiz (1–10, default 1)",
        deck="Only questions from this deck (default: every deck)",
        answer_window_minutes="How long answers stay open, 5–720 minutes (default 60)",
    )
    async def daily_quiz(
        self,
        interaction: discord.Interaction[Any],
        channel: discord.TextChannel,
        time: str,
        timezone: str | None = None,
        questions: app_commands.Range[int, 1, 10] = 1,
        deck: str | None = None,
        answer_window_minutes: app_commands.Range[int, 5, 720] = 60,
    ) -> None:
        """Turn on the daily quiz: a question at the same local time every day (admins)."""
        await ensure_server_admin(self.bot, interaction)
        work = self._configure(
            interaction, channel, time, timezone, questions, deck, answer_window_minutes
        )
        await self.bot.deliver(interaction, work)

    async def _configure(
        self,
        interaction: discord.Interaction[Any],
        channel: discord.TextChannel,
        time: str,
        timezone: str | None,
        questions: int,
        deck: str | None,
        window: int,
    ) -> Reply:
        result = await self.service.configure_daily(
            learner_for(interaction),
            channel_id=channel.id,
            time_text=time,
            timezone=timezone,
            questions=questions,
            deck=deck,
            window_minutes=window,
        )
        await self._reschedule(interaction.guild_id)
        reply = with_mentions(result)
        if not can_post_in(channel):
            reply = replace(
                reply,
                tone=Tone.WARNING,
                footer=f"⚠️ I can't post in #{channel.name} yet: give me Send Messages and "
                "Embed Links there, or pick another channel.",
            )
        return reply

    @settings.command(name="daily-quiz-off")
    async def daily_quiz_off(self, interaction: discord.Interaction[Any]) -> None:
        """Stop posting the daily quiz here (admins; settings are kept)."""
        await ensure_server_admin(self.bot, interaction)
        await self.bot.deliver(interaction, self._disable(interaction))

    async def _disable(self, interaction: discord.Interaction[Any]) -> Reply:
        reply = await self.service.disable_daily(learner_for(interaction))
        await self._reschedule(interaction.guild_id)
        return reply

    @settings.command(name="timezone")
    @app_commands.describe(timezone="IANA time zone, e.g. Europe/Berlin or America/New_York")
    async def server_timezone(self, interaction: discord.Interaction[Any], timezone: str) -> None:
        """This server's time zone: the daily quiz's clock, "today" and streaks (admins)."""
        await ensure_server_admin(self.bot, interaction)
        await self.bot.deliver(interaction, self._set_timezone(interaction, timezone))

    async def _set_timezone(self, interaction: discord.Interaction[Any], timezone: str) -> Reply:
        reply = await self.service.set_timezone(learner_for(interaction), timezone)
        await self._reschedule(interaction.guild_id)
        return reply

    @settings.command(name="new-per-day")
    @app_commands.describe(count="New cards each member sees per day, 0–1000 (0: reviews only)")
    async def new_per_day(
        self, interaction: discord.Interaction[Any], count: app_commands.Range[int, 0, 1000]
    ) -> None:
        """How many new cards each member is shown per day here (admins)."""
        await ensure_server_admin(self.bot, interaction)
        work = self.service.set_new_per_day(learner_for(interaction), count)
        await self.bot.deliver(interaction, work)

    @settings.command(name="retention")
    @app_commands.describe(
        value="70–97 (like 85, 85% or 0.85); you see the workload before saving. "
        "Leave empty to see the current one."
    )
    async def retention(
        self, interaction: discord.Interaction[Any], value: str | None = None
    ) -> None:
        """How well members should remember cards when they come back here (admins)."""
        await ensure_server_admin(self.bot, interaction)
        work = self.bot.services.member_settings.retention(
            learner_for(interaction), value, scope="server"
        )
        await self.bot.deliver(interaction, work)

    @settings.command(name="moderator-role")
    @app_commands.describe(role="Members with this role moderate here (leave empty to clear)")
    async def moderator_role(
        self, interaction: discord.Interaction[Any], role: discord.Role | None = None
    ) -> None:
        """Pick the role whose members count as moderators (admins)."""
        await ensure_server_admin(self.bot, interaction)
        work = self._set_moderator_role(interaction, role.id if role is not None else None)
        await self.bot.deliver(interaction, work)

    async def _set_moderator_role(
        self, interaction: discord.Interaction[Any], role_id: int | None
    ) -> Reply:
        return with_mentions(
            await self.service.set_moderator_role(learner_for(interaction), role_id)
        )

    @settings.command(name="show")
    async def show(self, interaction: discord.Interaction[Any]) -> None:
        """Every setting of this server, and yours — only you see it."""
        await self.bot.deliver(interaction, self._show(interaction))

    async def _show(self, interaction: discord.Interaction[Any]) -> Reply:
        return with_mentions(await self.service.show_settings(learner_for(interaction)))

    @settings.command(name="me")
    @app_commands.rename(extra_time="extra-time")
    @app_commands.describe(extra_time="on: twice as long to answer daily quizzes")
    async def me(self, interaction: discord.Interaction[Any], extra_time: OnOff) -> None:
        """Your own settings: extra time doubles your answer windows."""
        work = self.service.set_extra_time(learner_for(interaction), extra_time == "on")
        await self.bot.deliver(interaction, work)

    daily_quiz.autocomplete("deck")(deck_autocomplete)
    daily_quiz.autocomplete("timezone")(timezone_autocomplete)
    server_timezone.autocomplete("timezone")(timezone_autocomplete)


async def setup(bot: TutorBot) -> None:
    """Load the cog (discord.py extension entry point)."""
    await bot.add_cog(ServerSettingsCog(bot))
