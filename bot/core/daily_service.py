"""The daily quiz, server settings and review reminders, on top of the database.

:class:`DailyService` is to the daily quiz what :class:`~bot.core.tutor.Tutor` is to
studying: adapters call it and render the neutral replies it returns. It owns no timer —
the Discord cog's scheduler decides *when* to call :meth:`DailyService.run_schedule`,
:meth:`DailyService.close` and :meth:`DailyService.due_reminders`; the service decides
*what* happens, with time from its :class:`~bot.core.clock.Clock`.

One quiz per server per local date is enforced by the database: a quiz starts by inserting
its ``daily_quizzes`` row (status ``posting``), and whoever fails that insert backs off.
Later transitions (``posting`` → ``open`` → ``closed``, or ``skipped``) are conditional
updates, so each happens once even with two processes.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core import daily
from bot.core.clock import Clock
from bot.core.content import MultipleChoice, Practice, parse_item
from bot.core.learners import Learner
from bot.core.letters import DAILY_MODE, letter
from bot.core.replies import Choice, ChoiceStyle, Reply, ReplyBuilder, Tone
from bot.core.tutor import Tutor
from bot.errors import BadInput, ExpiredAction, NotFound
from bot.log import get_logger
from bot.storage import crud
from bot.storage import daily as store
from bot.storage.db import Database
from bot.storage.models import DailyQuiz, Guild, Item, User

log = get_logger(__name__)

CLOSED_MESSAGE = "This daily quiz has closed — take the catch-up instead."
CATCH_UP_EXPIRED = "This catch-up has expired — the next daily quiz is coming soon."
DAILY_KINDS = ("mcq", "practice")
DEFAULT_REMIND_TIME = "18:00"
#: A quiz stuck in ``posting`` this long at start-up was interrupted; it is not re-posted.
STALE_POSTING = timedelta(minutes=5)
MEDALS = {1: "🥇", 2: "🥈", 3: "🥉"}
MAX_EXPLANATION = 700


@dataclass(frozen=True, slots=True)
class GuildSchedule:
    """A server's daily-quiz timing."""

    guild_id: int
    channel_id: int | None
    at: time
    timezone: str


@dataclass(frozen=True, slots=True)
class DailyPost:
    """A claimed quiz ready to be sent: one reply per question, in order."""

    quiz_id: int
    guild_id: int
    channel_id: int
    local_date: date
    questions: tuple[Reply, ...]


@dataclass(frozen=True, slots=True)
class OpenQuiz:
    """A posted quiz and when its results are due."""

    quiz_id: int
    guild_id: int
    channel_id: int | None
    closes_at: datetime


@dataclass(frozen=True, slots=True)
class QuizResults:
    """The results message of a closed quiz and where it goes."""

    quiz_id: int
    guild_id: int
    channel_id: int | None
    reply: Reply


@dataclass(frozen=True, slots=True)
class ScheduleOutcome:
    """What a schedule check did: maybe a quiz to post, and when to check next."""

    post: DailyPost | None
    next_run: daily.ScheduledRun | None


@dataclass(frozen=True, slots=True)
class ReminderNotice:
    """A DM to send: the member's platform id and the message."""

    user_id: int
    platform: str
    external_id: str
    local_date: date
    due: int
    reply: Reply


def _system_learner(guild: Guild) -> Learner:
    """Who "asks" a scheduled quiz's shared questions (no member is behind it)."""
    return Learner(
        platform="system",
        external_id="daily-quiz",
        display_name="Daily quiz",
        guild_id=guild.id,
        guild_name=guild.name,
    )


