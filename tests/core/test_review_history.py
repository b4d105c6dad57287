"""Replaying an Anki card's revlog through FSRS."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.core.anki_model import AnkiReview
from bot.core.review_history import (
    anki_due,
    card_from_history,
    counted_answers,
    first_answer_at,
    is_answer,
    is_reset,
)
from bot.core.scheduling import CardState, Grade, SchedulerConfig, SpacedRepetition

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
LEARN, REVIEW, RELEARN, FILTERED, MANUAL, RESCHEDULED = range(6)
REVIEW_STATE, RELEARNING_STATE = 2, 3


def srs() -> SpacedRepetition:
    return SpacedRepetition(SchedulerConfig(enable_fuzzing=False))


def row(days_ago: float, ease: int = 3, kind: int = REVIEW, interval: int = 0) -> AnkiReview:
    return AnkiReview(
        at=NOW - timedelta(days=days_ago), ease=ease, kind=kind, interval=interval, duration_ms=4000
    )


def mature_history(last_days_ago: float) -> list[AnkiReview]:
    """Learned, then Good reviews at 1, 3, 8, 20 and 30 days, the last ``last_days_ago`` ago."""
    gaps = [1, 3, 8, 20, 30]
    start = last_days_ago + sum(gaps)
    rows = [
        row(start, kind=LEARN, interval=-600),
        row(start - 0.007, kind=LEARN, interval=1),
    ]
    elapsed = 0.0
    for index, gap in enumerate(gaps):
        elapsed += gap
        following = gaps[index + 1] if index + 1 < len(gaps) else 30
        rows.append(row(start - elapsed, kind=REVIEW, interval=following))
    return rows


def test_answers_are_buttons_in_learning_review_relearning_and_filtered_rows() -> None:
    assert all(is_answer(row(1, ease=3, kind=kind)) for kind in (LEARN, REVIEW, RELEARN, FILTERED))
    assert not is_answer(row(1, ease=0, kind=REVIEW))
    assert not is_answer(row(1, ease=3, kind=MANUAL))
    assert not is_answer(row(1, ease=3, kind=RESCHEDULED))
    assert not is_answer(row(1, ease=5, kind=REVIEW))
    assert is_reset(row(1, ease=0, kind=MANUAL, interval=0))
    assert not is_reset(row(1, ease=0, kind=MANUAL, interval=7))


def test_a_card_anki_shows_in_30_days_is_not_due_today() -> None:
    card = card_from_history(mature_history(last_days_ago=0.5), srs=srs(), now=NOW)
    assert card is not None
    assert card.is_review
    assert card.due > NOW + timedelta(days=1)
    assert card.reps == 7 and card.lapses == 0
    assert card.last_review == NOW - timedelta(days=0.5)


def test_a_lapsed_card_is_due_today() -> None:
    history = [*mature_history(last_days_ago=3), row(1, ease=1, kind=REVIEW, interval=-600)]
    card = card_from_history(history, srs=srs(), now=NOW)
    assert card is not None
    assert card.due <= NOW
    assert card.state == RELEARNING_STATE
    assert card.lapses == 1 and card.reps == 8


def test_a_card_reviewed_long_ago_is_due_now_as_in_anki() -> None:
    card = card_from_history(mature_history(last_days_ago=400), srs=srs(), now=NOW)
    assert card is not None and card.is_review
    assert card.due <= NOW


def test_only_manual_rows_or_no_rows_make_no_card() -> None:
    manual = [
        row(10, ease=0, kind=MANUAL, interval=0),
        row(5, ease=0, kind=RESCHEDULED, interval=3),
        row(4, ease=2, kind=MANUAL, interval=3),
    ]
    assert card_from_history(manual, srs=srs(), now=NOW) is None
    assert card_from_history([], srs=srs(), now=NOW) is None
    assert first_answer_at(manual) is None


def test_manual_and_rescheduling_rows_change_nothing() -> None:
    history = mature_history(last_days_ago=2)
    noisy = [
        *history,
        row(1, ease=0, kind=RESCHEDULED, interval=1),
        row(1.5, ease=0, kind=MANUAL, interval=9),
        row(300, ease=0, kind=REVIEW, interval=4),
    ]
    assert card_from_history(noisy, srs=srs(), now=NOW) == card_from_history(
        history, srs=srs(), now=NOW
    )


def test_a_reset_forgets_the_answers_before_it() -> None:
    after = [row(2, ease=3, kind=LEARN, interval=-600), row(1.99, ease=4, kind=LEARN, interval=4)]
    history = [*mature_history(last_days_ago=20), row(5, ease=0, kind=MANUAL), *after]
    card = card_from_history(history, srs=srs(), now=NOW)
    assert card == card_from_history(after, srs=srs(), now=NOW)
    assert card is not None and card.reps == 2
    assert first_answer_at(history) == after[0].at
    reset_last = [*mature_history(last_days_ago=20), row(5, ease=0, kind=MANUAL)]
    assert card_from_history(reset_last, srs=srs(), now=NOW) is None


def test_rows_are_replayed_in_time_order_whatever_order_they_come_in() -> None:
    history = mature_history(last_days_ago=2)
    shuffled = [history[3], history[0], history[6], history[1], history[5], history[2], history[4]]
    assert card_from_history(shuffled, srs=srs(), now=NOW) == card_from_history(
        history, srs=srs(), now=NOW
    )
    assert [review.at for review in counted_answers(shuffled)] == [r.at for r in history]


def test_replay_matches_reviewing_each_answer_in_the_bot() -> None:
    history = [
        row(40, ease=3, kind=LEARN, interval=-600),
        row(39.99, ease=3, kind=LEARN, interval=1),
        row(38, ease=2, kind=REVIEW, interval=2),
        row(35, ease=1, kind=REVIEW, interval=-600),
        row(34.99, ease=3, kind=RELEARN, interval=1),
        row(33, ease=4, kind=FILTERED, interval=2),
    ]
    engine = srs()
    expected: CardState | None = None
    for review in history:
        expected = engine.review(expected, Grade(review.ease), review.at, review.duration_ms)
    card = card_from_history(history, srs=engine, now=NOW)
    assert card == expected
    assert card is not None and card.reps == 6 and card.lapses == 1


def test_filtered_deck_answers_count() -> None:
    base = mature_history(last_days_ago=10)
    crammed = [*base, row(1, ease=1, kind=FILTERED, interval=-600)]
    without = card_from_history(base, srs=srs(), now=NOW)
    card = card_from_history(crammed, srs=srs(), now=NOW)
    assert without is not None and card is not None
    assert card.reps == without.reps + 1
    assert card.due <= NOW


def test_anki_schedule_is_a_floor_when_the_history_is_truncated() -> None:
    # The revlog kept only the last review: Anki put the card 60 days out, 30 days ago.
    history = [row(30, ease=3, kind=REVIEW, interval=60)]
    card = card_from_history(history, srs=srs(), now=NOW)
    assert card is not None
    assert card.due == NOW + timedelta(days=30)
    assert card.is_review and card.step is None
    assert card.stability is not None and card.difficulty is not None
    assert card.reps == 1 and card.last_review == NOW - timedelta(days=30)


def test_fsrs_due_later_than_anki_is_kept() -> None:
    history = mature_history(last_days_ago=0.5)
    short = [*history[:-1], row(0.5, ease=3, kind=REVIEW, interval=1)]
    card = card_from_history(short, srs=srs(), now=NOW)
    floor = anki_due(short[-1])
    assert card is not None and floor is not None
    assert card.due > floor


def test_an_answer_stamped_in_the_future_is_replayed_now() -> None:
    card = card_from_history([row(-2, ease=4, kind=LEARN, interval=4)], srs=srs(), now=NOW)
    assert card is not None and card.last_review == NOW


@pytest.mark.parametrize(
    ("interval", "expected"),
    [(3, timedelta(days=3)), (-600, timedelta(minutes=10)), (0, None)],
)
def test_anki_due_reads_days_or_seconds(interval: int, expected: timedelta | None) -> None:
    review = row(1, interval=interval)
    due = anki_due(review)
    assert (due - review.at if due is not None else None) == expected


def test_naive_times_are_taken_as_utc() -> None:
    naive = AnkiReview(at=datetime(2026, 1, 1, 8, 0), ease=4, kind=LEARN, interval=4)  # noqa: DTZ001
    card = card_from_history([naive], srs=srs(), now=NOW)
    assert card is not None and card.last_review == datetime(2026, 1, 1, 8, 0, tzinfo=UTC)


def test_with_fuzzing_only_the_final_interval_moves_a_little() -> None:
    history = mature_history(last_days_ago=0.5)
    steady = card_from_history(history, srs=srs(), now=NOW)
    fuzzed = card_from_history(history, srs=SpacedRepetition(), now=NOW)
    assert steady is not None and fuzzed is not None
    assert (fuzzed.stability, fuzzed.difficulty, fuzzed.reps) == (
        steady.stability,
        steady.difficulty,
        steady.reps,
    )
    assert fuzzed.last_review is not None and steady.last_review is not None
    interval = steady.due - steady.last_review
    assert abs(fuzzed.due - steady.due) <= interval * 0.1
