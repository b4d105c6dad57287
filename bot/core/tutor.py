"""The study engine: every command and button of every adapter ends up here.

:class:`Tutor` turns a member's request into a neutral :class:`~bot.core.replies.Reply`:
it picks items (due queue, daily new-item limit, test mix), grades answers, updates the
member's FSRS card and appends to the attempt log. It never imports discord or tensorflow.
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
import threading
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core import actions
from bot.core.charts import activity_chart_png
from bot.core.clock import Clock, SystemClock, local_date, start_of_local_day
from bot.core.content import (
    DIFFICULTIES,
    AnyItem,
    DeckLibrary,
    Explain,
    Flashcard,
    MultipleChoice,
    Practice,
    parse_item,
)
from bot.core.grading import Coverage, grade_explanation
from bot.core.learners import Learner
from bot.core.letters import DAILY_MODE, letter, letter_range
from bot.core.replies import Choice, ChoiceStyle, Image, Reply, ReplyBuilder, Tone, plural
from bot.core.scheduling import (
    CardState,
    Grade,
    SchedulerConfig,
    SpacedRepetition,
    describe_interval,
    grade_for_answer,
    grade_for_coverage,
)
from bot.core.sessions import TEST_SIZE, StudyItem, TestScore, pick_test_items
from bot.core.stats import (
    STATS_WINDOW_DAYS,
    DeckMastery,
    StatsSummary,
    current_streak,
    daily_activity,
    retention,
)
from bot.errors import AlreadyAnswered, BadInput, ExpiredAction, NotFound, NotYourQuestion
from bot.log import get_logger
from bot.storage import answer_sql, crud
from bot.storage import leaderboard as stats_store
from bot.storage.answer_rows import AnswerFacts, PromptRow, StaleRead, is_asyncpg_url
from bot.storage.db import Database, sqlite_path
from bot.storage.lane import SqliteLane
from bot.storage.models import Attempt, Item, Prompt, StudySession, User
from bot.storage.privacy import find_user
from bot.storage.writer import AnswerWriter

if TYPE_CHECKING:
    import asyncpg  # type: ignore[import-untyped]

    from bot.storage.pg_lane import PgLane

log = get_logger(__name__)

#: Longest answer time we store; a question left open over lunch is not a 2-hour answer.
MAX_DURATION = timedelta(minutes=30)
#: Longest explanation we grade and keep.
MAX_EXPLANATION_CHARS = 2000
#: The review footer counts due cards up to this many ("99+ due now").
DUE_SHOWN_MAX = 99
#: Answers in flight at once on the ORM path (below the connection pool's size).
ANSWER_CONCURRENCY = 8
STREAK_LOOKBACK = timedelta(days=400)

MODE_KINDS: dict[str, tuple[str, ...]] = {
    "quiz": ("mcq",),
    "practice": ("practice",),
    "explain": ("explain",),
}
NOT_YOURS = "This isn't your question — start your own with /quiz or /review."
MODE_NOUNS = {
    "quiz": "quiz questions",
    "practice": "practice problems",
    "explain": "explain prompts",
}


@dataclass(frozen=True, slots=True)
class TutorConfig:
    """Engine settings."""

    new_items_per_day: int = 20
    timezone: str = "UTC"
    scheduler: SchedulerConfig = field(default_factory=SchedulerConfig)


class Tutor:
    """The study engine shared by the console and the Discord bot."""

    def __init__(
        self,
        db: Database,
        *,
        clock: Clock | None = None,
        config: TutorConfig | None = None,
        rng: random.Random | None = None,
        answer_connections: int | None = None,
    ) -> None:
        self.db = db
        self.clock: Clock = clock or SystemClock()
        self.config = config or TutorConfig()
        self.rng = rng or random.Random()
        self.srs = SpacedRepetition(self.config.scheduler)
        self._items: OrderedDict[tuple[int, str], StudyItem] = OrderedDict()
        self._known_guilds: set[int] = set()
        self._items_lock = threading.Lock()
        # The whole answer is a round of plain SQL on a lane of its own: on a SQLite file
        # the lane's connection group-commits many members' answers in one transaction; on
        # PostgreSQL (asyncpg) a small pool runs one transaction per answer. Any other
        # database goes through the ORM and the group-commit writer. ``answer_connections``
        # sizes the PostgreSQL lane's pool (None: the lane's default).
        path = sqlite_path(db.url) if db.is_sqlite else None
        self.lane: SqliteLane | None = SqliteLane(path) if path is not None else None
        self.pg_lane: PgLane | None = None
        if is_asyncpg_url(db.url):
            from bot.storage.pg_lane import DEFAULT_POOL_SIZE, PgLane  # driver only if used

            self.pg_lane = PgLane(db.url, size=answer_connections or DEFAULT_POOL_SIZE)
        self.writer = AnswerWriter(db)
        self._answer_slots = asyncio.Semaphore(ANSWER_CONCURRENCY)

    async def close(self) -> None:
        """Finish writing queued answers."""
        if self.lane is not None:
            await self.lane.close()
        if self.pg_lane is not None:
            await self.pg_lane.close()
        await self.writer.close()

    # -- set-up ---------------------------------------------------------------------------

    async def load_content(self, library: DeckLibrary) -> crud.SyncReport:
        """Bring the bundled items in the database in line with ``library``."""
        async with self.db.session() as session:
            report = await crud.sync_bundled_items(session, library=library)
            await session.commit()
        log.info("content synced: %s", report)
        return report

    # -- helpers --------------------------------------------------------------------------

    def _now(self) -> datetime:
        return self.clock.now()

    async def _user(self, session: AsyncSession, learner: Learner) -> User:
        if learner.guild_id is not None and learner.guild_id not in self._known_guilds:
            await crud.ensure_guild(session, guild_id=learner.guild_id, name=learner.guild_name)
            # Server rows are never deleted, so each needs checking once per process.
            self._known_guilds.add(learner.guild_id)
        return await crud.get_or_create_user(
            session,
            platform=learner.platform,
            external_id=learner.external_id,
            display_name=learner.display_name,
        )

    def _study_item(self, row: Item) -> StudyItem:
        """Validated content of a stored item, cached by id and content hash."""
        assert row.id is not None
        return self._cached_item(row.id, row.deck, row.guild_id, row.payload, row.content_hash)

    def _cached_item(
        self,
        item_id: int,
        deck: str,
        guild_id: int | None,
        payload: dict[str, Any],
        content_hash: str,
    ) -> StudyItem:
        # Also called from the SQLite lane's thread, hence the lock.
        key = (item_id, content_hash)
        with self._items_lock:
            cached = self._items.get(key)
            if cached is not None:
                self._items.move_to_end(key)
                return cached
        cached = StudyItem(id=item_id, deck=deck, content=parse_item(payload), guild_id=guild_id)
        with self._items_lock:
            self._items[key] = cached
            if len(self._items) > 5000:
                self._items.popitem(last=False)
        return cached

    async def _load_item(self, session: AsyncSession, item_id: int) -> StudyItem:
        row = await session.get(Item, item_id)
        if row is None:
            raise ExpiredAction(actions.EXPIRED_MESSAGE)
        return self._study_item(row)

    async def _owned_prompt(
        self, session: AsyncSession, prompt_id: int, user: User
    ) -> tuple[Prompt, StudyItem]:
        """The prompt a button refers to and its item (one query), if it is this member's."""
        found = await crud.prompt_with_item(session, prompt_id=prompt_id)
        if found is None:
            raise ExpiredAction(actions.EXPIRED_MESSAGE)
        prompt, row = found
        if prompt.user_id is not None and prompt.user_id != user.id:
            raise NotYourQuestion(NOT_YOURS)
        return prompt, self._study_item(row)

    async def _validate_filters(
        self, session: AsyncSession, learner: Learner, deck: str | None, difficulty: str | None
    ) -> tuple[str | None, str | None]:
        deck = (deck or "").strip() or None
        difficulty = (difficulty or "").strip().casefold() or None
        if difficulty is not None and difficulty not in DIFFICULTIES:
            raise BadInput("Difficulty must be easy, medium or hard.")
        if deck is not None:
            names = await crud.deck_names(session, guild_id=learner.guild_id)
            if deck not in names:
                listing = ", ".join(names) or "none yet"
                raise NotFound(f"There is no deck called '{deck[:60]}'. Decks: {listing}.")
        return deck, difficulty

    def _today_start(self) -> datetime:
        return start_of_local_day(self._now(), self.config.timezone)

    # -- presenting items -----------------------------------------------------------------

    def _present(
        self,
        item: StudyItem,
        prompt: Prompt,
        *,
        heading: str = "",
        hint_shown: bool = False,
        private: bool = False,
    ) -> Reply:
        """Show an item as a question (flashcard front, options, or explain prompt)."""
        assert prompt.id is not None
        content = item.content
        out = ReplyBuilder(tone=Tone.QUESTION, private=private)
        if isinstance(content, Flashcard):
            out.title = heading or f"Flashcard · {item.deck}"
            out.text = content.front
            out.footer = "Think of the answer, then reveal it."
            out.choices.append(
                Choice(
                    "reveal",
                    "Reveal",
                    actions.Reveal(prompt.id).token(),
                    style=ChoiceStyle.PRIMARY,
                )
            )
        elif isinstance(content, MultipleChoice | Practice):
            kind = "Practice" if isinstance(content, Practice) else "Question"
            out.title = heading or f"{kind} · {item.deck} · {content.difficulty}"
            options = "\n".join(
                f"**{letter(i)}.** {option}" for i, option in enumerate(content.options)
            )
            out.text = f"{content.question}\n\n{options}"
            out.code = content.code or ""
            for i, _option in enumerate(content.options):
                out.choices.append(
                    Choice(letter(i), letter(i), actions.Answer(prompt.id, i).token())
                )
            if isinstance(content, Practice):
                if hint_shown:
                    out.add_field("💡 Hint", content.hint)
                else:
                    out.choices.append(Choice("hint", "Hint", actions.Hint(prompt.id).token()))
            out.footer = f"Pick {letter_range(len(content.options))}."
        elif isinstance(content, Explain):
            out.title = heading or f"Explain · {item.deck}"
            out.text = content.prompt
            if hint_shown:
                out.add_field("💡 Hint", content.hint)
            out.choices.append(
                Choice(
                    "answer",
                    "Answer",
                    actions.SubmitExplanation(prompt.id).token(),
                    style=ChoiceStyle.PRIMARY,
                    needs_text=True,
                    text_label="Your explanation",
                    text_placeholder="Explain it in your own words, in a sentence or two.",
                )
            )
            if not hint_shown:
                out.choices.append(Choice("hint", "Hint", actions.Hint(prompt.id).token()))
            out.footer = "Answer in your own words."
        return out.build()

    def _next_choice(self, prompt: PromptRow, item: StudyItem) -> Choice | None:
        """The "move on" button after an answer, matching how the item was asked."""
        if prompt.mode == "review":
            token = actions.Next("review").token()
            return Choice("next", "Next card", token, style=ChoiceStyle.PRIMARY)
        if prompt.mode == "test":
            return Choice(
                "next",
                "Next question",
                actions.Next("test", session_id=prompt.session_id).token(),
                style=ChoiceStyle.PRIMARY,
            )
        if prompt.mode in MODE_KINDS:
            return Choice(
                "next",
                "Another one",
                actions.Next(prompt.mode, deck=item.deck).token(),
                style=ChoiceStyle.PRIMARY,
            )
        return None

    async def _new_prompt(
        self,
        session: AsyncSession,
        item: StudyItem,
        user: User | None,
        learner: Learner,
        mode: str,
        *,
        session_id: int | None = None,
        position: int | None = None,
    ) -> Prompt:
        return await crud.create_prompt(
            session,
            item_id=item.id,
            user_id=user.id if user else None,
            guild_id=learner.guild_id,
            mode=mode,
            now=self._now(),
            session_id=session_id,
            position=position,
        )

    # -- commands -------------------------------------------------------------------------

    async def review(self, learner: Learner) -> Reply:
        """The member's next due item, or a new one within today's limit."""
        async with self.db.session() as session:
            user = await self._user(session, learner)
            reply = await self._next_review(session, learner, user)
            await session.commit()
            return reply

    async def _next_review(self, session: AsyncSession, learner: Learner, user: User) -> Reply:
        assert user.id is not None
        now = self._now()
        row = await crud.next_due_item(session, user_id=user.id, guild_id=learner.guild_id, now=now)
        label = "Review"
        if row is None:
            new_today = await crud.count_new_since(
                session, user_id=user.id, since=self._today_start()
            )
            if new_today < self.config.new_items_per_day:
                row = await crud.next_new_item(session, user_id=user.id, guild_id=learner.guild_id)
                label = "New"
        if row is None:
            return await self._caught_up(session, learner, user)
        item = self._study_item(row)
        prompt = await self._new_prompt(session, item, user, learner, "review")
        due = await crud.count_due(
            session, user_id=user.id, guild_id=learner.guild_id, now=now, cap=DUE_SHOWN_MAX + 1
        )
        reply = self._present(item, prompt, private=True)
        shown = f"{DUE_SHOWN_MAX}+" if due > DUE_SHOWN_MAX else str(due)
        footer = f"{label} · {shown} due now" if due else label
        return replace(reply, footer=f"{footer} · {reply.footer}")

    async def _caught_up(self, session: AsyncSession, learner: Learner, user: User) -> Reply:
        assert user.id is not None
        upcoming = await crud.next_due_after(
            session, user_id=user.id, guild_id=learner.guild_id, now=self._now()
        )
        unseen = await crud.count_unseen(session, user_id=user.id, guild_id=learner.guild_id)
        parts = ["Nothing is due right now."]
        if upcoming is not None:
            parts.append(f"Your next review is {describe_interval(upcoming - self._now())}.")
        if unseen:
            parts.append(
                f"That's today's {self.config.new_items_per_day} new cards; "
                f"{unseen} more unlock from tomorrow."
            )
        elif upcoming is None:
            parts.append("You've seen every card.")
        return Reply(
            title="All caught up 🎉",
            text=" ".join(parts) + "\nTry /quiz, /practice or /test meanwhile.",
            tone=Tone.SUCCESS,
            private=True,
        )

    async def ask(
        self,
        learner: Learner,
        mode: str,
        deck: str | None = None,
        difficulty: str | None = None,
        *,
        shared: bool = False,
    ) -> Reply:
        """A question for ``mode`` (``quiz``, ``practice`` or ``explain``).

        ``shared`` posts it for everyone in a channel: any member may answer, once each.
        """
        if mode not in MODE_KINDS:
            raise BadInput("Pick quiz, practice or explain.")
        async with self.db.session() as session:
            user = await self._user(session, learner)
            deck, difficulty = await self._validate_filters(session, learner, deck, difficulty)
            rows = await crud.active_items(
                session,
                guild_id=learner.guild_id,
                deck=deck,
                kinds=MODE_KINDS[mode],
                difficulty=difficulty,
            )
            if not rows:
                where = f" in {deck}" if deck else ""
                level = f" at {difficulty} level" if difficulty else ""
                raise NotFound(
                    f"No {MODE_NOUNS[mode]}{level}{where} yet. Try another deck or difficulty."
                )
            row = self.rng.choice(rows)
            item = self._study_item(row)
            prompt = await self._new_prompt(session, item, None if shared else user, learner, mode)
            reply = self._present(item, prompt, private=not shared)
            await session.commit()
            return reply

    async def present_item(
        self, learner: Learner, item_id: int, mode: str, *, shared: bool = False
    ) -> Reply:
        """Show one specific item (e.g. a daily-quiz question taken later, privately).

        ``shared`` leaves the prompt open to every member (one answer each).
        """
        async with self.db.session() as session:
            user = await self._user(session, learner)
            row = await session.get(Item, item_id)
            if row is None or not row.active:
                raise NotFound("That question is no longer available.")
            if row.guild_id is not None and row.guild_id != learner.guild_id:
                raise NotFound("That question is no longer available.")
            item = self._study_item(row)
            prompt = await self._new_prompt(session, item, None if shared else user, learner, mode)
            reply = self._present(item, prompt, private=not shared)
            await session.commit()
            return reply

    async def quiz(
        self,
        learner: Learner,
        deck: str | None = None,
        difficulty: str | None = None,
        *,
        shared: bool = False,
    ) -> Reply:
        """One multiple-choice question."""
        return await self.ask(learner, "quiz", deck, difficulty, shared=shared)

    async def practice(
        self, learner: Learner, deck: str | None = None, difficulty: str | None = None
    ) -> Reply:
        """One worked practice problem with a hint and a full solution after answering."""
        return await self.ask(learner, "practice", deck, difficulty)

    async def explain(self, learner: Learner, deck: str | None = None) -> Reply:
        """A prompt to explain a concept in the member's own words."""
        return await self.ask(learner, "explain", deck)

    async def start_test(self, learner: Learner, deck: str | None = None) -> Reply:
        """Start a 10-question test across easy, medium and hard."""
        async with self.db.session() as session:
            user = await self._user(session, learner)
            assert user.id is not None
            deck, _ = await self._validate_filters(session, learner, deck, None)
            rows = await crud.active_items(
                session, guild_id=learner.guild_id, deck=deck, kinds=("mcq", "practice")
            )
            chosen = pick_test_items([self._study_item(r) for r in rows], self.rng, TEST_SIZE)
            if not chosen:
                raise NotFound("There are no questions to test you on yet. Try another deck.")
            run = await crud.create_study_session(
                session,
                user_id=user.id,
                kind="test",
                deck=deck,
                item_ids=[item.id for item in chosen],
                now=self._now(),
            )
            reply = await self._test_question(session, learner, user, run.id or 0, chosen, 0)
            await session.commit()
            return reply

    async def _test_question(
        self,
        session: AsyncSession,
        learner: Learner,
        user: User,
        session_id: int,
        items: list[StudyItem],
        position: int,
    ) -> Reply:
        item = items[position]
        prompt = await crud.find_session_prompt(session, session_id=session_id, position=position)
        if prompt is None:
            prompt = await self._new_prompt(
                session, item, user, learner, "test", session_id=session_id, position=position
            )
        heading = f"Test · question {position + 1} of {len(items)} · {item.difficulty}"
        return self._present(item, prompt, heading=heading, private=True)

    async def stats(self, learner: Learner, *, member: Learner | None = None) -> Reply:
        """The member's figures and a chart of their last 30 days, privately.

        Answers, accuracy, streak, retention (see :func:`bot.core.stats.retention`), reviews
        due, new cards left today and per-deck mastery; the chart shows answers per day (bars)
        and accuracy (line). ``member`` shows another member's figures instead, still only to
        ``learner``; those count only the answers given in ``learner``'s server.
        """
        summary = await self.stats_summary(learner, member=member)
        subject = member or learner
        name = subject.display_name or ("you" if member is None else "this member")
        out = ReplyBuilder(title=f"Stats · {name}", private=True)
        if summary.answered == 0:
            out.text = (
                "No answers yet — start with /review or /quiz."
                if member is None
                else f"{name} has no answers in this server yet."
            )
        else:
            out.text = (
                f"{summary.accuracy_percent}% correct over {plural(summary.answered, 'answer')}."
            )
        out.add_field("Answered", str(summary.answered), inline=True)
        out.add_field("Accuracy", f"{summary.accuracy_percent}%", inline=True)
        days = "day" if summary.streak_days == 1 else "days"
        out.add_field("Streak", f"{summary.streak_days} {days}", inline=True)
        kept = summary.retention
        reviews = "review" if kept.reviews == 1 else "reviews"
        out.add_field(
            f"Retention ({STATS_WINDOW_DAYS} days)",
            f"{kept.percent}% of {kept.reviews} {reviews}" if kept.reviews else "no reviews yet",
            inline=True,
        )
        out.add_field("Due now", str(summary.due_now), inline=True)
        out.add_field("New available today", str(summary.new_available), inline=True)
        if summary.decks:
            lines = [
                f"{d.deck}: {d.percent}% mastered ({d.mastered}/{d.total}, {d.seen} seen)"
                for d in summary.decks
            ]
            out.add_field("Mastery", "\n".join(lines))
        if not summary.recent_answers:
            out.footer = f"No answers in the last {STATS_WINDOW_DAYS} days, so no chart yet."
            return out.build()
        out.footer = "Retention: share of reviews of learned cards you got right."
        title = f"{name} · last {STATS_WINDOW_DAYS} days"
        png = await asyncio.to_thread(activity_chart_png, summary.activity, title=title)
        description = (
            f"{plural(summary.recent_answers, 'answer')} in the last {STATS_WINDOW_DAYS} days "
            "(bars) and accuracy per day (line)"
        )
        return replace(out.build(), image=Image("stats.png", png, description))

    async def stats_summary(
        self, learner: Learner, *, member: Learner | None = None
    ) -> StatsSummary:
        """The numbers behind :meth:`stats` (``member``: another member, in this server).

        Raises :class:`NotFound` when ``member`` has never studied with the bot (no row is
        created for them).
        """
        async with self.db.session() as session:
            scope: int | None = None
            if member is None:
                user = await self._user(session, learner)
                await session.commit()
            else:
                found = await find_user(
                    session, platform=member.platform, external_id=member.external_id
                )
                if found is None:
                    who = member.display_name or "That member"
                    raise NotFound(f"{who} hasn't studied with me yet — nothing to show.")
                user, scope = found, learner.guild_id
            assert user.id is not None
            now = self._now()
            tz = self.config.timezone
            today = local_date(now, tz)
            answered, correct = await stats_store.answer_totals(
                session, user_id=user.id, guild_id=scope
            )
            answers = await stats_store.answers_since(
                session, user_id=user.id, since=now - STREAK_LOOKBACK, guild_id=scope
            )
            streak = current_streak({local_date(t, tz) for t, _ in answers}, today)
            window_start = now - timedelta(days=STATS_WINDOW_DAYS)
            histories = await stats_store.review_histories(
                session, user_id=user.id, since=window_start
            )
            due = await crud.count_due(session, user_id=user.id, guild_id=learner.guild_id, now=now)
            new_today = await crud.count_new_since(
                session, user_id=user.id, since=self._today_start()
            )
            unseen = await crud.count_unseen(session, user_id=user.id, guild_id=learner.guild_id)
            new_available = min(unseen, max(0, self.config.new_items_per_day - new_today))
            decks = tuple(
                DeckMastery(deck=deck, total=total, seen=seen, mastered=mastered)
                for deck, total, seen, mastered in await crud.mastery_rows(
                    session, user_id=user.id, guild_id=learner.guild_id
                )
            )
            return StatsSummary(
                answered=answered,
                correct=correct,
                streak_days=streak,
                due_now=due,
                new_available=new_available,
                decks=decks,
                retention=retention(histories, since=window_start, srs=self.srs, guild_id=scope),
                activity=daily_activity(answers, today=today, tz_name=tz),
            )

    async def decks(self, learner: Learner) -> list[str]:
        """Deck names visible to the member (for autocomplete and listings)."""
        async with self.db.session() as session:
            return await crud.deck_names(session, guild_id=learner.guild_id)

    async def deck_listing(self, learner: Learner) -> Reply:
        """The decks and how many items each has."""
        async with self.db.session() as session:
            sizes = await crud.deck_sizes(session, guild_id=learner.guild_id)
        if not sizes:
            return Reply(text="No decks are loaded yet.", tone=Tone.WARNING, private=True)
        lines = [f"• {deck} — {count} items" for deck, count in sorted(sizes.items())]
        return Reply(title="Decks", text="\n".join(lines), private=True)

    @staticmethod
    def help() -> Reply:
        """What the tutor does and how to start."""
        text = (
            "I help you study with flashcards, quizzes and worked problems, and I remember "
            "what you know so reviews come back at the right time (spaced repetition)."
        )
        out = ReplyBuilder(title="Study tutor — how to start", text=text, private=True)
        out.add_field(
            "Study",
            "\n".join(
                [
                    "/review — your due flashcards and questions",
                    "/quiz [deck] [difficulty] — one multiple-choice question",
                    "/practice [deck] [difficulty] — a worked problem with a hint",
                    "/explain [deck] — explain a concept in your own words",
                    "/test [deck] — 10 questions across easy, medium and hard",
                    "/train — run a real TensorFlow training step",
                ]
            ),
        )
        out.add_field(
            "You and your server",
            "\n".join(
                [
                    "/stats [member] — progress, streak and a 30-day chart",
                    "/leaderboard [week|month|all] [deck] — this server's ranking",
                    "/decks — the decks you can study",
                    "/remind on|off — a DM when reviews are due (Discord)",
                    "/export-me, /forget-me — your data: a copy, or deleted",
                ]
            ),
        )
        out.add_field(
            "Moderators and admins (Discord)",
            "/question add|import|edit|remove|list|export|stats — the server's own questions\n"
            "/settings daily-quiz|show|moderator-role — the daily quiz and roles\n"
            "/dailyquiz now|skip — post or skip today's quiz",
        )
        out.footer = "New here? Start with /review."
        return out.build()

    # -- actions (buttons and typed choices) ----------------------------------------------

    async def act(
        self,
        learner: Learner,
        token: str,
        text: str | None = None,
        *,
        window_checked: bool = False,
    ) -> Reply:
        """Carry out a button press or typed choice (``token`` from a :class:`Choice`).

        Answers to a server's shared daily-quiz questions are accepted only with
        ``window_checked`` (the daily quiz checks its answer window first).
        """
        action = actions.parse_action(token)
        if isinstance(action, actions.Answer | actions.Rate | actions.SubmitExplanation):
            return await self._submit_answer(learner, action, text, window_checked)
        async with self.db.session() as session:
            user = await self._user(session, learner)
            if isinstance(action, actions.Next):
                reply = await self._next(session, learner, user, action)
                await session.commit()
                return reply
            if isinstance(action, actions.Hint | actions.Reveal):
                prompt, item = await self._owned_prompt(session, action.prompt_id, user)
                if isinstance(action, actions.Hint):
                    return await self._hint(session, item, prompt)
                return await self._reveal(session, item, prompt)
        return await self._submit_answer(learner, action, text, window_checked)

    async def _next(
        self, session: AsyncSession, learner: Learner, user: User, action: actions.Next
    ) -> Reply:
        if action.mode == "review":
            return await self._next_review(session, learner, user)
        if action.mode == "test":
            return await self._next_test(session, learner, user, action.session_id or 0)
        await session.commit()
        return await self.ask(learner, action.mode, action.deck, action.difficulty)

    async def _next_test(
        self, session: AsyncSession, learner: Learner, user: User, session_id: int
    ) -> Reply:
        run = await session.get(StudySession, session_id)
        if run is None:
            raise ExpiredAction(actions.EXPIRED_MESSAGE)
        if run.user_id != user.id:
            raise NotYourQuestion("This isn't your test — start your own with /test.")
        items = [await self._load_item(session, item_id) for item_id in run.item_ids]
        answered = await crud.session_attempts(session, session_id=session_id, user_id=run.user_id)
        if len(answered) >= len(items):
            return self._test_results(items, answered)
        return await self._test_question(session, learner, user, session_id, items, len(answered))

    def _test_results(
        self, items: list[StudyItem], answered: list[tuple[Prompt, Attempt]]
    ) -> Reply:
        by_id = {item.id: item for item in items}
        score = TestScore()
        for _prompt, attempt in answered:
            score.add(by_id[attempt.item_id].difficulty, attempt.correct)
        out = ReplyBuilder(
            title=f"Test finished — {score.correct}/{score.total} ({score.percent}%)",
            text=score.verdict(),
            tone=Tone.SUCCESS if score.percent >= 70 else Tone.INFO,
            private=True,
        )
        out.add_field("By difficulty", "\n".join(score.breakdown_lines()))
        missed = [
            f"• {_short(by_id[a.item_id].content.prompt)}" for _p, a in answered if not a.correct
        ]
        out.add_field("To review", "\n".join(missed[:10]))
        out.footer = "Missed questions come back in /review. Start another with /test."
        return out.build()

    async def _hint(self, session: AsyncSession, item: StudyItem, prompt: Prompt) -> Reply:
        if not isinstance(item.content, Practice | Explain):
            raise BadInput("This question has no hint.")
        if prompt.hint_shown_at is None:
            prompt.hint_shown_at = self._now()
            session.add(prompt)
            await session.commit()
        heading = ""
        if prompt.mode == "test" and prompt.position is not None:
            heading = f"Test · question {prompt.position + 1} · {item.difficulty}"
        return self._present(item, prompt, heading=heading, hint_shown=True, private=True)

    async def _reveal(self, session: AsyncSession, item: StudyItem, prompt: Prompt) -> Reply:
        content = item.content
        if not isinstance(content, Flashcard):
            raise ExpiredAction("Only flashcards can be revealed. Pick an answer instead.")
        assert prompt.id is not None
        if prompt.revealed_at is None:
            prompt.revealed_at = self._now()
            session.add(prompt)
            await session.commit()
        out = ReplyBuilder(
            title=f"Flashcard · {item.deck}", text=content.front, tone=Tone.QUESTION, private=True
        )
        out.add_field("Answer", content.back)
        styles = {
            Grade.AGAIN: ChoiceStyle.DANGER,
            Grade.HARD: ChoiceStyle.SECONDARY,
            Grade.GOOD: ChoiceStyle.SUCCESS,
            Grade.EASY: ChoiceStyle.PRIMARY,
        }
        for grade in Grade:
            out.choices.append(
                Choice(
                    grade.label.lower(),
                    grade.label,
                    actions.Rate(prompt.id, int(grade)).token(),
                    style=styles[grade],
                )
            )
        out.footer = "How well did you remember it?"
        return out.build()

    def _duration_ms(self, prompt: PromptRow) -> int:
        elapsed = self._now() - prompt.presented_at
        elapsed = max(timedelta(0), min(elapsed, MAX_DURATION))
        return int(elapsed.total_seconds() * 1000)

    def _schedule_note(self, state: CardState) -> str:
        return f"Next review {describe_interval(state.due - self._now())}."

    async def _finish(self, prompt: PromptRow, item: StudyItem, out: ReplyBuilder) -> Reply:
        """Add the "what next" part: test progress/results or the Next button."""
        if prompt.mode == "test" and prompt.session_id is not None:
            async with self.db.session() as session:
                run = await session.get(StudySession, prompt.session_id)
                assert run is not None
                answered = await crud.session_attempts(
                    session, session_id=run.id or 0, user_id=run.user_id
                )
                if len(answered) >= len(run.item_ids):
                    if run.finished_at is None:
                        run.finished_at = self._now()
                        session.add(run)
                        await session.commit()
                    items = [await self._load_item(session, i) for i in run.item_ids]
                    results = self._test_results(items, answered)
                    out.fields.extend(results.fields)
                    out.footer = f"{results.title}. {results.text}"
                    return out.build()
                out.footer = f"Question {len(answered)} of {len(run.item_ids)} done."
        choice = self._next_choice(prompt, item)
        if choice is not None:
            out.choices.append(choice)
        return out.build()

    # -- answering ------------------------------------------------------------------------

    async def _submit_answer(
        self,
        learner: Learner,
        action: actions.Answer | actions.Rate | actions.SubmitExplanation,
        text: str | None,
        window_checked: bool,
    ) -> Reply:
        """Grade an answer, update the member's card and log the attempt, exactly once."""
        request = AnswerRequest(learner, action, text, self._now(), window_checked)
        if learner.guild_id is not None and learner.guild_id not in self._known_guilds:
            async with self.db.session() as session:
                await self._user(session, learner)
                await session.commit()
        if self.lane is not None:
            outcome = await self.lane.run(lambda conn: self._answer_in_lane(conn, request))
        elif self.pg_lane is not None:
            outcome = await self.pg_lane.run(lambda conn: self._answer_on_pg(conn, request))
        else:
            # Queue here rather than in the connection pool, whose wait times out.
            async with self._answer_slots:
                outcome = await self._answer_with_session(request)
        return await self._finish(outcome.prompt, outcome.item, self._feedback(outcome))

    # Every path answers in three steps: read the facts (member, prompt and item, card),
    # decide (:meth:`_decide_answer`, no I/O, the same for all), write (attempt + card, or
    # "already answered"). Only the reading and writing differ per database.

    def _answer_in_lane(self, conn: sqlite3.Connection, request: AnswerRequest) -> AnswerOutcome:
        """The whole answer on the SQLite lane's connection (runs in its thread)."""
        facts = answer_sql.answer_facts(conn, **request.lookup())
        plan = self._decide_answer(request, facts)
        outcome = plan.outcome
        if not answer_sql.insert_attempt(conn, plan.attempt):
            earlier = answer_sql.earlier_attempt(
                conn, prompt_id=plan.attempt["prompt_id"], user_id=facts.user_id
            )
            raise AlreadyAnswered(_already_answered_message(outcome.item, earlier))
        answer_sql.save_card_state(
            conn,
            user_id=facts.user_id,
            item_id=outcome.item.id,
            state=outcome.state,
            now=request.now,
        )
        return outcome

    async def _answer_on_pg(
        self, conn: asyncpg.Connection, request: AnswerRequest
    ) -> AnswerOutcome:
        """The whole answer in one transaction on the PostgreSQL lane (two round trips)."""
        from bot.storage import pg_answer_sql

        facts = await pg_answer_sql.answer_facts(conn, **request.lookup())
        plan = self._decide_answer(request, facts)
        written = await pg_answer_sql.write_answer(
            conn, attempt=plan.attempt, state=plan.outcome.state, read=facts.card
        )
        if not written.attempt_stored:
            earlier = await pg_answer_sql.earlier_attempt(
                conn, prompt_id=plan.attempt["prompt_id"], user_id=facts.user_id
            )
            raise AlreadyAnswered(_already_answered_message(plan.outcome.item, earlier))
        if not written.card_stored:
            # Another answer of this member to this item got in first: decide again on it.
            raise StaleRead(f"card of member {facts.user_id} for item {plan.outcome.item.id}")
        return plan.outcome

    async def _answer_with_session(self, request: AnswerRequest) -> AnswerOutcome:
        """The same answer through the ORM and the group-commit writer (other databases)."""
        async with self.db.session() as session:
            user = await self._user(session, request.learner)
            assert user.id is not None
            found = await crud.prompt_with_item(session, prompt_id=request.action.prompt_id)
            row = PromptRow.from_models(*found) if found is not None else None
            stored = (
                await crud.get_review_state(session, user_id=user.id, item_id=row.item_id)
                if row is not None
                else None
            )
            facts = AnswerFacts(
                user_id=user.id, prompt=row, card=crud.card_state(stored) if stored else None
            )
            plan = self._decide_answer(request, facts)
            state: dict[str, Any] = {
                "user_id": user.id,
                "item_id": plan.outcome.item.id,
                "first_seen_at": request.now,
            }
            state.update(plan.outcome.state.columns())
            # Release this session's connection (and any write lock) before the group commit.
            await session.commit()
            try:
                await self.writer.submit(attempt=plan.attempt, state=state)
            except AlreadyAnswered:
                earlier = await crud.find_attempt(
                    session, prompt_id=plan.attempt["prompt_id"], user_id=user.id
                )
                found_earlier = (earlier.answer, earlier.correct) if earlier else None
                raise AlreadyAnswered(
                    _already_answered_message(plan.outcome.item, found_earlier)
                ) from None
        return plan.outcome

    def _decide_answer(self, request: AnswerRequest, facts: AnswerFacts) -> AnswerPlan:
        """The rules of an answer, on what storage read (no I/O; raises friendly errors).

        Checks the prompt exists, is this member's (or open to all) and, for a shared daily
        quiz question, that the daily quiz checked its window; grades the answer; reviews the
        card with FSRS; builds the attempt row.
        """
        row = facts.prompt
        if row is None:
            raise ExpiredAction(actions.EXPIRED_MESSAGE)
        if row.user_id is not None and row.user_id != facts.user_id:
            raise NotYourQuestion(NOT_YOURS)
        item = self._cached_item(
            row.item_id, row.item_deck, row.item_guild_id, row.item_payload, row.item_hash
        )
        _refuse_unchecked_daily(row, request.window_checked)
        graded = grade_action(item, row, request.action, request.text)
        duration = self._duration_ms(row)
        after = self.srs.review(facts.card, graded.grade, request.now, duration)
        attempt = _attempt_values(
            facts.user_id, item, row, request.learner, graded, duration, request.now
        )
        outcome = AnswerOutcome(prompt=row, item=item, graded=graded, state=after)
        return AnswerPlan(outcome=outcome, attempt=attempt)

    def _feedback(self, outcome: AnswerOutcome) -> ReplyBuilder:
        """What the member sees after answering (before the "what next" part)."""
        content = outcome.item.content
        graded = outcome.graded
        out = ReplyBuilder(private=True)
        if isinstance(content, Flashcard):
            out.title = f"Saved: {graded.grade.label}"
            out.text = f"{content.front}\n\n**{content.back}**"
            out.tone = Tone.SUCCESS if graded.correct else Tone.INFO
        elif isinstance(content, MultipleChoice | Practice):
            assert graded.option is not None
            right = f"{letter(content.correct_index)}. {content.correct_option}"
            if graded.correct:
                out.title, out.tone = "✅ Correct", Tone.SUCCESS
                out.text = f"**{right}**\n\n{content.explanation}"
            else:
                out.title, out.tone = "❌ Not quite", Tone.FAILURE
                out.text = (
                    f"You picked {letter(graded.option)}. {content.options[graded.option]}\n"
                    f"The answer is **{right}**\n\n{content.explanation}"
                )
            if isinstance(content, Practice):
                steps = "\n".join(f"{n}. {step}" for n, step in enumerate(content.steps, 1))
                out.add_field("Solution", steps)
                out.add_field("Common mistakes", "\n".join(f"• {m}" for m in content.mistakes))
        else:
            coverage = graded.coverage
            assert coverage is not None
            out.title = f"{len(coverage.covered)}/{coverage.total} concepts"
            out.text = coverage.summary()
            out.tone = Tone.SUCCESS if not coverage.missed else Tone.INFO
            out.add_field("Covered", ", ".join(coverage.covered) or "none yet")
            out.add_field("A strong answer", content.model_answer)
        out.footer = self._schedule_note(outcome.state)
        return out


