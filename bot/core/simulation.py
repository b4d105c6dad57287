"""A simulated class of learners, to compare study policies (``benchmarks/learning.py``).

Each learner has hidden FSRS-6 parameters: the ``fsrs`` defaults, perturbed the way real
members differ (one shared log-normal "memory strength" factor on the initial stabilities and
the recall stability gain, plus independent log-normal noise on every weight), clipped to
the package's bounds. The learner's *true* memory of a card is an ``fsrs`` card updated with
those parameters; answers are drawn from its true recall probability with a seeded
``random.Random``, so a run is deterministic.

The model is day-grained: one session a day, a budget of minutes (8 s a review, 20 s a new
card), intervals in whole days. The bot's same-day learning steps are folded into a new
card's 20 s and a lapse's review (the schedulers here run with no learning steps and no fuzz).

Policies choose each day's cards, in order; the session stops when the budget is spent:

* ``fsrs_default``: the bot's rule (due reviews, most overdue first, then new cards up to a
  daily cap), scheduled with the default parameters;
* ``leitner``: boxes of 1-2-4-8-16-32 days (a lapse goes back to the first box);
* ``random``: a random quiz of the whole deck, as many cards as the minutes allow;
* ``exam_plan``: ``fsrs_default`` plus :func:`bot.core.exam_plan.plan_exam` until the exam.

"Memorized" is the sum over the deck of the learner's true recall probability (0 unseen).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Protocol

from fsrs import Card, Rating, Scheduler
from fsrs.scheduler import DEFAULT_PARAMETERS, LOWER_BOUNDS_PARAMETERS, UPPER_BOUNDS_PARAMETERS

from bot.core.exam_plan import plan_exam
from bot.core.scheduling import CardState
from bot.errors import BadInput

#: The first simulated day (any fixed UTC moment works: only whole days count).
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
#: Leitner boxes, in days.
LEITNER_DAYS = (1, 2, 4, 8, 16, 32)
#: Weights scaled by the learner's shared memory-strength factor (initial stabilities, w8).
STRENGTH_WEIGHTS = (0, 1, 2, 3, 8)
#: The policies :func:`make_policy` knows.
POLICY_NAMES = ("fsrs_default", "leitner", "random", "exam_plan")


@dataclass(frozen=True, slots=True)
class SimConfig:
    """One simulated course: deck, days, daily budget and the exam."""

    cards: int = 500
    days: int = 60
    minutes_per_day: float = 20.0
    new_per_day: int = 20
    seconds_per_review: float = 8.0
    seconds_per_new: float = 20.0
    desired_retention: float = 0.9
    exam_day: int = 45
    exam_target: float = 0.95
    midpoint_day: int = 30
    #: Reviews on or after this share of the days are the held-out ones (log loss).
    holdout_from: float = 0.75


@dataclass(slots=True)
class LearnerRun:
    """What one learner achieved under one policy."""

    memorized: dict[int, float]
    exam_day_recall: float
    seconds: float
    reviews: int
    new_cards: int
    predictions: list[tuple[float, bool]] = field(default_factory=list)


def day_time(day: int) -> datetime:
    """The moment of day ``day``'s session."""
    return START + timedelta(days=day)


def learner_parameters(
    rng: random.Random, sigma: float = 0.25, strength_sigma: float = 0.3
) -> tuple[float, ...]:
    """Hidden FSRS-6 parameters around the defaults, inside the package's bounds."""
    strength = math.exp(rng.gauss(0.0, strength_sigma))
    weights = []
    for index, value in enumerate(DEFAULT_PARAMETERS):
        scaled = value * math.exp(rng.gauss(0.0, sigma))
        if index in STRENGTH_WEIGHTS:
            scaled *= strength
        low, high = LOWER_BOUNDS_PARAMETERS[index], UPPER_BOUNDS_PARAMETERS[index]
        weights.append(min(high, max(low, scaled)))
    weights[0:4] = sorted(weights[0:4])  # Again < Hard < Good < Easy at the first review
    return tuple(weights)


def day_scheduler(parameters: Sequence[float], retention: float = 0.9) -> Scheduler:
    """A deterministic, day-grained FSRS scheduler (no learning steps, no fuzz)."""
    return Scheduler(
        parameters=parameters,
        desired_retention=retention,
        learning_steps=(),
        relearning_steps=(),
        enable_fuzzing=False,
    )


