"""Buttons and typed choices: a token from a :class:`~bot.core.replies.Choice` → a reply."""

from __future__ import annotations

from bot.core import actions
from bot.core.learners import Learner
from bot.core.replies import Reply
from bot.errors import NotFound
from bot.services.answers import AnswerService
from bot.services.practice import PracticeService
from bot.services.review import ReviewService
from bot.services.study_context import StudyContext
from bot.services.study_tests import StudyTestService

#: A chat answer's button whose item is gone or not this server's.
GONE = "That question is no longer available. Ask me again and I'll look for another."


class ActionService:
    """Routes a button press to the service that owns it."""

    def __init__(
        self,
        context: StudyContext,
        *,
        review: ReviewService,
        practice: PracticeService,
        tests: StudyTestService,
        answers: AnswerService,
    ) -> None:
        self.context = context
        self.review = review
        self.practice = practice
        self.tests = tests
        self.answers = answers

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
            return await self.answers.submit(learner, action, text, window_checked=window_checked)
        if isinstance(action, actions.QuizItem | actions.WorkedProblem):
            return await self.present(learner, action)
        ctx = self.context
        async with ctx.db.session() as session:
            user = await ctx.member(session, learner)
            if isinstance(action, actions.Next):
                if action.mode in actions.QUEUE_MODES:
                    reply = await self.review.next_in_queue(session, learner, user, action)
                elif action.mode == "test":
                    session_id = action.session_id or 0
                    reply = await self.tests.next_question(session, learner, user, session_id)
                else:
                    await session.commit()
                    return await self.practice.ask(
                        learner,
                        action.mode,
                        action.deck,
                        action.difficulty,
                        run_id=action.session_id,
                    )
                await session.commit()
                return reply
            prompt, item = await ctx.owned_prompt(session, action.prompt_id, user)
            if isinstance(action, actions.Hint):
                return await self.practice.hint(session, item, prompt)
            return await self.review.reveal(session, item, prompt)

    async def present(self, learner: Learner, action: actions.ItemAction) -> Reply:
        """Ask the item a chat answer's button names ("Quiz me on this", "Show a worked
        problem"), as a normal question: the answer is graded and scheduled as usual.

        Items the member's server cannot see, removed ones and (for a worked problem) items
        that are not practice problems are refused as no longer available.
        """
        async with self.context.db.session() as session:
            item = await self.context.load_item(session, action.item_id)
        visible = item.guild_id is None or item.guild_id == learner.guild_id
        worked = isinstance(action, actions.WorkedProblem)
        if not visible or (worked and item.kind != "practice"):
            raise NotFound(GONE)
        mode = "practice" if worked else actions.KIND_MODES.get(item.kind, "quiz")
        return await self.practice.present_item(learner, item.id, mode)