@dataclass(frozen=True, slots=True)
class Graded:
    """The verdict on one answer, before anything is stored."""

    answer: str
    correct: bool
    score: float
    grade: Grade
    option: int | None = None
    coverage: Coverage | None = None


@dataclass(frozen=True, slots=True)
class AnswerOutcome:
    """A stored answer: where it was asked, what it was, how it was graded, the new card."""

    prompt: PromptRow
    item: StudyItem
    graded: Graded
    state: CardState


@dataclass(frozen=True, slots=True)
class AnswerRequest:
    """One answer as the member gave it, stamped with the time it arrived."""

    learner: Learner
    action: actions.Answer | actions.Rate | actions.SubmitExplanation
    text: str | None
    now: datetime
    window_checked: bool

    def lookup(self) -> dict[str, Any]:
        """What the lanes' ``answer_facts`` read by: the member, the prompt and the time."""
        return {
            "platform": self.learner.platform,
            "external_id": self.learner.external_id,
            "display_name": self.learner.display_name,
            "prompt_id": self.action.prompt_id,
            "now": self.now,
        }


@dataclass(frozen=True, slots=True)
class AnswerPlan:
    """A decided answer, not yet stored: its outcome and the attempt row to append."""

    outcome: AnswerOutcome
    attempt: dict[str, Any]


