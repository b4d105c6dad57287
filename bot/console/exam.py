"""``/exam``, ``/exam set <date> [deck]`` and ``/exam clear`` in the offline console.

The console is its own server and its user owns it, so ``--server`` sets or clears the
server-wide exam without a moderator check.
"""

from __future__ import annotations

from bot.console.app import ConsoleCommand
from bot.core.learners import Learner
from bot.core.replies import Reply, ReplyField
from bot.errors import BadInput
from bot.services.exam import ExamService

SERVER_FLAG = "--server"
USAGE = (
    "Type /exam for the countdown, /exam set 2027-01-15 [deck] (or 15 Jan, Jan 15) to set "
    "it, /exam clear to remove it; add --server for the whole server's exam."
)
HELP_FIELD = ReplyField(
    "Exams (console)",
    "/exam — countdown and today's plan · /exam set <date> [deck] [--server] · "
    "/exam clear [--server]",
)


def split_date(words: list[str]) -> tuple[str, str | None]:
    """The date and the optional deck from the words after ``set``.

    ``2027-01-15 deck`` takes one word for the date; ``15 Jan deck`` and ``Jan 15 deck`` two.
    """
    if not words:
        raise BadInput(USAGE)
    size = 1 if words[0][:1].isdigit() and "-" in words[0] else 2
    date_text = " ".join(words[:size])
    deck = " ".join(words[size:]) or None
    return date_text, deck


def exam_commands(service: ExamService) -> dict[str, ConsoleCommand]:
    """``/exam [set <date> [deck] | clear] [--server]``."""

    async def exam(learner: Learner, words: list[str]) -> Reply:
        server_wide = SERVER_FLAG in (word.casefold() for word in words)
        words = [word for word in words if word.casefold() != SERVER_FLAG]
        action = words[0].casefold() if words else "show"
        if action == "show" and len(words) <= 1 and not server_wide:
            return await service.show(learner)
        if action == "set":
            date_text, deck = split_date(words[1:])
            return await service.set(learner, date_text, deck, server_wide=server_wide)
        if action == "clear" and len(words) == 1:
            return await service.clear(learner, server_wide=server_wide)
        raise BadInput(USAGE)

    return {"/exam": exam}
