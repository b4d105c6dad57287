"""The daily quiz on Discord: the scheduler, posting, closing, buttons and /dailyquiz.

The rules live in :mod:`bot.core.daily` and
:class:`~bot.services.daily_quiz.DailyQuizService`; this cog only decides when to call them
(an APScheduler ``AsyncIOScheduler`` on the bot's loop) and turns their replies into channel
messages.

Jobs (all in memory, rebuilt from the database on every start):

* ``daily:post:<guild>`` — the server's next run, at its local time (DST-correct,
  computed with zoneinfo and scheduled as a one-off date); it reschedules itself.
* ``daily:close:<quiz>`` — closes an open quiz and posts its results.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.core import daily
from bot.core.daily import DailyPost, OpenQuiz, QuizResults
from bot.core.replies import Reply, Tone
from bot.errors import BadInput
from bot.exts.checks import ensure_moderator
from bot.exts.client import learner_for
from bot.exts.components import EXPLANATION_FIELD
from bot.exts.jobs import CogScheduler
from bot.exts.render import render
from bot.log import get_logger
from bot.services.daily_quiz import DailyQuizService

if TYPE_CHECKING:
    from bot.exts.client import TutorBot

log = get_logger(__name__)

COG_NAME = "DailyQuiz"


def channel_send_kwargs(reply: Reply, *, media_dir: Path | None = None) -> dict[str, Any]:
    """Arguments for ``Messageable.send`` (which has no ``ephemeral``); a question's picture
    comes from ``media_dir``."""
    kwargs = render(reply, media_dir=media_dir).send_kwargs(ephemeral=False)
    kwargs.pop("ephemeral", None)
    return kwargs


class DailyQuizCog(commands.Cog, name=COG_NAME):
    """Posts each server's daily quiz on time, closes it and posts the results."""

    dailyquiz = app_commands.Group(
        name="dailyquiz",
        description="Post or skip today's daily quiz (moderators).",
        guild_only=True,
    )

    def __init__(self, bot: TutorBot, *, service: DailyQuizService | None = None) -> None:
        self.bot = bot
        self.service = service or bot.services.daily_quiz
        self.jobs = CogScheduler()

    # -- lifecycle --------------------------------------------------------------------------

    async def cog_load(self) -> None:
        """Register the buttons, start the scheduler and rebuild every schedule."""
        self.bot.register_button(daily.ANSWER_PREFIX, self.on_answer)
        self.bot.register_form(daily.TYPED_ANSWER_PREFIX, self.on_typed_answer)
        self.bot.register_button(daily.CATCH_UP_PREFIX, self.on_catch_up)
        self.jobs.start()
        # Rebuilding may post a late quiz; as a job it runs once the bot is up, not in setup.
        self.jobs.at("daily:rebuild", self.rebuild, self.jobs.now())

    async def cog_unload(self) -> None:
        """Stop scheduling (pending jobs are rebuilt from the database next start)."""
        await self.jobs.stop()

    def has_job(self, job_id: str) -> bool:
        """Whether a job is scheduled (for tests and diagnostics)."""
        return self.jobs.has(job_id)

    async def rebuild(self) -> None:
        """Resume after a (re)start: close quizzes whose window ended, post runs missed within
        the grace period, and schedule every server's next run."""
        try:
            for open_quiz in await self.service.recover(owns=self.bot.owns_guild):
                self._schedule_close(open_quiz)
            schedules = await self.service.schedules()
            owned = [s.guild_id for s in schedules if self.bot.owns_guild(s.guild_id)]
            for guild_id in owned:
                await self.check_guild(guild_id)
            # With several shard processes, their counts add up to the total.
            log.info(
                "daily quizzes scheduled for %d of %d servers (those on this process's shards)",
                len(owned),
                len(schedules),
            )
        except Exception:
            log.exception("could not rebuild the daily-quiz schedules")

    async def check_guild(self, guild_id: int) -> None:
        """A server's run is due (or we just started): post if due, then schedule the next."""
        try:
            outcome = await self.service.run_schedule(guild_id)
            if outcome.post is not None:
                await self.publish(outcome.post)
        except Exception:
            log.exception("daily quiz of guild %s failed", guild_id)
        try:
            await self.reschedule_guild(guild_id)
        except Exception:
            log.exception("could not schedule guild %s's next daily quiz", guild_id)

    async def reschedule_guild(self, guild_id: int) -> None:
        """Schedule the server's next run from its current settings (or drop it when off).

        Called after settings change: the new time applies from its next occurrence.
        """
        job_id = f"daily:post:{guild_id}"
        # With several shard processes, the one running the server's shard posts its quiz.
        schedule = await self.service.schedule(guild_id) if self.bot.owns_guild(guild_id) else None
        if schedule is None:
            self.jobs.remove(job_id)
            return
        run = daily.next_run_after(self.service.clock.now(), schedule.at, schedule.timezone)
        self.jobs.at(job_id, self.check_guild, run.at, guild_id)

    def _schedule_close(self, open_quiz: OpenQuiz) -> None:
        when = max(open_quiz.closes_at, datetime.now(UTC))
        self.jobs.at(f"daily:close:{open_quiz.quiz_id}", self.close_quiz, when, open_quiz.quiz_id)

    # -- posting and closing ----------------------------------------------------------------

    async def publish(self, post: DailyPost) -> OpenQuiz | None:
        """Send a claimed quiz's questions to its channel and open its window."""
        channel = self.bot.get_partial_messageable(post.channel_id, guild_id=post.guild_id)
        first_id: int | None = None
        try:
            for reply in post.questions:
                kwargs = channel_send_kwargs(reply, media_dir=self.bot.settings.media_path)
                message = await channel.send(**kwargs)
                first_id = first_id or message.id
        except discord.HTTPException as error:
            if first_id is None:
                await self.service.release(
                    post.quiz_id, f"cannot post in channel {post.channel_id}: {error}"
                )
                return None
            log.warning("daily quiz %s only partly posted: %s", post.quiz_id, error)
        opened = await self.service.mark_open(post.quiz_id, first_id)
        if opened is not None:
            self._schedule_close(opened)
            log.info("daily quiz %s posted in guild %s", post.quiz_id, post.guild_id)
        return opened

    async def close_quiz(self, quiz_id: int) -> None:
        """The window is over: close the quiz and post the results."""
        try:
            results = await self.service.close(quiz_id)
            if results is not None:
                await self.send_results(results)
        except Exception:
            log.exception("could not close daily quiz %s", quiz_id)

    async def send_results(self, results: QuizResults) -> None:
        """Post a closed quiz's results in its channel."""
        self.jobs.remove(f"daily:close:{results.quiz_id}")
        if results.channel_id is None:
            return
        channel = self.bot.get_partial_messageable(results.channel_id, guild_id=results.guild_id)
        try:
            await channel.send(**channel_send_kwargs(results.reply))
        except discord.HTTPException as error:
            log.warning("could not post results of daily quiz %s: %s", results.quiz_id, error)

    # -- buttons ----------------------------------------------------------------------------

    async def on_answer(self, interaction: discord.Interaction[Any], token: str) -> None:
        """An answer button on a live quiz (``dq:``): graded once per member, in the window."""
        work = self.service.answer(learner_for(interaction), token)
        await self.bot.deliver(interaction, work)

    async def on_typed_answer(
        self, interaction: discord.Interaction[Any], custom_id: str, values: dict[str, str]
    ) -> None:
        """The form of a live typed question's **Answer** button (``dt:``): graded privately,
        once per member, in the window."""
        text = values.get(EXPLANATION_FIELD, "")
        work = self.service.answer(learner_for(interaction), custom_id, text)
        await self.bot.deliver(interaction, work)

    async def on_catch_up(self, interaction: discord.Interaction[Any], token: str) -> None:
        """The results message's **Catch up** button (``dc:``): a private question."""
        work = self.service.catch_up(learner_for(interaction), token)
        await self.bot.deliver(interaction, work)

    # -- commands ---------------------------------------------------------------------------

    @dailyquiz.command(name="now")
    async def post_now(self, interaction: discord.Interaction[Any]) -> None:
        """Post today's daily quiz right away (moderators; still one per day)."""
        await ensure_moderator(self.bot, interaction)
        await self.bot.deliver(interaction, self._post_now(interaction))

    async def _post_now(self, interaction: discord.Interaction[Any]) -> Reply:
        channel_id = interaction.channel_id or 0
        post = await self.service.start_now(learner_for(interaction), channel_id)
        opened = await self.publish(post)
        if opened is None:
            raise BadInput(
                f"I couldn't post in <#{post.channel_id}>. Check that I can send messages "
                "there, then try /dailyquiz now again."
            )
        closes = int(opened.closes_at.timestamp())
        return Reply(
            title="Posted",
            text=f"Today's daily quiz is up in <#{post.channel_id}>. Results at <t:{closes}:t>.",
            tone=Tone.SUCCESS,
            private=True,
        )

    @dailyquiz.command(name="skip")
    async def skip(self, interaction: discord.Interaction[Any]) -> None:
        """Skip today's daily quiz, or close it early if it is open (moderators)."""
        await ensure_moderator(self.bot, interaction)
        await self.bot.deliver(interaction, self._skip(interaction))

    async def _skip(self, interaction: discord.Interaction[Any]) -> Reply:
        reply, results = await self.service.skip_today(learner_for(interaction))
        if results is not None:
            await self.send_results(results)
        return reply


async def setup(bot: TutorBot) -> None:
    """Load the cog (discord.py extension entry point)."""
    await bot.add_cog(DailyQuizCog(bot))
