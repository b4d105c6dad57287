"""An Anki card's review history (its ``revlog``) replayed through FSRS into a member's card.

Which rows count as answers (Anki's own FSRS makes the same choices, except where noted):

* ``ease`` 1–4 with ``kind`` 0 learning, 1 review, 2 relearning or 3 filtered are answers.
  Kind 3 is what Anki logs for an answer in a filtered deck and for a review answered early;
  Anki drops a kind 3 row only when it is a preview that did not reschedule (its ``factor``
  is 0), which :class:`~bot.core.anki_model.AnkiReview` does not carry, so every kind 3
  answer counts: at worst a cram answer adds one short-term review.
* ``ease`` 0 rows, kind 4 (manual) and kind 5 (set due date) rows are not answers and are
  skipped. A kind 4 row with ``interval`` 0 is Anki's "Forget"/"Reset" (the card went back to
  new): every answer before it is forgotten, as in Anki.
* Answers are replayed oldest first (ties keep their order), each at its own time with its
  button as the FSRS rating; an answer stamped after ``now`` (a clock ahead of ours) is
  replayed at ``now``.

Anki's schedule is a floor: FSRS's default parameters, or a history with rows missing (a
truncated ``revlog``, cards moved between collections), can bring a card back sooner than
Anki would. When the last answer was not Again and Anki scheduled it at least a day out
(``interval`` > 0 days), the card is not due before ``answer time + interval``; a card FSRS
still had in learning steps is then a review card, as it is in Anki. Stability and difficulty
stay what FSRS inferred from the answers, so the next review updates them from the real gap.
So a card Anki would show in 30 days is not due today, and a card whose last answer was Again
(a lapse: Anki logs a relearning step, a negative interval) is due once its short step is over.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from functools import lru_cache

from fsrs import Card, Rating, Scheduler, State

from bot.core.anki_model import AnkiReview
from bot.core.clock import to_utc
from bot.core.scheduling import CardState, SchedulerConfig, SpacedRepetition

#: ``revlog.type`` values whose rows with a button 1–4 are answers.
ANSWER_KINDS = frozenset({0, 1, 2, 3})
#: ``revlog.type`` of a manual change; with interval 0 it is a reset to new ("Forget").
MANUAL_KIND = 4


def is_answer(review: AnkiReview) -> bool:
    """Whether ``review`` is a member's answer (a button 1–4 in learning, review, relearning or
    a filtered deck), as opposed to a manual change or a rescheduling."""
    return review.kind in ANSWER_KINDS and 1 <= review.ease <= 4


def is_reset(review: AnkiReview) -> bool:
    """Whether ``review`` is Anki's "Forget"/"Reset": a manual row that made the card new."""
    return review.kind == MANUAL_KIND and review.ease == 0 and review.interval == 0


def counted_answers(reviews: Iterable[AnkiReview]) -> list[AnkiReview]:
    """The answers FSRS replays, oldest first: those after the last reset, without manual rows."""
    ordered = sorted(reviews, key=lambda review: to_utc(review.at))
    start = 0
    for index, review in enumerate(ordered):
        if is_reset(review):
            start = index + 1
    return [review for review in ordered[start:] if is_answer(review)]


def first_answer_at(reviews: Iterable[AnkiReview]) -> datetime | None:
    """When the member first answered the card (after the last reset), in UTC, or ``None``.

    Storage keeps this as the card's ``first_seen_at``.
    """
    answers = counted_answers(reviews)
    return to_utc(answers[0].at) if answers else None


def anki_due(review: AnkiReview) -> datetime | None:
    """When Anki scheduled the card after the answer ``review``, or ``None`` if not known.

    Anki's ``ivl`` is days when positive and seconds when negative (a learning step).
    """
    if review.interval > 0:
        return to_utc(review.at) + timedelta(days=review.interval)
    if review.interval < 0:
        return to_utc(review.at) + timedelta(seconds=-review.interval)
    return None


def card_from_history(
    reviews: Sequence[AnkiReview], *, srs: SpacedRepetition, now: datetime
) -> CardState | None:
    """The member's card after replaying an Anki card's ``reviews`` with ``srs``'s settings.

    ``None`` when no row is an answer (a new card, or one reset to new). ``reps`` counts the
    replayed answers and ``lapses`` the Agains on review cards, as
    :meth:`SpacedRepetition.review` counts them; ``last_review`` is the last answer's time.
    The rules (which rows count, Anki's schedule as a floor) are in the module documentation.

    The answers go straight through an ``fsrs.Scheduler`` built from ``srs.config`` (the one
    ``SpacedRepetition`` builds; a test checks both give the same card): about half the
    time of calling :meth:`SpacedRepetition.review` once per answer.
    """
    answers = counted_answers(reviews)
    if not answers:
        return None
    moment = to_utc(now)
    # Only the last answer's interval is kept, so only the last one is fuzzed.
    steady = _scheduler(replace(srs.config, enable_fuzzing=False))
    card = Card(card_id=1)
    lapses = 0
    for index, review in enumerate(answers, start=1):
        rating = Rating(review.ease)
        if rating == Rating.Again and card.state == State.Review:
            lapses += 1
        scheduler = _scheduler(srs.config) if index == len(answers) else steady
        card, _log = scheduler.review_card(
            card, rating, review_datetime=min(to_utc(review.at), moment)
        )
    replayed = CardState(
        due=to_utc(card.due),
        state=int(card.state.value),
        step=card.step,
        stability=card.stability,
        difficulty=card.difficulty,
        last_review=card.last_review,
        reps=len(answers),
        lapses=lapses,
    )
    last = answers[-1]
    floor = anki_due(last) if last.ease != Rating.Again and last.interval > 0 else None
    if floor is not None and floor > replayed.due:
        return replace(replayed, due=floor, state=State.Review.value, step=None)
    return replayed


@lru_cache(maxsize=8)
def _scheduler(config: SchedulerConfig) -> Scheduler:
    """An FSRS scheduler with ``config``, built as :class:`SpacedRepetition` builds its own."""
    return Scheduler(
        desired_retention=config.desired_retention,
        enable_fuzzing=config.enable_fuzzing,
        maximum_interval=config.maximum_interval_days,
    )
