"""Async data-access functions. Each takes the session first and keyword arguments after.

Callers own the transaction (they commit); functions here only ``flush`` when they need
generated ids. Item tags are :mod:`bot.storage.tags`; members' cards and the due queue
:mod:`bot.storage.due_queue`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fsrs import State
from sqlalchemy import Integer, func
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.content import item_to_dict
from bot.core.deck_files import DeckLibrary
from bot.errors import StorageError
from bot.storage.models import (
    Attempt,
    AuditEntry,
    Guild,
    Item,
    Prompt,
    ReviewState,
    StudySession,
    User,
    utcnow,
)
from bot.storage.scope import visible_in
from bot.storage.tags import has_tag, tags_text


def bundled_key(deck: str, slug: str) -> str:
    """Unique key of a bundled item (``deck/slug``)."""
    return f"{deck}/{slug}"


def payload_hash(payload: dict[str, Any]) -> str:
    """Stable hash of an item's content (to notice edits on re-sync)."""
    blob = json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()
    return hashlib.sha256(blob).hexdigest()


# -- users and guilds ---------------------------------------------------------------------


def insert_for(session: AsyncSession, table: Any) -> Any:
    """A dialect-specific INSERT (SQLite or PostgreSQL) that supports ``ON CONFLICT``."""
    bind = session.get_bind()
    module = postgresql if bind.dialect.name == "postgresql" else sqlite
    return module.insert(table)


async def get_or_create_user(
    session: AsyncSession, *, platform: str, external_id: str, display_name: str = ""
) -> User:
    """The member's row, created on first sight (display name kept up to date).

    Safe when many tasks or processes see a new member at once: the insert skips an
    existing row instead of failing, so the surrounding transaction is never spoiled.
    """
    statement = select(User).where(User.platform == platform, User.external_id == external_id)
    user = (await session.exec(statement)).first()
    name = display_name[:100]
    if user is None:
        connection = await session.connection()
        await connection.execute(
            insert_for(session, User.__table__)  # type: ignore[attr-defined]
            .values(
                platform=platform, external_id=external_id, display_name=name, created_at=utcnow()
            )
            .on_conflict_do_nothing(index_elements=["platform", "external_id"])
        )
        user = (await session.exec(statement)).one()
    elif name and user.display_name != name:
        user.display_name = name
        session.add(user)
    return user


async def ensure_guild(session: AsyncSession, *, guild_id: int, name: str = "") -> Guild:
    """The server's row (with default settings), created on first sight (race-safe)."""
    guild = await session.get(Guild, guild_id)
    if guild is None:
        connection = await session.connection()
        await connection.execute(
            insert_for(session, Guild.__table__)  # type: ignore[attr-defined]
            .values(id=guild_id, name=name[:100], created_at=utcnow())
            .on_conflict_do_nothing(index_elements=["id"])
        )
        guild = await session.get(Guild, guild_id)
        if guild is None:  # inserted just above; only a concurrent delete could do this
            raise StorageError("The server's settings could not be saved. Try again.")
    return guild


# -- items --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SyncReport:
    """What a content sync changed."""

    added: int = 0
    updated: int = 0
    deactivated: int = 0
    unchanged: int = 0


