"""Data access for importing decks into a server's bank: many items at once, found by key.

Like :mod:`bot.storage.bank` (whose row rules it shares): the caller owns the transaction.
An imported item remembers where it came from (``items.source_key``), so importing the same
file again finds it and updates it in place; members keep their progress on it.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar
from uuid import uuid4

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.content import AnyItem
from bot.core.scheduling import CardState
from bot.storage.bank import bank_key, bank_slug, fill_item, saved_id
from bot.storage.models import Item, ReviewState

#: Bound parameters per ``IN (...)`` list: well under SQLite's and asyncpg's limits.
_CHUNK = 500


_T = TypeVar("_T")


def _chunks(values: Sequence[_T]) -> Iterable[list[_T]]:
    for start in range(0, len(values), _CHUNK):
        yield list(values[start : start + _CHUNK])


async def items_by_source(
    session: AsyncSession, *, guild_id: int, keys: Collection[str]
) -> dict[str, Item]:
    """The server's active items whose ``source_key`` is one of ``keys``, by key."""
    found: dict[str, Item] = {}
    for chunk in _chunks(sorted(keys)):
        statement = select(Item).where(
            col(Item.guild_id) == guild_id,
            col(Item.active).is_(True),
            col(Item.source_key).in_(chunk),
        )
        for row in (await session.exec(statement)).all():
            if row.source_key is not None:
                found.setdefault(row.source_key, row)
    return found


@dataclass(frozen=True, slots=True)
class NewItem:
    """One item to add: its deck, validated content and where it came from."""

    deck: str
    content: AnyItem
    source_key: str | None


async def add_items(
    session: AsyncSession,
    *,
    guild_id: int,
    items: Sequence[NewItem],
    created_by: int | None,
    now: datetime,
) -> list[Item]:
    """Insert many of a server's items in two round trips; each slug becomes ``q-<row id>``.

    The same rows as :func:`bot.storage.bank.add_server_item` makes one at a time.
    """
    rows = [
        Item(
            key=bank_key(guild_id, new.deck, f"new-{uuid4().hex}"),
            deck=new.deck,
            slug="new",
            kind=new.content.kind,
            difficulty=str(new.content.difficulty),
            guild_id=guild_id,
            payload={},
            content_hash="",
            source_key=new.source_key,
            created_by=created_by,
            created_at=now,
            updated_at=now,
        )
        for new in items
    ]
    session.add_all(rows)
    await session.flush()
    for row, new in zip(rows, items, strict=True):
        slug = bank_slug(saved_id(row.id))
        row.slug = slug
        row.key = bank_key(guild_id, new.deck, slug)
        fill_item(row, new.content.model_copy(update={"id": slug}), now)
    session.add_all(rows)
    await session.flush()
    return rows


def update_item(
    row: Item, *, deck: str, content: AnyItem, source_key: str | None, now: datetime
) -> bool:
    """Replace an item's content (and deck) in place; False when nothing changed.

    Members keep their progress: the row, its id and their cards stay.
    """
    before = (row.deck, row.content_hash, row.source_key)
    if row.deck != deck:
        row.deck = deck
        row.key = bank_key(saved_id(row.guild_id), deck, row.slug)
    fill_item(row, content.model_copy(update={"id": row.slug}), now, touch=False)
    row.source_key = source_key or row.source_key
    changed = (row.deck, row.content_hash, row.source_key) != before
    if changed:
        row.updated_at = now
    return changed


async def save_cards(
    session: AsyncSession, *, user_id: int, cards: Sequence[tuple[int, CardState]], now: datetime
) -> int:
    """Insert or replace the member's cards for these items; returns how many were written.

    A new card's ``first_seen_at`` is its last review (or ``now``), so history from before
    today does not count against today's new-card budget.
    """
    by_item = dict(cards)
    existing: dict[int, ReviewState] = {}
    for chunk in _chunks(sorted(by_item)):
        statement = select(ReviewState).where(
            col(ReviewState.user_id) == user_id, col(ReviewState.item_id).in_(chunk)
        )
        existing.update({row.item_id: row for row in (await session.exec(statement)).all()})
    rows: list[ReviewState] = []
    for item_id, state in by_item.items():
        row = existing.get(item_id)
        if row is None:
            seen = state.last_review or now
            row = ReviewState(user_id=user_id, item_id=item_id, due=state.due, first_seen_at=seen)
        for name, value in state.columns().items():
            setattr(row, name, value)
        rows.append(row)
    session.add_all(rows)
    await session.flush()
    return len(rows)
