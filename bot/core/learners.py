"""Who is studying, and where: the one value every service takes from an adapter."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Learner:
    """Who is studying, and where.

    ``platform`` is ``discord`` or ``local`` (the console); ``guild_id`` is the server the
    request came from (None in DMs and the console), which decides which server-added
    questions are visible.
    """

    platform: str
    external_id: str
    display_name: str = ""
    guild_id: int | None = None
    guild_name: str = ""
