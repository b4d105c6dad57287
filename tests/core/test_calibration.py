"""Calibration: FSRS's predicted recall before each review against the member's answers."""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from fsrs import Card, Rating, Scheduler

from bot.core.calibration import (
    MIN_BUCKET_REVIEWS,
    TOO_FEW,
    Bucket,
    Calibration,
    Prediction,
    ReviewEvent,
    bucket_index,
    calibrate,
    calibration_text,
    predictions,
)
from bot.core.scheduling import CardState, Grade, SchedulerConfig, SpacedRepetition

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
CONFIG = SchedulerConfig()


def at(days: float) -> datetime:
    return START + timedelta(days=days)


def simulate(
    recall_chance: Callable[[float], float], *, items: int = 600, reviews: int = 8, seed: int = 1
) -> list[ReviewEvent]:
    """A learner's answers: each item learned, then reviewed when FSRS expects a recall
    drawn uniformly from 40–99% (whole days later, at least one, as FSRS counts them); each
    review recalled with ``recall_chance(predicted recall)``, drawn from a seeded RNG."""
    rng = random.Random(seed)
    scheduler = Scheduler(enable_fuzzing=False)
    decay, factor = scheduler._DECAY, scheduler._FACTOR
    events: list[ReviewEvent] = []
    for item_id in range(items):
        moment = at(rng.uniform(0, 30))
        card, _ = scheduler.review_card(Card(card_id=1), Rating.Good, review_datetime=moment)
        events.append(ReviewEvent(item_id=item_id, at=moment, rating=3))
        for _ in range(reviews):
            stability = card.stability or 1.0
            target = rng.uniform(0.4, 0.99)
            days = math.ceil(stability * (target ** (1 / decay) - 1) / factor)
            moment += timedelta(days=min(max(1, days), 1000), hours=rng.uniform(0, 12))
            chance = recall_chance(scheduler.get_card_retrievability(card, moment))
            rating = Rating.Good if rng.random() < chance else Rating.Again
            card, _ = scheduler.review_card(card, rating, review_datetime=moment)
            events.append(ReviewEvent(item_id=item_id, at=moment, rating=int(rating)))
    rng.shuffle(events)  # the replay puts each item's answers back in time order
    return events


def test_a_perfectly_calibrated_learner_matches_in_every_bucket() -> None:
    result = calibrate(predictions(simulate(lambda p: p), config=CONFIG))
    assert result.reviews == 600 * 8
    for bucket in result.buckets:
        assert bucket.reviews >= 300, bucket.label  # every bucket is well filled
        assert abs(bucket.actual - bucket.predicted) < 0.05, bucket.label
    assert abs(result.gap_points) < 2
    assert result.verdict == "FSRS is well calibrated for you."
    assert "FSRS is well calibrated for you." in calibration_text(result)


def test_a_learner_who_forgets_more_than_predicted_is_called_optimistic() -> None:
    result = calibrate(predictions(simulate(lambda p: p - 0.15), config=CONFIG))
    assert result.gap_points < -10
    assert all(b.actual < b.predicted for b in result.buckets)
    assert result.verdict == "FSRS is a bit optimistic for you."


def test_a_learner_who_remembers_more_than_predicted_is_called_pessimistic() -> None:
    result = calibrate(predictions(simulate(lambda p: min(1.0, p + 0.2)), config=CONFIG))
    assert result.gap_points > 5
    assert result.verdict == "FSRS is a bit pessimistic for you."


