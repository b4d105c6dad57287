"""The add/edit form's rules for explain prompts: concept and misconception lines."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.core.content import MAX_EXAMPLES, Explain, parse_item
from bot.core.question_drafts import (
    DEFAULT_HINT,
    MAX_CONCEPTS,
    QuestionDraft,
    build_item,
    draft_fields,
    draft_from_fields,
    draft_from_item,
    draft_problem_reply,
    parse_concept_lines,
    parse_misconception_lines,
)
from bot.errors import BadInput

CONCEPTS = (
    "weights are adjusted: Training adjusts the weights. | Each step nudges the weights.\n"
    "\n"
    "the loss goes down"
)
DRAFT = QuestionDraft(
    deck="training",
    kind="explain",
    difficulty="hard",
    question="Explain why training changes a model's weights.",
    options="",
    answer="",
    explanation="Training adjusts the weights so the loss goes down.",
    hint="Think of the weights as settings.",
    concepts=CONCEPTS,
    misconceptions="training changes the data => Training changes the weights, not the data.",
)


def explain(draft: QuestionDraft) -> Explain:
    item = build_item(draft)
    assert isinstance(item, Explain)
    return item


def test_a_form_becomes_an_explain_prompt() -> None:
    item = explain(DRAFT)
    assert (item.prompt, item.difficulty) == (DRAFT.question, "hard")
    assert item.model_answer == DRAFT.explanation and item.hint == DRAFT.hint
    assert [(c.name, c.examples) for c in item.concepts] == [
        (
            "weights are adjusted",
            ["Training adjusts the weights.", "Each step nudges the weights."],
        ),
        ("the loss goes down", None),
    ]
    assert item.concepts[1].references == ["the loss goes down"]  # a bare name is compared
    assert item.misconceptions is not None
    assert [(m.wrong, m.correction) for m in item.misconceptions] == [
        ("training changes the data", "Training changes the weights, not the data.")
    ]


def test_the_hint_and_misconceptions_are_optional() -> None:
    item = explain(replace(DRAFT, hint="  ", misconceptions=""))
    assert item.hint == DEFAULT_HINT and item.misconceptions is None


@pytest.mark.parametrize(
    ("concepts", "message"),
    [
        ("", "list at least one concept, one per line: `name: example | example`"),
        ("good idea\n: only an example", "concept line 2: write it as `name: example | example`"),
        ("good idea\n\nname: | |", "concept line 3: write it as `name: example | example`"),
        ("a | b: c", "concept line 1: write it as `name: example | example`"),
        (
            "weights change\nWeights  CHANGE: again",
            "concept line 2 repeats the concept 'Weights CHANGE' of line 1",
        ),
        (
            "name: " + " | ".join(f"example {n}" for n in range(MAX_EXAMPLES + 1)),
            f"concept line 1 has {MAX_EXAMPLES + 1} examples; keep at most {MAX_EXAMPLES}",
        ),
        (
            "\n".join(f"idea {n}" for n in range(MAX_CONCEPTS + 1)),
            f"you listed {MAX_CONCEPTS + 1} concepts; keep the {MAX_CONCEPTS} most important",
        ),
        ("idea: " + "x" * 301, "concept line 1: the example is too long (301 characters"),
    ],
)
def test_bad_concept_lines_are_named_by_line(concepts: str, message: str) -> None:
    with pytest.raises(BadInput) as caught:
        build_item(replace(DRAFT, concepts=concepts))
    assert caught.value.message.startswith(message), caught.value.message


@pytest.mark.parametrize(
    ("misconceptions", "message"),
    [
        ("a => b\nno arrow here", "misconception line 2: write it as `wrong idea => correction`"),
        ("=> just a fix", "misconception line 1: write it as `wrong idea => correction`"),
        ("a wrong idea =>", "misconception line 1: write it as `wrong idea => correction`"),
        ("\n".join(f"w{n} => c" for n in range(11)), "you listed 11 misconceptions"),
    ],
)
def test_bad_misconception_lines_are_named_by_line(misconceptions: str, message: str) -> None:
    with pytest.raises(BadInput) as caught:
        build_item(replace(DRAFT, misconceptions=misconceptions))
    assert caught.value.message.startswith(message), caught.value.message


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"question": " "}, "type the prompt"),
        ({"explanation": ""}, "type a model answer"),
        ({"question": "x" * 1001}, "the prompt is too long"),
        ({"hint": "x" * 301}, "the hint is too long"),
        ({"difficulty": "brutal"}, "Difficulty must be easy, medium or hard."),
        ({"kind": "flashcard"}, "kind must be mcq, practice or explain, got 'flashcard'"),
        ({"concepts": "\u200b: an example"}, "concept line 1: write it as `name: example"),
    ],
)
def test_other_mistakes_say_what_to_fix(changes: dict[str, str], message: str) -> None:
    with pytest.raises(BadInput) as caught:
        build_item(replace(DRAFT, **changes))
    assert caught.value.message.startswith(message), caught.value.message


def test_the_edit_form_is_prefilled_with_the_same_lines_and_keeps_phrases() -> None:
    stored = parse_item(
        {
            "id": "q-7",
            "kind": "explain",
            "prompt": "Why does the loss go down?",
            "hint": "Think of the optimizer.",
            "model_answer": "The optimizer updates the weights to reduce the loss.",
            "concepts": [
                {
                    "name": "weights are updated",
                    "examples": ["The optimizer updates the weights."],
                    "phrases": ["update the weights"],
                },
                {"name": "loss is reduced"},
            ],
            "misconceptions": [{"wrong": "the data changes", "correction": "The weights do."}],
        }
    )
    draft = draft_from_item("training", stored)
    assert draft.concepts == (
        "weights are updated: The optimizer updates the weights.\nloss is reduced"
    )
    assert draft.misconceptions == "the data changes => The weights do."
    again = explain(draft)
    assert again.model_copy(update={"id": "q-7"}) == stored  # phrases come back too
    renamed = explain(replace(draft, concepts="weights change\nloss is reduced"))
    assert renamed.concepts[0].phrases is None  # a renamed concept loses its old phrases
    # A kept draft (Edit and retry) comes back whole.
    assert draft_from_fields(draft_fields(draft)) == draft


def test_a_refused_explain_form_is_echoed_with_every_box() -> None:
    bad = replace(DRAFT, concepts="good idea\n: oops")
    with pytest.raises(BadInput) as caught:
        build_item(bad)
    reply = draft_problem_reply(bad, caught.value.message)
    assert reply.text.startswith("Concept line 2: write it as `name: example | example`")
    assert reply.code is not None
    for text in (DRAFT.question, DRAFT.explanation, DRAFT.hint, ": oops", DRAFT.misconceptions):
        assert text in reply.code


def test_line_parsers_on_their_own() -> None:
    assert parse_concept_lines("idea:  \n") == [{"name": "idea"}]
    assert parse_misconception_lines(" \n") == []
    assert parse_misconception_lines("a => b => c") == [{"wrong": "a", "correction": "b => c"}]