async def sync_bundled_items(session: AsyncSession, *, library: DeckLibrary) -> SyncReport:
    """Make the bundled items in the database match the decks on disk.

    New items are added, edited ones updated in place (members keep their progress), and
    items no longer on disk deactivated (their attempts stay). Decks that failed to load
    are left as they are, so a broken file never wipes its items.
    """
    existing = {
        item.key: item
        for item in (await session.exec(select(Item).where(col(Item.guild_id).is_(None)))).all()
    }
    seen: set[str] = set()
    added = updated = unchanged = deactivated = 0
    now = utcnow()
    for deck, content in library.items():
        key = bundled_key(deck.deck, content.id)
        seen.add(key)
        payload = item_to_dict(content)
        digest = payload_hash(payload)
        row = existing.get(key)
        if row is None:
            session.add(
                Item(
                    key=key,
                    deck=deck.deck,
                    slug=content.id,
                    kind=content.kind,
                    difficulty=str(content.difficulty),
                    payload=payload,
                    content_hash=digest,
                    tags=tags_text(content),
                )
            )
            added += 1
        elif row.content_hash != digest or not row.active:
            row.payload = payload
            row.kind = content.kind
            row.difficulty = str(content.difficulty)
            row.content_hash = digest
            row.tags = tags_text(content)
            row.active = True
            row.updated_at = now
            session.add(row)
            updated += 1
        else:
            unchanged += 1
    loaded_decks = {deck.deck for deck in library.decks}
    failed_files = bool(library.problems)
    for key, row in existing.items():
        if key in seen or not row.active:
            continue
        # Only retire items of decks that loaded cleanly, or of decks that are gone while
        # every file loaded; a deck with a syntax error keeps its items.
        if row.deck in loaded_decks or not failed_files:
            row.active = False
            row.updated_at = now
            session.add(row)
            deactivated += 1
    await session.flush()
    return SyncReport(added=added, updated=updated, deactivated=deactivated, unchanged=unchanged)


@dataclass(frozen=True, slots=True)
class ItemRef:
    """An item's id, kind and difficulty: enough to choose questions without payloads."""

    id: int
    kind: str
    difficulty: str


def _item_filters(
    deck: str | None,
    kinds: Sequence[str] | None,
    difficulty: str | None,
    tag: str | None = None,
) -> list[Any]:
    """Active, and the optional deck, kinds, difficulty and tag (every choice of questions)."""
    conditions: list[Any] = [col(Item.active).is_(True)]
    if kinds:
        conditions.append(col(Item.kind).in_(list(kinds)))
    if deck:
        conditions.append(Item.deck == deck)
    if difficulty:
        conditions.append(Item.difficulty == difficulty)
    if tag:
        conditions.append(has_tag(tag))
    return conditions


def _active_filter(
    guild_id: int | None,
    deck: str | None,
    kinds: Sequence[str] | None,
    difficulty: str | None,
    tag: str | None = None,
) -> list[Any]:
    return [visible_in(guild_id), *_item_filters(deck, kinds, difficulty, tag)]


async def active_items(
    session: AsyncSession,
    *,
    guild_id: int | None,
    deck: str | None = None,
    kinds: Sequence[str] | None = None,
    difficulty: str | None = None,
    tag: str | None = None,
) -> list[Item]:
    """Active items visible in ``guild_id``, optionally filtered, in deck order.

    Loads every payload: for choosing among a big bank use :func:`count_active_items` with
    :func:`nth_active_item`, or :func:`active_item_refs`.
    """
    statement = select(Item).where(*_active_filter(guild_id, deck, kinds, difficulty, tag))
    return list((await session.exec(statement.order_by(col(Item.id)))).all())


def _pick_parts(
    guild_id: int | None,
    deck: str | None,
    kinds: Sequence[str] | None,
    difficulty: str | None,
    tag: str | None = None,
) -> list[list[Any]]:
    """The filter as one condition list per scope part, each a range of ``ix_items_pick``
    (a tag is checked on the rows of that range)."""
    common = _item_filters(deck, kinds, difficulty, tag)
    parts: list[Any] = [col(Item.guild_id).is_(None)]
    if guild_id is not None:
        parts.append(col(Item.guild_id) == guild_id)
    return [[part, *common] for part in parts]


async def _count_items(session: AsyncSession, conditions: list[Any]) -> int:
    statement = select(func.count()).select_from(Item).where(*conditions)
    return int((await session.exec(statement)).one())


async def count_active_items(
    session: AsyncSession,
    *,
    guild_id: int | None,
    deck: str | None = None,
    kinds: Sequence[str] | None = None,
    difficulty: str | None = None,
    tag: str | None = None,
) -> int:
    """How many items :func:`active_items` would return, counted on ``ix_items_pick``."""
    parts = _pick_parts(guild_id, deck, kinds, difficulty, tag)
    return sum([await _count_items(session, conditions) for conditions in parts])


