"""The grader against the hand-labelled answers (tests/data/grading/explain_answers.yaml).

These are accuracy floors, not timings: they fail when a change to the rules, the seed
deck's examples or the model's thresholds makes grading worse. ``benchmarks/grading.py``
prints the full per-concept report.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.core.content import Explain, parse_item
from bot.core.grading import Coverage
from bot.semantic.meaning import SentenceMeaning

ROOT = Path(__file__).resolve().parents[2]
ANSWERS = ROOT / "tests" / "data" / "grading" / "explain_answers.yaml"
SEED = ROOT / "content" / "tensorflow-training-basics.yaml"


def _items() -> dict[str, Explain]:
    raw = yaml.safe_load(SEED.read_text(encoding="utf-8"))
    parsed = (parse_item(item) for item in raw["items"])
    return {item.id: item for item in parsed if isinstance(item, Explain)}


def _answers() -> list[tuple[str, dict[str, Any]]]:
    raw = yaml.safe_load(ANSWERS.read_text(encoding="utf-8"))
    return [(item, entry) for item, entries in raw["items"].items() for entry in entries]


@pytest.fixture(scope="module")
def graded() -> dict[str, list[tuple[dict[str, Any], Coverage]]]:
    items = _items()
    by_model: dict[str, list[tuple[dict[str, Any], Coverage]]] = {}
    for model in ("off", "wordllama"):
        meaning = SentenceMeaning(model)
        by_model[model] = [
            (entry, meaning.grade(items[item], entry["text"])) for item, entry in _answers()
        ]
    return by_model


def _agreement(results: list[tuple[dict[str, Any], Coverage]]) -> dict[str, float]:
    """Share of answers where "earned or not" matches the label, per concept."""
    agree: dict[str, list[int]] = {}
    for entry, coverage in results:
        for name in (*coverage.covered, *coverage.missed):
            agree.setdefault(name, []).append(
                int((name in coverage.covered) == (name in entry["concepts"]))
            )
    return {name: sum(v) / len(v) for name, v in agree.items()}


def test_the_labelled_set_is_big_enough() -> None:
    answers = _answers()
    for item in _items():
        assert sum(1 for name, _ in answers if name == item) >= 60
    kinds = {entry["kind"] for _, entry in answers}
    assert {"paraphrase", "negation", "direction", "swapped", "salad", "off_topic"} <= kinds


def test_meaning_beats_phrases_and_holds_its_floor(
    graded: dict[str, list[tuple[dict[str, Any], Coverage]]],
) -> None:
    phrases = _agreement(graded["off"])
    meaning = _agreement(graded["wordllama"])
    mean = sum(meaning.values()) / len(meaning)
    assert mean >= sum(phrases.values()) / len(phrases) + 0.05
    assert mean >= 0.87, meaning
    assert min(meaning.values()) >= 0.82, meaning


def test_keyword_salad_never_scores_more_than_one_concept(
    graded: dict[str, list[tuple[dict[str, Any], Coverage]]],
) -> None:
    salads = [c for entry, c in graded["wordllama"] if entry["kind"] == "salad"]
    assert salads
    assert all(len(c.covered) <= 1 for c in salads)


def test_named_misconceptions_are_mostly_real(
    graded: dict[str, list[tuple[dict[str, Any], Coverage]]],
) -> None:
    named = right = 0
    for entry, coverage in graded["wordllama"]:
        for found in coverage.misconceptions:
            named += 1
            right += found.wrong in entry["misconceptions"]
    assert named >= 10
    assert right / named >= 0.9


def test_negated_and_reversed_answers_rarely_earn_what_they_deny(
    graded: dict[str, list[tuple[dict[str, Any], Coverage]]],
) -> None:
    wrong = total = 0
    for entry, coverage in graded["wordllama"]:
        if entry["kind"] in {"negation", "direction"}:
            total += 1
            wrong += bool(set(coverage.covered) - set(entry["concepts"]))
    assert total >= 20
    assert wrong / total <= 0.12
