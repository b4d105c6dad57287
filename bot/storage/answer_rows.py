"""What the answer lanes read before an answer is graded, whatever the database.

Both fast lanes (:mod:`bot.storage.answer_sql` on SQLite, :mod:`bot.storage.pg_answer_sql`
on PostgreSQL) and the ORM path turn their rows into these plain values, so the rules that
decide an answer (:meth:`bot.core.tutor.Tutor._decide_answer`) are written once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.engine import make_url

from bot.core.scheduling import CardState
from bot.storage.models import Item, Prompt


class StaleRead(Exception):
    """Raised by a job when a row it read changed before it wrote; the job runs again."""


def is_asyncpg_url(url: str) -> bool:
    """True for ``postgresql+asyncpg://`` URLs (the PostgreSQL lane talks to asyncpg directly).

    Kept here, away from :mod:`bot.storage.pg_lane`, so a SQLite deployment never imports
    the PostgreSQL driver.
    """
    parsed = make_url(url)
    return parsed.get_backend_name() == "postgresql" and parsed.get_driver_name() == "asyncpg"


@dataclass(frozen=True, slots=True)
class PromptRow:
    """A prompt and the item it shows."""

    id: int
    item_id: int
    user_id: int | None
    guild_id: int | None
    mode: str
    session_id: int | None
    position: int | None
    presented_at: datetime
    revealed_at: datetime | None
    item_deck: str
    item_guild_id: int | None
    item_payload: dict[str, Any]
    item_hash: str

    @classmethod
    def from_models(cls, prompt: Prompt, item: Item) -> PromptRow:
        """The same values from ORM objects (the fallback path)."""
        assert prompt.id is not None
        return cls(
            id=prompt.id,
            item_id=prompt.item_id,
            user_id=prompt.user_id,
            guild_id=prompt.guild_id,
            mode=prompt.mode,
            session_id=prompt.session_id,
            position=prompt.position,
            presented_at=prompt.presented_at,
            revealed_at=prompt.revealed_at,
            item_deck=item.deck,
            item_guild_id=item.guild_id,
            item_payload=item.payload,
            item_hash=item.content_hash,
        )


@dataclass(frozen=True, slots=True)
class AnswerFacts:
    """Everything an answer is decided on: who answers, what was asked, their card."""

    #: The answering member's row id (created on first sight).
    user_id: int
    #: The prompt the button refers to, or None when it does not exist (any more).
    prompt: PromptRow | None
    #: The member's card for the prompt's item, or None before their first review.
    card: CardState | None
