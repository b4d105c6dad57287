"""Calibration: the recall FSRS predicted before each review against what the member did.

Every answer reviews the member's card (:func:`bot.core.answering.decide_answer`, whatever
the mode: review, quiz, practice, explain, test, daily, mistakes), so a card's history is
its answers in time order. Replaying them through a fuzz-free FSRS scheduler with the bot's
settings gives the card just before each answer, hence the retrievability FSRS predicted
at that moment. An answer counts as recalled when its rating is at least Hard (a wrong
auto-graded answer is Again). Only answers to a card reviewed before carry a prediction,
and only those a day or more after the card's previous answer: FSRS counts the time since
in whole days, so it predicts exactly 100% for a card seen again the same day (learning
steps, a retry), which says nothing about its long-term model. Those answers are still
replayed, since they change the card.

Pure: no I/O; storage loads the answers, the service shows :func:`calibration_text`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from fsrs import Card, Rating, Scheduler

from bot.core.clock import to_utc
from bot.core.scheduling import Grade, SchedulerConfig

#: Fewer predictions than this and calibration is not shown.
MIN_PREDICTIONS = 20
#: A bucket with fewer reviews than this is left out of the table.
MIN_BUCKET_REVIEWS = 5
#: The mean predicted and actual recall may differ by this many points and still be "well
#: calibrated".
WELL_CALIBRATED_POINTS = 5
#: Lower edges of the buckets of predicted recall (the last one is open above).
BUCKET_EDGES: tuple[float, ...] = (0.0, 0.70, 0.80, 0.90, 0.95)
TOO_FEW = f"Calibration appears after {MIN_PREDICTIONS} reviews."
#: An answer this soon after the card's previous one has no meaningful prediction.
MIN_GAP = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class ReviewEvent:
    """One answer as calibration needs it.

    ``counted``: whether this answer's prediction is part of the figures (answers outside
    the server asked about are still replayed, since the card saw them, but not counted).
    """

    item_id: int
    at: datetime
    rating: int
    counted: bool = True


@dataclass(frozen=True, slots=True)
class Prediction:
    """The recall FSRS predicted just before one answer, and whether the member recalled."""

    predicted: float
    recalled: bool


@dataclass(frozen=True, slots=True)
class Bucket:
    """Reviews whose predicted recall fell in ``[low, high)``."""

    low: float
    high: float | None
    reviews: int
    predicted_sum: float
    recalled: int

    @property
    def predicted(self) -> float:
        """Mean predicted recall (0–1; 0 for an empty bucket)."""
        return self.predicted_sum / self.reviews if self.reviews else 0.0

    @property
    def actual(self) -> float:
        """Share of the reviews recalled (0–1; 0 for an empty bucket)."""
        return self.recalled / self.reviews if self.reviews else 0.0

    @property
    def label(self) -> str:
        """``<70%``, ``70–80%`` or ``≥95%``."""
        if self.low <= 0.0 and self.high is not None:
            return f"<{_pct(self.high)}%"
        if self.high is None:
            return f"≥{_pct(self.low)}%"
        return f"{_pct(self.low)}–{_pct(self.high)}%"


@dataclass(frozen=True, slots=True)
class Calibration:
    """Predicted against actual recall, overall and per bucket of predicted recall."""

    buckets: tuple[Bucket, ...]

    @property
    def reviews(self) -> int:
        """Reviews with a prediction."""
        return sum(bucket.reviews for bucket in self.buckets)

    @property
    def predicted(self) -> float:
        """Mean predicted recall over every review (0–1)."""
        total = self.reviews
        return sum(b.predicted_sum for b in self.buckets) / total if total else 0.0

    @property
    def actual(self) -> float:
        """Share of every review recalled (0–1)."""
        total = self.reviews
        return sum(b.recalled for b in self.buckets) / total if total else 0.0

    @property
    def gap_points(self) -> int:
        """Actual minus predicted recall in whole percentage points, as both are shown
        (negative: FSRS optimistic)."""
        return _pct(self.actual) - _pct(self.predicted)

    @property
    def verdict(self) -> str:
        """A plain sentence on how far FSRS's predictions are from the member's recall."""
        gap = self.gap_points
        if abs(gap) <= WELL_CALIBRATED_POINTS:
            return "FSRS is well calibrated for you."
        if gap < 0:
            return "FSRS is a bit optimistic for you."
        return "FSRS is a bit pessimistic for you."


def _pct(share: float) -> int:
    return round(100 * share)


def _replay_scheduler(config: SchedulerConfig) -> Scheduler:
    """A scheduler with the bot's settings, fuzz off (fuzz only moves due dates anyway)."""
    steady = replace(config, enable_fuzzing=False)
    return Scheduler(
        desired_retention=steady.desired_retention,
        enable_fuzzing=steady.enable_fuzzing,
        maximum_interval=steady.maximum_interval_days,
    )


