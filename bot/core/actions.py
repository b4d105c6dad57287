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
``qz:<item>``           "Quiz me on this": ask that item (a chat answer's button)
``wp:<item>``           "Show a worked problem": ask that practice item
=====================  =========================================

A run limited to one tag (``/review tag:…``, ``/quiz tag:…``) is a study session that holds
the tag; its id follows: ``nx:review:<session>``, ``nx:mistakes:<session>``,
``nx:quiz:<deck>:<difficulty>:<session>``.
"""

from __future__ import annotations

from collections.abc import Callable
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

#: The heads of the tokens that ask one chosen item (the buttons under the tutor's answers
#: in plain chat, :mod:`bot.services.ask`).
QUIZ_ITEM_PREFIX = "qz"
WORKED_PROBLEM_PREFIX = "wp"
#: How "Quiz me on this" asks each kind of item: in the mode that normally shows it, so the
#: answer is graded and scheduled as usual (a flashcard as a review card).
KIND_MODES: dict[str, str] = {
    "flashcard": "review",
    "mcq": "quiz",
    "typed": "quiz",
    "practice": "practice",
    "explain": "explain",
}


@dataclass(frozen=True, slots=True)
class QuizItem:
    """Ask one item as a question ("Quiz me on this" under a chat answer)."""

    item_id: int

    def token(self) -> str:
        """Encode as a token."""
        return f"{QUIZ_ITEM_PREFIX}:{self.item_id}"


@dataclass(frozen=True, slots=True)
class WorkedProblem:
    """Ask one practice item: a worked problem with a hint and steps."""

    item_id: int

    def token(self) -> str:
        """Encode as a token."""
        return f"{WORKED_PROBLEM_PREFIX}:{self.item_id}"


#: Actions that ask one chosen item.
ItemAction = QuizItem | WorkedProblem
#: Everything :func:`parse_action` returns.
AnyAction = Action | ItemAction

#: Modes whose next question comes from the member's own queue (no deck or level).
QUEUE_MODES = frozenset({"review", MISTAKES_MODE})
NEXT_MODES = frozenset({*QUEUE_MODES, "test", "quiz", "practice", "explain"})


def _int(text: str) -> int:
    # ASCII digits only: "²".isdigit() is true but int("²") fails.
    if not (text.isascii() and text.isdecimal()) or len(text) > 18:
        raise ExpiredAction(EXPIRED_MESSAGE)
    return int(text)


#: Tokens that carry one id: their head and what they decode to.
_ONE_ID: dict[str, Callable[[int], AnyAction]] = {
    "rv": Reveal,
    "hi": Hint,
    "ex": SubmitExplanation,
    QUIZ_ITEM_PREFIX: QuizItem,
    WORKED_PROBLEM_PREFIX: WorkedProblem,
}


def parse_action(token: str) -> AnyAction:
    """Decode a token; anything malformed raises :class:`ExpiredAction`."""
    parts = token.strip().split(":")
    head, args = parts[0], parts[1:]
    single = _ONE_ID.get(head)
    if single is not None and len(args) == 1:
        return single(_int(args[0]))
    if head == "rt" and len(args) == 2:
        grade = _int(args[1])
        if not 1 <= grade <= 4:
            raise ExpiredAction(EXPIRED_MESSAGE)
        return Rate(_int(args[0]), grade)
    if head == "an" and len(args) == 2:
        return Answer(_int(args[0]), _int(args[1]))
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