def _refuse_unchecked_daily(prompt: PromptRow, window_checked: bool) -> None:
    """A shared daily-quiz question is answered through its own (windowed) buttons only."""
    if prompt.mode == DAILY_MODE and prompt.user_id is None and not window_checked:
        raise ExpiredAction("Answer the daily quiz with the buttons on its message.")


def grade_action(
    item: StudyItem,
    prompt: PromptRow,
    action: actions.Answer | actions.Rate | actions.SubmitExplanation,
    text: str | None,
) -> Graded:
    """Grade an answer to ``item`` (pure). Raises a friendly error for a wrong kind of answer.

    Lettered answers: right → Good, wrong → Again. Flashcards: the member's own rating,
    after the reveal. Explanations: concept coverage (all → Good, half → Hard, less → Again).
    """
    content = item.content
    if isinstance(action, actions.Answer):
        if not isinstance(content, MultipleChoice | Practice):
            raise ExpiredAction("This question doesn't take a lettered answer.")
        if not 0 <= action.option < len(content.options):
            raise BadInput(f"Pick one of {letter_range(len(content.options))}.")
        correct = action.option == content.correct_index
        return Graded(
            answer=content.options[action.option],
            correct=correct,
            score=1.0 if correct else 0.0,
            grade=grade_for_answer(correct),
            option=action.option,
        )
    if isinstance(action, actions.Rate):
        if not isinstance(content, Flashcard):
            raise ExpiredAction("Only flashcards are self-rated. Pick an answer instead.")
        if prompt.revealed_at is None:
            raise BadInput("Reveal the answer first, then rate how well you knew it.")
        grade = Grade(action.grade)
        remembered = grade != Grade.AGAIN
        return Graded(answer=grade.label, correct=remembered, score=float(remembered), grade=grade)
    if not isinstance(content, Explain):
        raise ExpiredAction("This question takes a lettered answer, not an explanation.")
    answer = (text or "").strip()
    if not answer:
        raise BadInput("Your explanation is empty — type a sentence or two in your own words.")
    if len(answer) > MAX_EXPLANATION_CHARS:
        raise BadInput(
            f"That's a long one! Please keep it under {MAX_EXPLANATION_CHARS} characters."
        )
    coverage = grade_explanation(answer, content.concepts)
    grade = grade_for_coverage(coverage.fraction)
    return Graded(
        answer=answer,
        correct=grade != Grade.AGAIN,
        score=coverage.fraction,
        grade=grade,
        coverage=coverage,
    )