def due_day(card: Card) -> int:
    """The simulated day a card is due."""
    return (card.due - START).days


class Policy(Protocol):
    """Chooses each day's cards and learns from the answers."""

    def session(self, day: int, seen: set[int]) -> list[int]:
        """Today's cards in order (new ones are those not in ``seen``)."""
        ...

    def record(self, index: int, day: int, rating: Rating, recalled: bool | None) -> None:
        """One answer (``recalled`` is ``None`` for a first view)."""
        ...


class FsrsPolicy:
    """The bot's rule: due reviews (most overdue first), then new cards up to the cap."""

    def __init__(self, config: SimConfig, parameters: Sequence[float] = DEFAULT_PARAMETERS):
        self.config = config
        self.scheduler = day_scheduler(parameters, config.desired_retention)
        self.cards: dict[int, Card] = {}
        self.predictions: list[tuple[float, bool]] = []
        self._next_new = 0
        self._holdout = math.ceil(config.days * config.holdout_from)

    def due_reviews(self, day: int) -> list[int]:
        """Seen cards due today or earlier, most overdue first."""
        due = [(due_day(card), index) for index, card in self.cards.items()]
        return [index for when, index in sorted(due) if when <= day]

    def new_cards(self, count: int) -> list[int]:
        """The next ``count`` unseen cards, in deck order."""
        end = min(self.config.cards, self._next_new + max(0, count))
        return list(range(self._next_new, end))

    def session(self, day: int, seen: set[int]) -> list[int]:
        """Due reviews, then up to the daily cap of new cards."""
        return self.due_reviews(day) + self.new_cards(self.config.new_per_day)

    def record(self, index: int, day: int, rating: Rating, recalled: bool | None) -> None:
        """Reschedule the card; keep the prediction of held-out reviews."""
        card = self.cards.get(index)
        if card is None:
            card = Card(card_id=index + 1, due=day_time(day))
            self._next_new = max(self._next_new, index + 1)
        elif recalled is not None and day >= self._holdout:
            predicted = self.scheduler.get_card_retrievability(card, day_time(day))
            self.predictions.append((float(predicted), recalled))
        self.cards[index] = self.scheduler.review_card(card, rating, day_time(day))[0]


class ExamPolicy(FsrsPolicy):
    """The bot's rule with the exam plan: paced new cards and reviews brought forward."""

    def session(self, day: int, seen: set[int]) -> list[int]:
        """Before the exam: due and brought-forward reviews, then the plan's new cards."""
        config = self.config
        if day >= config.exam_day:
            return super().session(day, seen)
        today = day_time(day).date()
        plan = plan_exam(
            today,
            day_time(config.exam_day).date(),
            {index: _state(card) for index, card in self.cards.items()},
            config.cards - self._next_new,
            target=config.exam_target,
            parameters=self.scheduler.parameters,
        )
        due = self.due_reviews(day)
        taken = set(due)
        pulled = [p.item_id for p in plan.pulled if p.review_on <= today and p.item_id not in taken]
        return due + pulled + self.new_cards(max(config.new_per_day, plan.new_per_day))


class LeitnerPolicy:
    """Fixed boxes of 1-2-4-8-16-32 days; a lapse goes back to the first box."""

    def __init__(self, config: SimConfig):
        self.config = config
        self.box: dict[int, int] = {}
        self.next_day: dict[int, int] = {}

    def session(self, day: int, seen: set[int]) -> list[int]:
        """Due cards (most overdue first), then up to the daily cap of new cards."""
        due = sorted((when, index) for index, when in self.next_day.items() if when <= day)
        start = len(self.box)
        new = range(start, min(self.config.cards, start + self.config.new_per_day))
        return [index for _when, index in due] + list(new)

    def record(self, index: int, day: int, rating: Rating, recalled: bool | None) -> None:
        """Move the card up a box when recalled, back to the first otherwise."""
        box = 0 if not recalled else min(len(LEITNER_DAYS) - 1, self.box[index] + 1)
        self.box[index] = box
        self.next_day[index] = day + LEITNER_DAYS[box]


