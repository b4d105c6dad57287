"""The study services as one bundle, wired once by the composition root."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.replies import Reply
from bot.services.actions import ActionService
from bot.services.answers import AnswerService
from bot.services.decks import DeckService
from bot.services.practice import PracticeService
from bot.services.review import ReviewService
from bot.services.stats import StatsService
from bot.services.study_context import StudyContext
from bot.services.study_tests import StudyTestService
from bot.storage.answer_store import AnswerStore


@dataclass(frozen=True, slots=True)
class StudyServices:
    """Everything a member does while studying, one service per job."""

    context: StudyContext
    review: ReviewService
    practice: PracticeService
    tests: StudyTestService
    answers: AnswerService
    actions: ActionService
    stats: StatsService
    decks: DeckService

    @classmethod
    def build(cls, context: StudyContext, *, store: AnswerStore) -> StudyServices:
        """Wire the study services around one context and answer store."""
        review = ReviewService(context)
        practice = PracticeService(context)
        tests = StudyTestService(context)
        answers = AnswerService(context, store=store, tests=tests)
        return cls(
            context=context,
            review=review,
            practice=practice,
            tests=tests,
            answers=answers,
            actions=ActionService(
                context, review=review, practice=practice, tests=tests, answers=answers
            ),
            stats=StatsService(context),
            decks=DeckService(context.db),
        )

    @staticmethod
    def help_reply() -> Reply:
        """What the tutor does and how to start."""
        return DeckService.help()

    async def close(self) -> None:
        """Finish the answers in flight."""
        await self.answers.close()
