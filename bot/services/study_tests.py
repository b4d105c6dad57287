"""Ten-question tests across easy, medium and hard, with a score breakdown at the end."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core import actions
from bot.core.answering import PromptRow
from bot.core.learners import Learner
from bot.core.replies import Reply, ReplyBuilder
from bot.core.sessions import TEST_SIZE, StudyItem, pick_test_items
from bot.core.study_replies import question_reply, test_results_reply
from bot.errors import ExpiredAction, NotFound, NotYourQuestion
from bot.services.study_context import StudyContext, prompt_id_of, user_id_of
from bot.storage import crud
from bot.storage.models import StudySession, User


class StudyTestService:
    """Starts tests, asks their questions in order and scores them."""

    def __init__(self, context: StudyContext) -> None:
        self.context = context

    async def start_test(self, learner: Learner, deck: str | None = None) -> Reply:
        """Start a 10-question test across easy, medium and hard."""
        ctx = self.context
        async with ctx.db.session() as session:
            user = await ctx.member(session, learner)
            deck, _ = await ctx.check_filters(session, learner, deck, None)
            refs = await crud.active_item_refs(
                session, guild_id=learner.guild_id, deck=deck, kinds=("mcq", "practice", "typed")
            )
            picked = pick_test_items(refs, ctx.rng, TEST_SIZE)
            rows = await crud.items_by_ids(session, [ref.id for ref in picked])
            chosen = [ctx.items.of_row(row) for row in rows]
            if not chosen:
                raise NotFound("There are no questions to test you on yet. Try another deck.")
            run = await crud.create_study_session(
                session,
                user_id=user_id_of(user),
                kind="test",
                deck=deck,
                item_ids=[item.id for item in chosen],
                now=ctx.now(),
            )
            reply = await self._question(session, learner, user, run.id or 0, chosen, 0)
            await session.commit()
            return reply

    async def _question(
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
            prompt = await self.context.new_prompt(
                session, item, user, learner, "test", session_id=session_id, position=position
            )
        heading = f"Test · question {position + 1} of {len(items)} · {item.difficulty}"
        return question_reply(item, prompt_id_of(prompt), heading=heading, private=True)

    async def next_question(
        self, session: AsyncSession, learner: Learner, user: User, session_id: int
    ) -> Reply:
        """The test's next unanswered question, or its results when all are answered."""
        run = await session.get(StudySession, session_id)
        if run is None:
            raise ExpiredAction(actions.EXPIRED_MESSAGE)
        if run.user_id != user.id:
            raise NotYourQuestion("This isn't your test — start your own with /test.")
        items = [await self.context.load_item(session, item_id) for item_id in run.item_ids]
        answered = await crud.session_attempts(session, session_id=session_id, user_id=run.user_id)
        if len(answered) >= len(items):
            return test_results_reply(items, [(a.item_id, a.correct) for _p, a in answered])
        return await self._question(session, learner, user, session_id, items, len(answered))

    async def add_progress(self, prompt: PromptRow, out: ReplyBuilder) -> bool:
        """Add a test's progress (or its results, when this was the last answer) to ``out``.

        Returns True when the test is finished (no "next" button is wanted then).
        """
        if prompt.session_id is None:
            return False
        ctx = self.context
        async with ctx.db.session() as session:
            run = await session.get(StudySession, prompt.session_id)
            if run is None:
                raise ExpiredAction(actions.EXPIRED_MESSAGE)
            answered = await crud.session_attempts(
                session, session_id=prompt.session_id, user_id=run.user_id
            )
            if len(answered) < len(run.item_ids):
                out.footer = f"Question {len(answered)} of {len(run.item_ids)} done."
                return False
            if run.finished_at is None:
                run.finished_at = ctx.now()
                session.add(run)
                await session.commit()
            items = [await ctx.load_item(session, i) for i in run.item_ids]
            results = test_results_reply(items, [(a.item_id, a.correct) for _p, a in answered])
            out.fields.extend(results.fields)
            out.footer = f"{results.title}. {results.text}"
            return True
