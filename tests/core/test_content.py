"""The deck schema, the line-accurate loader and the shipped decks."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from bot import PROJECT_ROOT
from bot.core.content import (
    DIFFICULTIES,
    ContentProblem,
    Deck,
    Explain,
    Flashcard,
    MultipleChoice,
    Practice,
    item_to_dict,
    parse_item,
)
from bot.core.deck_files import (
    deck_files,
    export_items,
    load_deck_file,
    load_deck_text,
    load_library,
)
from bot.core.grading import grade_explanation
from bot.errors import BadInput, ContentError

CONTENT_DIR = PROJECT_ROOT / "content"
DECKS = Path(__file__).resolve().parent.parent / "data" / "decks"
GOOD = DECKS / "good"
BROKEN = DECKS / "broken"
SHIPPED = sorted(deck_files(CONTENT_DIR))


# --------------------------------------------------------------------------- shipped decks


@pytest.mark.parametrize("path", SHIPPED, ids=[path.name for path in SHIPPED])
def test_every_shipped_deck_loads_without_problems(path: Path) -> None:
    deck, problems = load_deck_file(path)
    assert problems == []
    assert deck is not None
    assert deck.items


def test_shipped_library_is_clean() -> None:
    library = load_library(CONTENT_DIR)
    assert library.problems == []
    assert library.get_deck("tensorflow-training-basics") is not None


def _basics() -> Deck:
    deck = load_library(CONTENT_DIR).get_deck("tensorflow-training-basics")
    assert deck is not None
    return deck


def test_training_basics_has_every_part_of_the_page() -> None:
    kinds = [item.kind for item in _basics().items]
    assert kinds.count("flashcard") == 5
    assert kinds.count("mcq") == 5
    assert kinds.count("practice") == 5
    assert kinds.count("explain") == 2


def test_training_basics_answer_keys_follow_the_final_answers() -> None:
    deck = _basics()
    practice = [item for item in deck.items if isinstance(item, Practice)]
    assert [item.answer for item in practice] == ["A", "D", "C", "A", "B"]
    quiz = {
        item.question: item.correct_option for item in deck.items if type(item) is MultipleChoice
    }
    assert quiz == {
        "What does training a model mainly adjust?": "Model weights",
        "Which function tells us how bad the model's predictions are?": "Loss function",
        "What is the optimizer's job during training?": "Change weights to reduce loss",
        "If a model's weights are never updated, what happens to the model?": (
            "It does not improve"
        ),
        "Why do we want to minimize the loss during training?": "To improve prediction accuracy",
    }


def test_training_basics_levels_and_difficulties() -> None:
    deck = _basics()
    levels = [item.level for item in deck.items if isinstance(item, Flashcard)]
    assert levels == ["beginner", "beginner", "beginner", "intermediate", "beginner"]
    practice = [item.difficulty for item in deck.items if isinstance(item, Practice)]
    assert practice == ["easy", "easy", "medium", "medium", "hard"]
    quiz = {item.difficulty for item in deck.items if type(item) is MultipleChoice}
    assert quiz == {"easy", "medium"}
    assert all(item.difficulty in DIFFICULTIES for item in deck.items)


def test_training_basics_practice_code_blocks() -> None:
    practice = [item for item in _basics().items if isinstance(item, Practice)]
    assert [item.code is not None for item in practice] == [False, False, True, True, False]
    for item in practice:
        assert item.hint and item.steps and item.mistakes and item.explanation
        if item.code:
            assert item.code.startswith("import tensorflow as tf")
            compile(item.code, item.id, "exec")  # the snippets are valid Python


def test_model_answers_cover_all_their_concepts() -> None:
    explains = [item for item in _basics().items if isinstance(item, Explain)]
    assert len(explains) == 2
    for item in explains:
        assert len(item.concepts) == 3
        coverage = grade_explanation(item.model_answer, item.concepts)
        assert coverage.missed == (), item.id


@pytest.mark.parametrize(
    ("item_id", "answer"),
    [
        (
            "explain-why-weights-change",
            "Training tweaks the model's weights so it makes fewer mistakes "
            "and gives more accurate predictions.",
        ),
        (
            "explain-why-weights-change",
            "The weights get updated to lower the loss, so the model predicts better.",
        ),
        (
            "explain-loss-and-optimizer",
            "The loss function tells us how wrong the model is, and the optimizer "
            "adjusts the weights to reduce the loss.",
        ),
    ],
)
def test_natural_answers_cover_the_shipped_concepts(item_id: str, answer: str) -> None:
    item = _basics().get_item(item_id)
    assert isinstance(item, Explain)
    assert grade_explanation(answer, item.concepts).missed == ()


# --------------------------------------------------------------------------- schema


def test_good_fixture_parses_every_kind() -> None:
    deck, problems = load_deck_file(GOOD / "mini-deck.yaml")
    assert problems == []
    assert deck is not None
    card, quiz, practice, explain = deck.items
    assert isinstance(card, Flashcard)
    assert (card.prompt, card.difficulty, card.options, card.answer_text) == (
        "What does a loss function measure?",
        "medium",
        [],
        "How wrong the predictions are.",
    )
    assert isinstance(quiz, MultipleChoice)
    assert quiz.answer == "C"  # lower-case letters are accepted
    assert (quiz.correct_index, quiz.correct_option) == (2, "apply_gradients")
    assert quiz.answer_text == "apply_gradients"
    assert quiz.code is None
    assert isinstance(practice, Practice)
    assert practice.options == ["1", "2", "11", "Yes"]  # scalars stay text
    assert practice.code == "x = 1\nprint(x + 1)"
    assert practice.prompt == "What is printed?"
    assert isinstance(explain, Explain)
    assert explain.difficulty == "medium"  # the default
    assert explain.answer_text == "A lower loss means more accurate predictions."
    assert explain.options == []


def test_text_is_stripped() -> None:
    item = parse_item({"id": "card", "kind": "flashcard", "front": "  Front \n", "back": " B "})
    assert isinstance(item, Flashcard)
    assert (item.front, item.back, item.level) == ("Front", "B", "beginner")


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({"id": "card", "kind": "flashcard", "front": "F"}, "item 'card': missing 'back'"),
        ({"id": "card", "kind": "essay"}, "kind must be one of flashcard, mcq"),
        (
            {
                "id": "q1",
                "kind": "mcq",
                "question": "Q",
                "options": ["a", "b"],
                "answer": "C",
                "explanation": "e",
            },
            "item 'q1': answer 'C' is not one of the options A–B",
        ),
        (
            {
                "id": "q1",
                "kind": "mcq",
                "question": "Q",
                "options": ["a", "b"],
                "answer": "7",
                "explanation": "e",
            },
            "answer must be a letter A–F",
        ),
        (
            {"id": "card", "kind": "flashcard", "front": "F", "back": "B", "colour": "red"},
            "unknown field 'colour'",
        ),
        ({"id": "card", "kind": "flashcard", "front": "", "back": "B"}, "front must not be empty"),
        ({"id": "Not A Slug", "kind": "flashcard", "front": "F", "back": "B"}, "not a valid slug"),
    ],
)
def test_parse_item_rejects_bad_input_with_one_friendly_line(
    data: dict[str, Any], fragment: str
) -> None:
    with pytest.raises(BadInput) as caught:
        parse_item(data)
    assert fragment in str(caught.value)
    assert "\n" not in str(caught.value)


def test_parse_item_mentions_further_problems() -> None:
    with pytest.raises(BadInput, match=r"missing 'question', 'options'.*\(and 1 more problem\)"):
        parse_item(
            {"id": "q1", "kind": "mcq", "difficulty": "brutal", "explanation": "x", "answer": "A"}
        )


def test_parse_item_rejects_non_mappings() -> None:
    with pytest.raises(BadInput):
        parse_item(["not", "a", "mapping"])  # type: ignore[arg-type]


def test_items_round_trip_through_json() -> None:
    library = load_library(CONTENT_DIR)
    deck, problems = load_deck_file(GOOD / "mini-deck.yaml")
    assert deck is not None and not problems
    items = [item for _, item in library.items()] + list(deck.items)
    for item in items:
        data = json.loads(json.dumps(item_to_dict(item)))
        assert data["id"] == item.id and data["kind"] == item.kind
        assert parse_item(data) == item


def test_deck_rejects_duplicate_ids_when_built_in_code() -> None:
    card = {"id": "same", "kind": "flashcard", "front": "F", "back": "B"}
    with pytest.raises(ValueError, match="duplicate item id 'same'"):
        Deck.model_validate({"deck": "demo", "title": "Demo", "items": [card, card]})


# --------------------------------------------------------------------------- broken decks

BROKEN_CASES: list[tuple[str, int, str]] = [
    ("yaml-syntax.yaml", 7, "invalid YAML: expected ',' or ']'"),
    ("not-a-mapping.yaml", 2, "a deck must be a set of fields (deck, title, items), not a list"),
    ("unknown-field.yaml", 10, "item 'quiz': unknown field 'anwser' (did you mean 'answer'?)"),
    ("missing-answer.yaml", 9, "item 'quiz': missing 'answer'"),
    ("answer-out-of-range.yaml", 12, "item 'loss-role': answer 'E' is not one of the options A–D"),
    ("duplicate-options.yaml", 10, "item 'quiz': option C 'model   WEIGHTS' repeats option A"),
    ("duplicate-ids.yaml", 8, "item 'same-id': duplicate id, already used on line 4"),
    ("empty-text.yaml", 7, "item 'card': back must not be empty"),
    ("bad-difficulty.yaml", 10, "difficulty must be one of easy, medium or hard, got 'impossible'"),
    ("bad-level.yaml", 8, "level must be one of beginner, intermediate or advanced, got 'expert'"),
    ("bad-kind.yaml", 5, "item 'essay': kind must be one of flashcard, mcq, practice, explain"),
    ("too-few-options.yaml", 7, "item 'quiz': needs 2–6 options, got 1"),
    ("too-many-options.yaml", 7, "item 'quiz': needs 2–6 options, got 7"),
    ("empty-deck.yaml", 3, "the deck has no items"),
    ("bad-slug.yaml", 1, "deck 'Bad Slug!' is not a valid slug"),
    ("duplicate-key.yaml", 8, "duplicate field 'front' (first on line 6)"),
    ("missing-kind.yaml", 4, "item 'card': missing 'kind'"),
    ("practice-no-steps.yaml", 11, "item 'practice': needs at least 1 step"),
    ("misconception-no-correction.yaml", 13, "missing 'correction' in misconception 1"),
    ("empty.yaml", 1, "the file is empty"),
]


def test_every_broken_fixture_has_a_case() -> None:
    assert sorted(name for name, _, _ in BROKEN_CASES) == sorted(
        path.name for path in deck_files(BROKEN)
    )


@pytest.mark.parametrize(
    ("name", "line", "fragment"), BROKEN_CASES, ids=[case[0] for case in BROKEN_CASES]
)
def test_broken_deck_is_rejected_at_the_right_line(name: str, line: int, fragment: str) -> None:
    path = BROKEN / name
    deck, problems = load_deck_file(path)
    assert deck is None
    assert len(problems) == 1, problems
    problem = problems[0]
    assert (problem.file, problem.line) == (str(path), line)
    assert fragment in problem.message
    assert str(problem) == f"{path}:{line}: {problem.message}"


def test_problem_str_format() -> None:
    problem = ContentProblem("content/x.yaml", 14, "item 'loss-role': answer 'E' is wrong")
    assert str(problem) == "content/x.yaml:14: item 'loss-role': answer 'E' is wrong"


def test_several_problems_are_reported_in_line_order() -> None:
    text = """\