def predictions(events: Iterable[ReviewEvent], *, config: SchedulerConfig) -> list[Prediction]:
    """The prediction before every counted answer to a card reviewed a day or more before.

    Each item's answers are replayed oldest first (ties keep their given order); the first
    answer of an item, and one within :data:`MIN_GAP` of the previous, has no prediction.
    ``events`` must hold each item's whole history (or its first answers: a history cut
    short at its end only loses its last predictions).
    """
    scheduler = _replay_scheduler(config)
    cards: dict[int, Card] = {}
    out: list[Prediction] = []
    for event in sorted(events, key=lambda e: (e.item_id, to_utc(e.at))):
        moment = to_utc(event.at)
        card = cards.get(event.item_id)
        if card is None:
            card = Card(card_id=1)
        elif event.counted and _long_enough(card, moment):
            recall = float(scheduler.get_card_retrievability(card, moment))
            out.append(Prediction(predicted=recall, recalled=event.rating >= Grade.HARD))
        cards[event.item_id], _log = scheduler.review_card(
            card, Rating(event.rating), review_datetime=moment
        )
    return out


def _long_enough(card: Card, moment: datetime) -> bool:
    """Whether ``moment`` is at least :data:`MIN_GAP` after the card's last review."""
    last = card.last_review
    return last is not None and moment - to_utc(last) >= MIN_GAP


def bucket_index(predicted: float) -> int:
    """Which bucket of :data:`BUCKET_EDGES` a predicted recall belongs to."""
    index = 0
    for position, edge in enumerate(BUCKET_EDGES):
        if predicted >= edge:
            index = position
    return index


def calibrate(found: Iterable[Prediction]) -> Calibration:
    """Group predictions into the buckets of :data:`BUCKET_EDGES` (empty ones included)."""
    counts = [0] * len(BUCKET_EDGES)
    sums = [0.0] * len(BUCKET_EDGES)
    recalled = [0] * len(BUCKET_EDGES)
    for prediction in found:
        index = bucket_index(prediction.predicted)
        counts[index] += 1
        sums[index] += prediction.predicted
        recalled[index] += prediction.recalled
    highs: list[float | None] = [*BUCKET_EDGES[1:], None]
    return Calibration(
        buckets=tuple(
            Bucket(low=low, high=high, reviews=n, predicted_sum=s, recalled=r)
            for low, high, n, s, r in zip(BUCKET_EDGES, highs, counts, sums, recalled, strict=True)
        )
    )


def calibration_text(calibration: Calibration) -> str:
    """The ``/stats`` field: one line per bucket with enough reviews, then the verdict.

    ``80–90%: predicted 85% · remembered 81% · 64 reviews`` …, ``Overall: predicted 88% ·
    remembered 86% — FSRS is well calibrated for you.``; :data:`TOO_FEW` under
    :data:`MIN_PREDICTIONS` reviews.
    """
    if calibration.reviews < MIN_PREDICTIONS:
        return TOO_FEW
    lines = [
        f"{b.label}: predicted {_pct(b.predicted)}% · remembered {_pct(b.actual)}% · "
        f"{b.reviews} reviews"
        for b in calibration.buckets
        if b.reviews >= MIN_BUCKET_REVIEWS
    ]
    lines.append(
        f"Overall: predicted {_pct(calibration.predicted)}% · "
        f"remembered {_pct(calibration.actual)}% — {calibration.verdict}"
    )
    return "\n".join(lines)