def _clip(text: str, limit: int) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _minutes(window: timedelta) -> str:
    minutes = int(window.total_seconds() // 60)
    if minutes < 1:
        return f"{int(window.total_seconds())} seconds"
    return "1 minute" if minutes == 1 else f"{minutes} minutes"


def _when(run: daily.ScheduledRun, tz_name: str) -> str:
    local = run.at.astimezone(ZoneInfo(tz_name))
    return f"{local:%a %d %b, %H:%M} ({tz_name})"


class DailyService:
    """Daily quizzes, per-server settings and reminders.

    ``window_override`` replaces every server's answer window (tests use seconds); it is
    not reachable from any command.
    """

    def __init__(
        self,
        db: Database,
        tutor: Tutor,
        *,
        clock: Clock | None = None,
        grace: timedelta = daily.DEFAULT_GRACE,
        rng: random.Random | None = None,
    ) -> None:
        self.db = db
        self.tutor = tutor
        self.clock: Clock = clock or tutor.clock
        self.grace = grace
        self.rng = rng or random.Random()
        self.window_override: timedelta | None = None

    def _now(self) -> datetime:
        return self.clock.now()

    def _window(self, guild: Guild) -> timedelta:
        if self.window_override is not None:
            return self.window_override
        return timedelta(minutes=guild.daily_window_minutes)

    async def _guild(self, session: AsyncSession, learner: Learner) -> Guild:
        if learner.guild_id is None:
            raise BadInput("That only works in a server, not in DMs.")
        return await crud.ensure_guild(session, guild_id=learner.guild_id, name=learner.guild_name)

    async def _member(self, session: AsyncSession, learner: Learner) -> User:
        return await crud.get_or_create_user(
            session,
            platform=learner.platform,
            external_id=learner.external_id,
            display_name=learner.display_name,
        )

    async def _audit(
        self,
        session: AsyncSession,
        guild: Guild,
        actor: User,
        action: str,
        details: dict[str, object],
    ) -> None:
        await crud.record_audit(
            session,
            guild_id=guild.id,
            actor_user_id=actor.id,
            action=action,
            details=dict(details),
            now=self._now(),
        )

    # -- server settings --------------------------------------------------------------------

    async def configure_daily(
        self,
        actor: Learner,
        *,
        channel_id: int,
        time_text: str,
        timezone: str,
        questions: int = 1,
        deck: str | None = None,
        window_minutes: int = 60,
    ) -> Reply:
        """Turn the server's daily quiz on (admins; the adapter checks permission).

        Every input is validated before anything is stored, so a typo changes nothing.
        """
        at = daily.parse_hhmm(time_text)
        tz_name = daily.parse_timezone(timezone)
        daily.validate_questions(questions)
        daily.validate_window(window_minutes)
        deck = (deck or "").strip() or None
        async with self.db.session() as session:
            guild = await self._guild(session, actor)
            if deck is not None:
                names = await crud.deck_names(session, guild_id=guild.id)
                if deck not in names:
                    listing = ", ".join(names) or "none yet"
                    raise NotFound(f"There is no deck called '{deck[:60]}'. Decks: {listing}.")
            user = await self._member(session, actor)
            guild.daily_enabled = True
            guild.daily_channel_id = channel_id
            guild.daily_time = daily.format_hhmm(at)
            guild.timezone = tz_name
            guild.daily_questions = questions
            guild.daily_deck = deck
            guild.daily_window_minutes = window_minutes
            session.add(guild)
            await self._audit(
                session,
                guild,
                user,
                "settings.daily",
                {
                    "enabled": True,
                    "channel_id": str(channel_id),
                    "time": guild.daily_time,
                    "timezone": tz_name,
                    "questions": questions,
                    "deck": deck,
                    "window_minutes": window_minutes,
                },
            )
            await session.commit()
        next_run = daily.next_run_after(self._now(), at, tz_name)
        noun = "question" if questions == 1 else "questions"
        text = (
            f"{questions} {noun} from {deck or 'every deck'} in <#{channel_id}> every day at "
            f"{daily.format_hhmm(at)} ({tz_name}); answers stay open for {window_minutes} "
            f"minutes.\nNext quiz: {_when(next_run, tz_name)}."
        )
        return Reply(
            title="✅ Daily quiz on",
            text=text,
            tone=Tone.SUCCESS,
            footer="Change it any time with /settings daily-quiz, or stop it with "
            "/settings daily-quiz-off.",
            private=True,
        )

    async def disable_daily(self, actor: Learner) -> Reply:
        """Turn the server's daily quiz off (settings are kept for next time)."""
        async with self.db.session() as session:
            guild = await self._guild(session, actor)
            user = await self._member(session, actor)
            was_on = guild.daily_enabled
            guild.daily_enabled = False
            session.add(guild)
            await self._audit(session, guild, user, "settings.daily", {"enabled": False})
            await session.commit()
        if not was_on:
            text = "The daily quiz was already off. Turn it on with /settings daily-quiz."
        else:
            text = (
                "No more daily quizzes here. Your settings are kept — "
                "turn it back on with /settings daily-quiz."
            )
        return Reply(title="Daily quiz off", text=text, tone=Tone.INFO, private=True)

    async def set_moderator_role(self, actor: Learner, role_id: int | None) -> Reply:
        """Store (or clear) the role whose members count as moderators here."""
        async with self.db.session() as session:
            guild = await self._guild(session, actor)
            user = await self._member(session, actor)
            guild.moderator_role_id = role_id
            session.add(guild)
            await self._audit(
                session,
                guild,
                user,
                "settings.moderator_role",
                {"role_id": str(role_id) if role_id else None},
            )
            await session.commit()
        if role_id is None:
            text = "No moderator role: only members with Manage Messages moderate now."
        else:
            text = (
                f"Members with <@&{role_id}> can now moderate: /dailyquiz now and "
                "/dailyquiz skip, among others."
            )
        return Reply(title="Moderator role saved", text=text, tone=Tone.SUCCESS, private=True)

    async def set_extra_time(self, actor: Learner, enabled: bool) -> Reply:
        """Turn the member's extra time (double answer windows) on or off."""
        async with self.db.session() as session:
            user = await self._member(session, actor)
            user.extra_time = enabled
            session.add(user)
            if actor.guild_id is not None:
                guild = await self._guild(session, actor)
                await self._audit(session, guild, user, "settings.extra_time", {"on": enabled})
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

    async def show_settings(self, actor: Learner) -> Reply:
        """Every setting of the server, plus the member's own."""
        async with self.db.session() as session:
            guild = await self._guild(session, actor)
            user = await self._member(session, actor)
            await session.commit()
        out = ReplyBuilder(title=f"Settings · {guild.name or 'this server'}", private=True)
        if guild.daily_enabled and guild.daily_time:
            channel = f"<#{guild.daily_channel_id}>" if guild.daily_channel_id else "not set"
            out.text = f"Daily quiz is **on**: {channel} at {guild.daily_time}."
            run = daily.next_run_after(
                self._now(), daily.parse_hhmm(guild.daily_time), guild.timezone
            )
            out.footer = f"Next quiz: {_when(run, guild.timezone)}"
        else:
            out.text = "Daily quiz is **off**. An admin can turn it on with /settings daily-quiz."
        channel_text = f"<#{guild.daily_channel_id}>" if guild.daily_channel_id else "not set"
        out.add_field("Daily channel", channel_text, inline=True)
        out.add_field("Daily time", guild.daily_time or "not set", inline=True)
        out.add_field("Time zone", guild.timezone, inline=True)
        out.add_field("Questions", str(guild.daily_questions), inline=True)
        out.add_field("Deck", guild.daily_deck or "every deck", inline=True)
        out.add_field("Answer window", f"{guild.daily_window_minutes} minutes", inline=True)
        role = f"<@&{guild.moderator_role_id}>" if guild.moderator_role_id else "none"
        out.add_field("Moderator role", role, inline=True)
        out.add_field("New cards per day", str(guild.new_items_per_day), inline=True)
        reminders = "off"
        if user.remind_enabled and user.remind_time:
            reminders = f"on at {user.remind_time} ({user.remind_timezone or 'UTC'})"
        out.add_field(
            "Your settings",
            f"Extra time: {'on' if user.extra_time else 'off'}\nReminders: {reminders}",
        )
        return out.build()

    async def set_reminder(
        self,
        actor: Learner,
        enabled: bool,
        *,
        time_text: str | None = None,
        timezone: str | None = None,
    ) -> Reply:
        """Turn the member's review reminders on (at a local time) or off."""
        if not enabled:
            async with self.db.session() as session:
                user = await self._member(session, actor)
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
            user = await self._member(session, actor)
            if tz_name is None:
                tz_name = user.remind_timezone
            if tz_name is None and actor.guild_id is not None:
                tz_name = (await self._guild(session, actor)).timezone
            tz_name = tz_name or "UTC"
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

    # -- schedules --------------------------------------------------------------------------

    @staticmethod
    def _schedule_of(guild: Guild) -> GuildSchedule | None:
        if not guild.daily_enabled or not guild.daily_time:
            return None
        try:
            at = daily.parse_hhmm(guild.daily_time)
            tz_name = daily.parse_timezone(guild.timezone)
        except BadInput:
            log.warning("guild %s has an invalid daily schedule; not scheduling it", guild.id)
            return None
        return GuildSchedule(
            guild_id=guild.id, channel_id=guild.daily_channel_id, at=at, timezone=tz_name
        )

    async def schedules(self) -> list[GuildSchedule]:
        """Every server with a valid daily-quiz schedule."""
        async with self.db.session() as session:
            guilds = await store.enabled_guilds(session)
        return [s for s in (self._schedule_of(g) for g in guilds) if s is not None]

    async def schedule(self, guild_id: int) -> GuildSchedule | None:
        """One server's schedule (None when its daily quiz is off)."""
        async with self.db.session() as session:
            guild = await session.get(Guild, guild_id)
        return self._schedule_of(guild) if guild is not None else None

    async def run_schedule(self, guild_id: int) -> ScheduleOutcome:
        """Check a server's schedule now: claim the run that is due (on time or within the
        grace period) and build its questions; log a run missed beyond the grace period.

        Safe to call at any time and from several processes: a local date that already
        has a quiz (posted, skipped or being posted elsewhere) is left alone.
        """
        schedule = await self.schedule(guild_id)
        if schedule is None:
            return ScheduleOutcome(post=None, next_run=None)
        now = self._now()
        plan = daily.plan_run(now, schedule.at, schedule.timezone, self.grace)
        post = None
        latest = plan.latest
        if latest is not None:
            async with self.db.session() as session:
                existing = await store.get_daily_quiz(
                    session, guild_id=guild_id, local_date=latest.local_date.isoformat()
                )
            if existing is None and plan.post_now is not None:
                if schedule.channel_id is None:
                    log.warning("guild %s has no daily channel; skipping", guild_id)
                else:
                    late = now - latest.at
                    if late > timedelta(minutes=1):
                        log.info("posting guild %s's quiz %s late", guild_id, late)
                    post = await self._claim_and_build(
                        guild_id, latest.local_date, latest.at, schedule.channel_id
                    )
            elif existing is None and plan.missed is not None:
                log.warning(
                    "skipping guild %s's daily quiz for %s: missed by %s (grace %s)",
                    guild_id,
                    latest.local_date,
                    now - latest.at,
                    self.grace,
                )
        return ScheduleOutcome(post=post, next_run=plan.next_run)

    async def start_now(self, actor: Learner, channel_id: int) -> DailyPost:
        """Post today's quiz right away (moderators). Raises when today already has one.

        Uses the configured channel, else ``channel_id`` (where the command was used).
        """
        async with self.db.session() as session:
            guild = await self._guild(session, actor)
            await self._member(session, actor)
            await session.commit()
        now = self._now()
        today = daily.local_today(now, guild.timezone)
        target = guild.daily_channel_id or channel_id
        post = await self._claim_and_build(guild.id, today, now, target)
        if post is None:
            async with self.db.session() as session:
                existing = await store.get_daily_quiz(
                    session, guild_id=guild.id, local_date=today.isoformat()
                )
            status = existing.status if existing else store.POSTING
            verb = {
                store.SKIPPED: "was skipped",
                store.OPEN: "is already open",
                store.CLOSED: "already ran",
            }.get(status, "is being posted")
            raise BadInput(
                f"Today's daily quiz ({today.isoformat()}) {verb} — one per day. "
                "The next one comes tomorrow."
            )
        return post

    async def _claim_and_build(
        self, guild_id: int, local_date: date, scheduled_for: datetime, channel_id: int
    ) -> DailyPost | None:
        """Claim the server's local date, pick the questions and create their prompts."""
        async with self.db.session() as session:
            quiz = await store.claim_daily_quiz(
                session,
                guild_id=guild_id,
                local_date=local_date.isoformat(),
                scheduled_for=scheduled_for,
                channel_id=channel_id,
                now=self._now(),
            )
            if quiz is None or quiz.id is None:
                return None
            quiz_id = quiz.id
            guild = await session.get(Guild, guild_id)
            assert guild is not None
            item_ids = await self._pick_items(session, guild, local_date)
        if not item_ids:
            await self.release(quiz_id, "no questions in the bank")
            raise NotFound(
                "There are no quiz questions to ask yet. Add some, or pick another deck "
                "with /settings daily-quiz."
            )
        learner = _system_learner(guild)
        window = self._window(guild)
        questions: list[Reply] = []
        prompt_ids: list[int] = []
        for number, item_id in enumerate(item_ids, 1):
            shown = await self.tutor.present_item(learner, item_id, DAILY_MODE, shared=True)
            reply, prompt_id = self._as_daily_question(
                shown, quiz_id, number, len(item_ids), window
            )
            questions.append(reply)
            prompt_ids.append(prompt_id)
        async with self.db.session() as session:
            row = await session.get(DailyQuiz, quiz_id)
            assert row is not None
            row.item_ids = list(item_ids)
            row.prompt_ids = prompt_ids
            session.add(row)
            await session.commit()
        return DailyPost(
            quiz_id=quiz_id,
            guild_id=guild_id,
            channel_id=channel_id,
            local_date=local_date,
            questions=tuple(questions),
        )

    async def _pick_items(self, session: AsyncSession, guild: Guild, local_date: date) -> list[int]:
        now = self._now()
        rows = await crud.active_items(
            session, guild_id=guild.id, deck=guild.daily_deck, kinds=DAILY_KINDS
        )
        if not rows and guild.daily_deck:
            log.warning(
                "deck %r of guild %s has no questions; using all", guild.daily_deck, guild.id
            )
            rows = await crud.active_items(session, guild_id=guild.id, kinds=DAILY_KINDS)
        candidates = [row.id for row in rows if row.id is not None]
        members = await store.active_member_ids(
            session, guild_id=guild.id, since=now - daily.ACTIVE_MEMBER_LOOKBACK
        )
        schedules = await store.review_schedules(session, user_ids=members, now=now)
        member_views = [
            daily.MemberSchedule(due=frozenset(due), seen=frozenset(seen))
            for due, seen in schedules.values()
        ]
        since = (local_date - timedelta(days=daily.REPEAT_LOOKBACK_DAYS)).isoformat()
        used = await store.recent_daily_items(session, guild_id=guild.id, since_date=since)
        recently = {item: date.fromisoformat(day) for item, day in used.items()}
        return daily.select_daily_items(
            candidates, member_views, recently, guild.daily_questions, self.rng
        )

    @staticmethod
    def _as_daily_question(
        shown: Reply, quiz_id: int, number: int, total: int, window: timedelta
    ) -> tuple[Reply, int]:
        """Turn a shared question into a daily-quiz post with window-checked buttons."""
        choices: list[Choice] = []
        prompt_id = 0
        for choice in shown.choices:
            parts = choice.action.split(":")
            if parts[0] != "an" or len(parts) != 3:
                continue  # hints stay out of the timed quiz
            prompt_id, option = int(parts[1]), int(parts[2])
            choices.append(replace(choice, action=daily.answer_token(quiz_id, prompt_id, option)))
        title = "🗓️ Daily quiz" if total == 1 else f"🗓️ Daily quiz · question {number} of {total}"
        subject = shown.title.split(" · ", 1)[1] if " · " in shown.title else ""
        footer = (
            f"{subject + ' · ' if subject else ''}You have {_minutes(window)} · "
            "one answer each · your feedback is private"
        )
        return replace(shown, title=title, choices=tuple(choices), footer=footer), prompt_id

    async def mark_open(self, quiz_id: int, message_id: int | None) -> OpenQuiz | None:
        """The questions are in the channel: start the window and note when results are due."""
        now = self._now()
        async with self.db.session() as session:
            quiz = await session.get(DailyQuiz, quiz_id)
            if quiz is None:
                return None
            guild = await session.get(Guild, quiz.guild_id)
            assert guild is not None
            extended = await store.has_extra_time_members(session, guild_id=guild.id)
            closes_at = daily.results_time(now, self._window(guild), extra_time_members=extended)
            opened = await store.set_quiz_status(
                session,
                quiz_id=quiz_id,
                from_statuses=[store.POSTING],
                to_status=store.OPEN,
                values={"posted_at": now, "closes_at": closes_at, "message_id": message_id},
            )
        if not opened:
            log.warning("daily quiz %s was no longer posting; not opening it", quiz_id)
            return None
        return OpenQuiz(
            quiz_id=quiz_id, guild_id=quiz.guild_id, channel_id=quiz.channel_id, closes_at=closes_at
        )

    async def abandon(self, quiz_id: int, reason: str) -> None:
        """Give up on a quiz that could not be posted (its date stays used: no double post)."""
        async with self.db.session() as session:
            changed = await store.set_quiz_status(
                session,
                quiz_id=quiz_id,
                from_statuses=[store.POSTING],
                to_status=store.SKIPPED,
                values={"closed_at": self._now()},
            )
        if changed:
            log.warning("daily quiz %s not posted: %s", quiz_id, reason)

    async def release(self, quiz_id: int, reason: str) -> None:
        """Undo a claim when none of the quiz reached the channel, so a retry can post."""
        async with self.db.session() as session:
            released = await store.release_daily_quiz(session, quiz_id=quiz_id)
        if released:
            log.warning("daily quiz %s not posted: %s", quiz_id, reason)

    async def recover(self, *, owns: Callable[[int], bool] | None = None) -> list[OpenQuiz]:
        """After a restart: give up on interrupted posts, and list open quizzes to close.

        ``owns`` limits this to the servers this process looks after (sharding).
        """
        now = self._now()
        async with self.db.session() as session:
            rows = await store.quizzes_with_status(session, statuses=[store.POSTING, store.OPEN])
        open_quizzes = []
        for quiz in rows:
            assert quiz.id is not None
            if owns is not None and not owns(quiz.guild_id):
                continue
            if quiz.status == store.POSTING:
                # Timed from the claim: a late post claims long after it was due.
                claimed = quiz.claimed_at or quiz.scheduled_for
                if now - claimed >= STALE_POSTING:
                    await self.abandon(quiz.id, "interrupted while posting")
                continue
            closes_at = quiz.closes_at or now
            open_quizzes.append(
                OpenQuiz(
                    quiz_id=quiz.id,
                    guild_id=quiz.guild_id,
                    channel_id=quiz.channel_id,
                    closes_at=closes_at,
                )
            )
        return open_quizzes

    # -- answering --------------------------------------------------------------------------

    async def answer(self, learner: Learner, token: str) -> Reply:
        """A click on a live quiz's answer button: check the window, then grade once."""
        parsed = daily.parse_answer_token(token)
        if parsed is None:
            raise ExpiredAction("That button no longer works.")
        quiz_id, prompt_id, option = parsed
        async with self.db.session() as session:
            quiz = await session.get(DailyQuiz, quiz_id)
            if quiz is None or prompt_id not in quiz.prompt_ids:
                raise ExpiredAction("That button no longer works.")
            if quiz.status not in (store.POSTING, store.OPEN):
                raise ExpiredAction(CLOSED_MESSAGE)
            guild = await session.get(Guild, quiz.guild_id)
            assert guild is not None
            user = await self._member(session, learner)
            await session.commit()
            if quiz.posted_at is not None:
                deadline = daily.answer_deadline(
                    quiz.posted_at, self._window(guild), extra_time=user.extra_time
                )
                if self._now() > deadline:
                    raise ExpiredAction(CLOSED_MESSAGE)
        return await self.tutor.act(learner, f"an:{prompt_id}:{option}", window_checked=True)

    # -- closing and results ----------------------------------------------------------------

    async def close(self, quiz_id: int) -> QuizResults | None:
        """Close an open quiz and build its results; None if it was already closed."""
        async with self.db.session() as session:
            closed = await store.set_quiz_status(
                session,
                quiz_id=quiz_id,
                from_statuses=[store.OPEN],
                to_status=store.CLOSED,
                values={"closed_at": self._now()},
            )
            if not closed:
                return None
            quiz = await session.get(DailyQuiz, quiz_id)
            assert quiz is not None
            reply = await self._results(session, quiz)
        return QuizResults(
            quiz_id=quiz_id, guild_id=quiz.guild_id, channel_id=quiz.channel_id, reply=reply
        )

    async def _results(self, session: AsyncSession, quiz: DailyQuiz) -> Reply:
        assert quiz.id is not None
        guild = await session.get(Guild, quiz.guild_id)
        assert guild is not None
        answers = await store.prompt_attempts(session, prompt_ids=quiz.prompt_ids)
        per_member: dict[int, daily.MemberScore] = {}
        for attempt, user in answers:
            before = per_member.get(
                attempt.user_id,
                daily.MemberScore(
                    user_id=attempt.user_id,
                    name=user.display_name or "a member",
                    correct=0,
                    answered=0,
                ),
            )
            per_member[attempt.user_id] = replace(
                before,
                correct=before.correct + int(attempt.correct),
                answered=before.answered + 1,
            )
        total = len(quiz.item_ids)
        out = ReplyBuilder(title=f"📊 Daily quiz results · {quiz.local_date}", tone=Tone.SUCCESS)
        answered = len(per_member)
        perfect = sum(1 for s in per_member.values() if s.correct == total)
        if answered == 0:
            out.text = "Nobody answered this time."
        else:
            people = "member" if answered == 1 else "members"
            everything = "everything" if total > 1 else "it"
            out.text = f"{answered} {people} answered · {perfect} got {everything} right."
        for number, (item_id, prompt_id) in enumerate(
            zip(quiz.item_ids, quiz.prompt_ids, strict=False), 1
        ):
            row = await session.get(Item, item_id)
            if row is None:
                continue
            content = parse_item(row.payload)
            if not isinstance(content, MultipleChoice | Practice):
                continue
            these = [a for a, _u in answers if a.prompt_id == prompt_id]
            right = sum(1 for a in these if a.correct)
            value = (
                f"**{letter(content.correct_index)}. {_clip(content.correct_option, 200)}**\n"
                f"{_clip(content.explanation, MAX_EXPLANATION)}\n"
                f"✅ {right} of {len(these)} answered correctly"
            )
            name = f"{number}. {_clip(content.question, 200)}"
            out.add_field(name, value)
        placings = daily.rank_scores(list(per_member.values()))
        if placings:
            lines = []
            for placing in placings:
                names = ", ".join(m.name for m in placing.members)
                medal = MEDALS.get(placing.place, f"{placing.place}.")
                lines.append(f"{medal} {names} — {placing.correct}/{total}")
            out.add_field("Top scorers", "\n".join(lines))
        elif answered:
            out.add_field("Top scorers", "No correct answers this time — try the catch-up!")
        out.choices.append(
            Choice(
                "catchup",
                "Catch up",
                daily.catch_up_token(quiz.id),
                style=ChoiceStyle.PRIMARY,
            )
        )
        out.footer = (
            f"Missed it? Press Catch up to take it privately until midnight ({guild.timezone})."
        )
        return out.build()

    async def skip_today(self, actor: Learner) -> tuple[Reply, QuizResults | None]:
        """Skip today's quiz (moderators).

        Not posted yet: today is marked skipped, so the scheduled run won't post. Open:
        it closes now and its results go up (answers so far keep counting).
        """
        async with self.db.session() as session:
            guild = await self._guild(session, actor)
            await self._member(session, actor)
            await session.commit()
        now = self._now()
        today = daily.local_today(now, guild.timezone)
        async with self.db.session() as session:
            claimed = await store.claim_daily_quiz(
                session,
                guild_id=guild.id,
                local_date=today.isoformat(),
                scheduled_for=now,
                channel_id=guild.daily_channel_id,
                now=now,
                status=store.SKIPPED,
            )
            existing = None
            if claimed is None:
                existing = await store.get_daily_quiz(
                    session, guild_id=guild.id, local_date=today.isoformat()
                )
        if claimed is not None:
            text = f"Today's daily quiz ({today.isoformat()}) won't be posted."
            return Reply(title="Skipped", text=text, tone=Tone.SUCCESS, private=True), None
        assert existing is not None and existing.id is not None
        if existing.status == store.OPEN:
            results = await self.close(existing.id)
            if results is not None:
                text = (
                    "Today's quiz was open, so I closed it now and posted the results "
                    "(answers so far count). The catch-up stays open until midnight."
                )
                return Reply(title="Closed early", text=text, tone=Tone.SUCCESS, private=True), (
                    results
                )
        if existing.status == store.POSTING:
            text = "Today's quiz is being posted right now. Try /dailyquiz skip again in a moment."
            return Reply(title="One moment", text=text, tone=Tone.WARNING, private=True), None
        verb = "was already skipped" if existing.status == store.SKIPPED else "has already closed"
        text = f"Today's daily quiz {verb}. Nothing to skip."
        return Reply(title="Nothing to skip", text=text, tone=Tone.INFO, private=True), None

    # -- catch-up ---------------------------------------------------------------------------

    async def catch_up(self, learner: Learner, token: str) -> Reply:
        """The next question of a closed quiz the member hasn't answered, privately."""
        quiz_id = daily.parse_catch_up_token(token)
        if quiz_id is None:
            raise ExpiredAction("That button no longer works.")
        async with self.db.session() as session:
            quiz = await session.get(DailyQuiz, quiz_id)
            if quiz is None or not quiz.item_ids:
                raise ExpiredAction("That button no longer works.")
            guild = await session.get(Guild, quiz.guild_id)
            assert guild is not None
            if not daily.catch_up_open(
                self._now(), date.fromisoformat(quiz.local_date), guild.timezone
            ):
                raise ExpiredAction(CATCH_UP_EXPIRED)
            if quiz.status == store.OPEN:
                raise BadInput("This quiz is still open — answer it in the channel above.")
            user = await self._member(session, learner)
            await session.commit()
            assert user.id is not None
            done = await store.answered_daily_items(
                session,
                user_id=user.id,
                item_ids=quiz.item_ids,
                prompt_ids=quiz.prompt_ids,
                since=quiz.posted_at or quiz.scheduled_for,
            )
        remaining = [item for item in quiz.item_ids if item not in done]
        if not remaining:
            return Reply(
                title="All done 🎉",
                text="You've answered every question of this daily quiz. See you tomorrow!",
                tone=Tone.SUCCESS,
                private=True,
            )
        position = len(quiz.item_ids) - len(remaining) + 1
        shown = await self.tutor.present_item(
            replace(learner, guild_id=quiz.guild_id), remaining[0], DAILY_MODE
        )
        total = len(quiz.item_ids)
        title = "Daily quiz catch-up" + (f" · question {position} of {total}" if total > 1 else "")
        footer = shown.footer
        if len(remaining) > 1:
            footer = f"{footer} Then press Catch up again for the next one."
        return replace(shown, title=title, footer=footer.strip(), private=True)

    # -- reminders --------------------------------------------------------------------------

    async def due_reminders(self, now: datetime | None = None) -> list[ReminderNotice]:
        """Members to DM now: reminder time passed today, reviews due, not reminded today.

        Each returned member is already marked reminded for their local date, so a DM that
        fails is not retried that day and two processes never both send.
        """
        now = now or self._now()
        async with self.db.session() as session:
            members = await store.reminder_members(session)
        notices = []
        for user in members:
            assert user.id is not None and user.remind_time is not None
            try:
                at = daily.parse_hhmm(user.remind_time)
                tz_name = daily.parse_timezone(user.remind_timezone or "UTC")
            except BadInput:
                log.warning("member %s has an invalid reminder setting; skipping", user.id)
                continue
            local = daily.reminder_due(now, at, tz_name, user.last_reminded_on)
            if local is None:
                continue
            async with self.db.session() as session:
                due = await self._count_due(session, user.id, now)
                if due == 0:
                    continue
                if not await store.claim_reminder(
                    session, user_id=user.id, local_date=local.isoformat()
                ):
                    continue
            noun = "review is" if due == 1 else "reviews are"
            notices.append(
                ReminderNotice(
                    user_id=user.id,
                    platform=user.platform,
                    external_id=user.external_id,
                    local_date=local,
                    due=due,
                    reply=Reply(
                        title="📚 Time for a quick review",
                        text=f"{due} {noun} due. Run /review when you have a few minutes.",
                        footer="Turn these off with /remind off.",
                    ),
                )
            )
        return notices

    @staticmethod
    async def _count_due(session: AsyncSession, user_id: int, now: datetime) -> int:
        """Due items everywhere: bundled ones once, plus each server's own."""
        bundled = await crud.count_due(session, user_id=user_id, guild_id=None, now=now)
        total = bundled
        for guild_id in await store.member_guild_ids(session, user_id=user_id):
            scoped = await crud.count_due(session, user_id=user_id, guild_id=guild_id, now=now)
            total += scoped - bundled
        return total
