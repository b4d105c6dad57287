"""Per-server settings (daily quiz, moderator role, time zone, new cards per day, desired
retention) and a member's own extra time.

Replies that name a channel or a role don't write platform markup: their text holds the
placeholders :data:`CHANNEL` / :data:`ROLE` and the :class:`SettingsReply` carries the ids,
so each adapter fills in its own way of mentioning them (``<#id>`` on Discord).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.core import daily
from bot.core import daily_replies as wording
from bot.core.clock import Clock
from bot.core.learners import Learner
from bot.core.replies import Reply, ReplyBuilder, Tone
from bot.errors import NotFound
from bot.log import get_logger
from bot.services import _guilds
from bot.services.study_context import RetentionCache
from bot.storage import crud
from bot.storage.db import Database
from bot.storage.models import Guild

log = get_logger(__name__)

#: Stands for a mention of :attr:`SettingsReply.channel_id` in a reply's text.
CHANNEL = "{channel}"
#: Stands for a mention of :attr:`SettingsReply.role_id` in a reply's text.
ROLE = "{role}"
#: The cap on new cards per day of a server that never set one (the bot's setting wins).
DEFAULT_NEW_PER_DAY = 20
#: The desired retention of a server that never set one (the bot's setting wins).
DEFAULT_RETENTION = 0.9


def percent(retention: float) -> str:
    """A retention as a whole percentage: ``0.85`` → ``85%``."""
    return f"{round(retention * 100)}%"


@dataclass(frozen=True, slots=True)
class SettingsReply:
    """A reply whose text may mention a channel (:data:`CHANNEL`) or role (:data:`ROLE`)."""

    reply: Reply
    channel_id: int | None = None
    role_id: int | None = None


class ServerSettingsService:
    """Changes and shows a server's settings; adapters check who may change them.

    ``default_timezone``, ``default_new_per_day`` and ``default_retention`` are what a
    server that never chose its own gets (the bot's ``STUDY_TIMEZONE``,
    ``NEW_ITEMS_PER_DAY`` and ``DESIRED_RETENTION``). ``retentions`` is the study services'
    cache of effective retentions, emptied for the server when its value changes.
    """

    def __init__(
        self,
        db: Database,
        *,
        clock: Clock,
        default_timezone: str = daily.DEFAULT_TIMEZONE,
        default_new_per_day: int = DEFAULT_NEW_PER_DAY,
        default_retention: float = DEFAULT_RETENTION,
        retentions: RetentionCache | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.default_timezone = daily.parse_timezone(default_timezone)
        self.default_new_per_day = daily.validate_new_per_day(default_new_per_day)
        self.default_retention = default_retention
        self.retentions = retentions

    # -- the daily quiz ---------------------------------------------------------------------

    async def configure_daily(
        self,
        actor: Learner,
        *,
        channel_id: int,
        time_text: str,
        timezone: str | None = None,
        questions: int = 1,
        deck: str | None = None,
        window_minutes: int = 60,
    ) -> SettingsReply:
        """Turn the server's daily quiz on (admins; the adapter checks permission).

        ``timezone`` also becomes the server's time zone; without it the server's own
        (else the bot's default) is used. Every input is validated before anything is
        stored, so a typo changes nothing.
        """
        at = daily.parse_hhmm(time_text)
        chosen = daily.parse_timezone(timezone) if timezone is not None else None
        daily.validate_questions(questions)
        daily.validate_window(window_minutes)
        deck = (deck or "").strip() or None
        async with self.db.session() as session:
            guild = await _guilds.guild_of(session, actor)
            if deck is not None:
                names = await crud.deck_names(session, guild_id=guild.id)
                if deck not in names:
                    listing = ", ".join(names) or "none yet"
                    raise NotFound(f"There is no deck called '{deck[:60]}'. Decks: {listing}.")
            tz_name = chosen or _guilds.timezone_of(guild, self.default_timezone)
            user = await _guilds.member_of(session, actor)
            guild.daily_enabled = True
            guild.daily_channel_id = channel_id
            guild.daily_time = daily.format_hhmm(at)
            guild.timezone = tz_name
            guild.daily_questions = questions
            guild.daily_deck = deck
            guild.daily_window_minutes = window_minutes
            session.add(guild)
            details: dict[str, object] = {
                "enabled": True,
                "channel_id": str(channel_id),
                "time": guild.daily_time,
                "timezone": tz_name,
                "questions": questions,
                "deck": deck,
                "window_minutes": window_minutes,
            }
            await _guilds.audit(
                session, guild, user, "settings.daily", details, now=self.clock.now()
            )
            await session.commit()
        next_run = daily.next_run_after(self.clock.now(), at, tz_name)
        noun = "question" if questions == 1 else "questions"
        text = (
            f"{questions} {noun} from {deck or 'every deck'} in {CHANNEL} every day at "
            f"{daily.format_hhmm(at)} ({tz_name}); answers stay open for {window_minutes} "
            f"minutes.\nNext quiz: {wording.describe_run(next_run, tz_name)}."
        )
        reply = Reply(
            title="✅ Daily quiz on",
            text=text,
            tone=Tone.SUCCESS,
            footer="Change it any time with /settings daily-quiz, or stop it with "
            "/settings daily-quiz-off.",
            private=True,
        )
        return SettingsReply(reply, channel_id=channel_id)

    async def disable_daily(self, actor: Learner) -> Reply:
        """Turn the server's daily quiz off (settings are kept for next time)."""
        async with self.db.session() as session:
            guild = await _guilds.guild_of(session, actor)
            user = await _guilds.member_of(session, actor)
            was_on = guild.daily_enabled
            guild.daily_enabled = False
            session.add(guild)
            await _guilds.audit(
                session, guild, user, "settings.daily", {"enabled": False}, now=self.clock.now()
            )
            await session.commit()
        if not was_on:
            text = "The daily quiz was already off. Turn it on with /settings daily-quiz."
        else:
            text = (
                "No more daily quizzes here. Your settings are kept — "
                "turn it back on with /settings daily-quiz."
            )
        return Reply(title="Daily quiz off", text=text, tone=Tone.INFO, private=True)

    # -- the server's study settings --------------------------------------------------------

    async def _update_guild(
        self, actor: Learner, action: str, details: dict[str, Any], **values: Any
    ) -> Guild:
        """Set ``values`` on the actor's server row and write the audit entry, in one commit."""
        async with self.db.session() as session:
            guild = await _guilds.guild_of(session, actor)
            user = await _guilds.member_of(session, actor)
            for name, value in values.items():
                setattr(guild, name, value)
            session.add(guild)
            await _guilds.audit(session, guild, user, action, details, now=self.clock.now())
            await session.commit()
        return guild

    async def set_timezone(self, actor: Learner, timezone: str) -> Reply:
        """Store the server's time zone: the daily quiz's clock, "today" and streaks.

        A name that isn't an IANA time zone raises :class:`~bot.errors.BadInput` with an
        example, and changes nothing.
        """
        tz_name = daily.parse_timezone(timezone)
        guild = await self._update_guild(
            actor, "settings.timezone", {"timezone": tz_name}, timezone=tz_name
        )
        footer = ""
        if guild.daily_enabled and guild.daily_time:
            run = daily.next_run_after(
                self.clock.now(), daily.parse_hhmm(guild.daily_time), tz_name
            )
            footer = f"Next daily quiz: {wording.describe_run(run, tz_name)}."
        return Reply(
            title="🕒 Time zone saved",
            text=(
                f"This server now runs on {tz_name} time: the daily quiz, each member's "
                "day of new cards and their streaks follow it."
            ),
            tone=Tone.SUCCESS,
            footer=footer,
            private=True,
        )

    async def set_new_per_day(self, actor: Learner, count: int) -> Reply:
        """Store the cap on new cards each member is shown per day here (0–1000).

        Reviews of cards already seen are never capped.
        """
        daily.validate_new_per_day(count)
        await self._update_guild(
            actor, "settings.new_per_day", {"count": count}, new_items_per_day=count
        )
        if count == 0:
            text = "No new cards here for now: members only review cards they've already seen."
        else:
            noun = "card" if count == 1 else "cards"
            text = (
                f"Each member sees up to {count} new {noun} a day here. "
                "Reviews of cards already seen are never capped."
            )
        return Reply(title="New cards per day saved", text=text, tone=Tone.SUCCESS, private=True)

    async def set_retention(self, actor: Learner, retention: float | None) -> Reply:
        """Store the server's desired retention (already validated; None: the bot's default).

        Members who chose their own with /me retention keep theirs.
        """
        guild = await self._update_guild(
            actor, "settings.retention", {"retention": retention}, desired_retention=retention
        )
        if self.retentions is not None:
            self.retentions.forget_server(guild.id)
        shown = percent(retention if retention is not None else self.default_retention)
        return Reply(
            title=f"✅ Desired retention saved: {shown}",
            text=(
                f"Answers here now aim for {shown} recall when a card comes back. "
                "Members who chose their own with /me retention keep theirs."
            ),
            tone=Tone.SUCCESS,
            private=True,
        )

    async def server_retention(self, actor: Learner) -> float | None:
        """The server's own desired retention, None when it never chose one."""
        async with self.db.session() as session:
            guild = await _guilds.guild_of(session, actor)
            await session.commit()
        return guild.desired_retention

    # -- moderators and members -------------------------------------------------------------

    async def set_moderator_role(self, actor: Learner, role_id: int | None) -> SettingsReply:
        """Store (or clear) the role whose members count as moderators here."""
        await self._update_guild(
            actor,
            "settings.moderator_role",
            {"role_id": str(role_id) if role_id else None},
            moderator_role_id=role_id,
        )
        if role_id is None:
            text = "No moderator role: only members with server-wide Manage Messages moderate now."
        else:
            text = (
                f"Members with {ROLE} can now moderate: /dailyquiz now and "
                "/dailyquiz skip, among others."
            )
        reply = Reply(title="Moderator role saved", text=text, tone=Tone.SUCCESS, private=True)
        return SettingsReply(reply, role_id=role_id)

    async def moderator_role(self, guild_id: int) -> int | None:
        """The server's configured moderator role, if any (the server's row is made once)."""
        async with self.db.session() as session:
            guild = await crud.ensure_guild(session, guild_id=guild_id)
            role_id = guild.moderator_role_id
            await session.commit()
        return role_id

    async def set_extra_time(self, actor: Learner, enabled: bool) -> Reply:
        """Turn the member's extra time (double answer windows) on or off."""
        async with self.db.session() as session:
            user = await _guilds.member_of(session, actor)
            user.extra_time = enabled
            session.add(user)
            if actor.guild_id is not None:
                guild = await _guilds.guild_of(session, actor)
                await _guilds.audit(
                    session,
                    guild,
                    user,
                    "settings.extra_time",
                    {"on": enabled},
                    now=self.clock.now(),
                )
            await session.commit()
        if enabled:
            text = "Extra time is on: you get twice as long to answer daily quizzes."
        else:
            text = "Extra time is off: you get the normal answer window."
        return Reply(
            title="Saved",
            text=text,
            tone=Tone.SUCCESS,
            footer="Only you can see this setting. Change it with /settings me.",
            private=True,
        )

    # -- showing ----------------------------------------------------------------------------

    async def show_settings(self, actor: Learner) -> SettingsReply:
        """Every setting of the server, plus the member's own."""
        async with self.db.session() as session:
            guild = await _guilds.guild_of(session, actor)
            user = await _guilds.member_of(session, actor)
            await session.commit()
        tz_name = _guilds.timezone_of(guild, self.default_timezone)
        out = ReplyBuilder(title=f"Settings · {guild.name or 'this server'}", private=True)
        channel = CHANNEL if guild.daily_channel_id else "not set"
        if guild.daily_enabled and guild.daily_time:
            out.text = f"Daily quiz is **on**: {channel} at {guild.daily_time}."
            run = daily.next_run_after(
                self.clock.now(), daily.parse_hhmm(guild.daily_time), tz_name
            )
            out.footer = f"Next quiz: {wording.describe_run(run, tz_name)}"
        else:
            out.text = "Daily quiz is **off**. An admin can turn it on with /settings daily-quiz."
        out.add_field("Daily channel", channel, inline=True)
        out.add_field("Daily time", guild.daily_time or "not set", inline=True)
        zone = guild.timezone or f"{tz_name} (default)"
        out.add_field("Time zone", zone, inline=True)
        out.add_field("Questions", str(guild.daily_questions), inline=True)
        out.add_field("Deck", guild.daily_deck or "every deck", inline=True)
        out.add_field("Answer window", f"{guild.daily_window_minutes} minutes", inline=True)
        out.add_field("Moderator role", ROLE if guild.moderator_role_id else "none", inline=True)
        if guild.new_items_per_day is None:
            new_cards = f"{self.default_new_per_day} (default)"
        else:
            new_cards = str(guild.new_items_per_day)
        out.add_field("New cards per day", new_cards, inline=True)
        if guild.desired_retention is None:
            retention = f"{percent(self.default_retention)} (default)"
        else:
            retention = percent(guild.desired_retention)
        out.add_field("Desired retention", retention, inline=True)
        reminders = "off"
        if user.remind_enabled and user.remind_time:
            reminders = f"on at {user.remind_time} ({user.remind_timezone or 'UTC'})"
        own = "server's" if user.desired_retention is None else percent(user.desired_retention)
        out.add_field(
            "Your settings",
            f"Extra time: {'on' if user.extra_time else 'off'}\nReminders: {reminders}\n"
            f"Desired retention: {own} (/me retention)",
        )
        return SettingsReply(
            out.build(), channel_id=guild.daily_channel_id, role_id=guild.moderator_role_id
        )
