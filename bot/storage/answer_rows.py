"""Small things both answer stores share, kept apart from the PostgreSQL driver.

What an answer is decided on (:class:`bot.core.answering.AnswerFacts`) is a core value;
both stores read their rows into it, so the rules (:func:`bot.core.answering.decide_answer`)
are written once.
"""

from __future__ import annotations

from sqlalchemy.engine import make_url


class StaleRead(Exception):
    """Raised by a job when a row it read changed before it wrote; the job runs again."""


def is_asyncpg_url(url: str) -> bool:
    """True for ``postgresql+asyncpg://`` URLs (the PostgreSQL lane talks to asyncpg directly).

    Kept here, away from :mod:`bot.storage.pg_lane`, so a SQLite deployment never imports
    the PostgreSQL driver.
    """
    parsed = make_url(url)
    return parsed.get_backend_name() == "postgresql" and parsed.get_driver_name() == "asyncpg"
