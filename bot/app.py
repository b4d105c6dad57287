"""The composition root: settings → database → services → an adapter.

Every entry point of ``python -m bot`` (the console, the Discord bot, ``health``,
``content`` and ``train``) starts here, so each setting means the same thing everywhere.
Nothing below this module reads the environment. The services, the database layer and
the lab are imported when an entry point needs them, so ``content check`` and a bad
setting answer without loading them.
"""

from __future__ import annotations

import random
import sys
import uuid
from typing import TYPE_CHECKING, Any

from bot.core.clock import Clock, SystemClock
from bot.core.deck_files import load_library
from bot.core.scheduling import SchedulerConfig
from bot.errors import TutorError
from bot.log import get_logger
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.exts.client import TutorBot
    from bot.services.container import Services
    from bot.services.study_context import StudyConfig
    from bot.training.pool import PoolConfig

log = get_logger(__name__)


def study_config(settings: Settings) -> StudyConfig:
    """The study services' settings from the process settings."""
    from bot.services.study_context import StudyConfig

    return StudyConfig(
        new_items_per_day=settings.new_items_per_day,
        timezone=settings.study_timezone,
        scheduler=SchedulerConfig(
            desired_retention=settings.desired_retention,
            enable_fuzzing=settings.fsrs_fuzzing,
        ),
    )


def lab_config(settings: Settings, *, console: bool = False) -> PoolConfig:
    """The TensorFlow worker pool from the ``TRAINING_*`` settings.

    The console has one member at one terminal, so it has no per-member cooldown and
    starts its worker on the first ``/train`` rather than at start-up.
    """
    from bot.training.pool import PoolConfig

    return PoolConfig(
        size=settings.training_workers,
        job_timeout_s=settings.training_job_timeout_s,
        max_queue=settings.training_max_queue,
        cooldown_s=0 if console else settings.training_cooldown_s,
        memory_limit_mb=settings.training_memory_limit_mb,
        warm_start=not console,
        idle_s=settings.training_idle_s,
    )


async def open_services(
    settings: Settings,
    *,
    clock: Clock | None = None,
    rng: random.Random | None = None,
    console: bool = False,
) -> Services:
    """Load the decks, open and migrate the database, sync the bundled items, wire services.

    Raises :class:`~bot.errors.ContentError` or :class:`~bot.errors.StorageError` with a
    one-line message when the content folder or the database cannot be used.
    """
    from bot.semantic.meaning import SentenceMeaning
    from bot.services.ask import AskService
    from bot.services.container import Services
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
    from bot.services.study_context import StudyContext
    from bot.storage.answer_store import open_answer_store
    from bot.storage.db import Database
    from bot.training.lab import TrainingLab

    library = load_library(settings.content_dir)
    for problem in library.problems:
        log.warning("content problem: %s", problem)
    clock = clock or SystemClock()
    db = Database(settings.database_url)
    try:
        await db.connect()
        meaning = SentenceMeaning(settings.grading_model)
        context = StudyContext(
            db, clock=clock, config=study_config(settings), rng=rng, meaning=meaning
        )
        store = open_answer_store(db.url, connections=settings.database_answer_connections)
        study = StudyServices.build(context, store=store)
        await study.decks.sync_content(library)
    except BaseException:
        await db.close()
        raise
    tz = settings.study_timezone
    server_settings = ServerSettingsService(
        db,
        clock=clock,
        default_timezone=tz,
        default_new_per_day=settings.new_items_per_day,
        default_retention=settings.desired_retention,
        retentions=context.retentions,
    )
    return Services(
        db=db,
        clock=clock,
        library=library,
        study=study,
        question_bank=QuestionBankService(db, clock=clock),
        deck_import=DeckImportService(
            db, clock=clock, srs=context.srs, media_dir=settings.media_path
        ),
        deck_export=DeckExportService(db, clock=clock, media_dir=settings.media_path),
        # The console's leaderboard also counts answers from before it had a local server.
        leaderboard=LeaderboardService(db, clock=clock, include_serverless=console),
        privacy=PrivacyService(db, clock=clock, media_dir=settings.media_path),
        server_settings=server_settings,
        member_settings=MemberSettingsService(context, server_settings=server_settings),
        reminders=ReminderService(db, clock=clock, default_timezone=tz),
        daily_quiz=DailyQuizService(
            db,
            clock=clock,
            presenter=study.practice,
            answers=study.actions,
            default_timezone=tz,
        ),
        ask=AskService(context, meaning=meaning),
        forecast=ForecastService(context),
        exam=ExamService(context),
        meaning=meaning,
        lab=(
            TrainingLab(lab_config(settings, console=console))
            if settings.training_workers > 0
            else None
        ),
    )


