"""The tutor's retrieval rules: words, keyword scores, combining, follow-ups (pure)."""

from __future__ import annotations

import pytest

from bot.core import retrieval as r
from bot.core.content import Flashcard, MultipleChoice, Practice, Typed, parse_item

CARD = Flashcard(
    id="role-of-optimizer",
    front="How does the optimizer help train a model?",
    back="It changes the weights step by step in the direction that lowers the loss.",
    tags=["week-1::basics"],
)
MCQ = MultipleChoice(
    id="what-measures",
    question="Which function tells us how bad the predictions are?",
    options=["Loss function", "Optimizer", "Activation function"],
    answer="A",
    explanation="The loss compares predictions with the true values.",
)
PRACTICE = Practice(
    id="apply",
    question="Which line applies the gradients?",
    options=["model.fit(x, y)", "optimizer.apply_gradients(pairs)"],
    answer="B",
    explanation="apply_gradients changes each variable.",
    hint="Look for the call that receives the gradients.",
    steps=["Find the update. It is apply_gradients."],
    mistakes=["Confusing compile with the update"],
    code="optimizer.apply_gradients(zip(grads, weights))",
)
EXPLAIN = parse_item(
    {
        "id": "explain-loss",
        "kind": "explain",
        "prompt": "Describe the role of the loss function.",
        "hint": "How wrong is the model?",
        "model_answer": "The loss measures how wrong the predictions are.",
        "concepts": [{"name": "the loss measures the error", "phrases": ["loss measures"]}],
    }
)
TYPED = Typed(
    id="backprop",
    question="What does backpropagation compute for every weight?",
    answers=["gradient", "the gradient of the loss"],
    hint="A slope.",
)
TYPED_BARE = Typed(id="bare", question="Name the optimizer Adam improves on.", answers=["SGD"])


# -- words ----------------------------------------------------------------------------------


def test_terms_are_stemmed_content_words() -> None:
    assert r.terms("Why do we need an optimizer?") == ["optim"]
    assert r.terms("The model's weights ARE updated") == ["model", "weight", "updat"]
    # Underscores split names; curly apostrophes read as straight ones.
    assert r.terms("apply_gradients") == ["appli", "gradient"]
    assert r.terms("what\u2019s a loss") == ["loss"]
    assert r.terms("") == []


def test_query_weights_count_repeated_words() -> None:
    assert r.query_weights("loss, loss and the optimizer") == {"loss": 2.0, "optim": 1.0}


# -- what an item says ----------------------------------------------------------------------


def test_the_answer_of_each_kind() -> None:
    assert r.item_answer(CARD) == CARD.back
    assert r.item_answer(MCQ) == f"**Loss function**\n{MCQ.explanation}"
    assert r.item_answer(EXPLAIN) == "The loss measures how wrong the predictions are."
    assert r.item_answer(TYPED) == "**gradient**"
    assert r.item_answer(TYPED_BARE) == "**SGD**"
    typed = Typed(id="tt", question="Q?", answers=["a"], explanation="Because.")
    assert r.item_answer(typed) == "**a**\nBecause."
    assert r.item_question(PRACTICE) == PRACTICE.question


def test_fields_name_every_part_but_code() -> None:
    fields = r.item_fields(PRACTICE)
    assert fields["question"] == [PRACTICE.question]
    assert fields["answer"] == ["optimizer.apply_gradients(pairs)", PRACTICE.explanation]
    assert fields["options"] == ["model.fit(x, y)"]
    assert fields["extra"] == [PRACTICE.hint, *PRACTICE.steps, *PRACTICE.mistakes]
    assert "zip" not in str(fields)
    assert r.item_fields(CARD)["tags"] == ["week-1 basics"]
    assert r.item_fields(EXPLAIN)["extra"] == [
        "How wrong is the model?",
        "the loss measures the error",
    ]
    assert r.item_fields(TYPED)["extra"] == ["A slope."]
    assert r.item_fields(TYPED_BARE)["extra"] == []
    assert r.item_fields(MCQ)["extra"] == []


def test_item_terms_weigh_the_question_double() -> None:
    counts = r.item_terms(CARD)
    assert counts["optim"] == 2.0  # in the front only
    assert counts["weight"] == 1.0  # in the back only
    assert r.item_terms(CARD, {"question": 1.0})["optim"] == 1.0
    assert "weight" not in r.item_terms(CARD, {"question": 1.0})


def test_passages_start_with_the_question_and_split_sentences() -> None:
    passages = r.item_passages(PRACTICE)
    assert passages[0] == PRACTICE.question
    assert "Find the update." in passages and "It is apply_gradients." in passages
    assert len(passages) == len(set(passages))
    assert r.sentences("One. Two? Three!  ") == ["One.", "Two?", "Three!"]


def test_passage_similarity_mixes_the_question_and_the_best_passage() -> None:
    assert r.passage_similarity([0.4, 0.8, 0.2]) == pytest.approx(0.6)
    assert r.passage_similarity([0.9, 0.1]) == pytest.approx(0.9)
    assert r.passage_similarity([]) == 0.0


# -- keywords -------------------------------------------------------------------------------

