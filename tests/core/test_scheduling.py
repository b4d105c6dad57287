"""FSRS mapping and the rating rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.scheduling import (
    CardState,
    Grade,
    SchedulerConfig,
    SpacedRepetition,
    describe_interval,
    grade_for_answer,
    grade_for_coverage,
)

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def srs() -> SpacedRepetition:
    return SpacedRepetition(SchedulerConfig(enable_fuzzing=False))


def test_auto_graded_answers_map_to_good_or_again_never_hard() -> None:
    assert grade_for_answer(True) is Grade.GOOD
    assert grade_for_answer(False) is Grade.AGAIN


@given(st.floats(min_value=0, max_value=1))
def test_coverage_grade_is_monotonic_and_only_full_coverage_is_good(fraction: float) -> None:
    grade = grade_for_coverage(fraction)
    assert (grade is Grade.GOOD) == (fraction >= 1.0)
    assert grade_for_coverage(min(1.0, fraction + 0.3)) >= grade


def test_first_review_good_schedules_a_learning_step_and_easy_graduates() -> None:
    good = srs().review(None, Grade.GOOD, NOW)
    easy = srs().review(None, Grade.EASY, NOW)
    assert good.reps == 1 and good.due > NOW
    assert easy.is_review
    assert easy.due - NOW >= timedelta(days=1)
    assert good.due < easy.due


def test_again_comes_back_sooner_than_good() -> None:
    again = srs().review(None, Grade.AGAIN, NOW)
    good = srs().review(None, Grade.GOOD, NOW)
    assert again.due < good.due


def test_successful_reviews_grow_the_interval_and_a_lapse_is_counted() -> None:
    engine = srs()
    card = engine.review(None, Grade.EASY, NOW)
    first_interval = card.due - NOW
    later = card.due
    card = engine.review(card, Grade.GOOD, later)
    assert card.due - later > first_interval
    lapsed = engine.review(card, Grade.AGAIN, card.due)
    assert lapsed.lapses == 1
    assert lapsed.due - card.due < timedelta(days=1)


def test_card_state_round_trips_through_fsrs_card() -> None:
    state = srs().review(None, Grade.GOOD, NOW, duration_ms=1234)
    card = state.to_card()
    assert card.due == state.due and card.stability == state.stability


def test_retrievability_is_zero_for_unseen_and_high_right_after_review() -> None:
    engine = srs()
    assert engine.retrievability(CardState.new(NOW), NOW) == 0
    card = engine.review(None, Grade.EASY, NOW)
    assert engine.retrievability(card, NOW) > 0.95


@pytest.mark.parametrize(
    ("text", "grade"),
    [("again", Grade.AGAIN), ("HARD", Grade.HARD), (" good ", Grade.GOOD), ("4", Grade.EASY)],
)
def test_grade_parse(text: str, grade: Grade) -> None:
    assert Grade.parse(text) is grade


def test_grade_parse_rejects_nonsense() -> None:
    with pytest.raises((KeyError, ValueError)):
        Grade.parse("great")


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(seconds=30), "in about a minute"),
        (timedelta(minutes=10), "in 10 minutes"),
        (timedelta(hours=1), "in 1 hour"),
        (timedelta(days=3), "in 3 days"),
        (timedelta(days=120), "in about 4 months"),
    ],
)
def test_describe_interval(delta: timedelta, text: str) -> None:
    assert describe_interval(delta) == text
