"""Benchmark: how much a simulated class remembers under each study policy (issue 13).

A class of learners, each with hidden FSRS-6 parameters drawn around the defaults
(``bot.core.simulation.learner_parameters``), studies one deck for a number of days with the
same daily budget of minutes (8 s a review, 20 s a new card). Policies compared:

* ``default``: the bot's scheduler with the default FSRS parameters;
* ``personal``: the bot with server then personal parameter fitting, refit weekly. **Blocked**:
  the fitter the issue names (``fsrs-rs-python``) declares no licence, and the ``fsrs``
  package's optimizer needs PyTorch, so it is reported as ``null`` (as is
  ``logloss_personal``) with a top-level ``blocked`` reason;
* ``leitner``: fixed boxes of 1-2-4-8-16-32 days;
* ``random``: a random daily quiz of the deck, as much as the minutes allow;
* ``exam_plan``: with an exam on day 45, the exam plan (``bot.core.exam_plan``) on top of the
  default scheduler. It is compared with ``default`` (the plain scheduler) on exam-day recall.

Each policy reports ``memorized_day30`` and ``memorized_day60`` (sum of the learners' true
recall probabilities over the deck, averaged over learners), ``minutes`` (minutes actually
spent per learner over the whole run: every policy has the same daily budget but may not need
all of it), ``memorized_per_minute`` (memorized at the end / minutes) and, for ``default`` and
``exam_plan``, ``exam_day_recall`` (mean true recall over the deck on the exam day).
``logloss_default`` is the default parameters' log loss on the held-out reviews (the last
quarter of the days) of the ``default`` runs.

Usage: ``.venv/bin/python benchmarks/learning.py [--learners 20] [--cards 500] [--days 60]
[--minutes 20] [--quick]``. ``--quick`` (5 learners, 150 cards, 8 minutes and 8 new cards a
day) takes about a second. Human-readable lines first; the last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.core.simulation import ClassResult, PolicySummary, SimConfig, simulate_class  # noqa: E402

#: JSON name → simulation policy name.
POLICIES = {
    "default": "fsrs_default",
    "leitner": "leitner",
    "random": "random",
    "exam_plan": "exam_plan",
}
BLOCKED = "parameter fitting: fsrs-rs-python has no licence"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--learners", type=int, default=20)
    parser.add_argument("--cards", type=int, default=500)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--minutes", type=float, default=20.0, help="daily budget per learner")
    parser.add_argument("--new-per-day", type=int, default=20)
    parser.add_argument("--exam-day", type=int, default=45)
    parser.add_argument("--exam-target", type=float, default=0.95)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="a small run for tests")
    return parser.parse_args(argv)


def config_from(args: argparse.Namespace) -> tuple[SimConfig, int]:
    """The simulated course and the number of learners."""
    config = SimConfig(
        cards=args.cards,
        days=args.days,
        minutes_per_day=args.minutes,
        new_per_day=args.new_per_day,
        exam_day=args.exam_day,
        exam_target=args.exam_target,
        midpoint_day=min(30, args.days),
    )
    if args.quick:
        return replace(config, cards=150, minutes_per_day=8.0, new_per_day=8), 5
    return config, args.learners


def policy_json(name: str, summary: PolicySummary) -> dict[str, float]:
    """One policy's figures, rounded."""
    figures = {
        "memorized_day30": round(summary.memorized_mid, 2),
        "memorized_day60": round(summary.memorized_end, 2),
        "minutes": round(summary.minutes, 1),
        "memorized_per_minute": round(summary.memorized_per_minute, 4),
        "reviews_per_day": round(summary.reviews_per_day, 2),
    }
    if name in ("default", "exam_plan"):
        figures["exam_day_recall"] = round(summary.exam_day_recall, 4)
    return figures


def report(result: ClassResult, config: SimConfig, learners: int, seconds: float) -> dict[str, Any]:
    """The JSON summary, with which targets hold."""
    found = {name: result.policies[sim] for name, sim in POLICIES.items()}
    policies: dict[str, dict[str, float] | None] = {
        name: policy_json(name, summary) for name, summary in found.items()
    }
    policies["personal"] = None
    per_minute = {name: summary.memorized_per_minute for name, summary in found.items()}
    return {
        "policies": policies,
        "logloss_default": round(result.logloss_default, 4),
        "logloss_personal": None,
        "heldout_reviews": result.heldout_reviews,
        "blocked": BLOCKED,
        "exam_plan_compared_with": "default",
        "targets": {
            "default_beats_leitner_per_minute": per_minute["default"] > per_minute["leitner"],
            "leitner_beats_random_per_minute": per_minute["leitner"] > per_minute["random"],
            "exam_plan_beats_default_on_exam_day": (
                found["exam_plan"].exam_day_recall > found["default"].exam_day_recall
            ),
            "personal_vs_default": None,
        },
        "config": {
            "learners": learners,
            "cards": config.cards,
            "days": config.days,
            "minutes_per_day": config.minutes_per_day,
            "new_per_day": config.new_per_day,
            "exam_day": config.exam_day,
            "exam_target": config.exam_target,
        },
        "seconds": round(seconds, 2),
    }


def main(argv: list[str] | None = None) -> int:
    """Run the class, print a summary and the JSON line."""
    args = parse_args(argv)
    config, learners = config_from(args)
    started = time.perf_counter()
    result = simulate_class(config, learners, seed=args.seed)
    summary = report(result, config, learners, time.perf_counter() - started)
    print(
        f"{learners} learners × {config.cards} cards × {config.days} days, "
        f"{config.minutes_per_day:g} min/day, exam on day {config.exam_day}"
    )
    for name, figures in summary["policies"].items():
        if figures is None:
            print(f"  {name:<9} blocked ({BLOCKED})")
            continue
        exam = (
            f", exam-day recall {figures['exam_day_recall']:.3f}"
            if "exam_day_recall" in figures
            else ""
        )
        print(
            f"  {name:<9} memorized d30 {figures['memorized_day30']:7.1f}, "
            f"d60 {figures['memorized_day60']:7.1f}, {figures['minutes']:7.1f} min, "
            f"{figures['memorized_per_minute']:.3f}/min{exam}"
        )
    print(
        f"  log loss (default parameters, {result.heldout_reviews} held-out reviews): "
        f"{summary['logloss_default']:.4f}; personal: blocked"
    )
    print("  exam plan compared with the plain scheduler (default) on exam-day recall")
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
