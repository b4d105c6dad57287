"""Which items a member sees in a server: the bundled ones plus that server's own.

Another server's own items never show (nor count) anywhere else.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import col

from bot.storage.models import Item


def visible_in(guild_id: int | None) -> Any:
    """Items a member in ``guild_id`` may see: bundled ones plus that server's own."""
    if guild_id is None:
        return col(Item.guild_id).is_(None)
    return (col(Item.guild_id).is_(None)) | (col(Item.guild_id) == guild_id)
