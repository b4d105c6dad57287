"""The daily quiz: scheduling, claiming, posting, answering, closing, results and catch-up.

Adapters call :class:`DailyQuizService` and render the neutral replies it returns. It owns
no timer — the Discord cog's scheduler decides *when* to call
:meth:`DailyQuizService.run_schedule` and :meth:`DailyQuizService.close`; the service
decides *what* happens, with time from its :class:`~bot.core.clock.Clock`.

One quiz per server per local date is enforced by the database: a quiz starts by inserting
its ``daily_quizzes`` row (status ``posting``), and whoever fails that insert backs off.
Later transitions (``posting`` → ``open`` → ``closed``, or ``skipped``) are conditional
updates, so each happens once even with two processes.

Showing a question and grading an answer belong to the study engine; this service uses them
through two small protocols, :class:`ItemPresenter` and :class:`AnswerTaker`.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Protocol

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core import actions, daily
from bot.core import daily_replies as wording
from bot.core.clock import Clock
from bot.core.daily import DailyPost, GuildSchedule, OpenQuiz, QuizResults, ScheduleOutcome
from bot.core.learners import Learner
from bot.core.letters import DAILY_MODE
from bot.core.replies import Reply, Tone
from bot.errors import BadInput, ExpiredAction, NotFound
from bot.log import get_logger
from bot.services import _guilds
from bot.storage import crud
from bot.storage import daily as store
from bot.storage.db import Database
from bot.storage.models import DailyQuiz, Guild, Item

log = get_logger(__name__)

CLOSED_MESSAGE = "This daily quiz has closed — take the catch-up instead."
CATCH_UP_EXPIRED = "This catch-up has expired — the next daily quiz is coming soon."
STALE_BUTTON = "That button no longer works."
DAILY_KINDS = ("mcq", "practice", "typed")
#: A quiz stuck in ``posting`` this long at start-up was interrupted; it is not re-posted.
STALE_POSTING = timedelta(minutes=5)


class ItemPresenter(Protocol):
    """Shows one specific study item to a member (the study engine)."""

    async def present_item(
        self, learner: Learner, item_id: int, mode: str, *, shared: bool = False
    ) -> Reply:
        """The item as a question; ``shared`` leaves its prompt open to every member."""
        ...


class AnswerTaker(Protocol):
    """Carries out a member's button press, such as an answer (the study engine)."""

    async def act(
        self, learner: Learner, token: str, text: str | None = None, *, window_checked: bool = False
    ) -> Reply:
        """Grade or otherwise handle ``token``; ``window_checked`` admits daily answers."""
        ...


