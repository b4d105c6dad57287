"""Answering: grade, review the card with FSRS and log the attempt, exactly once."""

from __future__ import annotations

import asyncio

from bot.core import actions
from bot.core.answering import (
    MAX_EXPLANATION_CHARS,
    AnswerAction,
    AnswerRequest,
    decide_answer,
)
from bot.core.learners import Learner
from bot.core.replies import Reply
from bot.core.study_replies import answer_feedback, next_choice
from bot.services.study_context import StudyContext
from bot.services.study_tests import StudyTestService
from bot.storage.answer_store import AnswerStore


class AnswerService:
    """Takes a member's answer and replies with feedback and what comes next."""

    def __init__(
        self, context: StudyContext, *, store: AnswerStore, tests: StudyTestService
    ) -> None:
        self.context = context
        self.store = store
        self.tests = tests

    async def submit(
        self,
        learner: Learner,
        action: AnswerAction,
        text: str | None = None,
        *,
        window_checked: bool = False,
    ) -> Reply:
        """Grade an answer, update the member's card and log the attempt, exactly once.

        Answers to a server's shared daily-quiz questions are accepted only with
        ``window_checked`` (the daily quiz checks its answer window first).
        """
        ctx = self.context
        if (
            isinstance(action, actions.SubmitExplanation)
            and text
            and text.strip()
            and len(text) <= MAX_EXPLANATION_CHARS
        ):
            # The sentence model runs off the event loop; the grading inside the answer
            # store then only reads cached vectors.
            await asyncio.to_thread(ctx.meaning.prepare, text)
        request = AnswerRequest(learner, action, text, ctx.now(), window_checked)
        if not ctx.knows_guild(learner.guild_id):
            async with ctx.db.session() as session:
                await ctx.member(session, learner)
                await session.commit()
        # The answer store reads the member's (else the server's) desired retention with the
        # card; ``srs_for`` gives the scheduler for it.
        plan = await self.store.record(
            request.lookup(),
            lambda facts: decide_answer(
                request,
                facts,
                item_of=ctx.items.of_prompt,
                srs=ctx.srs,
                explain_grader=ctx.meaning.grade,
                srs_for=ctx.srs_for,
            ),
        )
        outcome = plan.outcome
        out = answer_feedback(outcome, request.now)
        prompt = outcome.prompt
        if prompt.mode == "test" and await self.tests.add_progress(prompt, out):
            return out.build()
        choice = next_choice(prompt.mode, session_id=prompt.session_id, deck=outcome.item.deck)
        if choice is not None:
            out.choices.append(choice)
        return out.build()

    async def close(self) -> None:
        """Finish the answers in flight."""
        await self.store.close()
