"""The rules of one answer: grade it, review the card, build the attempt row (no I/O).

Storage reads the facts an answer is decided on (:class:`AnswerFacts`) and writes what
:func:`decide_answer` returns (:class:`AnswerPlan`); the rules between are written once,
whatever the database.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.core import actions
from bot.core.content import AnyItem, Explain, Flashcard, MultipleChoice, Practice, Typed
from bot.core.grading import Coverage, grade_explanation
from bot.core.learners import Learner
from bot.core.letters import DAILY_MODE, letter, letter_range
from bot.core.scheduling import (
    CardState,
    Grade,
    SpacedRepetition,
    grade_for_answer,
    grade_for_coverage,
)
from bot.core.sessions import StudyItem
from bot.core.typed_answers import TypedCheck, check_typed
from bot.errors import BadInput, ExpiredAction, NotYourQuestion

#: Longest answer time we store; a question left open over lunch is not a 2-hour answer.
MAX_DURATION = timedelta(minutes=30)
#: Longest explanation we grade and keep.
MAX_EXPLANATION_CHARS = 2000
NOT_YOURS = "This isn't your question — start your own with /quiz or /review."

AnswerAction = actions.Answer | actions.Rate | actions.SubmitExplanation
#: Grades an explanation of an explain item (the service's grader uses the sentence model).
ExplainGrader = Callable[[Explain, str], Coverage]


def grade_by_phrases(content: Explain, answer: str) -> Coverage:
    """The grader without a sentence model: phrase rules, polarity and misconceptions."""
    return grade_explanation(answer, content.concepts, content.misconceptions or ())


@dataclass(frozen=True, slots=True)
class PromptRow:
    """A prompt and the item it shows, as storage read them."""

    id: int
    item_id: int
    user_id: int | None
    guild_id: int | None
    mode: str
    session_id: int | None
    position: int | None
    presented_at: datetime
    revealed_at: datetime | None
    item_deck: str
    item_guild_id: int | None
    item_payload: dict[str, Any]
    item_hash: str


@dataclass(frozen=True, slots=True)
class AnswerFacts:
    """Everything an answer is decided on: who answers, what was asked, their card."""

    #: The answering member's row id (created on first sight).
    user_id: int
    #: The prompt the button refers to, or None when it does not exist (any more).
    prompt: PromptRow | None
    #: The member's card for the prompt's item, or None before their first review.
    card: CardState | None
    #: The desired retention the member chose (``/me retention``), else the one of the
    #: prompt's server (``/settings retention``); None: the bot's default.
    retention: float | None = None


@dataclass(frozen=True, slots=True)
class AttemptRow:
    """One row of the append-only attempt log."""

    user_id: int
    item_id: int
    prompt_id: int
    guild_id: int | None
    mode: str
    answer: str
    correct: bool
    score: float
    rating: int
    duration_ms: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Graded:
    """The verdict on one answer, before anything is stored."""

    answer: str
    correct: bool
    score: float
    grade: Grade
    option: int | None = None
    coverage: Coverage | None = None
    #: How a typed answer matched (which accepted answer, exactly or close enough).
    typed: TypedCheck | None = None


@dataclass(frozen=True, slots=True)
class AnswerRequest:
    """One answer as the member gave it, stamped with the time it arrived."""

    learner: Learner
    action: AnswerAction
    text: str | None
    now: datetime
    window_checked: bool

    def lookup(self) -> dict[str, Any]:
        """What the answer stores read by: the member, the prompt and the time."""
        return {
            "platform": self.learner.platform,
            "external_id": self.learner.external_id,
            "display_name": self.learner.display_name,
            "prompt_id": self.action.prompt_id,
            "now": self.now,
        }


@dataclass(frozen=True, slots=True)
class AnswerOutcome:
    """A stored answer: where it was asked, what it was, how it was graded, the new card."""

    prompt: PromptRow
    item: StudyItem
    graded: Graded
    state: CardState


@dataclass(frozen=True, slots=True)
class AnswerPlan:
    """A decided answer, not yet stored: its outcome and the attempt row to append."""

    outcome: AnswerOutcome
    attempt: AttemptRow


def refuse_unchecked_daily(prompt: PromptRow, window_checked: bool) -> None:
    """A shared daily-quiz question is answered through its own (windowed) buttons only."""
    if prompt.mode == DAILY_MODE and prompt.user_id is None and not window_checked:
        raise ExpiredAction("Answer the daily quiz with the buttons on its message.")


def answer_duration_ms(presented_at: datetime, now: datetime) -> int:
    """Time from showing to answering, clamped to ``0 … MAX_DURATION``."""
    elapsed = max(timedelta(0), min(now - presented_at, MAX_DURATION))
    return int(elapsed.total_seconds() * 1000)


def grade_action(
    item: StudyItem,
    prompt: PromptRow,
    action: AnswerAction,
    text: str | None,
    explain_grader: ExplainGrader = grade_by_phrases,
) -> Graded:
    """Grade an answer to ``item``. Raises a friendly error for a wrong kind of answer.

    Lettered and typed answers: right → Good, wrong → Again (a typed answer is checked
    forgivingly, see :mod:`bot.core.typed_answers`). Flashcards: the member's own rating,
    after the reveal. Explanations: concept coverage (all → Good, half → Hard, less → Again),
    by ``explain_grader`` (the service passes one that reads meaning with its sentence model).
    """
    content = item.content
    if isinstance(action, actions.Answer):
        if not isinstance(content, MultipleChoice | Practice):
            raise ExpiredAction("This question doesn't take a lettered answer.")
        if not 0 <= action.option < len(content.options):
            raise BadInput(f"Pick one of {letter_range(len(content.options))}.")
        correct = action.option == content.correct_index
        return Graded(
            answer=content.options[action.option],
            correct=correct,
            score=1.0 if correct else 0.0,
            grade=grade_for_answer(correct),
            option=action.option,
        )
    if isinstance(action, actions.Rate):
        if not isinstance(content, Flashcard):
            raise ExpiredAction("Only flashcards are self-rated. Pick an answer instead.")
        if prompt.revealed_at is None:
            raise BadInput("Reveal the answer first, then rate how well you knew it.")
        grade = Grade(action.grade)
        remembered = grade != Grade.AGAIN
        return Graded(answer=grade.label, correct=remembered, score=float(remembered), grade=grade)
    if isinstance(content, Typed):
        return grade_typed(content, text)
    if not isinstance(content, Explain):
        raise ExpiredAction("This question takes a lettered answer, not an explanation.")
    answer = (text or "").strip()
    if not answer:
        raise BadInput("Your explanation is empty — type a sentence or two in your own words.")
    if len(answer) > MAX_EXPLANATION_CHARS:
        raise BadInput(
            f"That's a long one! Please keep it under {MAX_EXPLANATION_CHARS} characters."
        )
    coverage = explain_grader(content, answer)
    grade = grade_for_coverage(coverage.fraction)
    return Graded(
        answer=answer,
        correct=grade != Grade.AGAIN,
        score=coverage.fraction,
        grade=grade,
        coverage=coverage,
    )


def grade_typed(content: Typed, text: str | None) -> Graded:
    """Grade a typed answer: one of the accepted answers (forgivingly) → Good, else Again."""
    answer = (text or "").strip()
    if not answer:
        raise BadInput("Your answer is empty — type your answer, a word or a number is enough.")
    if len(answer) > MAX_EXPLANATION_CHARS:
        raise BadInput(
            f"That's a long one! Please keep your answer under {MAX_EXPLANATION_CHARS} characters."
        )
    check = check_typed(answer, content.answers, fractions=content.fractions)
    return Graded(
        answer=answer,
        correct=check.correct,
        score=1.0 if check.correct else 0.0,
        grade=grade_for_answer(check.correct),
        typed=check,
    )


def decide_answer(
    request: AnswerRequest,
    facts: AnswerFacts,
    *,
    item_of: Callable[[PromptRow], StudyItem],
    srs: SpacedRepetition,
    explain_grader: ExplainGrader = grade_by_phrases,
    srs_for: Callable[[float], SpacedRepetition] | None = None,
) -> AnswerPlan:
    """The rules of an answer, on what storage read (raises friendly errors).

    Checks the prompt exists, is this member's (or open to all) and, for a shared daily
    quiz question, that the daily quiz checked its window; grades the answer; reviews the
    card with FSRS (``srs``, or ``srs_for`` the member's or server's desired retention when
    storage read one); builds the attempt row. ``item_of`` turns the prompt's stored item into
    its validated content (a cache lives behind it).
    """
    row = facts.prompt
    if row is None:
        raise ExpiredAction(actions.EXPIRED_MESSAGE)
    if row.user_id is not None and row.user_id != facts.user_id:
        raise NotYourQuestion(NOT_YOURS)
    item = item_of(row)
    refuse_unchecked_daily(row, request.window_checked)
    graded = grade_action(item, row, request.action, request.text, explain_grader)
    duration = answer_duration_ms(row.presented_at, request.now)
    if srs_for is not None and facts.retention is not None:
        srs = srs_for(facts.retention)
    after = srs.review(facts.card, graded.grade, request.now, duration)
    attempt = AttemptRow(
        user_id=facts.user_id,
        item_id=item.id,
        prompt_id=row.id,
        guild_id=request.learner.guild_id,
        mode=row.mode,
        answer=graded.answer[:MAX_EXPLANATION_CHARS],
        correct=graded.correct,
        score=graded.score,
        rating=int(graded.grade),
        duration_ms=duration,
        created_at=request.now,
    )
    outcome = AnswerOutcome(prompt=row, item=item, graded=graded, state=after)
    return AnswerPlan(outcome=outcome, attempt=attempt)


def already_answered_message(item: StudyItem, earlier: tuple[str, bool] | None) -> str:
    """Remind the member of their first answer (which is the one that counts)."""
    if earlier is None:
        return "You already answered this one."
    picked, correct = earlier
    content: AnyItem = item.content
    verdict = "correct" if correct else "not quite right"
    if isinstance(content, MultipleChoice | Practice):
        index = content.options.index(picked) if picked in content.options else None
        shown = f"{letter(index)}. {picked}" if index is not None else picked
        return f"You already answered this one: {shown} ({verdict})."
    if isinstance(content, Flashcard):
        return f"You already rated this card: {picked}."
    if isinstance(content, Typed):
        return f"You already answered this one: “{_one_line(picked)}” ({verdict})."
    return "You already answered this one. Your first answer counts."


def _one_line(text: str, limit: int = 100) -> str:
    """``text`` on one line, cut to ``limit`` characters with an ellipsis."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"