class DailyQuizService:
    """Each server's daily quiz, from its schedule to its catch-up.

    ``window_override`` replaces every server's answer window (tests use seconds); it is
    not reachable from any command. ``default_timezone`` is the clock of a server that
    never chose a time zone.
    """

    def __init__(
        self,
        db: Database,
        *,
        clock: Clock,
        presenter: ItemPresenter,
        answers: AnswerTaker,
        grace: timedelta = daily.DEFAULT_GRACE,
        rng: random.Random | None = None,
        default_timezone: str = daily.DEFAULT_TIMEZONE,
    ) -> None:
        self.db = db
        self.clock = clock
        self.presenter = presenter
        self.answers = answers
        self.grace = grace
        self.rng = rng or random.Random()
        self.default_timezone = daily.parse_timezone(default_timezone)
        self.window_override: timedelta | None = None

    def _window(self, guild: Guild) -> timedelta:
        if self.window_override is not None:
            return self.window_override
        return timedelta(minutes=guild.daily_window_minutes)

    def _timezone(self, guild: Guild | None) -> str:
        return _guilds.timezone_of(guild, self.default_timezone)

    # -- schedules --------------------------------------------------------------------------

    def _schedule_of(self, guild: Guild) -> GuildSchedule | None:
        if not guild.daily_enabled or not guild.daily_time:
            return None
        try:
            at = daily.parse_hhmm(guild.daily_time)
            tz_name = daily.parse_timezone(self._timezone(guild))
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
        now = self.clock.now()
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

    # -- posting ----------------------------------------------------------------------------

    async def start_now(self, actor: Learner, channel_id: int) -> DailyPost:
        """Post today's quiz right away (moderators). Raises when today already has one.

        Uses the configured channel, else ``channel_id`` (where the command was used).
        """
        async with self.db.session() as session:
            guild = await _guilds.guild_of(session, actor)
            await _guilds.member_of(session, actor)
            await session.commit()
        now = self.clock.now()
        today = daily.local_today(now, self._timezone(guild))
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
                now=self.clock.now(),
            )
            if quiz is None or quiz.id is None:
                return None
            quiz_id = quiz.id
            guild = await crud.ensure_guild(session, guild_id=guild_id)
            item_ids = await self._pick_items(session, guild, local_date)
        if not item_ids:
            await self.release(quiz_id, "no questions in the bank")
            raise NotFound(
                "There are no quiz questions to ask yet. Add some, or pick another deck "
                "with /settings daily-quiz."
            )
        learner = _guilds.system_learner(guild)
        window = self._window(guild)
        questions: list[Reply] = []
        prompt_ids: list[int] = []
        for number, item_id in enumerate(item_ids, 1):
            shown = await self.presenter.present_item(learner, item_id, DAILY_MODE, shared=True)
            reply, prompt_id = wording.daily_question(shown, quiz_id, number, len(item_ids), window)
            questions.append(reply)
            prompt_ids.append(prompt_id)
        async with self.db.session() as session:
            row = await session.get(DailyQuiz, quiz_id)
            if row is None:  # released by another task meanwhile: nothing to post
                log.warning("daily quiz %s vanished while its questions were built", quiz_id)
                return None
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
        now = self.clock.now()
        rows = await crud.active_item_refs(
            session, guild_id=guild.id, deck=guild.daily_deck, kinds=DAILY_KINDS
        )
        if not rows and guild.daily_deck:
            log.warning(
                "deck %r of guild %s has no questions; using all", guild.daily_deck, guild.id
            )
            rows = await crud.active_item_refs(session, guild_id=guild.id, kinds=DAILY_KINDS)
        candidates = [row.id for row in rows]
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

    async def mark_open(self, quiz_id: int, message_id: int | None) -> OpenQuiz | None:
        """The questions are in the channel: start the window and note when results are due."""
        now = self.clock.now()
        async with self.db.session() as session:
            quiz = await session.get(DailyQuiz, quiz_id)
            if quiz is None:
                return None
            guild = await crud.ensure_guild(session, guild_id=quiz.guild_id)
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
                values={"closed_at": self.clock.now()},
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
        now = self.clock.now()
        async with self.db.session() as session:
            rows = await store.quizzes_with_status(session, statuses=[store.POSTING, store.OPEN])
        open_quizzes = []
        for quiz in rows:
            if quiz.id is None or (owns is not None and not owns(quiz.guild_id)):
                continue
            if quiz.status == store.POSTING:
                # Timed from the claim: a late post claims long after it was due.
                claimed = quiz.claimed_at or quiz.scheduled_for
                if now - claimed >= STALE_POSTING:
                    await self.abandon(quiz.id, "interrupted while posting")
                continue
            open_quizzes.append(
                OpenQuiz(
                    quiz_id=quiz.id,
                    guild_id=quiz.guild_id,
                    channel_id=quiz.channel_id,
                    closes_at=quiz.closes_at or now,
                )
            )
        return open_quizzes

    # -- answering --------------------------------------------------------------------------

    async def answer(self, learner: Learner, token: str, text: str | None = None) -> Reply:
        """An answer to a live quiz: a click on a lettered button (``dq:``) or the form of a
        typed question (``dt:``, with ``text``). Checks the window, then grades once."""
        lettered = daily.parse_answer_token(token)
        typed = daily.parse_typed_answer_token(token)
        if lettered is not None:
            quiz_id, prompt_id, option = lettered
            study_token = actions.Answer(prompt_id, option).token()
        elif typed is not None:
            quiz_id, prompt_id = typed
            study_token = actions.SubmitExplanation(prompt_id).token()
        else:
            raise ExpiredAction(STALE_BUTTON)
        async with self.db.session() as session:
            quiz = await session.get(DailyQuiz, quiz_id)
            if quiz is None or prompt_id not in quiz.prompt_ids:
                raise ExpiredAction(STALE_BUTTON)
            if quiz.status not in (store.POSTING, store.OPEN):
                raise ExpiredAction(CLOSED_MESSAGE)
            guild = await crud.ensure_guild(session, guild_id=quiz.guild_id)
            user = await _guilds.member_of(session, learner)
            await session.commit()
            if quiz.posted_at is not None:
                deadline = daily.answer_deadline(
                    quiz.posted_at, self._window(guild), extra_time=user.extra_time
                )
                if self.clock.now() > deadline:
                    raise ExpiredAction(CLOSED_MESSAGE)
        return await self.answers.act(learner, study_token, text, window_checked=True)

    # -- closing and results ----------------------------------------------------------------

    async def close(self, quiz_id: int) -> QuizResults | None:
        """Close an open quiz and build its results; None if it was already closed."""
        async with self.db.session() as session:
            closed = await store.set_quiz_status(
                session,
                quiz_id=quiz_id,
                from_statuses=[store.OPEN],
                to_status=store.CLOSED,
                values={"closed_at": self.clock.now()},
            )
            quiz = await session.get(DailyQuiz, quiz_id) if closed else None
            if quiz is None:
                return None
            reply = await self._results(session, quiz_id, quiz)
        return QuizResults(
            quiz_id=quiz_id, guild_id=quiz.guild_id, channel_id=quiz.channel_id, reply=reply
        )

    async def _results(self, session: AsyncSession, quiz_id: int, quiz: DailyQuiz) -> Reply:
        guild = await session.get(Guild, quiz.guild_id)
        attempts = await store.prompt_attempts(
            session, prompt_ids=quiz.prompt_ids, guild_id=quiz.guild_id
        )
        answers = [
            wording.MemberAnswer(
                user_id=attempt.user_id,
                name=user.display_name or "a member",
                prompt_id=attempt.prompt_id,
                correct=attempt.correct,
            )
            for attempt, user in attempts
        ]
        outcomes = []
        for number, (item_id, prompt_id) in enumerate(
            zip(quiz.item_ids, quiz.prompt_ids, strict=False), 1
        ):
            row = await session.get(Item, item_id)
            outcome = (
                wording.question_outcome(number, row.payload, prompt_id, answers) if row else None
            )
            if outcome is not None:
                outcomes.append(outcome)
        return wording.results_reply(
            quiz_id=quiz_id,
            local_date=quiz.local_date,
            tz_name=self._timezone(guild),
            total=len(quiz.item_ids),
            questions=outcomes,
            scores=wording.tally_scores(answers),
        )

    async def skip_today(self, actor: Learner) -> tuple[Reply, QuizResults | None]:
        """Skip today's quiz (moderators).

        Not posted yet: today is marked skipped, so the scheduled run won't post. Open:
        it closes now and its results go up (answers so far keep counting).
        """
        async with self.db.session() as session:
            guild = await _guilds.guild_of(session, actor)
            await _guilds.member_of(session, actor)
            await session.commit()
        now = self.clock.now()
        today = daily.local_today(now, self._timezone(guild))
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
        if existing is not None and existing.id is not None and existing.status == store.OPEN:
            results = await self.close(existing.id)
            if results is not None:
                text = (
                    "Today's quiz was open, so I closed it now and posted the results "
                    "(answers so far count). The catch-up stays open until midnight."
                )
                return Reply(title="Closed early", text=text, tone=Tone.SUCCESS, private=True), (
                    results
                )
        # No row after a failed claim: another task released it a moment ago.
        status = existing.status if existing is not None else store.POSTING
        if status == store.POSTING:
            text = "Today's quiz is being posted right now. Try /dailyquiz skip again in a moment."
            return Reply(title="One moment", text=text, tone=Tone.WARNING, private=True), None
        verb = "was already skipped" if status == store.SKIPPED else "has already closed"
        text = f"Today's daily quiz {verb}. Nothing to skip."
        return Reply(title="Nothing to skip", text=text, tone=Tone.INFO, private=True), None

    # -- catch-up ---------------------------------------------------------------------------

    async def catch_up(self, learner: Learner, token: str) -> Reply:
        """The next question of a closed quiz the member hasn't answered, privately."""
        quiz_id = daily.parse_catch_up_token(token)
        if quiz_id is None:
            raise ExpiredAction(STALE_BUTTON)
        async with self.db.session() as session:
            quiz = await session.get(DailyQuiz, quiz_id)
            if quiz is None or not quiz.item_ids:
                raise ExpiredAction(STALE_BUTTON)
            guild = await session.get(Guild, quiz.guild_id)
            quiz_day = date.fromisoformat(quiz.local_date)
            if not daily.catch_up_open(self.clock.now(), quiz_day, self._timezone(guild)):
                raise ExpiredAction(CATCH_UP_EXPIRED)
            if quiz.status == store.OPEN:
                raise BadInput("This quiz is still open — answer it in the channel above.")
            user = await _guilds.member_of(session, learner)
            await session.commit()
            if user.id is None:  # a stored member always has an id
                raise ExpiredAction(STALE_BUTTON)
            done = await store.answered_daily_items(
                session,
                user_id=user.id,
                item_ids=quiz.item_ids,
                prompt_ids=quiz.prompt_ids,
                since=quiz.posted_at or quiz.scheduled_for,
                guild_id=quiz.guild_id,
            )
        remaining = [item for item in quiz.item_ids if item not in done]
        if not remaining:
            return wording.ALL_DONE
        shown = await self.presenter.present_item(
            replace(learner, guild_id=quiz.guild_id), remaining[0], DAILY_MODE
        )
        return wording.catch_up_question(shown, len(quiz.item_ids), len(remaining))
