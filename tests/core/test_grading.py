"""Concept-coverage grading of explain answers: phrases, polarity, misconceptions, salad."""

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
        ("minimise", "minim"),
        ("minimizing", "minim"),
        ("optimizer", "optim"),
        ("optimiser", "optim"),
        ("optimization", "optim"),
        ("adjustment", "adjust"),
        ("applies", "appli"),
        ("apply", "appli"),
        ("promise", "promis"),
        ("exercise", "exercis"),
        ("stopped", "stop"),
        ("the", "the"),
        ("42", "42"),
    ],
)
def test_stem(word: str, expected: str) -> None:
    assert stem(word) == expected


def test_normalize_tokens_ignores_case_punctuation_and_fillers() -> None:
    assert normalize_tokens("The Optimizer UPDATES the model's weights!!!") == [
        "optim",
        "updat",
        "model",
        "weight",
    ]
    assert normalize_tokens("apply_gradients, step-by-step") == [
        "appli",
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


# -- polarity, misconceptions, salad and meaning (a fake sentence model) ----------------------

from collections.abc import Sequence  # noqa: E402

from bot.core.content import Misconception  # noqa: E402
from bot.core.grading import (  # noqa: E402
    MeaningRules,
    polarity,
    split_units,
    topic,
)


def fake_similarity(pairs: dict[tuple[str, str], float]):  # type: ignore[no-untyped-def]
    """A sentence model that knows only ``pairs`` (case-insensitive); 1.0 for equal texts."""
    table = {(a.casefold(), b.casefold()): v for (a, b), v in pairs.items()}

    def similarity(texts: Sequence[str], refs: Sequence[str]) -> list[list[float]]:
        return [
            [
                1.0
                if t.casefold() == r.casefold()
                else table.get((t.casefold(), r.casefold()), 0.0)
                for r in refs
            ]
            for t in texts
        ]

    return similarity


def test_negation_never_earns_a_phrase() -> None:
    concepts = [Concept(name="loss down", phrases=["reduce the error"])]
    assert grade_explanation("training reduces the error", concepts).covered == ("loss down",)
    assert grade_explanation("training does not reduce the error", concepts).covered == ()
    assert grade_explanation("it doesn't reduce the error", concepts).covered == ()
    assert grade_explanation("it never reduces the error", concepts).covered == ()


def test_wrong_direction_never_earns_a_concept() -> None:
    concepts = [Concept(name="loss down", phrases=["loss goes"], examples=["the loss goes down"])]
    up = grade_explanation("the loss goes up", concepts)
    assert up.covered == ()
    assert grade_explanation("the loss goes down", concepts).covered == ("loss down",)
    # Two negatives of "up" say "down".
    assert grade_explanation("the loss does not go up", concepts).missed == ("loss down",)


def test_polarity_reads_negation_direction_and_quality() -> None:
    assert polarity("the loss goes down").direction == -1
    assert polarity("the loss increases").direction == 1
    assert polarity("predictions get worse").quality == -1
    assert polarity("the weights don't change").negated
    assert not polarity("the weights change").negated
    assert polarity("the loss doesn't go up").agrees_with(polarity("the loss goes down"))
    assert not polarity("the loss goes up").agrees_with(polarity("the loss goes down"))
    assert not polarity("weights don't change").agrees_with(polarity("weights change"))
    assert topic("The error goes down") == "error"


def test_meaning_earns_a_concept_without_phrases_and_names_the_evidence() -> None:
    concepts = [Concept(name="weights are adjusted", examples=["the weights are changed"])]
    similarity = fake_similarity({("training nudges the settings", "the weights are changed"): 0.9})
    coverage = grade_explanation(
        "Well, training nudges the settings, and that is all.",
        concepts,
        similarity=similarity,
        rules=MeaningRules(concept=0.6),
    )
    assert coverage.covered == ("weights are adjusted",)
    assert coverage.by_meaning
    (result,) = coverage.concepts
    assert result.via == "meaning"
    assert result.evidence == "training nudges the settings"


def test_a_negated_paraphrase_earns_nothing_even_when_it_is_similar() -> None:
    concepts = [Concept(name="weights are adjusted", examples=["the weights are changed"])]
    similarity = fake_similarity({("the weights are not changed", "the weights are changed"): 0.95})
    coverage = grade_explanation("The weights are not changed.", concepts, similarity=similarity)
    assert coverage.covered == ()


def test_a_misconception_is_named_corrected_and_earns_nothing() -> None:
    concepts = [Concept(name="the optimizer updates the weights", phrases=["update the weights"])]
    ideas = [
        Misconception(
            wrong="the loss function updates the weights",
            correction="The optimizer updates the weights.",
        )
    ]
    # Phrase rules alone recognise the wrong idea by its words.
    coverage = grade_explanation("The loss function updates the weights.", concepts, ideas)
    assert coverage.covered == ()
    (found,) = coverage.misconceptions
    assert found.wrong == "the loss function updates the weights"
    assert found.correction == "The optimizer updates the weights."
    assert found.evidence == "The loss function updates the weights"
    # A correct clause next to it still counts.
    both = grade_explanation(
        "The loss function updates the weights; no wait, the optimizer updates the weights",
        concepts,
        ideas,
    )
    assert both.covered == ("the optimizer updates the weights",)
    assert [m.wrong for m in both.misconceptions] == ["the loss function updates the weights"]


def test_keyword_salad_earns_at_most_one_concept() -> None:
    concepts = [
        Concept(name="weights", phrases=["weights"]),
        Concept(name="loss", phrases=["loss"]),
        Concept(name="optimizer", phrases=["optimizer"]),
    ]
    assert len(grade_explanation("loss weights optimizer gradient", concepts).covered) == 1
    sentence = "The optimizer changes the weights so the loss goes down."
    assert len(grade_explanation(sentence, concepts).covered) == 3


def test_split_units_keeps_sentences_and_their_clauses() -> None:
    units = [u.text for u in split_units("Training adjusts the weights, so the loss drops. Done!")]
    assert units[:3] == [
        "Training adjusts the weights, so the loss drops",
        "Training adjusts the weights",
        "the loss drops",
    ]
    assert "Done" in units
    assert [u.salad for u in split_units("loss weights optimizer gradient")] == [True]
