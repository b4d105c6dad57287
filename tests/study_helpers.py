"""Building the study services in tests, as the composition root does."""

from __future__ import annotations

import random

from bot.core.clock import Clock
from bot.core.scheduling import SchedulerConfig
from bot.services.study import StudyServices
from bot.services.study_context import StudyConfig, StudyContext
from bot.storage.answer_store import open_answer_store
from bot.storage.db import Database


def build_study(
    db: Database,
    clock: Clock,
    *,
    new_items_per_day: int = 20,
    seed: int = 7,
    fuzzing: bool = False,
    timezone: str = "UTC",
) -> StudyServices:
    """Study services over ``db`` with fuzz-free FSRS and a seeded RNG (close them after)."""
    context = StudyContext(
        db,
        clock=clock,
        config=StudyConfig(
            new_items_per_day=new_items_per_day,
            timezone=timezone,
            scheduler=SchedulerConfig(enable_fuzzing=fuzzing),
        ),
        rng=random.Random(seed),
    )
    return StudyServices.build(context, store=open_answer_store(db.url))
