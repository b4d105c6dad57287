"""Pages of a server's question list, and the token its Prev/Next buttons carry.

A button's token is ``ql:<page>`` or ``ql:<page>:<deck>`` (0-based page), so a click still
works after a restart. Pure: no I/O, no discord.
"""

from __future__ import annotations

from bot.errors import BadInput

#: Questions per list page.
PAGE_SIZE = 10
#: Token prefix of the list's Prev/Next buttons.
LIST_TOKEN_PREFIX = "ql"


def list_token(page: int, deck: str | None) -> str:
    """The token of a button that shows page ``page`` (0-based), of ``deck`` or of all."""
    return f"{LIST_TOKEN_PREFIX}:{page}:{deck}" if deck else f"{LIST_TOKEN_PREFIX}:{page}"


def parse_list_token(token: str) -> tuple[int, str | None]:
    """``(page, deck)`` from a list button's token ``ql:<page>[:<deck>]``."""
    parts = token.split(":", 2)
    try:
        page = max(0, int(parts[1]))
    except (IndexError, ValueError):
        raise BadInput("That button is out of date. Run /question list again.") from None
    deck = parts[2] if len(parts) > 2 and parts[2] else None
    return page, deck


def page_count(total: int, size: int = PAGE_SIZE) -> int:
    """How many pages ``total`` questions fill (at least one, to show "none yet")."""
    return max(1, -(-total // size))
