"""How well the tutor finds the item that answers a chat question, on the labelled set.

``tests/data/grading/ask_questions.yaml`` holds questions students might ask about the seed
deck, each with the id of the one item that answers it best, or null when the deck cannot
answer it. This checks the accuracy of the retrieval rules (:mod:`bot.core.retrieval`)
through :func:`bot.services.ask.evaluate_questions` (what ``benchmarks/grading.py`` runs),
with the default sentence model and without one (keywords only). Not a timing test.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from bot import PROJECT_ROOT
from bot.services.ask import evaluate_questions

LABELLED = PROJECT_ROOT / "tests" / "data" / "grading" / "ask_questions.yaml"


def labelled() -> list[tuple[str, str | None]]:
    data: dict[str, Any] = yaml.safe_load(LABELLED.read_text(encoding="utf-8"))
    return [(str(entry["text"]), entry["item"]) for entry in data["questions"]]


def test_the_labelled_set_is_big_enough() -> None:
    questions = labelled()
    assert sum(item is not None for _, item in questions) >= 40
    assert sum(item is None for _, item in questions) >= 10


@pytest.mark.parametrize(("model", "accuracy"), [("wordllama", 0.85), ("off", 0.8)])
async def test_top_1_accuracy_and_no_match_rate(model: str, accuracy: float) -> None:
    result = await evaluate_questions(labelled(), model=model)
    misses = "\n".join(str(miss) for miss in result["misses"])
    assert result["top1"] >= accuracy, f"top-1 {result['top1']} with {model}; misses:\n{misses}"
    assert result["no_match"] >= 0.8, f"no match {result['no_match']} with {model}:\n{misses}"


async def test_an_evaluation_without_questions_of_a_kind_reports_none() -> None:
    result = await evaluate_questions([("how do I bake sourdough bread?", None)], model="off")
    assert result["model"] == "off" and result["top1"] is None and result["no_match"] == 1.0
    assert result["misses"] == []
