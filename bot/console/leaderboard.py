"""``/leaderboard`` in the offline console: parse the typed words, show the board as text.

The board comes from :class:`~bot.services.leaderboard.LeaderboardService`; the console has
no buttons, so its Prev/Next become commands to type.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.core.leaderboard import PageRequest, Period
from bot.core.learners import Learner
from bot.core.replies import Choice, Reply, typed_choices
from bot.errors import BadInput
from bot.services.leaderboard import LeaderboardService

#: A console command that always answers with a reply (a :data:`bot.console.app.ConsoleCommand`).
ReplyCommand = Callable[[Learner, list[str]], Awaitable[Reply]]

USAGE = "Use /leaderboard [week|month|all] [deck] [page]."


def typed_page_hints(reply: Reply) -> Reply:
    """Prev/Next buttons turned into commands to type (the console has no buttons)."""

    def command(choice: Choice) -> str:
        request = PageRequest.parse(choice.action)
        deck = f" {request.deck}" if request.deck else ""
        return f"/leaderboard {request.period.value}{deck} {request.page + 1}"

    return typed_choices(reply, command)


def parse_leaderboard_words(words: list[str]) -> tuple[str | None, str | None, int]:
    """``[week|month|all] [deck] [page]`` in any order → (period, deck, 0-based page)."""
    period: str | None = None
    deck: str | None = None
    page = 0
    for word in words:
        if word.casefold() in {p.value for p in Period} and period is None:
            period = word
        elif word.isdigit():
            page = max(0, int(word) - 1)
        elif deck is None:
            deck = word
        else:
            raise BadInput(USAGE)
    return period, deck, page


def leaderboard_commands(boards: LeaderboardService) -> dict[str, ReplyCommand]:
    """``/leaderboard [week|month|all] [deck] [page]`` for the offline console.

    Build ``boards`` with ``include_serverless=True`` so the console's local server also
    counts the answers its members gave before the console had one.
    """

    async def leaderboard(learner: Learner, words: list[str]) -> Reply:
        period, deck, page = parse_leaderboard_words(words)
        return typed_page_hints(await boards.show(learner, period, deck, page))

    return {"/leaderboard": leaderboard}