# -- entry points ---------------------------------------------------------------------------


def _say(line: str) -> None:
    """One line on stderr; text from files or settings cannot drive the terminal."""
    from bot.console.render import safe_text

    sys.stderr.write(f"{safe_text(line)}\n")


#: Exit code when the tutor cannot start (bad setting, database or content folder).
CANNOT_START = 2


async def run_console(settings: Settings, user: str) -> int:
    """The offline console on stdin/stdout for the local profile ``user``."""
    from bot.console.commands import console_app

    try:
        services = await open_services(settings, console=True)
    except TutorError as error:
        _say(error.message)
        return CANNOT_START
    try:
        app = console_app(services, user=user, data_dir=settings.database_dir)
        return await app.run()
    except TutorError as error:
        _say(error.message)
        return 1
    except Exception:
        incident = uuid.uuid4().hex[:8]
        log.exception("console stopped by an unexpected error %s", incident)
        sys.stderr.write(f"Something went wrong (id {incident}). Your saved answers are safe.\n")
        return 1
    finally:
        await services.close()


async def check_health(settings: Settings) -> int:
    """Open the database and load the decks; one line on the outcome (container health).

    Exit 1 means unhealthy (Docker's meaning); a bad setting never gets here (exit 2).
    """
    from bot.storage.db import Database

    try:
        database = Database(settings.database_url)
    except TutorError as error:
        _say(f"unhealthy: {error.message}")
        return 1
    try:
        library = load_library(settings.content_dir)
        await database.connect()
    except TutorError as error:
        _say(f"unhealthy: {error.message}")
        return 1
    finally:
        await database.close()
    if library.problems:
        _say(f"unhealthy: {library.problems[0]}")
        return 1
    sys.stdout.write(f"ok: {len(library.decks)} decks, database reachable\n")
    return 0


def discord_bot(
    settings: Settings, *, services: Services | None = None, **options: Any
) -> TutorBot:
    """The Discord adapter, opening its services in its own event loop at start-up."""
    from bot.exts.client import TutorBot

    async def opener() -> Services:
        return await open_services(settings)

    return TutorBot(settings, open_services=opener, services=services, **options)


def run_discord(settings: Settings) -> int:
    """Connect to Discord and serve until stopped; the exit code."""
    from bot.exts.runner import run_discord as serve

    return serve(settings, discord_bot)


def run_content(settings: Settings, argv: list[str]) -> int:
    """``python -m bot content check|export`` on the configured content folder."""
    from bot.console.content_cli import main

    return main(argv, content_dir=settings.content_dir, model=settings.grading_model)


def run_grade(settings: Settings, argv: list[str]) -> int:
    """``python -m bot grade ITEM_ID "answer"``: grade one explanation like the bot does."""
    from bot.console.grade_cli import main

    return main(argv, content_dir=settings.content_dir, model=settings.grading_model)


def run_train(settings: Settings, argv: list[str]) -> int:
    """``python -m bot train``: one TensorFlow job with the ``TRAINING_*`` limits."""
    from bot.training.cli import main

    return main(argv, config=lab_config(settings, console=True))
