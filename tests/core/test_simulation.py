"""The simulated class: learners, policies, the exam plan and the workload preview."""

from __future__ import annotations

import random

import pytest
from fsrs import Rating
from fsrs.scheduler import DEFAULT_PARAMETERS, LOWER_BOUNDS_PARAMETERS, UPPER_BOUNDS_PARAMETERS

from bot.core.simulation import (
    FsrsPolicy,
    LeitnerPolicy,
    SimConfig,
    exam_date,
    learner_parameters,
    log_loss,
    make_policy,
    run_learner,
    simulate_class,
    workload,
)
from bot.errors import BadInput

QUICK = SimConfig(cards=150, days=60, minutes_per_day=8.0, new_per_day=8)


@pytest.fixture(scope="module")
def quick_class() -> dict[str, float]:
    result = simulate_class(QUICK, learners=4, seed=3)
    figures = {f"{name}_pm": s.memorized_per_minute for name, s in result.policies.items()}
    figures.update({f"{name}_exam": s.exam_day_recall for name, s in result.policies.items()})
    figures["logloss"] = result.logloss_default
    figures["heldout"] = result.heldout_reviews
    return figures


def test_learner_parameters_vary_and_stay_in_bounds() -> None:
    drawn = [learner_parameters(random.Random(n)) for n in range(50)]
    for weights in drawn:
        assert len(weights) == len(DEFAULT_PARAMETERS)
        for value, low, high in zip(
            weights, LOWER_BOUNDS_PARAMETERS, UPPER_BOUNDS_PARAMETERS, strict=True
        ):
            assert low <= value <= high
        assert list(weights[:4]) == sorted(weights[:4])
    assert len({weights[2] for weights in drawn}) == 50
    assert learner_parameters(random.Random(1)) == learner_parameters(random.Random(1))


def test_runs_are_deterministic() -> None:
    one = simulate_class(QUICK, learners=1, seed=9)
    two = simulate_class(QUICK, learners=1, seed=9)
    assert one == two


def test_fsrs_beats_leitner_beats_random_per_minute(quick_class: dict[str, float]) -> None:
    assert quick_class["fsrs_default_pm"] > quick_class["leitner_pm"] > quick_class["random_pm"]


def test_exam_plan_beats_the_plain_scheduler_on_exam_day(quick_class: dict[str, float]) -> None:
    assert quick_class["exam_plan_exam"] > quick_class["fsrs_default_exam"]


def test_log_loss_of_default_parameters_is_measured(quick_class: dict[str, float]) -> None:
    assert quick_class["heldout"] > 50
    assert 0.05 < quick_class["logloss"] < 0.69  # better than a coin, not perfect


def test_budget_caps_the_minutes_and_first_views_count_as_new() -> None:
    config = SimConfig(cards=60, days=10, minutes_per_day=2.0, new_per_day=30)
    run = run_learner(DEFAULT_PARAMETERS, FsrsPolicy(config), config, random.Random(0))
    assert run.seconds == 20 * run.new_cards + 8 * run.reviews <= 10 * 120
    assert 30 < run.new_cards < 60  # 6 new cards fit in 2 minutes; reviews come first
    assert run.reviews > 0
    assert run.memorized[10] > 0


def test_leitner_moves_up_on_recall_and_back_on_a_lapse() -> None:
    policy = LeitnerPolicy(SimConfig(cards=3, new_per_day=2))
    assert policy.session(0, set()) == [0, 1]
    policy.record(0, 0, Rating.Good, None)
    policy.record(0, 1, Rating.Good, True)
    assert (policy.box[0], policy.next_day[0]) == (1, 3)
    policy.record(0, 3, Rating.Again, False)
    assert (policy.box[0], policy.next_day[0]) == (0, 4)
    assert policy.session(4, {0}) == [0, 1, 2]


def test_unknown_policy_and_helpers() -> None:
    with pytest.raises(ValueError, match="unknown policy"):
        make_policy("spaced", QUICK, random.Random(0))
    assert log_loss([]) != log_loss([])  # nan
    assert log_loss([(1.0, True), (0.0, False)]) < 1e-5
    assert exam_date(QUICK).isoformat() == "2026-02-19"


def test_workload_grows_with_retention() -> None:
    low, base, high = (workload(r, cards=60, days=120) for r in (0.8, 0.9, 0.97))
    assert low.reviews_per_day < base.reviews_per_day < high.reviews_per_day
    assert base.ratio == pytest.approx(1.0)
    assert high.ratio > 2 > 1 > low.ratio
    with pytest.raises(BadInput):
        workload(1.0)
