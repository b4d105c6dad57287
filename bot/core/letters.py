"""Answer letters and prompt modes shared by every way a question is shown."""

from __future__ import annotations

LETTERS = "ABCDEF"

#: Mode of the prompts a server's daily quiz posts for everyone.
DAILY_MODE = "daily"
#: Mode of the prompts and attempts of ``/review mistakes`` (questions to retry).
MISTAKES_MODE = "mistakes"


def letter(index: int) -> str:
    """``0`` → ``A``."""
    return LETTERS[index]


def letter_range(count: int) -> str:
    """``A–D`` for four options."""
    return f"A–{LETTERS[count - 1]}" if count > 1 else "A"
