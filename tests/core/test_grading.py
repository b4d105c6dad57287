"""Concept-coverage grading of explain answers."""

from __future__ import annotations

import pytest

from bot.core.content import Concept
from bot.core.grading import Coverage, grade_explanation, normalize_tokens, stem

CONCEPTS = [
    Concept(name="weights are adjusted", phrases=["adjust the weights", "update the weights"]),
    Concept(name="loss function", phrases=["loss function", "reduce the loss"]),
    Concept(name="better predictions", phrases=["better predictions", "more accurate"]),
]


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("updating", "updat"),
        ("updated", "updat"),
        ("updates", "updat"),
        ("update", "updat"),
        ("weights", "weight"),
        ("predictions", "predict"),
        ("predicted", "predict"),
        ("losses", "loss"),
        ("loss", "loss"),
        ("minimise", "minimiz"),
        ("minimizing", "minimiz"),
        ("optimizer", "optimiz"),
        ("optimization", "optimiz"),
        ("adjustment", "adjust"),
        ("applies", "apply"),
        ("apply", "apply"),
        ("stopped", "stop"),
        ("the", "the"),
        ("42", "42"),
    ],
)
def test_stem(word: str, expected: str) -> None:
    assert stem(word) == expected


def test_normalize_tokens_ignores_case_punctuation_and_fillers() -> None:
    assert normalize_tokens("The Optimizer UPDATES the model's weights!!!") == [
        "optimiz",
        "updat",
        "model",
        "weight",
    ]
    assert normalize_tokens("apply_gradients, step-by-step") == [
        "apply",
        "gradient",
        "step",
        "by",
        "step",
    ]
    assert normalize_tokens("") == []


def test_case_punctuation_and_word_forms_are_tolerated() -> None:
    answer = "ADJUSTING its Weights... reduces the LOSS; predictions are more-accurate!"
    coverage = grade_explanation(answer, CONCEPTS)
    assert coverage.covered == ("weights are adjusted", "loss function", "better predictions")
    assert coverage.missed == ()
    assert coverage.fraction == 1.0
    assert coverage.summary() == "You covered all 3 concepts."


def test_phrase_words_must_be_contiguous() -> None:
    concepts = [Concept(name="update", phrases=["update the weights"])]
    assert grade_explanation("the weights were updated", concepts).missed == ("update",)
    assert grade_explanation("we updated weights", concepts).covered == ("update",)
    assert grade_explanation("update all the weights", concepts).missed == ("update",)


def test_missed_concepts_are_named_in_order() -> None:
    coverage = grade_explanation("Training updates the weights.", CONCEPTS)
    assert coverage.covered == ("weights are adjusted",)
    assert coverage.missed == ("loss function", "better predictions")
    assert coverage.total == 3
    assert coverage.fraction == pytest.approx(1 / 3)
    assert coverage.summary() == (
        "You covered 1/3 concepts. Missed: loss function, better predictions."
    )


def test_answer_with_no_concepts_scores_zero() -> None:
    coverage = grade_explanation("I like turtles.", CONCEPTS)
    assert coverage.covered == ()
    assert coverage.fraction == 0.0
    assert coverage.summary().startswith("You covered 0/3 concepts.")
    assert grade_explanation("", CONCEPTS).fraction == 0.0


def test_grading_is_deterministic() -> None:
    answer = "The optimizer adjusts weights to reduce the loss and make better predictions."
    results = {grade_explanation(answer, CONCEPTS) for _ in range(20)}
    assert len(results) == 1
    assert normalize_tokens(answer) == normalize_tokens(answer)


def test_summary_wording() -> None:
    assert Coverage(covered=("a", "b"), missed=("c",)).summary() == (
        "You covered 2/3 concepts. Missed: c."
    )
    assert Coverage(covered=("a",), missed=()).summary() == "You covered the key concept."
    empty = Coverage(covered=(), missed=())
    assert empty.total == 0 and empty.fraction == 1.0
