"""Building the engine the adapters share: settings → content → database → :class:`Tutor`."""

from __future__ import annotations

import random
from dataclasses import dataclass

from bot.core.clock import Clock
from bot.core.content import DeckLibrary, load_library
from bot.core.scheduling import SchedulerConfig
from bot.core.tutor import Tutor, TutorConfig
from bot.log import get_logger
from bot.settings import Settings
from bot.storage.db import Database

log = get_logger(__name__)


@dataclass(slots=True)
class Engine:
    """Everything an adapter needs: the tutor, its database and the loaded decks."""

    tutor: Tutor
    db: Database
    library: DeckLibrary

    async def close(self) -> None:
        """Finish queued answers, then close the database."""
        await self.tutor.close()
        await self.db.close()


def tutor_config(settings: Settings) -> TutorConfig:
    """The engine's settings from the process settings."""
    return TutorConfig(
        new_items_per_day=settings.new_items_per_day,
        timezone=settings.study_timezone,
        scheduler=SchedulerConfig(
            desired_retention=settings.desired_retention,
            enable_fuzzing=settings.fsrs_fuzzing,
        ),
    )


async def open_engine(
    settings: Settings, *, clock: Clock | None = None, rng: random.Random | None = None
) -> Engine:
    """Load the decks, open and migrate the database, and sync the bundled items.

    Raises :class:`~bot.errors.ContentError` or :class:`~bot.errors.StorageError` with a
    one-line message when the content folder or the database cannot be used.
    """
    library = load_library(settings.content_dir)
    for problem in library.problems:
        log.warning("content problem: %s", problem)
    db = Database(settings.database_url)
    try:
        await db.connect()
        tutor = Tutor(
            db,
            clock=clock,
            config=tutor_config(settings),
            rng=rng,
            answer_connections=settings.database_answer_connections,
        )
        await tutor.load_content(library)
    except BaseException:
        await db.close()
        raise
    return Engine(tutor=tutor, db=db, library=library)
