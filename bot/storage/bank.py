"""Data access for a server's own question bank (``/question ...``).

Like :mod:`bot.storage.crud`: every function takes the session first and keyword arguments
after; callers own the transaction (they commit). A server's questions are rows of
``items`` with ``guild_id`` set; they are never deleted, only deactivated, so attempts
keep their history. Every change is written to ``audit_log``.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any
from uuid import uuid4

from sqlalchemy import delete, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.content import AnyItem, item_to_dict
from bot.errors import StorageError
from bot.storage.crud import payload_hash
from bot.storage.models import Attempt, AuditEntry, FormDraft, Item
from bot.storage.tags import tags_text


def bank_key(guild_id: int, deck: str, slug: str) -> str:
    """Unique key of a server's item: ``g<guild>/<deck>/<slug>``."""
    return f"g{guild_id}/{deck}/{slug}"


def bank_slug(item_id: int) -> str:
    """The slug a server's item gets once its row id is known: ``q-<id>``."""
    return f"q-{item_id}"


def saved_id(row_id: int | None) -> int:
    """The id of a row the database has stored (after a flush it always has one).

    Raises :class:`StorageError` rather than carrying on with a row that has no id.
    """
    if row_id is None:
        raise StorageError("That change could not be saved. Please try again.")
    return row_id


def fill_item(row: Item, content: AnyItem, now: datetime, *, touch: bool = True) -> None:
    """Store ``content`` in ``row`` (payload, kind, level, hash, tags); ``touch`` dates it."""
    payload = item_to_dict(content)
    row.payload = payload
    row.kind = content.kind
    row.difficulty = str(content.difficulty)
    row.content_hash = payload_hash(payload)
    row.tags = tags_text(content)
    if touch:
        row.updated_at = now


async def add_server_item(
    session: AsyncSession,
    *,
    guild_id: int,
    deck: str,
    content: AnyItem,
    created_by: int | None,
    now: datetime,
) -> Item:
    """Insert one of a server's questions; its slug becomes ``q-<row id>``.

    ``content``'s own id is replaced by that slug, so the stored payload stays valid.
    """
    row = Item(
        key=bank_key(guild_id, deck, f"new-{uuid4().hex}"),
        deck=deck,
        slug="new",
        kind=content.kind,
        difficulty=str(content.difficulty),
        guild_id=guild_id,
        payload={},
        content_hash="",
        created_by=created_by,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    await session.flush()
    slug = bank_slug(saved_id(row.id))
    row.slug = slug
    row.key = bank_key(guild_id, deck, slug)
    fill_item(row, content.model_copy(update={"id": slug}), now)
    session.add(row)
    await session.flush()
    return row


async def update_server_item(
    session: AsyncSession, *, row: Item, content: AnyItem, now: datetime
) -> Item:
    """Replace an item's content in place (members keep their progress on it)."""
    fill_item(row, content.model_copy(update={"id": row.slug}), now)
    session.add(row)
    await session.flush()
    return row


async def deactivate_item(session: AsyncSession, *, row: Item, now: datetime) -> Item:
    """Soft delete: the item disappears from studying; its attempts stay."""
    row.active = False
    row.updated_at = now
    session.add(row)
    await session.flush()
    return row


async def get_item(session: AsyncSession, *, item_id: int) -> Item | None:
    """Any item by id (bundled or a server's; active or not)."""
    return await session.get(Item, item_id)


async def active_items_in_decks(
    session: AsyncSession, *, guild_id: int, decks: Collection[str]
) -> list[Item]:
    """Active items in ``decks`` visible on the server: bundled ones and its own."""
    if not decks:
        return []
    statement = select(Item).where(
        col(Item.active).is_(True),
        col(Item.deck).in_(list(decks)),
        (col(Item.guild_id).is_(None)) | (col(Item.guild_id) == guild_id),
    )
    return list((await session.exec(statement.order_by(col(Item.id)))).all())


def _own(guild_id: int, deck: str | None) -> list[Any]:
    clauses: list[Any] = [col(Item.active).is_(True), col(Item.guild_id) == guild_id]
    if deck:
        clauses.append(col(Item.deck) == deck)
    return clauses


async def server_items(
    session: AsyncSession,
    *,
    guild_id: int,
    deck: str | None = None,
    offset: int = 0,
    limit: int | None = None,
) -> list[Item]:
    """The server's own active items (optionally one deck), by deck then id."""
    statement = select(Item).where(*_own(guild_id, deck)).order_by(col(Item.deck), col(Item.id))
    if offset:
        statement = statement.offset(offset)
    if limit is not None:
        statement = statement.limit(limit)
    return list((await session.exec(statement)).all())


async def count_server_items(session: AsyncSession, *, guild_id: int, deck: str | None) -> int:
    """How many active items of its own the server has (optionally in one deck)."""
    statement = select(func.count()).select_from(Item).where(*_own(guild_id, deck))
    return int((await session.exec(statement)).one())


async def answer_counts(
    session: AsyncSession, *, item_id: int, guild_id: int
) -> list[tuple[str, bool, int]]:
    """``(answer text, correct, how many)`` for the item's answers given on the server."""
    statement = (
        select(Attempt.answer, Attempt.correct, func.count())
        .where(Attempt.item_id == item_id, col(Attempt.guild_id) == guild_id)
        .group_by(col(Attempt.answer), col(Attempt.correct))
    )
    return [(str(a), bool(c), int(n)) for a, c, n in (await session.exec(statement)).all()]


async def audit_entries(session: AsyncSession, *, guild_id: int) -> list[AuditEntry]:
    """The server's audit log, oldest first."""
    statement = (
        select(AuditEntry).where(AuditEntry.guild_id == guild_id).order_by(col(AuditEntry.id))
    )
    return list((await session.exec(statement)).all())


# -- refused forms ----------------------------------------------------------------------

#: How long a refused form can be reopened with "Edit and retry".
DRAFT_TTL = timedelta(days=1)


async def keep_form_draft(
    session: AsyncSession,
    *,
    user_id: int,
    guild_id: int,
    item_id: int | None,
    fields: dict[str, str],
    now: datetime,
) -> int:
    """Store a refused form's fields and return its id; drafts past :data:`DRAFT_TTL` go."""
    await session.exec(delete(FormDraft).where(col(FormDraft.created_at) < now - DRAFT_TTL))
    draft = FormDraft(
        user_id=user_id, guild_id=guild_id, item_id=item_id, fields=fields, created_at=now
    )
    session.add(draft)
    await session.flush()
    return saved_id(draft.id)


async def get_form_draft(
    session: AsyncSession, *, draft_id: int, now: datetime
) -> FormDraft | None:
    """A kept form that has not expired yet, or None."""
    draft = await session.get(FormDraft, draft_id)
    if draft is None or draft.created_at < now - DRAFT_TTL:
        return None
    return draft
