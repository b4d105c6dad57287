"""Members' own data: the service behind ``/export-me`` and ``/forget-me``.

Forgetting removes every row that belongs to the member and unlinks them from server data
(see :mod:`bot.storage.privacy`); the confirmation and its tokens are in
:mod:`bot.core.privacy`.
"""

from __future__ import annotations

import json

from bot.core.clock import Clock
from bot.core.learners import Learner
from bot.core.privacy import (
    NOT_YOURS,
    NOTHING_STORED,
    DataExport,
    ForgetChoice,
    export_stamp,
)
from bot.core.replies import Reply, Tone, plural
from bot.errors import NotYourQuestion
from bot.log import get_logger
from bot.storage import privacy as store
from bot.storage.db import Database

log = get_logger(__name__)


class PrivacyService:
    """Export and forget one member's data."""

    def __init__(self, db: Database, *, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    async def export(self, learner: Learner) -> DataExport | None:
        """The member's data as a JSON file, or None when the bot stores nothing about them."""
        async with self.db.session() as session:
            user = await store.find_user(
                session, platform=learner.platform, external_id=learner.external_id
            )
            if user is None or user.id is None:
                return None
            data = await store.export_user(session, user_id=user.id)
        data["exported_at"] = self.clock.now().isoformat()
        blob = json.dumps(data, ensure_ascii=False, indent=2).encode()
        stamp = export_stamp(self.clock.now())
        log.info("exported member %s (%d bytes)", user.id, len(blob))
        return DataExport(
            filename=f"study-tutor-data-{stamp}.json",
            data=blob,
            attempts=len(data["attempts"]),
            review_states=len(data["review_states"]),
        )

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
