"""A member's figures: answers, accuracy, streak, retention, due cards, mastery, a chart,
and how well FSRS's predicted recall matches theirs (calibration)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.calibration import Calibration, calibrate, calibration_text, predictions
from bot.core.clock import local_date
from bot.core.learners import Learner
from bot.core.replies import Image, Reply, ReplyBuilder, plural
from bot.core.stats import (
    STATS_WINDOW_DAYS,
    DeckMastery,
    StatsSummary,
    current_streak,
    daily_activity,
    retention,
)
from bot.errors import NotFound
from bot.services.charts import activity_chart_png
from bot.services.study_context import StudyContext, user_id_of
from bot.storage import crud, due_queue
from bot.storage import leaderboard as stats_store
from bot.storage.calibration_queries import calibration_events
from bot.storage.mistakes import count_mistakes
from bot.storage.privacy import find_user

STREAK_LOOKBACK = timedelta(days=400)


class StatsService:
    """Builds a member's statistics and their 30-day chart."""

    def __init__(self, context: StudyContext) -> None:
        self.context = context

    async def stats(self, learner: Learner, *, member: Learner | None = None) -> Reply:
        """The member's figures and a chart of their last 30 days, privately.

        Answers, accuracy, streak, retention (see :func:`bot.core.stats.retention`), reviews
        due, new cards left today, mistakes to retry and per-deck mastery; the chart shows
        answers per day (bars) and accuracy (line). ``member`` shows another member's figures
        instead, still only to ``learner``; those count only the answers given in
        ``learner``'s server.
        """
        summary = await self.stats_summary(learner, member=member)
        calibration = await self.calibration(learner, member=member)
        subject = member or learner
        name = subject.display_name or ("you" if member is None else "this member")
        out = stats_reply(
            summary, name=name, about_other=member is not None, calibration=calibration
        )
        if not summary.recent_answers:
            return out.build()
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

        In a server every figure is that server's: answers, accuracy, streak, retention and
        the chart count only the answers given there (the member's own figures also those
        given outside any server), due cards, new cards and mastery only the items visible
        there (bundled ones and the server's own). Nothing of another server shows. In DMs
        and the console without a server the answer figures cover every answer, as before.

        Raises :class:`NotFound` when ``member`` has never studied with the bot (no row is
        created for them).
        """
        ctx = self.context
        guild_id = learner.guild_id
        # The member's own figures also count their answers outside any server (DMs, the
        # console before it had a server); another member's only those given here.
        serverless = member is None
        async with ctx.db.session() as session:
            user_id = await self._subject_id(session, learner, member)
            tz, new_per_day = await ctx.study_preferences(session, learner)
            now = ctx.now()
            today = local_date(now, tz)
            answered, correct = await stats_store.answer_totals(
                session, user_id=user_id, guild_id=guild_id, serverless=serverless
            )
            answers = await stats_store.answers_since(
                session,
                user_id=user_id,
                since=now - STREAK_LOOKBACK,
                guild_id=guild_id,
                serverless=serverless,
            )
            streak = current_streak({local_date(t, tz) for t, _ in answers}, today)
            window_start = now - timedelta(days=STATS_WINDOW_DAYS)
            histories = await stats_store.review_histories(
                session,
                user_id=user_id,
                since=window_start,
                guild_id=guild_id,
                serverless=serverless,
            )
            due = await due_queue.count_due(session, user_id=user_id, guild_id=guild_id, now=now)
            new_today = await due_queue.count_new_since(
                session, user_id=user_id, guild_id=guild_id, since=ctx.today_start(tz)
            )
            unseen = await due_queue.count_unseen(session, user_id=user_id, guild_id=guild_id)
            mistakes = await count_mistakes(session, user_id=user_id, guild_id=guild_id, now=now)
            new_available = min(unseen, max(0, new_per_day - new_today))
            decks = tuple(
                DeckMastery(deck=deck, total=total, seen=seen, mastered=mastered)
                for deck, total, seen, mastered in await crud.mastery_rows(
                    session, user_id=user_id, guild_id=guild_id
                )
            )
            kept = retention(
                histories,
                since=window_start,
                srs=ctx.srs,
                guild_id=guild_id,
                serverless=serverless,
            )
            return StatsSummary(
                answered=answered,
                correct=correct,
                streak_days=streak,
                due_now=due,
                new_available=new_available,
                decks=decks,
                retention=kept,
                activity=daily_activity(answers, today=today, tz_name=tz),
                mistakes=mistakes,
            )

    async def calibration(self, learner: Learner, *, member: Learner | None = None) -> Calibration:
        """How well FSRS predicted the member's recall (see :mod:`bot.core.calibration`).

        Scoped as :meth:`stats_summary`: in a server only the answers given there count
        (the member's own also those outside any server), though each card is replayed with
        every answer it saw. The replay runs in a worker thread. Raises :class:`NotFound`
        as :meth:`stats_summary` does.
        """
        ctx = self.context
        async with ctx.db.session() as session:
            user_id = await self._subject_id(session, learner, member)
            events = await calibration_events(
                session, user_id=user_id, guild_id=learner.guild_id, serverless=member is None
            )
        config = ctx.srs.config
        found = await asyncio.to_thread(predictions, events, config=config)
        return calibrate(found)

    async def _subject_id(
        self, session: AsyncSession, learner: Learner, member: Learner | None
    ) -> int:
        """The row id of ``learner`` (created on first sight) or of ``member`` (never created;
        :class:`NotFound` if they never studied)."""
        if member is None:
            user = await self.context.member(session, learner)
            await session.commit()
            return user_id_of(user)
        found = await find_user(session, platform=member.platform, external_id=member.external_id)
        if found is None:
            who = member.display_name or "That member"
            raise NotFound(f"{who} hasn't studied with me yet — nothing to show.")
        return user_id_of(found)


def stats_reply(
    summary: StatsSummary,
    *,
    name: str,
    about_other: bool,
    calibration: Calibration | None = None,
) -> ReplyBuilder:
    """The figures of :class:`StatsSummary` as a private reply (without the chart).

    With ``calibration``, a "Calibration" field: FSRS's predicted recall against the
    member's, per bucket (:func:`bot.core.calibration.calibration_text`).
    """
    out = ReplyBuilder(title=f"Stats · {name}", private=True)
    if summary.answered == 0:
        out.text = (
            f"{name} has no answers in this server yet."
            if about_other
            else "No answers yet — start with /review or /quiz."
        )
    else:
        out.text = f"{summary.accuracy_percent}% correct over {plural(summary.answered, 'answer')}."
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
    out.add_field("Mistakes to retry", str(summary.mistakes), inline=True)
    if summary.decks:
        lines = [
            f"{d.deck}: {d.percent}% mastered ({d.mastered}/{d.total}, {d.seen} seen)"
            for d in summary.decks
        ]
        out.add_field("Mastery", "\n".join(lines))
    if calibration is not None:
        out.add_field("Calibration", calibration_text(calibration))
    if summary.recent_answers:
        out.footer = "Retention: share of reviews of learned cards you got right."
    else:
        out.footer = f"No answers in the last {STATS_WINDOW_DAYS} days, so no chart yet."
    return out
