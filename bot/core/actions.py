"""Action tokens: what a button or typed choice asks the engine to do.

Tokens are short strings (they go into Discord ``custom_id``s, max 100 characters, under a
prefix) carrying all the state needed, so buttons keep working after a restart.

=====================  =========================================
``rv:<prompt>``         reveal a flashcard's back
``rt:<prompt>:<1-4>``   rate a flashcard Again/Hard/Good/Easy
``an:<prompt>:<opt>``   answer option ``opt`` (0-based)
``hi:<prompt>``         show the hint
``ex:<prompt>``         submit an explanation (text comes separately)
``nx:review``           next due item
``nx:mistakes``         next question to retry (answered wrong lately)
``nx:test:<session>``   next question of a test
``nx:<mode>:<deck>:<difficulty>``  another quiz/practice/explain question ("-" = any)
=====================  =========================================

A run limited to one tag (``/review tag:…``, ``/quiz tag:…``) is a study session that holds
the tag; its id follows: ``nx:review:<session>``, ``nx:mistakes:<session>``,
``nx:quiz:<deck>:<difficulty>:<session>``.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.letters import MISTAKES_MODE
from bot.errors import ExpiredAction

EXPIRED_MESSAGE = "That button no longer works. Start again with /review, /quiz or /test."


@dataclass(frozen=True, slots=True)
class Reveal:
    """Show the back of a flashcard."""

    prompt_id: int

    def token(self) -> str:
        """Encode as a token."""
        return f"rv:{self.prompt_id}"


@dataclass(frozen=True, slots=True)
class Rate:
    """Self-rate a revealed flashcard (1 Again … 4 Easy)."""

    prompt_id: int
    grade: int

    def token(self) -> str:
        """Encode as a token."""
        return f"rt:{self.prompt_id}:{self.grade}"


@dataclass(frozen=True, slots=True)
class Answer:
    """Pick option ``option`` (0-based) of a multiple-choice or practice question."""

    prompt_id: int
    option: int

    def token(self) -> str:
        """Encode as a token."""
        return f"an:{self.prompt_id}:{self.option}"


@dataclass(frozen=True, slots=True)
class Hint:
    """Ask for the hint."""

    prompt_id: int

    def token(self) -> str:
        """Encode as a token."""
        return f"hi:{self.prompt_id}"


@dataclass(frozen=True, slots=True)
class SubmitExplanation:
    """Submit a free-text explanation (the text travels beside the token)."""

    prompt_id: int

    def token(self) -> str:
        """Encode as a token."""
        return f"ex:{self.prompt_id}"


@dataclass(frozen=True, slots=True)
class Next:
    """Move on: the next due item or mistake, the next test question, or another question.

    ``session_id`` is a test's, or a tagged run's (the study session holding the tag).
    """

    mode: str
    session_id: int | None = None
    deck: str | None = None
    difficulty: str | None = None

    def token(self) -> str:
        """Encode as a token."""
        if self.mode == "test":
            return f"nx:test:{self.session_id}"
        if self.mode in QUEUE_MODES:
            head = f"nx:{self.mode}"
        else:
            head = f"nx:{self.mode}:{self.deck or '-'}:{self.difficulty or '-'}"
        return head if self.session_id is None else f"{head}:{self.session_id}"


Action = Reveal | Rate | Answer | Hint | SubmitExplanation | Next

#: Modes whose next question comes from the member's own queue (no deck or level).
QUEUE_MODES = frozenset({"review", MISTAKES_MODE})
NEXT_MODES = frozenset({*QUEUE_MODES, "test", "quiz", "practice", "explain"})


def _int(text: str) -> int:
    # ASCII digits only: "²".isdigit() is true but int("²") fails.
    if not (text.isascii() and text.isdecimal()) or len(text) > 18:
        raise ExpiredAction(EXPIRED_MESSAGE)
    return int(text)


def parse_action(token: str) -> Action:
    """Decode a token; anything malformed raises :class:`ExpiredAction`."""
    parts = token.strip().split(":")
    head, args = parts[0], parts[1:]
    if head == "rv" and len(args) == 1:
        return Reveal(_int(args[0]))
    if head == "rt" and len(args) == 2:
        grade = _int(args[1])
        if not 1 <= grade <= 4:
            raise ExpiredAction(EXPIRED_MESSAGE)
        return Rate(_int(args[0]), grade)
    if head == "an" and len(args) == 2:
        return Answer(_int(args[0]), _int(args[1]))
    if head == "hi" and len(args) == 1:
        return Hint(_int(args[0]))
    if head == "ex" and len(args) == 1:
        return SubmitExplanation(_int(args[0]))
    if head == "nx" and args and args[0] in NEXT_MODES:
        mode = args[0]
        if mode in QUEUE_MODES and len(args) in (1, 2):
            return Next(mode, session_id=_int(args[1]) if len(args) == 2 else None)
        if mode == "test" and len(args) == 2:
            return Next("test", session_id=_int(args[1]))
        if mode in {"quiz", "practice", "explain"} and len(args) in (3, 4):
            deck = None if args[1] == "-" else args[1]
            difficulty = None if args[2] == "-" else args[2]
            run = _int(args[3]) if len(args) == 4 else None
            return Next(mode, session_id=run, deck=deck, difficulty=difficulty)
    raise ExpiredAction(EXPIRED_MESSAGE)