async def nth_active_item(
    session: AsyncSession,
    index: int,
    *,
    guild_id: int | None,
    deck: str | None = None,
    kinds: Sequence[str] | None = None,
    difficulty: str | None = None,
    tag: str | None = None,
) -> Item | None:
    """Item number ``index`` (from 0, ``< count_active_items``) in a fixed order of the
    filtered items: the bundled ones, then the server's, each in ``ix_items_pick`` order.

    Walks the index to that position and reads that one item row: with a random ``index``
    this is a fair random pick that never loads the bank.
    """
    for conditions in _pick_parts(guild_id, deck, kinds, difficulty, tag):
        size = await _count_items(session, conditions)
        if index >= size:
            index -= size
            continue
        position = (
            select(col(Item.id))
            .where(*conditions)
            .order_by(col(Item.kind), col(Item.deck), col(Item.difficulty), col(Item.id))
            .offset(index)
            .limit(1)
        )
        item_id = (await session.exec(position)).first()
        return None if item_id is None else await session.get(Item, item_id)
    return None


async def active_item_refs(
    session: AsyncSession,
    *,
    guild_id: int | None,
    deck: str | None = None,
    kinds: Sequence[str] | None = None,
    difficulty: str | None = None,
    tag: str | None = None,
) -> list[ItemRef]:
    """:func:`active_items` as :class:`ItemRef` (no payloads), in deck order."""
    statement = (
        select(col(Item.id), col(Item.kind), col(Item.difficulty))
        .where(*_active_filter(guild_id, deck, kinds, difficulty, tag))
        .order_by(col(Item.id))
    )
    rows = (await session.exec(statement)).all()
    return [ItemRef(id=i or 0, kind=k, difficulty=d) for i, k, d in rows]


async def items_by_ids(session: AsyncSession, ids: Sequence[int]) -> list[Item]:
    """The items with these ids, in the order given (missing ones left out)."""
    if not ids:
        return []
    found = {
        item.id: item
        for item in (await session.exec(select(Item).where(col(Item.id).in_(list(ids))))).all()
    }
    return [found[i] for i in ids if i in found]


async def deck_names(session: AsyncSession, *, guild_id: int | None) -> list[str]:
    """Names of the decks with active items visible in ``guild_id``."""
    statement = (
        select(Item.deck)
        .where(col(Item.active).is_(True), visible_in(guild_id))
        .distinct()
        .order_by(Item.deck)
    )
    return list((await session.exec(statement)).all())


async def deck_sizes(session: AsyncSession, *, guild_id: int | None) -> dict[str, int]:
    """Active item count per visible deck."""
    statement = (
        select(Item.deck, func.count())
        .where(col(Item.active).is_(True), visible_in(guild_id))
        .group_by(Item.deck)
    )
    return {deck: int(count) for deck, count in (await session.exec(statement)).all()}


# -- prompts, sessions and attempts -------------------------------------------------------


async def create_prompt(
    session: AsyncSession,
    *,
    item_id: int,
    user_id: int | None,
    guild_id: int | None,
    mode: str,
    now: datetime,
    session_id: int | None = None,
    position: int | None = None,
) -> Prompt:
    """Record that an item was shown; its id goes into the buttons."""
    prompt = Prompt(
        item_id=item_id,
        user_id=user_id,
        guild_id=guild_id,
        mode=mode,
        session_id=session_id,
        position=position,
        presented_at=now,
    )
    session.add(prompt)
    await session.flush()
    return prompt


async def prompt_with_item(session: AsyncSession, *, prompt_id: int) -> tuple[Prompt, Item] | None:
    """A prompt and the item it shows, in one query."""
    statement = (
        select(Prompt, Item)
        .join(Item, col(Item.id) == col(Prompt.item_id))
        .where(Prompt.id == prompt_id)
    )
    row = (await session.exec(statement)).first()
    return (row[0], row[1]) if row is not None else None


