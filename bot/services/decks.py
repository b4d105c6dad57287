"""The decks a member can study, the bundled content's sync, and the help text."""

from __future__ import annotations

from bot.core.deck_files import DeckLibrary
from bot.core.learners import Learner
from bot.core.replies import Reply
from bot.core.study_replies import deck_listing_reply, help_reply
from bot.log import get_logger
from bot.storage import crud
from bot.storage.db import Database

log = get_logger(__name__)


class DeckService:
    """Deck names and sizes as a member sees them, and the bundled decks' sync."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def sync_content(self, library: DeckLibrary) -> crud.SyncReport:
        """Bring the bundled items in the database in line with ``library``.

        Holds the database's start-up lock, so processes starting together take turns and
        the second one finds the items the first one added.
        """
        async with self.db.exclusive_session() as session:
            report = await crud.sync_bundled_items(session, library=library)
            await session.commit()
        log.info("content synced: %s", report)
        return report

    async def decks(self, learner: Learner) -> list[str]:
        """Deck names visible to the member (for autocomplete and listings)."""
        async with self.db.session() as session:
            return await crud.deck_names(session, guild_id=learner.guild_id)

    async def deck_listing(self, learner: Learner) -> Reply:
        """The decks and how many items each has."""
        async with self.db.session() as session:
            sizes = await crud.deck_sizes(session, guild_id=learner.guild_id)
        return deck_listing_reply(sizes)

    @staticmethod
    def help() -> Reply:
        """What the tutor does and how to start."""
        return help_reply()
