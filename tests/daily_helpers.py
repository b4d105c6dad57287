"""Members, a server and service builders shared by the daily-quiz, settings and reminder
service tests."""

from __future__ import annotations

import random
from datetime import UTC, datetime

from bot.core.clock import Clock
from bot.core.learners import Learner
from bot.services.daily_quiz import DailyQuizService
from bot.services.server_settings import ServerSettingsService
from bot.services.study import StudyServices
from bot.storage.db import Database

GUILD = 4242


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def member(name: str, number: int) -> Learner:
    return Learner(
        platform="discord",
        external_id=str(number),
        display_name=name,
        guild_id=GUILD,
        guild_name="Study Hall",
    )


ADMIN = member("Alice", 1)
BOB = member("Bob", 2)
CAROL = member("Carol", 3)


def daily_quiz_service(db: Database, study: StudyServices, clock: Clock) -> DailyQuizService:
    """The daily quiz over ``db``, showing and grading questions with ``tutor``."""
    return DailyQuizService(
        db, clock=clock, presenter=study.practice, answers=study.actions, rng=random.Random(3)
    )


async def configure(settings: ServerSettingsService, **changes: object) -> None:
    """Turn the test server's daily quiz on: 09:00 UTC, one question, a 30-minute window."""
    options: dict[str, object] = {
        "channel_id": 77,
        "time_text": "09:00",
        "timezone": "UTC",
        "questions": 1,
        "window_minutes": 30,
    }
    options.update(changes)
    await settings.configure_daily(ADMIN, **options)  # type: ignore[arg-type]
