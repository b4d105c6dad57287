"""Members' own data: the service behind ``/export-me`` and ``/forget-me``.

Forgetting removes every row that belongs to the member and unlinks them from server data
(see :mod:`bot.storage.privacy`); the confirmation and its tokens are in
:mod:`bot.core.privacy`.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from bot.core.anki_model import AnkiReview
from bot.core.clock import Clock
from bot.core.content import AnyItem, parse_item
from bot.core.learners import Learner
from bot.core.privacy import (
    NOT_YOURS,
    NOTHING_STORED,
    DataExport,
    ForgetChoice,
    export_stamp,
)
from bot.core.replies import Reply, Tone, plural
from bot.core.scheduling import CardState
from bot.decks.anki_write import write_apkg
from bot.errors import NotYourQuestion
from bot.log import get_logger
from bot.storage import due_queue
from bot.storage import privacy as store
from bot.storage.db import Database

log = get_logger(__name__)


class PrivacyService:
    """Export and forget one member's data."""

    def __init__(self, db: Database, *, clock: Clock, media_dir: Path | None = None) -> None:
        self.db = db
        self.clock = clock
        #: Where imported pictures are (the package carries the ones the cards show).
        self.media_dir = media_dir

    async def export(self, learner: Learner) -> DataExport | None:
        """The member's data as a JSON file, or None when the bot stores nothing about them."""
        async with self.db.session() as session:
            user = await store.find_user(
                session, platform=learner.platform, external_id=learner.external_id
            )
            if user is None or user.id is None:
                return None
            data = await store.export_user(session, user_id=user.id)
            cards = await store.member_cards(session, user_id=user.id)
        now = self.clock.now()
        data["exported_at"] = now.isoformat()
        blob = json.dumps(data, ensure_ascii=False, indent=2).encode()
        stamp = export_stamp(now)
        deck = await asyncio.to_thread(self._cards_package, cards, now) if cards else None
        log.info("exported member %s (%d bytes, %d cards)", user.id, len(blob), len(cards))
        return DataExport(
            filename=f"study-tutor-data-{stamp}.json",
            data=blob,
            attempts=len(data["attempts"]),
            review_states=len(data["review_states"]),
            deck_filename=f"study-tutor-cards-{stamp}.apkg" if deck is not None else None,
            deck_data=deck,
        )

    def _cards_package(self, cards: Sequence[store.MemberCard], now: datetime) -> bytes:
        """The member's cards, with their scheduling and answers, as an ``.apkg``."""
        decks: dict[str, list[AnyItem]] = {}
        scheduling: dict[str, CardState] = {}
        history: dict[str, list[AnkiReview]] = {}
        keys: dict[tuple[str, str], str] = {}
        for card in cards:
            item = parse_item(card.item.payload)
            decks.setdefault(card.item.deck, []).append(item)
            keys[(card.item.deck, item.id)] = card.item.key
            scheduling[card.item.key] = due_queue.card_state(card.state)
            history[card.item.key] = [
                AnkiReview(at=at, ease=rating, kind=1, duration_ms=duration)
                for at, rating, duration in card.answers
                if 1 <= rating <= 4
            ]
        with tempfile.TemporaryDirectory(prefix="export-me-") as folder:
            path = Path(folder) / "cards.apkg"
            write_apkg(
                path,
                decks,
                media_dir=self.media_dir or Path(folder),
                title="Study Tutor",
                now=now,
                key_of=lambda deck, item: keys[(deck, item.id)],
                scheduling=scheduling,
                history=history,
            )
            return path.read_bytes()

    async def forget(self, learner: Learner) -> Reply:
        """Delete everything stored about the member, now (the caller asked for confirmation)."""
        async with self.db.session() as session:
            user = await store.find_user(
                session, platform=learner.platform, external_id=learner.external_id
            )
            if user is None or user.id is None:
                return Reply(text=NOTHING_STORED, tone=Tone.INFO, private=True)
            report = await store.forget_user(session, user_id=user.id)
        answers = report.deleted.get("attempts", 0)
        return Reply(
            title="Your data is deleted",
            text=(
                f"Done — I deleted your profile, {plural(answers, 'answer')} and all your review "
                "progress. If you study again, you'll start fresh."
            ),
            tone=Tone.SUCCESS,
            private=True,
        )

    async def act(self, learner: Learner, token: str) -> Reply:
        """A click on Delete everything / Cancel; only the member who asked may click."""
        choice = ForgetChoice.parse(token)
        if choice.owner != learner.external_id:
            raise NotYourQuestion(NOT_YOURS)
        if not choice.confirmed:
            return Reply(
                title="Nothing deleted",
                text="Your data is untouched.",
                tone=Tone.INFO,
                private=True,
            )
        return await self.forget(learner)
