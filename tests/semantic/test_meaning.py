"""The shared sentence model: lazy loading, the vector cache, grading by meaning, fallbacks."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from bot.core.content import Concept, Explain, Misconception
from bot.semantic.encoders import ModelUnavailable, load_encoder
from bot.semantic.meaning import SentenceMeaning

ITEM = Explain(
    id="explain-demo",
    prompt="Describe the role of the optimizer.",
    hint="It changes something.",
    model_answer="The optimizer updates the weights.",
    concepts=[
        Concept(
            name="the optimizer updates the weights",
            examples=[
                "The optimizer updates the model's weights.",
                "The optimizer moves the weights.",
            ],
        )
    ],
    misconceptions=[
        Misconception(
            wrong="the optimizer measures the error",
            correction="The loss function measures the error.",
        )
    ],
)


@pytest.fixture(scope="module")
def meaning() -> SentenceMeaning:
    shared = SentenceMeaning("wordllama")
    assert shared.warm()
    return shared


def test_the_model_loads_lazily_once(meaning: SentenceMeaning) -> None:
    fresh = SentenceMeaning("wordllama")
    assert not fresh.loaded
    fresh.vectors(["hello"])
    assert fresh.loaded
    assert meaning.loaded


def test_vectors_are_unit_length_and_cached(meaning: SentenceMeaning) -> None:
    vectors = meaning.vectors(["The loss goes down.", "The loss goes down.", "I like pizza."])
    assert vectors is not None
    assert vectors.shape[0] == 3
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert np.allclose(vectors[0], vectors[1])


def test_similar_sentences_score_higher_than_unrelated_ones(meaning: SentenceMeaning) -> None:
    rows = meaning.similarities(
        ["the optimizer changes the weights", "my cat sleeps all day"],
        ["The optimizer updates the model's weights."],
    )
    assert rows is not None
    assert rows[0][0] > rows[1][0] + 0.3


def test_grade_reads_meaning_polarity_and_misconceptions(meaning: SentenceMeaning) -> None:
    good = meaning.grade(ITEM, "The optimizer moves the weights around a bit.")
    assert good.covered == ("the optimizer updates the weights",)
    assert good.by_meaning
    negated = meaning.grade(ITEM, "The optimizer never moves the weights.")
    assert negated.covered == ()
    wrong = meaning.grade(ITEM, "The optimizer measures the error.")
    assert wrong.covered == ()
    assert [m.wrong for m in wrong.misconceptions] == ["the optimizer measures the error"]


def test_off_means_phrase_rules_only() -> None:
    off = SentenceMeaning("off")
    assert not off.available
    assert off.vectors(["x"]) is None
    assert off.similarities(["x"], ["y"]) is None
    coverage = off.grade(ITEM, "The optimizer moves the weights around a bit.")
    assert not coverage.by_meaning
    assert coverage.covered == ()


def test_a_broken_model_is_logged_once_and_grading_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls = []

    def broken(name: str) -> object:
        calls.append(name)
        raise ModelUnavailable("the files are missing")

    meaning = SentenceMeaning("wordllama", loader=broken)  # type: ignore[arg-type]
    with caplog.at_level(logging.ERROR):
        assert meaning.vectors(["a"]) is None
        assert meaning.vectors(["b"]) is None
    assert calls == ["wordllama"]
    assert not meaning.available
    assert "phrase rules only" in caplog.text
    assert not meaning.grade(ITEM, "anything at all").by_meaning


def test_an_unknown_encoder_is_refused() -> None:
    with pytest.raises(ModelUnavailable, match="unknown encoder"):
        load_encoder("gpt-9")


def test_the_cache_is_bounded() -> None:
    small = SentenceMeaning("wordllama", cache_size=3)
    small.vectors([f"sentence {n}" for n in range(10)])
    assert len(small._cache) == 3


def test_prepare_embeds_the_sentences_but_not_salad(meaning: SentenceMeaning) -> None:
    fresh = SentenceMeaning("wordllama")
    fresh.prepare("The loss drops. loss weights optimizer gradient")
    assert "The loss drops" in fresh._cache
    assert "loss weights optimizer gradient" not in fresh._cache
    SentenceMeaning("off").prepare("nothing happens")