class RandomPolicy:
    """A daily quiz of cards drawn at random from the whole deck."""

    def __init__(self, config: SimConfig, rng: random.Random):
        self.config = config
        self.rng = rng

    def session(self, day: int, seen: set[int]) -> list[int]:
        """The whole deck, shuffled (the budget cuts it short)."""
        order = list(range(self.config.cards))
        self.rng.shuffle(order)
        return order

    def record(self, index: int, day: int, rating: Rating, recalled: bool | None) -> None:
        """Nothing to remember."""


def make_policy(name: str, config: SimConfig, rng: random.Random) -> Policy:
    """One of :data:`POLICY_NAMES`, fresh for one learner."""
    if name == "fsrs_default":
        return FsrsPolicy(config)
    if name == "exam_plan":
        return ExamPolicy(config)
    if name == "leitner":
        return LeitnerPolicy(config)
    if name == "random":
        return RandomPolicy(config, random.Random(rng.random()))
    raise ValueError(f"unknown policy {name!r}")


def _state(card: Card) -> CardState:
    return CardState(
        due=card.due,
        state=int(card.state.value),
        step=card.step,
        stability=card.stability,
        difficulty=card.difficulty,
        last_review=card.last_review,
    )


def _answer(rng: random.Random, recall: float | None) -> tuple[Rating, bool | None]:
    """The learner's rating: a first view is rated by feel, a review by true recall."""
    draw = rng.random()
    if recall is None:
        if draw < 0.2:
            return Rating.Again, None
        return (Rating.Hard if draw < 0.3 else Rating.Good if draw < 0.9 else Rating.Easy), None
    if rng.random() >= recall:
        return Rating.Again, False
    return (Rating.Hard if draw < 0.1 else Rating.Good if draw < 0.95 else Rating.Easy), True


class Learner:
    """One learner's true memory of the deck."""

    def __init__(self, parameters: Sequence[float], cards: int, rng: random.Random):
        self.scheduler = day_scheduler(parameters)
        self.memory: dict[int, Card] = {}
        self.cards = cards
        self.rng = rng

    def recall(self, index: int, day: int) -> float:
        """True chance of recalling a card on ``day`` (0 when unseen)."""
        card = self.memory.get(index)
        if card is None:
            return 0.0
        return float(self.scheduler.get_card_retrievability(card, day_time(day)))

    def memorized(self, day: int) -> float:
        """Sum of the true recall probabilities over the deck."""
        return sum(self.recall(index, day) for index in self.memory)

    def study(self, index: int, day: int) -> tuple[Rating, bool | None]:
        """Answer one card and update the true memory."""
        card = self.memory.get(index)
        recall = None if card is None else self.recall(index, day)
        rating, recalled = _answer(self.rng, recall)
        base = card or Card(card_id=index + 1, due=day_time(day))
        self.memory[index] = self.scheduler.review_card(base, rating, day_time(day))[0]
        return rating, recalled


def run_learner(
    parameters: Sequence[float], policy: Policy, config: SimConfig, rng: random.Random
) -> LearnerRun:
    """Run one learner through the course under ``policy``."""
    learner = Learner(parameters, config.cards, rng)
    run = LearnerRun(memorized={}, exam_day_recall=0.0, seconds=0.0, reviews=0, new_cards=0)
    budget = config.minutes_per_day * 60
    for day in range(config.days + 1):
        if day in (config.midpoint_day, config.days):
            run.memorized[day] = learner.memorized(day)
        if day == config.exam_day:
            run.exam_day_recall = learner.memorized(day) / config.cards
        if day == config.days:
            break
        spent = 0.0
        for index in policy.session(day, set(learner.memory)):
            is_new = index not in learner.memory
            cost = config.seconds_per_new if is_new else config.seconds_per_review
            if spent + cost > budget:
                break
            spent += cost
            rating, recalled = learner.study(index, day)
            policy.record(index, day, rating, recalled)
            run.new_cards += is_new
            run.reviews += not is_new
        run.seconds += spent
    if isinstance(policy, FsrsPolicy):
        run.predictions = policy.predictions
    return run


