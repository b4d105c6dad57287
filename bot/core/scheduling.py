"""Spaced repetition with FSRS-6 (the ``fsrs`` package) and the rating rules.

Flashcards are self-rated Again/Hard/Good/Easy. Auto-graded questions map correct → Good
and wrong → Again; a wrong answer is never rated Hard. Explanations are rated by how many
concepts they cover.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import IntEnum

from fsrs import Card, Rating, Scheduler, State

from bot.core.clock import to_utc


class Grade(IntEnum):
    """The four FSRS ratings, with the names members see."""

    AGAIN = 1
    HARD = 2
    GOOD = 3
    EASY = 4

    @property
    def label(self) -> str:
        """``Again``, ``Hard``, ``Good`` or ``Easy``."""
        return self.name.capitalize()

    @classmethod
    def parse(cls, value: str | int) -> Grade:
        """A grade from ``"good"``, ``"3"`` or ``3``; raises ``ValueError`` otherwise."""
        if isinstance(value, int):
            return cls(value)
        text = value.strip().casefold()
        if text.isdigit():
            return cls(int(text))
        return cls[text.upper()]


def grade_for_answer(correct: bool) -> Grade:
    """Auto-graded answers: correct → Good, wrong → Again (never Hard for a wrong answer)."""
    return Grade.GOOD if correct else Grade.AGAIN


#: An explanation counts as correct when it covers at least this share of the concepts.
EXPLAIN_PASS_FRACTION = 0.5


def grade_for_coverage(fraction: float) -> Grade:
    """Explain answers: all concepts → Good, at least half → Hard, fewer → Again."""
    if fraction >= 1.0:
        return Grade.GOOD
    if fraction >= EXPLAIN_PASS_FRACTION:
        return Grade.HARD
    return Grade.AGAIN


#: The columns of a member's card, in the order every statement that reads or writes a
#: review state uses (the one place they are spelled out).
CARD_COLUMNS: tuple[str, ...] = (
    "due",
    "state",
    "step",
    "stability",
    "difficulty",
    "last_review",
    "reps",
    "lapses",
)


@dataclass(frozen=True, slots=True)
class CardState:
    """A member's memory state for one item, as stored (mirrors ``fsrs.Card``)."""

    due: datetime
    state: int = State.Learning.value
    step: int | None = 0
    stability: float | None = None
    difficulty: float | None = None
    last_review: datetime | None = None
    reps: int = 0
    lapses: int = 0

    @classmethod
    def new(cls, now: datetime) -> CardState:
        """A never-reviewed card, due now."""
        return cls(due=to_utc(now))

    @property
    def is_review(self) -> bool:
        """True once the card has graduated from learning steps."""
        return self.state == State.Review.value

    def columns(self) -> dict[str, object]:
        """The stored columns of a review state (everything but the member and item)."""
        return {name: getattr(self, name) for name in CARD_COLUMNS}

    def to_card(self, card_id: int = 1) -> Card:
        """The equivalent ``fsrs.Card``."""
        return Card(
            card_id=card_id,
            state=State(self.state),
            step=self.step,
            stability=self.stability,
            difficulty=self.difficulty,
            due=to_utc(self.due),
            last_review=to_utc(self.last_review) if self.last_review else None,
        )


@dataclass(frozen=True, slots=True)
class SchedulerConfig:
    """FSRS knobs (defaults are the library's)."""

    desired_retention: float = 0.9
    enable_fuzzing: bool = True
    maximum_interval_days: int = 36500


class SpacedRepetition:
    """Reviews cards with FSRS-6 and reports when each comes back."""

    def __init__(self, config: SchedulerConfig | None = None) -> None:
        self.config = config or SchedulerConfig()
        self._scheduler = Scheduler(
            desired_retention=self.config.desired_retention,
            enable_fuzzing=self.config.enable_fuzzing,
            maximum_interval=self.config.maximum_interval_days,
        )

    def review(
        self,
        card: CardState | None,
        grade: Grade,
        now: datetime,
        duration_ms: int | None = None,
    ) -> CardState:
        """Apply one review at ``now``; a ``None`` card is a first review."""
        moment = to_utc(now).astimezone(UTC)
        current = card or CardState.new(moment)
        updated, _log = self._scheduler.review_card(
            current.to_card(),
            Rating(int(grade)),
            review_datetime=moment,
            review_duration=duration_ms,
        )
        lapsed = current.is_review and grade == Grade.AGAIN
        return replace(
            current,
            due=to_utc(updated.due),
            state=int(updated.state.value),
            step=updated.step,
            stability=updated.stability,
            difficulty=updated.difficulty,
            last_review=to_utc(updated.last_review) if updated.last_review else moment,
            reps=current.reps + 1,
            lapses=current.lapses + (1 if lapsed else 0),
        )

    def retrievability(self, card: CardState, now: datetime) -> float:
        """Predicted chance the member recalls the item at ``now`` (0 for unseen cards)."""
        return float(self._scheduler.get_card_retrievability(card.to_card(), to_utc(now)))


def describe_interval(delta: timedelta) -> str:
    """A friendly "in 10 minutes" / "in 3 days" for the time until the next review."""
    seconds = max(0, int(delta.total_seconds()))
    if seconds < 90:
        return "in about a minute"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"in {minutes} minutes"
    hours = round(seconds / 3600)
    if hours < 36:
        return "in 1 hour" if hours == 1 else f"in {hours} hours"
    days = round(seconds / 86400)
    if days < 60:
        return f"in {days} days"
    months = round(days / 30)
    return f"in about {months} months"
