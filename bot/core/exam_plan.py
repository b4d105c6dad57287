"""Planning for an exam: new cards per day and reviews brought forward (the ``/exam`` engine).

Given today, the exam day, a member's cards and how many cards in scope they have not seen
yet, :func:`plan_exam` returns an :class:`ExamPlan`:

* **New cards.** Every unseen card should be introduced by a cut-off, ``lead_days`` (3)
  before the exam, so each still gets a couple of reviews: ``ceil(unseen / days until the
  cut-off, today included)`` a day. When the cut-off has passed it is too late to space
  them: the plan says all of them today, with a warning.
* **Reviews brought forward.** FSRS predicts recall after ``t`` days at stability ``S`` as
  ``R(t) = (1 + F·t/S)^(-w20)`` with ``F = 0.9^(-1/w20) - 1``. A card whose next review is on
  or after the exam day and whose predicted recall on the exam day is below ``target`` is
  brought forward to the earliest day ``E - g`` (never before today, never after the day
  before the exam), where ``g`` is the longest gap with ``R(g) ≥ target`` at the card's
  *current* stability. A successful review never lowers stability, so recall on the exam
  day after that review is at least the target; later days would meet it too (the exam day
  itself trivially), but the earliest keeps the review spaced and leaves time to relearn a
  lapse. Cards due before the exam are left alone: they are reviewed anyway and the plan is
  made again each day from their new state.

Pure: no I/O; days are calendar dates (UTC dates of the stored datetimes).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from fsrs.scheduler import DEFAULT_PARAMETERS

from bot.core.scheduling import CardState
from bot.errors import BadInput

#: Unseen cards are all introduced at least this many days before the exam.
DEFAULT_LEAD_DAYS = 3
#: The recall the plan aims for on the exam day (the bot's desired retention).
DEFAULT_TARGET = 0.90


@dataclass(frozen=True, slots=True)
class PulledReview:
    """One card whose review the plan brings forward."""

    item_id: int
    due: date
    review_on: date
    recall_at_exam: float


@dataclass(frozen=True, slots=True)
class DayPlan:
    """What one day before the exam holds: new cards and reviews brought forward."""

    day: date
    new_cards: int
    pulled_reviews: int


@dataclass(frozen=True, slots=True)
class ExamPlan:
    """The countdown to an exam and what to do each day until then."""

    today: date
    exam_day: date
    target: float
    cutoff: date
    unseen: int
    new_per_day: int
    too_late: bool
    warning: str | None
    pulled: tuple[PulledReview, ...]
    days: tuple[DayPlan, ...]

    @property
    def days_left(self) -> int:
        """Whole days from today to the exam (0 on the exam day)."""
        return (self.exam_day - self.today).days

    def pulled_per_day(self) -> tuple[tuple[date, int], ...]:
        """How many reviews are brought forward to each day, in date order."""
        counts = Counter(pull.review_on for pull in self.pulled)
        return tuple(sorted(counts.items()))

    def pulled_due_by(self, day: date) -> frozenset[int]:
        """The items whose brought-forward review falls on or before ``day``."""
        return frozenset(pull.item_id for pull in self.pulled if pull.review_on <= day)

    def summary_lines(self) -> list[str]:
        """The countdown in plain sentences (days left, new cards a day, reviews moved)."""
        lines = [f"{self.days_left} days to the exam ({self.exam_day.isoformat()})."]
        if self.unseen:
            lines.append(
                f"Learn {self.new_per_day} new cards a day until {self.cutoff.isoformat()} "
                f"({self.unseen} left)."
            )
        else:
            lines.append("Every card has been seen.")
        per_day = self.pulled_per_day()
        if per_day:
            moved = ", ".join(f"{count} on {day.isoformat()}" for day, count in per_day)
            lines.append(f"Reviews brought forward so recall holds on exam day: {moved}.")
        if self.warning:
            lines.append(self.warning)
        return lines


def recall_after(days: float, stability: float, parameters: Sequence[float]) -> float:
    """FSRS-6 predicted recall ``days`` after a review at ``stability`` (power forgetting)."""
    decay = -parameters[20]
    factor = float(0.9 ** (1 / decay)) - 1
    return float((1 + factor * max(0.0, days) / stability) ** decay)


def longest_gap(stability: float, target: float, parameters: Sequence[float]) -> int:
    """The most whole days after a review that predicted recall stays at least ``target``."""
    decay = -parameters[20]
    factor = float(0.9 ** (1 / decay)) - 1
    gap = stability / factor * (float(target ** (1 / decay)) - 1)
    return max(0, math.floor(gap + 1e-9))


def plan_exam(
    today: date,
    exam_day: date,
    cards: Mapping[int, CardState],
    unseen: int,
    *,
    target: float = DEFAULT_TARGET,
    lead_days: int = DEFAULT_LEAD_DAYS,
    parameters: Sequence[float] = DEFAULT_PARAMETERS,
) -> ExamPlan:
    """Plan new cards and brought-forward reviews until ``exam_day`` (rules: module docstring).

    ``cards`` maps item ids to the member's review states; ``unseen`` counts the cards in
    scope the member has never seen. Raises ``BadInput`` for an exam in the past, a target
    outside (0, 1) or a negative count.
    """
    if exam_day < today:
        raise BadInput("The exam date is in the past.")
    if not 0 < target < 1:
        raise BadInput("The target recall must be between 0 and 1.")
    if unseen < 0 or lead_days < 0:
        raise BadInput("Counts cannot be negative.")
    cutoff = exam_day - timedelta(days=lead_days)
    new_days = (cutoff - today).days + 1
    too_late = unseen > 0 and new_days < 1
    warning = None
    if too_late:
        new_per_day = unseen
        cutoff = today
        warning = (
            f"Too late to space {unseen} new cards before the exam: all of them today, "
            "and expect lower recall on them."
        )
    else:
        new_per_day = math.ceil(unseen / new_days) if unseen else 0
    pulled = _pulled_reviews(today, exam_day, cards, target, parameters)
    return ExamPlan(
        today=today,
        exam_day=exam_day,
        target=target,
        cutoff=cutoff,
        unseen=unseen,
        new_per_day=new_per_day,
        too_late=too_late,
        warning=warning,
        pulled=pulled,
        days=_day_plans(today, exam_day, unseen, new_per_day, pulled),
    )


def _pulled_reviews(
    today: date,
    exam_day: date,
    cards: Mapping[int, CardState],
    target: float,
    parameters: Sequence[float],
) -> tuple[PulledReview, ...]:
    last_day = exam_day - timedelta(days=1)
    if last_day < today:
        return ()
    pulled = []
    for item_id, card in cards.items():
        if card.stability is None or card.last_review is None:
            continue
        due = card.due.date()
        if due < exam_day:
            continue
        recall = recall_after((exam_day - card.last_review.date()).days, card.stability, parameters)
        if recall >= target:
            continue
        gap = longest_gap(card.stability, target, parameters)
        review_on = min(last_day, max(today, exam_day - timedelta(days=gap)))
        pulled.append(PulledReview(item_id, due, review_on, recall))
    pulled.sort(key=lambda pull: (pull.review_on, pull.recall_at_exam, pull.item_id))
    return tuple(pulled)


def _day_plans(
    today: date,
    exam_day: date,
    unseen: int,
    new_per_day: int,
    pulled: tuple[PulledReview, ...],
) -> tuple[DayPlan, ...]:
    counts = Counter(pull.review_on for pull in pulled)
    days = []
    remaining = unseen
    for offset in range(max(1, (exam_day - today).days)):
        day = today + timedelta(days=offset)
        new_cards = min(remaining, new_per_day)
        remaining -= new_cards
        days.append(DayPlan(day, new_cards, counts.get(day, 0)))
    return tuple(days)