async def find_session_prompt(
    session: AsyncSession, *, session_id: int, position: int
) -> Prompt | None:
    """The prompt already shown for a test position, if any."""
    statement = select(Prompt).where(Prompt.session_id == session_id, Prompt.position == position)
    return (await session.exec(statement.order_by(col(Prompt.id)))).first()


async def find_attempt(session: AsyncSession, *, prompt_id: int, user_id: int) -> Attempt | None:
    """The member's answer to a prompt, if they answered it."""
    statement = select(Attempt).where(Attempt.prompt_id == prompt_id, Attempt.user_id == user_id)
    return (await session.exec(statement)).first()


async def create_study_session(
    session: AsyncSession,
    *,
    user_id: int,
    kind: str,
    deck: str | None,
    item_ids: list[int],
    now: datetime,
    tag: str | None = None,
) -> StudySession:
    """Start a multi-question run (a test, or a run limited to ``tag``)."""
    run = StudySession(
        user_id=user_id, kind=kind, deck=deck, tag=tag, item_ids=item_ids, created_at=now
    )
    session.add(run)
    await session.flush()
    return run


async def session_attempts(
    session: AsyncSession, *, session_id: int, user_id: int
) -> list[tuple[Prompt, Attempt]]:
    """The answered prompts of a run, by position."""
    statement = (
        select(Prompt, Attempt)
        .join(Attempt, col(Attempt.prompt_id) == col(Prompt.id))
        .where(Prompt.session_id == session_id, Attempt.user_id == user_id)
        .order_by(col(Prompt.position))
    )
    return [(p, a) for p, a in (await session.exec(statement)).all()]


# -- audit log ---------------------------------------------------------------------------


async def record_audit(
    session: AsyncSession,
    *,
    guild_id: int,
    actor_user_id: int | None,
    action: str,
    details: dict[str, Any],
    now: datetime,
    item_id: int | None = None,
) -> AuditEntry:
    """Append one entry (who, what, when) to the server's audit log."""
    entry = AuditEntry(
        guild_id=guild_id,
        actor_user_id=actor_user_id,
        action=action,
        item_id=item_id,
        details=details,
        created_at=now,
    )
    session.add(entry)
    return entry


# -- statistics ---------------------------------------------------------------------------


async def attempt_totals(
    session: AsyncSession, *, user_id: int, guild_id: int | None = None
) -> tuple[int, int]:
    """(answers, correct answers) of the member: everywhere, or given in ``guild_id`` only.

    A server's figures never include the answers given in another server.
    """
    statement = select(
        func.count(), func.coalesce(func.sum(func.cast(col(Attempt.correct), Integer)), 0)
    ).where(Attempt.user_id == user_id)
    if guild_id is not None:
        statement = statement.where(col(Attempt.guild_id) == guild_id)
    answered, correct = (await session.exec(statement)).one()
    return int(answered), int(correct)


async def mastery_rows(
    session: AsyncSession, *, user_id: int, guild_id: int | None
) -> list[tuple[str, int, int, int]]:
    """Per visible deck: (deck, total items, items seen, items in FSRS Review state).

    Only items visible in ``guild_id`` (bundled ones and that server's own) are counted;
    another server's own items and the member's cards of them never show.
    """
    seen = func.count(col(ReviewState.item_id))
    mastered = func.sum(func.cast(col(ReviewState.state) == State.Review.value, Integer))
    statement = (
        select(Item.deck, func.count(col(Item.id)), seen, func.coalesce(mastered, 0))
        .select_from(Item)
        .outerjoin(
            ReviewState,
            (col(ReviewState.item_id) == col(Item.id)) & (col(ReviewState.user_id) == user_id),
        )
        .where(col(Item.active).is_(True), visible_in(guild_id))
        .group_by(Item.deck)
        .order_by(Item.deck)
    )
    return [(d, int(t), int(s), int(m)) for d, t, s, m in (await session.exec(statement)).all()]
