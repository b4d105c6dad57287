"""The exam plan: new cards per day, reviews brought forward, the countdown."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from fsrs.scheduler import DEFAULT_PARAMETERS

from bot.core.exam_plan import longest_gap, plan_exam, recall_after
from bot.core.scheduling import CardState
from bot.errors import BadInput

TODAY = date(2026, 3, 1)
EXAM = date(2026, 3, 21)


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 9, tzinfo=UTC)


def review_card(last: date, stability: float, due: date) -> CardState:
    return CardState(
        due=at(due), state=2, step=None, stability=stability, difficulty=5.0, last_review=at(last)
    )


def test_new_cards_are_spread_until_the_cutoff() -> None:
    plan = plan_exam(TODAY, EXAM, {}, unseen=170)
    # Cut-off 3 days before the exam: 18 days from today (included) → ceil(170 / 18) = 10.
    assert plan.cutoff == date(2026, 3, 18)
    assert plan.new_per_day == 10
    assert not plan.too_late and plan.warning is None
    assert plan.days_left == 20
    assert sum(day.new_cards for day in plan.days) == 170
    assert all(day.new_cards == 0 for day in plan.days if day.day > plan.cutoff)


def test_too_late_means_everything_today_with_a_warning() -> None:
    plan = plan_exam(EXAM - timedelta(days=2), EXAM, {}, unseen=40)
    assert plan.too_late
    assert plan.new_per_day == 40
    assert plan.warning is not None and "Too late" in plan.warning
    assert plan.days[0].new_cards == 40
    assert plan.warning in plan.summary_lines()


def test_nothing_to_learn_and_nothing_to_move() -> None:
    plan = plan_exam(TODAY, EXAM, {}, unseen=0)
    assert plan.new_per_day == 0
    assert plan.pulled == ()
    assert plan.summary_lines()[1] == "Every card has been seen."


def test_a_card_due_after_the_exam_with_low_recall_is_brought_forward() -> None:
    # Reviewed today with stability 10: due in ~10 days at 0.90, but the exam is in 20.
    card = review_card(TODAY, 10.0, EXAM + timedelta(days=5))
    plan = plan_exam(TODAY, EXAM, {7: card}, unseen=0, target=0.9)
    assert len(plan.pulled) == 1
    pull = plan.pulled[0]
    assert pull.item_id == 7
    assert pull.recall_at_exam < 0.9
    gap = longest_gap(10.0, 0.9, DEFAULT_PARAMETERS)
    assert pull.review_on == EXAM - timedelta(days=gap)
    # A review then (stability at least 10) leaves recall ≥ target on the exam day …
    assert recall_after((EXAM - pull.review_on).days, 10.0, DEFAULT_PARAMETERS) >= 0.9
    # … and one day earlier would not: it is the earliest day that works.
    assert recall_after((EXAM - pull.review_on).days + 1, 10.0, DEFAULT_PARAMETERS) < 0.9
    assert plan.pulled_per_day() == ((pull.review_on, 1),)
    assert plan.pulled_due_by(pull.review_on) == frozenset({7})
    assert plan.pulled_due_by(pull.review_on - timedelta(days=1)) == frozenset()
    assert any("brought forward" in line for line in plan.summary_lines())


def test_cards_due_before_the_exam_or_strong_enough_are_left_alone() -> None:
    cards = {
        1: review_card(TODAY, 2.0, TODAY + timedelta(days=2)),  # reviewed before the exam anyway
        2: review_card(TODAY, 400.0, TODAY + timedelta(days=300)),  # recall on exam day ≈ 0.99
        3: CardState(due=at(TODAY)),  # never reviewed
    }
    assert plan_exam(TODAY, EXAM, cards, unseen=0).pulled == ()


def test_a_weak_card_is_never_moved_before_today_or_onto_the_exam_day() -> None:
    weak = review_card(TODAY - timedelta(days=3), 0.5, EXAM + timedelta(days=1))
    strong_but_long = review_card(TODAY, 19.0, EXAM + timedelta(days=30))
    plan = plan_exam(TODAY, EXAM, {1: weak, 2: strong_but_long}, unseen=0, target=0.95)
    days = {pull.item_id: pull.review_on for pull in plan.pulled}
    assert days[1] == EXAM - timedelta(days=1)  # no gap keeps it ≥ 0.95: the day before
    assert TODAY <= days[2] < EXAM


def test_a_higher_target_brings_more_reviews_forward() -> None:
    cards = {
        n: review_card(TODAY - timedelta(days=n % 5), 5.0 + n, EXAM + timedelta(days=n))
        for n in range(30)
    }
    low = plan_exam(TODAY, EXAM, cards, unseen=0, target=0.8)
    high = plan_exam(TODAY, EXAM, cards, unseen=0, target=0.95)
    assert len(high.pulled) > len(low.pulled)


def test_on_the_exam_day_nothing_is_moved() -> None:
    card = review_card(EXAM - timedelta(days=30), 5.0, EXAM + timedelta(days=1))
    plan = plan_exam(EXAM, EXAM, {1: card}, unseen=3)
    assert plan.days_left == 0
    assert plan.pulled == ()
    assert plan.too_late and plan.new_per_day == 3


@pytest.mark.parametrize(
    ("today", "target", "unseen"),
    [(EXAM + timedelta(days=1), 0.9, 0), (TODAY, 1.0, 0), (TODAY, 0.0, 0), (TODAY, 0.9, -1)],
)
def test_bad_input_is_refused(today: date, target: float, unseen: int) -> None:
    with pytest.raises(BadInput):
        plan_exam(today, EXAM, {}, unseen=unseen, target=target)
