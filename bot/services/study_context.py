"""What every study service shares: the database, the clock, settings and an item cache.

One :class:`StudyContext` is built by the composition root (:mod:`bot.app`) and handed to
the review, practice, test, answer and stats services, so they agree on "now", on the
scheduler and on which server's questions a member sees.
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

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
from bot.storage.guild_settings import server_retention, study_preferences
from bot.storage.member_settings import member_retention
from bot.storage.models import Item, Prompt, User

#: Validated items kept in memory (by id and content hash, so an edit is noticed).
ITEM_CACHE_SIZE = 5000
#: Members' effective retentions kept in memory, and for how long (another process, such
#: as a second shard or the console on the same database, may change them).
RETENTION_CACHE_SIZE = 10_000
RETENTION_TTL_S = 60.0

#: Where a member's effective retention comes from.
RetentionSource = Literal["member", "server", "default"]
FROM_MEMBER: RetentionSource = "member"
FROM_SERVER: RetentionSource = "server"
FROM_DEFAULT: RetentionSource = "default"
#: A :class:`RetentionCache` entry's key: platform, member id, server id (None: DMs).
CacheKey = tuple[str, str, int | None]


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


@dataclass(frozen=True, slots=True)
class EffectiveRetention:
    """The desired retention that applies to a member's answers in one place, and why."""

    value: float
    #: :data:`FROM_MEMBER`, :data:`FROM_SERVER` or :data:`FROM_DEFAULT`.
    source: RetentionSource


class RetentionCache:
    """Effective retentions by (platform, member id, server id), each kept for ``ttl_s``.

    A change made in this process drops the entries it affects at once (:meth:`forget_member`,
    :meth:`forget_server`); the time limit covers changes made by other processes.
    """

    def __init__(
        self,
        *,
        ttl_s: float = RETENTION_TTL_S,
        size: int = RETENTION_CACHE_SIZE,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl_s = ttl_s
        self.size = size
        self._monotonic = monotonic
        #: Counts the changes: a value read before one is not cached after it.
        self.generation = 0
        #: (platform, member id, server id) → (when stored, value)
        self._entries: OrderedDict[CacheKey, tuple[float, EffectiveRetention]] = OrderedDict()

    @staticmethod
    def key(learner: Learner) -> CacheKey:
        """Where an entry is kept: the member on one platform, in one server (or DMs)."""
        return learner.platform, learner.external_id, learner.guild_id

    def get(self, learner: Learner) -> EffectiveRetention | None:
        """The cached value, if there is one younger than the time limit."""
        key = self.key(learner)
        found = self._entries.get(key)
        if found is None:
            return None
        stored_at, value = found
        if self._monotonic() - stored_at >= self.ttl_s:
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return value

    def put(
        self, learner: Learner, value: EffectiveRetention, *, generation: int | None = None
    ) -> None:
        """Remember ``value`` for this member here (the oldest entry goes when full).

        With ``generation`` (:attr:`generation` when the value was read), a value read
        before a change made since is not kept.
        """
        if generation is not None and generation != self.generation:
            return
        self._entries[self.key(learner)] = (self._monotonic(), value)
        self._entries.move_to_end(self.key(learner))
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def forget_member(self, learner: Learner) -> None:
        """Drop every entry of this member (their own value applies in every server)."""
        self.generation += 1
        stale = [k for k in self._entries if k[:2] == (learner.platform, learner.external_id)]
        for key in stale:
            del self._entries[key]

    def forget_server(self, guild_id: int) -> None:
        """Drop every entry of this server (its value changed)."""
        self.generation += 1
        for key in [k for k in self._entries if k[2] == guild_id]:
            del self._entries[key]


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
        #: Members' effective desired retentions (see :meth:`retention_for`).
        self.retentions = RetentionCache()
        #: Retention lookups in flight, by the cache key: one query per member at a time.
        self._retention_loading: dict[CacheKey, asyncio.Future[EffectiveRetention]] = {}
        self._schedulers: dict[float, SpacedRepetition] = {
            round(self.config.scheduler.desired_retention, 4): self.srs
        }
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

    @property
    def default_retention(self) -> float:
        """The bot's ``DESIRED_RETENTION``: for members and servers that chose none."""
        return self.config.scheduler.desired_retention

    def srs_for(self, retention: float) -> SpacedRepetition:
        """The scheduler for a desired retention (one per distinct value, made once)."""
        key = round(retention, 4)
        found = self._schedulers.get(key)
        if found is None:
            config = replace(self.config.scheduler, desired_retention=key)
            found = self._schedulers.setdefault(key, SpacedRepetition(config))
        return found

    async def retention_for(self, learner: Learner) -> EffectiveRetention:
        """The desired retention of ``learner``'s answers where they are, and its source.

        The member's own ``/me retention`` wins, then the server's ``/settings retention``,
        then the bot's default. Cached per member and server (see :class:`RetentionCache`);
        answers that arrive together for one member share one lookup, so a rush of clicks
        costs one query per member, not one per click.
        """
        cached = self.retentions.get(learner)
        if cached is not None:
            return cached
        key = RetentionCache.key(learner)
        loading = self._retention_loading.get(key)
        if loading is None:
            loading = asyncio.ensure_future(self._load_retention(learner))
            self._retention_loading[key] = loading
            loading.add_done_callback(lambda _done: self._retention_loading.pop(key, None))
        return await asyncio.shield(loading)

    async def _load_retention(self, learner: Learner) -> EffectiveRetention:
        generation = self.retentions.generation
        async with self.db.session() as session:
            own = await member_retention(
                session, platform=learner.platform, external_id=learner.external_id
            )
            server = await server_retention(session, guild_id=learner.guild_id)
        if own is not None:
            found = EffectiveRetention(own, FROM_MEMBER)
        elif server is not None:
            found = EffectiveRetention(server, FROM_SERVER)
        else:
            found = EffectiveRetention(self.default_retention, FROM_DEFAULT)
        self.retentions.put(learner, found, generation=generation)
        return found

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
