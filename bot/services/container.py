"""Every service of one running bot, built once by the composition root (:mod:`bot.app`)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.clock import Clock
from bot.core.deck_files import DeckLibrary
from bot.semantic.meaning import SentenceMeaning
from bot.services.ask import AskService
from bot.services.daily_quiz import DailyQuizService
from bot.services.deck_export import DeckExportService
from bot.services.deck_import import DeckImportService
from bot.services.exam import ExamService
from bot.services.forecast import ForecastService
from bot.services.leaderboard import LeaderboardService
from bot.services.member_settings import MemberSettingsService
from bot.services.privacy import PrivacyService
from bot.services.question_bank import QuestionBankService
from bot.services.reminders import ReminderService
from bot.services.server_settings import ServerSettingsService
from bot.services.study import StudyServices
from bot.storage.db import Database
from bot.training.lab import TrainingLab


@dataclass(frozen=True, slots=True)
class Services:
    """What an adapter (the Discord bot or the console) talks to."""

    db: Database
    clock: Clock
    library: DeckLibrary
    study: StudyServices
    question_bank: QuestionBankService
    deck_import: DeckImportService
    deck_export: DeckExportService
    leaderboard: LeaderboardService
    privacy: PrivacyService
    server_settings: ServerSettingsService
    #: Desired retention: ``/me retention`` and ``/settings retention``, previewed first.
    member_settings: MemberSettingsService
    reminders: ReminderService
    daily_quiz: DailyQuizService
    #: The tutor answering questions in plain chat from the server's own material.
    ask: AskService
    #: ``/forecast``: reviews due per day, predicted recall and the cards at risk.
    forecast: ForecastService
    #: ``/exam``: an exam date, its countdown and the plan to be ready for it.
    exam: ExamService
    #: The shared sentence model (lazily loaded): explain grading and the tutor's retrieval.
    meaning: SentenceMeaning
    #: The TensorFlow lab, or None when ``TRAINING_WORKERS=0`` turns ``/train`` off.
    lab: TrainingLab | None

    async def close(self) -> None:
        """Stop the lab's workers, finish queued answers, then close the database."""
        try:
            if self.lab is not None:
                await self.lab.stop()
            await self.study.close()
        finally:
            await self.db.close()
