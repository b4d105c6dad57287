"""Data access for importing decks into a server's bank: many items at once, found by key.

Like :mod:`bot.storage.bank` (whose row rules it shares): the caller owns the transaction.
An imported item remembers where it came from (``items.source_key``), so importing the same
file again finds it and updates it in place; members keep their progress on it.

A package can bring 20,000 questions, so these functions use multi-row statements rather
than one ORM object per row (a 10,000-note package is stored in about a second).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar
from uuid import uuid4

from sqlalchemy import Table, bindparam, insert, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.content import AnyItem, item_to_dict
from bot.core.scheduling import CARD_COLUMNS, CardState
from bot.storage.bank import bank_key, bank_slug
from bot.storage.crud import payload_hash
from bot.storage.models import Item, ReviewState
from bot.storage.tags import tags_text

#: Bound values per ``IN (...)`` list: well under SQLite's and asyncpg's limits.
_CHUNK = 500
_T = TypeVar("_T")
_ITEMS: Table = Item.__table__  # type: ignore[attr-defined]
_CARDS: Table = ReviewState.__table__  # type: ignore[attr-defined]


def _chunks(values: Sequence[_T]) -> Iterable[list[_T]]:
    for start in range(0, len(values), _CHUNK):
        yield list(values[start : start + _CHUNK])


@dataclass(frozen=True, slots=True)
class KnownItem:
    """What an import needs to know of an item the server already has."""

    id: int
    slug: str
    deck: str
    source_key: str | None
    content_hash: str


async def items_by_source(
    session: AsyncSession, *, guild_id: int, keys: Collection[str]
) -> dict[str, KnownItem]:
    """The server's active items whose ``source_key`` is one of ``keys``, by key."""
    found: dict[str, KnownItem] = {}
    for chunk in _chunks(sorted(keys)):
        # A server's own item's slug is always ``q-<id>`` (bank.add_server_item).
        statement = select(
            col(Item.id), col(Item.deck), col(Item.source_key), col(Item.content_hash)
        ).where(
            col(Item.guild_id) == guild_id,
            col(Item.active).is_(True),
            col(Item.source_key).in_(chunk),
        )
        for item_id, deck, key, digest in (await session.exec(statement)).all():
            if item_id is not None and key is not None:
                found.setdefault(key, KnownItem(item_id, bank_slug(item_id), deck, key, digest))
    return found


def known(row: Item) -> KnownItem:
    """An ORM item as a :class:`KnownItem`."""
    if row.id is None:
        raise ValueError("an unsaved item")
    return KnownItem(row.id, row.slug, row.deck, row.source_key, row.content_hash)


@dataclass(frozen=True, slots=True)
class NewItem:
    """One item to add: its deck, validated content and where it came from."""

    deck: str
    content: AnyItem
    source_key: str | None


def _content_values(guild_id: int, deck: str, slug: str, content: AnyItem) -> dict[str, Any]:
    """The columns that follow from an item's content once its slug is known."""
    payload = item_to_dict(content.model_copy(update={"id": slug}))
    return {
        "key": bank_key(guild_id, deck, slug),
        "slug": slug,
        "deck": deck,
        "kind": content.kind,
        "difficulty": str(content.difficulty),
        "payload": payload,
        "content_hash": payload_hash(payload),
        "tags": tags_text(content),
    }


_SET_CONTENT = (
    update(_ITEMS)
    .where(_ITEMS.c.id == bindparam("b_id"))
    .values(
        key=bindparam("key"),
        slug=bindparam("slug"),
        deck=bindparam("deck"),
        kind=bindparam("kind"),
        difficulty=bindparam("difficulty"),
        payload=bindparam("payload"),
        content_hash=bindparam("content_hash"),
        tags=bindparam("tags"),
        source_key=bindparam("source_key"),
        updated_at=bindparam("updated_at"),
    )
)


async def add_items(
    session: AsyncSession,
    *,
    guild_id: int,
    items: Sequence[NewItem],
    created_by: int | None,
    now: datetime,
) -> list[int]:
    """Insert many of a server's items; returns their ids, in order.

    The same rows as :func:`bot.storage.bank.add_server_item` makes one at a time: each
    slug is ``q-<row id>``, and the stored payload carries it.
    """
    if not items:
        return []
    placeholders: list[dict[str, Any]] = [
        {
            "key": bank_key(guild_id, new.deck, f"new-{uuid4().hex}"),
            "deck": new.deck,
            "slug": "new",
            "kind": new.content.kind,
            "difficulty": str(new.content.difficulty),
            "guild_id": guild_id,
            "payload": {},
            "content_hash": "",
            "tags": "",
            "source_key": new.source_key,
            "active": True,
            "created_by": created_by,
            "created_at": now,
            "updated_at": now,
        }
        for new in items
    ]
    ids: list[int] = []
    statement = insert(_ITEMS).returning(_ITEMS.c.id, sort_by_parameter_order=True)
    for chunk in _chunks(placeholders):
        ids.extend((await session.exec(statement, params=chunk)).scalars())
    changes = [
        {
            "b_id": item_id,
            **_content_values(guild_id, new.deck, bank_slug(item_id), new.content),
            "source_key": new.source_key,
            "updated_at": now,
        }
        for item_id, new in zip(ids, items, strict=True)
    ]
    await session.exec(_SET_CONTENT, params=changes)
    return ids


async def update_items(
    session: AsyncSession,
    *,
    guild_id: int,
    items: Sequence[tuple[KnownItem, NewItem]],
    now: datetime,
) -> list[bool]:
    """Replace the content (and deck) of items in place; for each, whether it changed.

    Members keep their progress: the rows, their ids and their cards stay.
    """
    changed: list[bool] = []
    changes: list[dict[str, Any]] = []
    for row, new in items:
        values = _content_values(guild_id, new.deck, row.slug, new.content)
        source_key = new.source_key or row.source_key
        same = (
            values["content_hash"] == row.content_hash
            and new.deck == row.deck
            and source_key == row.source_key
        )
        changed.append(not same)
        if not same:
            changes.append({"b_id": row.id, **values, "source_key": source_key, "updated_at": now})
    if changes:
        await session.exec(_SET_CONTENT, params=changes)
    return changed


async def save_cards(
    session: AsyncSession, *, user_id: int, cards: Sequence[tuple[int, CardState]], now: datetime
) -> int:
    """Insert or replace the member's cards for these items; returns how many were written.

    A new card's ``first_seen_at`` is its last review (or ``now``), so history from before
    today does not count against today's new-card budget.
    """
    by_item = dict(cards)
    existing: set[int] = set()
    for chunk in _chunks(sorted(by_item)):
        statement = select(col(ReviewState.item_id)).where(
            col(ReviewState.user_id) == user_id, col(ReviewState.item_id).in_(chunk)
        )
        existing.update((await session.exec(statement)).all())
    inserts = [
        {
            "user_id": user_id,
            "item_id": item_id,
            "first_seen_at": state.last_review or now,
            **state.columns(),
        }
        for item_id, state in by_item.items()
        if item_id not in existing
    ]
    updates = [
        {"b_item": item_id, **state.columns()}
        for item_id, state in by_item.items()
        if item_id in existing
    ]
    if inserts:
        await session.exec(insert(_CARDS), params=inserts)
    if updates:
        replace = (
            update(_CARDS)
            .where(_CARDS.c.user_id == user_id, _CARDS.c.item_id == bindparam("b_item"))
            .values({name: bindparam(name) for name in CARD_COLUMNS})
        )
        await session.exec(replace, params=updates)
    return len(by_item)
