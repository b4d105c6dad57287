"""Benchmark: grading explanations by meaning, and the tutor's retrieval, on labelled data.

Grades every hand-written answer of ``tests/data/grading/explain_answers.yaml`` against the
explain items of the seed deck with each grader:

* ``phrases``: the phrase rules alone (no model; what the bot did before meaning);
* ``wordllama`` and ``minilm``: the hybrid grader with each sentence model
  (:mod:`bot.semantic.encoders`).

For every concept it counts agreement with the labels (share of answers where "earned or
not" matches), precision and recall; for misconceptions, precision and recall of naming
them; the worst keyword-salad score; the time to grade one answer (p50/p95, model loaded,
each answer graded once so its sentences are embedded cold; the references are cached as
in the bot); the model's load time and the resident memory it adds.

Then the tutor's retrieval (``tests/data/grading/ask_questions.yaml``): top-1 accuracy on
the answerable questions and the share of unanswerable ones that get "no match", through
the real :class:`bot.services.ask.AskService` on a temporary SQLite database.

``--tune`` searches each model's thresholds (:class:`bot.core.grading.MeaningRules`) on the
labelled answers and prints the best (it maximises the worst concept's agreement, then the
mean); the bot's values live in :data:`bot.semantic.rules.RULES`.

Usage: ``.venv/bin/python benchmarks/grading.py [--models phrases,wordllama,minilm]
[--tune] [--no-ask] [--ask-model wordllama]``. The last output line is JSON:
``{"graders": {name: {...}}, "ask": {...}}``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import json
import statistics
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.core.content import Explain, parse_item  # noqa: E402
from bot.core.grading import Coverage, MeaningRules, grade_explanation  # noqa: E402
from bot.semantic.meaning import SentenceMeaning  # noqa: E402
from bot.semantic.rules import RULES  # noqa: E402

DATA = ROOT / "tests" / "data" / "grading"
SEED = ROOT / "content" / "tensorflow-training-basics.yaml"


@dataclass(frozen=True)
class Labelled:
    """One hand-labelled answer."""

    item: str
    text: str
    kind: str
    concepts: frozenset[str]
    misconceptions: frozenset[str]


def load_items() -> dict[str, Explain]:
    """The seed deck's explain items by id."""
    raw = yaml.safe_load(SEED.read_text(encoding="utf-8"))
    items = (parse_item(item) for item in raw["items"])
    return {item.id: item for item in items if isinstance(item, Explain)}


def load_answers() -> list[Labelled]:
    """Every labelled answer."""
    raw = yaml.safe_load((DATA / "explain_answers.yaml").read_text(encoding="utf-8"))
    return [
        Labelled(
            item_id,
            entry["text"],
            entry["kind"],
            frozenset(entry.get("concepts") or ()),
            frozenset(entry.get("misconceptions") or ()),
        )
        for item_id, entries in raw["items"].items()
        for entry in entries
    ]


def _rss_mb() -> float:
    with open("/proc/self/statm", encoding="ascii") as handle:
        return int(handle.read().split()[1]) * 4096 / 2**20


def grade_all(
    items: dict[str, Explain],
    answers: list[Labelled],
    meaning: SentenceMeaning | None,
    rules: MeaningRules,
) -> Iterator[tuple[Labelled, Coverage, float]]:
    """Grade every answer once; yields the answer, its coverage and the seconds it took."""
    for answer in answers:
        item = items[answer.item]
        started = time.perf_counter()
        coverage = grade_explanation(
            answer.text,
            item.concepts,
            item.misconceptions or (),
            similarity=meaning.similarities if meaning is not None else None,
            rules=rules,
        )
        yield answer, coverage, time.perf_counter() - started


def score(
    items: dict[str, Explain], graded: list[tuple[Labelled, Coverage, float]]
) -> dict[str, Any]:
    """Agreement, precision and recall per concept; misconceptions; salad; exact answers."""
    per_concept: dict[str, dict[str, int]] = {}
    mis = {"tp": 0, "fp": 0, "fn": 0}
    salad_max = 0
    exact_by_kind: dict[str, list[int]] = {}
    mistakes: list[dict[str, Any]] = []
    for answer, coverage, _ in graded:
        got = set(coverage.covered)
        for concept in items[answer.item].concepts:
            counts = per_concept.setdefault(
                f"{answer.item}: {concept.name}", {"tp": 0, "fp": 0, "fn": 0, "tn": 0}
            )
            want, have = concept.name in answer.concepts, concept.name in got
            counts[("t" if want == have else "f") + ("p" if have else "n")] += 1
        named = {m.wrong for m in coverage.misconceptions}
        mis["tp"] += len(named & answer.misconceptions)
        mis["fp"] += len(named - answer.misconceptions)
        mis["fn"] += len(answer.misconceptions - named)
        if answer.kind == "salad":
            salad_max = max(salad_max, len(got))
        exact = got == set(answer.concepts)
        exact_by_kind.setdefault(answer.kind, []).append(int(exact))
        if not exact or named != answer.misconceptions:
            mistakes.append(
                {
                    "item": answer.item,
                    "kind": answer.kind,
                    "text": answer.text[:160],
                    "missed": sorted(set(answer.concepts) - got),
                    "extra": sorted(got - set(answer.concepts)),
                    "misconceptions_missed": sorted(answer.misconceptions - named),
                    "misconceptions_extra": sorted(named - answer.misconceptions),
                }
            )
    concepts = {}
    for name, c in per_concept.items():
        total = sum(c.values())
        concepts[name] = {
            "agreement": round((c["tp"] + c["tn"]) / total, 3),
            "precision": round(c["tp"] / (c["tp"] + c["fp"]), 3) if c["tp"] + c["fp"] else 1.0,
            "recall": round(c["tp"] / (c["tp"] + c["fn"]), 3) if c["tp"] + c["fn"] else 1.0,
        }
    return {
        "concepts": concepts,
        "min_agreement": min(c["agreement"] for c in concepts.values()),
        "mean_agreement": round(statistics.fmean(c["agreement"] for c in concepts.values()), 3),
        "misconception_precision": round(mis["tp"] / (mis["tp"] + mis["fp"]), 3)
        if mis["tp"] + mis["fp"]
        else 1.0,
        "misconception_recall": round(mis["tp"] / (mis["tp"] + mis["fn"]), 3)
        if mis["tp"] + mis["fn"]
        else 1.0,
        "salad_max_concepts": salad_max,
        "exact_by_kind": {
            k: round(statistics.fmean(v), 3) for k, v in sorted(exact_by_kind.items())
        },
        "mistakes": mistakes,
    }