def test_the_prediction_is_the_bots_own_retrievability_before_the_answer() -> None:
    srs = SpacedRepetition(SchedulerConfig(enable_fuzzing=False))
    history = [(0.0, Grade.GOOD), (0.01, Grade.GOOD), (3.0, Grade.AGAIN), (3.01, Grade.HARD)]
    history += [(9.0, Grade.GOOD), (40.0, Grade.EASY)]
    card: CardState | None = None
    expected: list[Prediction] = []
    previous = None
    for days, grade in history:
        if previous is not None and days - previous >= 1:
            recalled = grade >= Grade.HARD
            assert card is not None
            expected.append(Prediction(srs.retrievability(card, at(days)), recalled))
        card = srs.review(card, grade, at(days))
        previous = days
    events = [ReviewEvent(item_id=4, at=at(d), rating=int(g)) for d, g in history]
    # Fuzzing on in the bot's settings: the replay turns it off (it only moves due dates).
    found = predictions(reversed(events), config=SchedulerConfig(enable_fuzzing=True))
    # Answers the same day as the one before (learning steps) carry no prediction.
    assert [p.recalled for p in found] == [False, True, True]
    assert [p.predicted for p in found] == pytest.approx([p.predicted for p in expected])


def test_the_first_answer_of_each_item_has_no_prediction() -> None:
    events = [ReviewEvent(item_id=i, at=at(i), rating=3) for i in range(5)]
    assert predictions(events, config=CONFIG) == []
    events.append(ReviewEvent(item_id=2, at=at(9), rating=1))
    [only] = predictions(events, config=CONFIG)
    assert not only.recalled and 0 < only.predicted < 1


def test_answers_the_same_day_have_no_prediction_but_are_replayed() -> None:
    base = [ReviewEvent(1, at(0), 3), ReviewEvent(1, at(30), 3)]
    retry = ReviewEvent(1, at(0.5), 1)
    assert len(predictions([*base, retry], config=CONFIG)) == 1
    [plain] = predictions(base, config=CONFIG)
    [after_retry] = predictions([*base, retry], config=CONFIG)
    assert after_retry.predicted != plain.predicted


def test_uncounted_answers_are_replayed_but_not_counted() -> None:
    counted = [ReviewEvent(1, at(0), 3), ReviewEvent(1, at(20), 3)]
    elsewhere = ReviewEvent(1, at(10), 1, counted=False)
    [alone] = predictions(counted, config=CONFIG)
    [after_elsewhere] = predictions([*counted, elsewhere], config=CONFIG)
    # The lapse in another server made the card weaker, so the prediction here is lower.
    assert after_elsewhere.predicted < alone.predicted


@pytest.mark.parametrize(
    ("predicted", "index"),
    [(0.0, 0), (0.6999, 0), (0.70, 1), (0.8, 2), (0.9499, 3), (0.95, 4), (1.0, 4)],
)
def test_bucket_edges(predicted: float, index: int) -> None:
    assert bucket_index(predicted) == index


def test_bucket_labels() -> None:
    labels = [bucket.label for bucket in calibrate([]).buckets]
    assert labels == ["<70%", "70–80%", "80–90%", "90–95%", "≥95%"]


def test_too_few_reviews_show_when_calibration_appears() -> None:
    assert calibration_text(calibrate([])) == TOO_FEW == "Calibration appears after 20 reviews."
    nineteen = [Prediction(0.9, True)] * 19
    assert calibration_text(calibrate(nineteen)) == TOO_FEW


def test_the_text_lists_buckets_with_enough_reviews_then_the_verdict() -> None:
    found = [Prediction(0.85, i % 5 != 0) for i in range(64)]  # 80% remembered
    found += [Prediction(0.6, True)] * (MIN_BUCKET_REVIEWS - 1)  # too few to show
    text = calibration_text(calibrate(found))
    assert text.splitlines() == [
        "80–90%: predicted 85% · remembered 80% · 64 reviews",
        "Overall: predicted 84% · remembered 81% — FSRS is well calibrated for you.",
    ]


def test_verdict_within_five_points_is_well_calibrated() -> None:
    def one(predicted: float, recalled: int) -> Calibration:
        bucket = Bucket(low=0.9, high=0.95, reviews=100, predicted_sum=predicted, recalled=recalled)
        return Calibration(buckets=(bucket,))

    assert one(90.0, 85).verdict == "FSRS is well calibrated for you."
    assert one(90.0, 95).verdict == "FSRS is well calibrated for you."
    assert one(90.0, 84).verdict == "FSRS is a bit optimistic for you."
    assert one(90.0, 96).verdict == "FSRS is a bit pessimistic for you."
