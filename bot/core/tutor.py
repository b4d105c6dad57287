"""TRANSITIONAL shim (deleted before this change lands): the old ``Tutor`` API over the
new study services, so code being moved in parallel keeps working meanwhile."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from bot.core.clock import Clock, SystemClock
from bot.core.content import DeckLibrary
from bot.core.learners import Learner
from bot.core.replies import Reply
from bot.core.scheduling import SchedulerConfig
from bot.services.study import StudyServices
from bot.services.study_context import StudyConfig, StudyContext
from bot.storage.answer_store import open_answer_store
from bot.storage.db import Database


@dataclass(frozen=True, slots=True)
class TutorConfig:
    """Engine settings."""

    new_items_per_day: int = 20
    timezone: str = "UTC"
    scheduler: SchedulerConfig = field(default_factory=SchedulerConfig)


class Tutor:
    """Delegates to :class:`StudyServices`."""

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
        cfg = config or TutorConfig()
        context = StudyContext(
            db,
            clock=self.clock,
            config=StudyConfig(cfg.new_items_per_day, cfg.timezone, cfg.scheduler),
            rng=rng,
        )
        self.study = StudyServices.build(
            context, store=open_answer_store(db.url, connections=answer_connections)
        )

    async def close(self) -> None:
        await self.study.close()

    async def load_content(self, library: DeckLibrary) -> Any:
        return await self.study.decks.sync_content(library)

    async def act(
        self, learner: Learner, token: str, text: str | None = None, *, window_checked: bool = False
    ) -> Reply:
        return await self.study.actions.act(learner, token, text, window_checked=window_checked)

    async def review(self, learner: Learner) -> Reply:
        return await self.study.review.review(learner)

    async def ask(
        self,
        learner: Learner,
        mode: str,
        deck: str | None = None,
        difficulty: str | None = None,
        *,
        shared: bool = False,
    ) -> Reply:
        return await self.study.practice.ask(learner, mode, deck, difficulty, shared=shared)

    async def quiz(
        self,
        learner: Learner,
        deck: str | None = None,
        difficulty: str | None = None,
        *,
        shared: bool = False,
    ) -> Reply:
        return await self.study.practice.quiz(learner, deck, difficulty, shared=shared)

    async def practice(
        self, learner: Learner, deck: str | None = None, difficulty: str | None = None
    ) -> Reply:
        return await self.study.practice.practice(learner, deck, difficulty)

    async def explain(self, learner: Learner, deck: str | None = None) -> Reply:
        return await self.study.practice.explain(learner, deck)

    async def present_item(
        self, learner: Learner, item_id: int, mode: str, *, shared: bool = False
    ) -> Reply:
        return await self.study.practice.present_item(learner, item_id, mode, shared=shared)

    async def start_test(self, learner: Learner, deck: str | None = None) -> Reply:
        return await self.study.tests.start_test(learner, deck)

    async def stats(self, learner: Learner, *, member: Learner | None = None) -> Reply:
        return await self.study.stats.stats(learner, member=member)

    async def stats_summary(self, learner: Learner, *, member: Learner | None = None) -> Any:
        return await self.study.stats.stats_summary(learner, member=member)

    async def decks(self, learner: Learner) -> list[str]:
        return await self.study.decks.decks(learner)

    async def deck_listing(self, learner: Learner) -> Reply:
        return await self.study.decks.deck_listing(learner)

    @staticmethod
    def help() -> Reply:
        return StudyServices.help_reply()