def _attempt_values(
    user_id: int,
    item: StudyItem,
    prompt: PromptRow,
    learner: Learner,
    graded: Graded,
    duration_ms: int,
    now: datetime,
) -> dict[str, Any]:
    """One row of the attempt log."""
    return {
        "user_id": user_id,
        "item_id": item.id,
        "prompt_id": prompt.id,
        "guild_id": learner.guild_id,
        "mode": prompt.mode,
        "answer": graded.answer[:MAX_EXPLANATION_CHARS],
        "correct": graded.correct,
        "score": graded.score,
        "rating": int(graded.grade),
        "duration_ms": duration_ms,
        "created_at": now,
    }


def _short(text: str, limit: int = 90) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _already_answered_message(item: StudyItem, earlier: tuple[str, bool] | None) -> str:
    """Remind the member of their first answer (which is the one that counts)."""
    if earlier is None:
        return "You already answered this one."
    picked, correct = earlier
    content: AnyItem = item.content
    verdict = "correct" if correct else "not quite right"
    if isinstance(content, MultipleChoice | Practice):
        index = content.options.index(picked) if picked in content.options else None
        shown = f"{letter(index)}. {picked}" if index is not None else picked
        return f"You already answered this one: {shown} ({verdict})."
    if isinstance(content, Flashcard):
        return f"You already rated this card: {picked}."
    return "You already answered this one. Your first answer counts."