deck: many-problems
title: Many problems
items:
  - id: card
    kind: flashcard
    front: Front
    back: ""
  - id: quiz
    kind: mcq
    question: Pick one.
    options: [one, two]
    answer: D
    explanation: Because.
  - id: card
    kind: flashcard
    front: Again
    back: Again
"""
    deck, problems = load_deck_text(text, "inline.yaml")
    assert deck is None
    assert [str(problem) for problem in problems] == [
        "inline.yaml:7: item 'card': back must not be empty",
        "inline.yaml:12: item 'quiz': answer 'D' is not one of the options A–B",
        "inline.yaml:14: item 'card': duplicate id, already used on line 4",
    ]


def test_concept_phrases_need_real_words() -> None:
    text = """\
deck: phrases
title: Phrases
items:
  - id: explain
    kind: explain
    prompt: Explain.
    hint: Think.
    model_answer: Answer.
    concepts:
      - name: idea
        phrases:
          - a real phrase
          - "the ?!"
"""
    _, problems = load_deck_text(text, "inline.yaml")
    assert [str(problem) for problem in problems] == [
        "inline.yaml:13: item 'explain': phrase 'the ?!' has no words to match"
    ]


# --------------------------------------------------------------------------- library


def test_a_broken_deck_does_not_stop_the_good_one(tmp_path: Path) -> None:
    shutil.copy(GOOD / "mini-deck.yaml", tmp_path / "a-good.yaml")
    shutil.copy(BROKEN / "answer-out-of-range.yaml", tmp_path / "b-broken.yaml")
    (tmp_path / "notes.txt").write_text("not a deck")
    library = load_library(tmp_path)
    assert [deck.deck for deck in library.decks] == ["mini-deck"]
    assert [(p.file, p.line) for p in library.problems] == [(str(tmp_path / "b-broken.yaml"), 12)]
    assert library.get_deck("mini-deck") is not None
    assert library.get_deck("answer-out-of-range") is None
    assert len(list(library.items())) == 4


def test_library_loads_yml_files_in_name_order() -> None:
    library = load_library(GOOD)
    assert [deck.deck for deck in library.decks] == ["mini-deck", "second-deck"]
    assert library.problems == []


def test_duplicate_deck_slugs_across_files(tmp_path: Path) -> None:
    shutil.copy(GOOD / "mini-deck.yaml", tmp_path / "a.yaml")
    shutil.copy(GOOD / "mini-deck.yaml", tmp_path / "b.yaml")
    library = load_library(tmp_path)
    assert len(library.decks) == 1
    assert [str(problem) for problem in library.problems] == [
        f"{tmp_path / 'b.yaml'}:2: deck 'mini-deck' is already defined in {tmp_path / 'a.yaml'}"
    ]


def test_missing_content_folder_is_a_content_error(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    with pytest.raises(ContentError, match="Set CONTENT_DIR or restore the content/ folder"):
        load_library(missing)


def test_a_file_that_is_not_utf8_is_a_problem_at_its_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("deck: cafe\ntitle: caf\xe9".encode("latin-1"))
    deck, problems = load_deck_file(path)
    assert deck is None
    assert [str(problem) for problem in problems] == [
        f"{path}:2: the file isn't UTF-8 text (line 2, byte offset 21); save it as UTF-8"
    ]


def test_export_items_has_the_required_keys() -> None:
    deck, _ = load_deck_file(GOOD / "mini-deck.yaml")
    assert deck is not None
    library = load_library(GOOD)
    exported = export_items(library)
    assert len(exported) == 5
    required = {"id", "deck", "kind", "prompt", "options", "answer", "difficulty"}
    for entry in exported:
        assert required <= entry.keys()
    by_id = {entry["id"]: entry for entry in exported}
    assert by_id["mini-deck/card-one"]["answer"] == "How wrong the predictions are."
    assert by_id["mini-deck/quiz-one"]["answer"] == "apply_gradients"
    assert by_id["mini-deck/quiz-one"]["answer_letter"] == "C"
    assert by_id["mini-deck/practice-one"]["code"] == "x = 1\nprint(x + 1)"
    assert by_id["mini-deck/practice-one"]["steps"] == ["Read x", "Add one"]
    explain = by_id["mini-deck/explain-one"]
    assert explain["answer"] == "A lower loss means more accurate predictions."
    assert explain["concepts"][0] == {
        "name": "lower loss",
        "phrases": ["lower loss", "reduce the loss"],
    }
    json.dumps(exported)  # JSON-able