DOCS = [r.item_terms(item) for item in (CARD, MCQ, PRACTICE, EXPLAIN, TYPED)]


def test_bm25_scores_only_documents_sharing_a_word() -> None:
    index = r.KeywordIndex(DOCS)
    scores = index.scores(r.query_weights("what does backpropagation compute?"))
    assert set(scores) == {4}
    assert index.scores({}) == {}


def test_rare_words_count_more_than_common_ones() -> None:
    index = r.KeywordIndex(DOCS)
    assert index.idf("backpropag") > index.idf("loss")
    # A word no item has counts less than a rare one, but still counts.
    assert 0.0 < index.idf("pizza") < index.idf("backpropag")


def test_coverage_is_the_share_of_the_question_matched() -> None:
    index = r.KeywordIndex(DOCS)
    focused = index.coverage(r.query_weights("which function tells how bad predictions are"))
    assert max(focused, key=focused.__getitem__) == 1
    assert all(0.0 < value <= 1.0 for value in focused.values())
    # Words no item has pull the score down everywhere.
    diluted = index.coverage(r.query_weights("function bad predictions pizza pasta"))
    assert diluted[1] < focused[1]
    assert index.coverage(r.query_weights("pizza pasta")) == {}
    assert index.coverage({}) == {}


def test_an_empty_index_scores_nothing() -> None:
    index = r.KeywordIndex([])
    assert index.coverage(r.query_weights("loss")) == {}


def test_top_indexes_break_ties_by_index() -> None:
    assert r.top_indexes({3: 0.5, 1: 0.5, 2: 0.9, 0: 0.1}, 3) == [2, 1, 3]


# -- combining and deciding -----------------------------------------------------------------


def test_rules_combine_keywords_and_meaning() -> None:
    rules = r.RetrievalRules(keyword_weight=0.5, meaning_floor=0.2, meaning_ceiling=0.6)
    assert rules.meaning_score(0.1) == 0.0
    assert rules.meaning_score(0.4) == pytest.approx(0.5)
    assert rules.meaning_score(0.9) == 1.0
    assert rules.combine(0.6, None) == 0.6
    assert rules.combine(0.6, 0.4) == pytest.approx(0.55)


def test_good_enough_has_a_bar_with_and_without_the_model() -> None:
    rules = r.RetrievalRules(threshold=0.3, keyword_threshold=0.2, related_share=0.5)
    assert rules.good_enough(0.3, with_meaning=True)
    assert not rules.good_enough(0.29, with_meaning=True)
    assert rules.good_enough(0.2, with_meaning=False)
    assert rules.related(0.15, with_meaning=True)
    assert not rules.related(0.09, with_meaning=False)


def test_rank_orders_by_the_combined_score() -> None:
    rules = r.RetrievalRules(keyword_weight=0.5, meaning_floor=0.0, meaning_ceiling=1.0)
    ranked = r.rank([0, 1, 2], {0: 0.2, 1: 0.8}, {0: 0.9, 1: 0.1, 2: 0.5}, rules)
    assert [s.index for s in ranked] == [0, 1, 2]
    assert (ranked[0].keyword, ranked[0].cosine) == (0.2, 0.9)
    assert ranked[0].score == pytest.approx(0.55)
    keywords_only = r.rank([0, 1, 2], {0: 0.2, 1: 0.8}, None, rules)
    assert [(s.index, s.cosine) for s in keywords_only] == [(1, None), (0, None), (2, None)]
    assert [s.index for s in r.rank([2, 1], {}, None, rules)] == [1, 2]


# -- follow-ups -----------------------------------------------------------------------------


def test_follow_ups_mix_in_the_previous_question_at_a_lower_weight() -> None:
    merged = r.merge_queries({"gradient": 1.0}, {"optim": 1.0, "gradient": 1.0}, 0.5)
    assert merged == {"gradient": 1.5, "optim": 0.5}
    assert r.blend({0: 0.6, 1: 0.0}, {0: 0.0, 1: 0.9}, 0.5) == {
        0: pytest.approx(0.4),
        1: pytest.approx(0.3),
    }


@pytest.mark.parametrize(
    "text",
    [
        "and why does it go down?",
        "what about the gradients?",
        "But what if the loss is zero?",
        "so?",
        "why is it negative",
        "how does that work",
    ],
)
def test_these_read_as_follow_ups(text: str) -> None:
    assert r.looks_like_follow_up(text)


@pytest.mark.parametrize(
    "text",
    [
        "why do we need an optimizer?",
        "what does the loss function measure in training?",
        "android phones",  # "and" only as a whole word
        "",
    ],
)
def test_these_stand_on_their_own(text: str) -> None:
    assert not r.looks_like_follow_up(text)


def test_a_follow_up_continues_the_topic_only_if_it_names_what_the_material_has() -> None:
    index = r.KeywordIndex(DOCS)
    assert r.continues_topic("and why does it go down?", index)
    assert r.continues_topic("what about the gradients?", index)
    assert not r.continues_topic("and what about pizza?", index)
    assert not r.continues_topic("which function tells how bad predictions are?", index)
    assert index.knows("gradient") and not index.knows("pizza")
