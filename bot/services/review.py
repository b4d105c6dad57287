"""Spaced-repetition review: the member's next due card, new cards within the daily cap."""

from __future__ import annotations

from dataclasses import replace

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.content import Flashcard
from bot.core.learners import Learner
from bot.core.replies import Reply
from bot.core.scheduling import describe_interval
from bot.core.sessions import StudyItem
from bot.core.study_replies import caught_up_reply, question_reply, revealed_reply
from bot.errors import ExpiredAction
from bot.services.study_context import StudyContext, prompt_id_of, user_id_of
from bot.storage import crud
from bot.storage.models import Prompt, User

#: The review footer counts due cards up to this many ("99+ due now").
DUE_SHOWN_MAX = 99


class ReviewService:
    """Picks what a member reviews next and reveals flashcards."""

    def __init__(self, context: StudyContext) -> None:
        self.context = context

    async def review(self, learner: Learner) -> Reply:
        """The member's next due item, or a new one within today's limit."""
        async with self.context.db.session() as session:
            user = await self.context.member(session, learner)
            reply = await self.next_review(session, learner, user)
            await session.commit()
            return reply

    async def next_review(self, session: AsyncSession, learner: Learner, user: User) -> Reply:
        """The next review for ``user`` inside an open session (the caller commits)."""
        ctx = self.context
        user_id = user_id_of(user)
        now = ctx.now()
        timezone, new_per_day = await ctx.study_preferences(session, learner)
        row = await crud.next_due_item(session, user_id=user_id, guild_id=learner.guild_id, now=now)
        label = "Review"
        if row is None:
            # Another server's own questions don't use up this server's new-card budget.
            new_today = await crud.count_new_since(
                session, user_id=user_id, guild_id=learner.guild_id, since=ctx.today_start(timezone)
            )
            if new_today < new_per_day:
                row = await crud.next_new_item(session, user_id=user_id, guild_id=learner.guild_id)
                label = "New"
        if row is None:
            return await self._caught_up(session, learner, user_id, new_per_day)
        item = ctx.items.of_row(row)
        prompt = await ctx.new_prompt(session, item, user, learner, "review")
        due = await crud.count_due(
            session, user_id=user_id, guild_id=learner.guild_id, now=now, cap=DUE_SHOWN_MAX + 1
        )
        reply = question_reply(item, prompt_id_of(prompt), private=True)
        shown = f"{DUE_SHOWN_MAX}+" if due > DUE_SHOWN_MAX else str(due)
        footer = f"{label} · {shown} due now" if due else label
        return replace(reply, footer=f"{footer} · {reply.footer}")

    async def _caught_up(
        self, session: AsyncSession, learner: Learner, user_id: int, new_per_day: int
    ) -> Reply:
        now = self.context.now()
        upcoming = await crud.next_due_after(
            session, user_id=user_id, guild_id=learner.guild_id, now=now
        )
        unseen = await crud.count_unseen(session, user_id=user_id, guild_id=learner.guild_id)
        next_in = describe_interval(upcoming - now) if upcoming is not None else None
        return caught_up_reply(next_in=next_in, unseen=unseen, new_per_day=new_per_day)

    async def reveal(self, session: AsyncSession, item: StudyItem, prompt: Prompt) -> Reply:
        """Show a flashcard's back with the rating buttons (the first reveal is recorded)."""
        if not isinstance(item.content, Flashcard):
            raise ExpiredAction("Only flashcards can be revealed. Pick an answer instead.")
        if prompt.revealed_at is None:
            prompt.revealed_at = self.context.now()
            session.add(prompt)
            await session.commit()
        return revealed_reply(item, prompt_id_of(prompt))
