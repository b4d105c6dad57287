"""What every study service shares: the database, the clock, settings and an item cache.

One :class:`StudyContext` is built by the composition root (:mod:`bot.app`) and handed to
the review, practice, test, answer and stats services, so they agree on "now", on the
scheduler and on which server's questions a member sees.
"""

from __future__ import annotations

import random
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core import actions
from bot.core.answering import NOT_YOURS, PromptRow
from bot.core.clock import Clock, start_of_local_day
from bot.core.content import DIFFICULTIES, parse_item
from bot.core.learners import Learner
from bot.core.scheduling import SchedulerConfig, SpacedRepetition
from bot.core.sessions import StudyItem
from bot.errors import BadInput, ExpiredAction, NotFound, NotYourQuestion, StorageError
from bot.semantic.meaning import SentenceMeaning
from bot.storage import crud
from bot.storage.db import Database
from bot.storage.guild_settings import study_preferences
from bot.storage.models import Item, Prompt, User

#: Validated items kept in memory (by id and content hash, so an edit is noticed).
ITEM_CACHE_SIZE = 5000


@dataclass(frozen=True, slots=True)
class StudyConfig:
    """Study settings for servers that set none of their own."""

    new_items_per_day: int = 20
    timezone: str = "UTC"
    scheduler: SchedulerConfig = field(default_factory=SchedulerConfig)


class ItemCache:
    """Validated :class:`StudyItem`s by id and content hash (thread-safe: the SQLite
    answer store decides answers on its own thread)."""

    def __init__(self, size: int = ITEM_CACHE_SIZE) -> None:
        self.size = size
        self._items: OrderedDict[tuple[int, str], StudyItem] = OrderedDict()
        self._lock = threading.Lock()

    def get(
        self,
        item_id: int,
        deck: str,
        guild_id: int | None,
        payload: dict[str, Any],
        content_hash: str,
    ) -> StudyItem:
        """The item for these stored values, parsed once per content version."""
        key = (item_id, content_hash)
        with self._lock:
            cached = self._items.get(key)
            if cached is not None:
                self._items.move_to_end(key)
                return cached
        cached = StudyItem(id=item_id, deck=deck, content=parse_item(payload), guild_id=guild_id)
        with self._lock:
            self._items[key] = cached
            if len(self._items) > self.size:
                self._items.popitem(last=False)
        return cached

    def of_row(self, row: Item) -> StudyItem:
        """The validated content of a stored item."""
        if row.id is None:
            raise StorageError("An item without an id cannot be studied.")
        return self.get(row.id, row.deck, row.guild_id, row.payload, row.content_hash)

    def of_prompt(self, row: PromptRow) -> StudyItem:
        """The item a prompt shows."""
        return self.get(
            row.item_id, row.item_deck, row.item_guild_id, row.item_payload, row.item_hash
        )


class StudyContext:
    """The collaborators and small lookups every study service uses."""

    def __init__(
        self,
        db: Database,
        *,
        clock: Clock,
        config: StudyConfig | None = None,
        rng: random.Random | None = None,
        meaning: SentenceMeaning | None = None,
    ) -> None:
        self.db = db
        #: The shared sentence model (loaded on first use) that grades explanations by
        #: meaning and finds the tutor's answers.
        self.meaning = meaning or SentenceMeaning()
        self.clock = clock
        self.config = config or StudyConfig()
        self.rng = rng or random.Random()
        self.srs = SpacedRepetition(self.config.scheduler)
        self.items = ItemCache()
        self._known_guilds: set[int] = set()

    def now(self) -> datetime:
        """The current time from the clock."""
        return self.clock.now()

    def today_start(self, timezone: str | None = None) -> datetime:
        """Midnight of today in ``timezone`` (default: the configured one)."""
        return start_of_local_day(self.now(), timezone or self.config.timezone)

    def knows_guild(self, guild_id: int | None) -> bool:
        """True when the server's row is known to exist (or there is no server)."""
        return guild_id is None or guild_id in self._known_guilds

    async def member(self, session: AsyncSession, learner: Learner) -> User:
        """The member's row (created on first sight), making sure their server has one."""
        if learner.guild_id is not None and learner.guild_id not in self._known_guilds:
            await crud.ensure_guild(session, guild_id=learner.guild_id, name=learner.guild_name)
            # Server rows are never deleted, so each needs checking once per process.
            self._known_guilds.add(learner.guild_id)
        return await crud.get_or_create_user(
            session,
            platform=learner.platform,
            external_id=learner.external_id,
            display_name=learner.display_name,
        )

    async def study_preferences(self, session: AsyncSession, learner: Learner) -> tuple[str, int]:
        """The time zone for "today" and the daily new-card cap where ``learner`` studies.

        A server's own ``/settings timezone`` and ``/settings new-per-day`` win; DMs, the
        console and servers that chose nothing get the bot's defaults.
        """
        timezone, new_per_day = await study_preferences(session, guild_id=learner.guild_id)
        return (
            timezone or self.config.timezone,
            self.config.new_items_per_day if new_per_day is None else new_per_day,
        )

    async def load_item(self, session: AsyncSession, item_id: int) -> StudyItem:
        """A stored item by id; an expired-button error when it is gone."""
        row = await session.get(Item, item_id)
        if row is None:
            raise ExpiredAction(actions.EXPIRED_MESSAGE)
        return self.items.of_row(row)

    async def owned_prompt(
        self, session: AsyncSession, prompt_id: int, user: User
    ) -> tuple[Prompt, StudyItem]:
        """The prompt a button refers to and its item (one query), if it is this member's."""
        found = await crud.prompt_with_item(session, prompt_id=prompt_id)
        if found is None:
            raise ExpiredAction(actions.EXPIRED_MESSAGE)
        prompt, row = found
        if prompt.user_id is not None and prompt.user_id != user.id:
            raise NotYourQuestion(NOT_YOURS)
        return prompt, self.items.of_row(row)

    async def check_filters(
        self, session: AsyncSession, learner: Learner, deck: str | None, difficulty: str | None
    ) -> tuple[str | None, str | None]:
        """The deck and difficulty a member typed, cleaned; friendly errors when unknown."""
        deck = (deck or "").strip() or None
        difficulty = (difficulty or "").strip().casefold() or None
        if difficulty is not None and difficulty not in DIFFICULTIES:
            raise BadInput("Difficulty must be easy, medium or hard.")
        if deck is not None:
            names = await crud.deck_names(session, guild_id=learner.guild_id)
            if deck not in names:
                listing = ", ".join(names) or "none yet"
                raise NotFound(f"There is no deck called '{deck[:60]}'. Decks: {listing}.")
        return deck, difficulty

    async def new_prompt(
        self,
        session: AsyncSession,
        item: StudyItem,
        user: User | None,
        learner: Learner,
        mode: str,
        *,
        session_id: int | None = None,
        position: int | None = None,
    ) -> Prompt:
        """Record that ``item`` is shown (``user`` None: open to every member)."""
        return await crud.create_prompt(
            session,
            item_id=item.id,
            user_id=user.id if user else None,
            guild_id=learner.guild_id,
            mode=mode,
            now=self.now(),
            session_id=session_id,
            position=position,
        )


def user_id_of(user: User) -> int:
    """A stored member's id (rows read from the database always have one)."""
    if user.id is None:
        raise StorageError("A member row without an id was read; the database may be damaged.")
    return user.id


def prompt_id_of(prompt: Prompt) -> int:
    """A stored prompt's id."""
    if prompt.id is None:
        raise StorageError("A prompt without an id was read; the database may be damaged.")
    return prompt.id
