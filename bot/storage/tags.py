"""Item tags in the database: how ``items.tags`` stores them, finding items by a tag, and
the tags in use in a server.

Like :mod:`bot.storage.crud`: async functions taking the session first and keyword
arguments after; callers own the transaction.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.content import AnyItem
from bot.storage.models import Item
from bot.storage.scope import visible_in


def tags_text(content: AnyItem) -> str:
    """How ``items.tags`` stores an item's tags: case-folded, each between single spaces.

    ``["Bio::Cells", "week-1"]`` → ``" bio::cells week-1 "``; no tags → ``""``. A tag is
    then found with ``LIKE '% tag %'`` (see :func:`tag_pattern`).
    """
    tags = sorted({tag.casefold() for tag in content.tags or ()})
    return f" {' '.join(tags)} " if tags else ""


def tag_pattern(tag: str) -> str:
    """The ``LIKE`` pattern (escape character ``\\``) that finds ``tag`` in ``items.tags``."""
    folded = tag.strip().casefold()
    escaped = folded.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"% {escaped} %"


def has_tag(tag: str) -> Any:
    """Items carrying ``tag`` (case ignored); see :func:`tag_pattern`."""
    return col(Item.tags).like(tag_pattern(tag), escape="\\")


#: Distinct tag sets :func:`tags_in_use` reads (the commonest first).
TAG_SETS_READ = 500


async def tag_in_use(session: AsyncSession, *, guild_id: int | None, tag: str) -> bool:
    """Whether any active item visible in ``guild_id`` carries ``tag``."""
    statement = (
        select(col(Item.id))
        .where(col(Item.active).is_(True), visible_in(guild_id), has_tag(tag))
        .limit(1)
    )
    return (await session.exec(statement)).first() is not None


async def tags_in_use(session: AsyncSession, *, guild_id: int | None, limit: int = 10) -> list[str]:
    """Up to ``limit`` tags of the active items visible in ``guild_id``, most used first.

    Reads the distinct tag sets (:data:`TAG_SETS_READ` at most, the commonest), not items.
    """
    uses_of_set = func.count()
    statement = (
        select(col(Item.tags), uses_of_set)
        .where(col(Item.active).is_(True), visible_in(guild_id), col(Item.tags) != "")
        .group_by(col(Item.tags))
        .order_by(uses_of_set.desc())
        .limit(TAG_SETS_READ)
    )
    uses: dict[str, int] = {}
    for tags, count in (await session.exec(statement)).all():
        for tag in tags.split():
            uses[tag] = uses.get(tag, 0) + int(count)
    return sorted(uses, key=lambda tag: (-uses[tag], tag))[:limit]