@dataclass(frozen=True, slots=True)
class PolicySummary:
    """A policy's averages over the class."""

    memorized_mid: float
    memorized_end: float
    minutes: float
    memorized_per_minute: float
    exam_day_recall: float
    reviews_per_day: float


def summarize(runs: Sequence[LearnerRun], config: SimConfig) -> PolicySummary:
    """Means over learners; memorized per minute is the ratio of the means."""
    count = max(1, len(runs))
    end = sum(run.memorized[config.days] for run in runs) / count
    minutes = sum(run.seconds for run in runs) / count / 60
    return PolicySummary(
        memorized_mid=sum(run.memorized.get(config.midpoint_day, 0.0) for run in runs) / count,
        memorized_end=end,
        minutes=minutes,
        memorized_per_minute=end / minutes if minutes else 0.0,
        exam_day_recall=sum(run.exam_day_recall for run in runs) / count,
        reviews_per_day=sum(run.reviews for run in runs) / count / max(1, config.days),
    )


def log_loss(predictions: Sequence[tuple[float, bool]]) -> float:
    """Mean binary log loss of recall predictions (probabilities clipped to [1e-6, 1-1e-6])."""
    if not predictions:
        return float("nan")
    total = 0.0
    for predicted, recalled in predictions:
        p = min(1 - 1e-6, max(1e-6, predicted))
        total -= math.log(p if recalled else 1 - p)
    return total / len(predictions)


@dataclass(frozen=True, slots=True)
class ClassResult:
    """Every policy's summary over the class, and the default parameters' log loss."""

    policies: dict[str, PolicySummary]
    logloss_default: float
    heldout_reviews: int


def simulate_class(
    config: SimConfig,
    learners: int,
    seed: int = 0,
    policies: Sequence[str] = POLICY_NAMES,
    on_learner: Callable[[int], None] | None = None,
) -> ClassResult:
    """Run ``learners`` learners (hidden parameters drawn from ``seed``) under each policy."""
    runs: dict[str, list[LearnerRun]] = {name: [] for name in policies}
    for number in range(learners):
        parameters = learner_parameters(random.Random(f"{seed}:learner:{number}"))
        for name in policies:
            rng = random.Random(f"{seed}:{number}:{name}")
            runs[name].append(run_learner(parameters, make_policy(name, config, rng), config, rng))
        if on_learner is not None:
            on_learner(number)
    heldout = [p for run in runs.get("fsrs_default", []) for p in run.predictions]
    return ClassResult(
        policies={name: summarize(found, config) for name, found in runs.items()},
        logloss_default=log_loss(heldout),
        heldout_reviews=len(heldout),
    )


@dataclass(frozen=True, slots=True)
class Workload:
    """Reviews a day at a desired retention, against the default 0.90."""

    retention: float
    reviews_per_day: float
    baseline_reviews_per_day: float

    @property
    def ratio(self) -> float:
        """How many times the 0.90 workload (1.0 when the baseline is empty)."""
        if not self.baseline_reviews_per_day:
            return 1.0
        return self.reviews_per_day / self.baseline_reviews_per_day


def reviews_per_day(
    retention: float, cards: int = 100, days: int = 365, new_per_day: int = 10, seed: int = 0
) -> float:
    """Mean reviews a day (first views excluded) for a default learner, no time limit."""
    config = SimConfig(
        cards=cards,
        days=days,
        minutes_per_day=math.inf,
        new_per_day=new_per_day,
        desired_retention=retention,
        exam_day=-1,
        midpoint_day=-1,
    )
    rng = random.Random(f"{seed}:workload")
    run = run_learner(DEFAULT_PARAMETERS, FsrsPolicy(config), config, rng)
    return run.reviews / days


def workload(retention: float, cards: int = 100, days: int = 365, seed: int = 0) -> Workload:
    """The ``/settings retention`` preview: reviews a day at ``retention`` and at 0.90."""
    if not 0 < retention < 1:
        raise BadInput("The retention must be between 0 and 1.")
    return Workload(
        retention=retention,
        reviews_per_day=reviews_per_day(retention, cards, days, seed=seed),
        baseline_reviews_per_day=reviews_per_day(0.9, cards, days, seed=seed),
    )


def exam_date(config: SimConfig) -> date:
    """The calendar date of the simulated exam."""
    return day_time(config.exam_day).date()