def tune(
    items: dict[str, Explain], answers: list[Labelled], meaning: SentenceMeaning
) -> tuple[MeaningRules, dict[str, Any]]:
    """Grid-search the thresholds; the best by (worst agreement, mean agreement, mis F1)."""
    best: tuple[tuple[float, float, float], MeaningRules, dict[str, Any]] | None = None
    grid = itertools.product(
        [x / 100 for x in range(40, 84, 4)],
        [x / 100 for x in range(60, 96, 6)],
        [0.0, 0.05],
        [0.5, 0.6, 0.7, 0.8],
    )
    for concept, misconception, margin, topic in grid:
        rules = MeaningRules(
            concept=concept, misconception=misconception, margin=margin, topic=topic
        )
        result = score(items, list(grade_all(items, answers, meaning, rules)))
        p, r = result["misconception_precision"], result["misconception_recall"]
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        key = (result["min_agreement"], result["mean_agreement"], f1)
        if best is None or key > best[0]:
            best = (key, rules, result)
    assert best is not None
    return best[1], best[2]


def run_grader(
    name: str, items: dict[str, Explain], answers: list[Labelled], *, do_tune: bool
) -> dict[str, Any]:
    """Load the model (unless ``phrases``), grade everything, score and time it."""
    meaning: SentenceMeaning | None = None
    load_s = rss_added = 0.0
    rules = RULES.get(name, MeaningRules())
    if name != "phrases":
        gc.collect()
        before = _rss_mb()
        started = time.perf_counter()
        meaning = SentenceMeaning(name)
        if not meaning.warm():
            return {"error": f"the {name} model could not be loaded"}
        load_s = time.perf_counter() - started
        # The references of both items, as the bot caches them after the first answer.
        for item in items.values():
            meaning.vectors([ref for c in item.concepts for ref in c.references])
        rss_added = _rss_mb() - before
    graded = list(grade_all(items, answers, meaning, rules))
    seconds = sorted(s for _, _, s in graded)
    result = score(items, graded)
    result.update(
        {
            "rules": _rules_dict(rules),
            "answers": len(graded),
            "p50_ms": round(statistics.median(seconds) * 1000, 2),
            "p95_ms": round(seconds[int(0.95 * (len(seconds) - 1))] * 1000, 2),
            "load_s": round(load_s, 2),
            "rss_added_mb": round(rss_added, 1),
        }
    )
    if do_tune and meaning is not None:
        tuned, tuned_result = tune(items, answers, meaning)
        result["tuned_rules"] = _rules_dict(tuned)
        result["tuned_min_agreement"] = tuned_result["min_agreement"]
        result["tuned_mean_agreement"] = tuned_result["mean_agreement"]
    return result


def _rules_dict(rules: MeaningRules) -> dict[str, float]:
    return {
        "concept": rules.concept,
        "misconception": rules.misconception,
        "margin": rules.margin,
        "topic": rules.topic,
    }


async def run_ask(model: str) -> dict[str, Any]:
    """Top-1 retrieval on the labelled chat questions, through the real service."""
    from bot.services.ask import evaluate_questions

    raw = yaml.safe_load((DATA / "ask_questions.yaml").read_text(encoding="utf-8"))
    questions = [(q["text"], q["item"]) for q in raw["questions"]]
    result: dict[str, Any] = await evaluate_questions(questions, model=model)
    return result


def main() -> None:
    """Parse the options, run the graders and the retrieval, print the report."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="phrases,wordllama,minilm")
    parser.add_argument("--tune", action="store_true")
    parser.add_argument("--no-ask", action="store_true")
    parser.add_argument(
        "--ask-model", default="wordllama", help="the model the tutor's retrieval uses"
    )
    parser.add_argument("--mistakes", action="store_true", help="list every disagreement")
    args = parser.parse_args()
    items = load_items()
    answers = load_answers()
    report: dict[str, Any] = {"answers": len(answers), "graders": {}}
    for name in args.models.split(","):
        result = run_grader(name, items, answers, do_tune=args.tune)
        mistakes = result.pop("mistakes", [])
        print(f"== {name}")
        for key, value in result.items():
            if key == "concepts":
                for concept, figures in value.items():
                    print(f"   {concept}: {figures}")
            else:
                print(f"   {key}: {value}")
        if args.mistakes:
            for mistake in mistakes:
                print(f"   ✗ {mistake}")
        report["graders"][name] = result
    if not args.no_ask:
        report["ask"] = asyncio.run(run_ask(args.ask_model))
        print(f"== ask: {report['ask']}")
    print(json.dumps(report))


if __name__ == "__main__":
    main()
