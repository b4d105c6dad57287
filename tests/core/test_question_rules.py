"""The question bank's pure rules: forms, CSV/YAML imports, duplicates and answer stats."""

from __future__ import annotations

import pytest

from bot.core.content import AnyItem, ChoiceItem, MultipleChoice, Practice
from bot.core.deck_files import load_deck_text
from bot.core.question_drafts import (
    QuestionDraft,
    build_item,
    check_deck_name,
    draft_from_item,
    draft_problem_reply,
    parse_practice_lines,
    question_key,
    resolve_answer,
    split_option_lines,
)
from bot.core.question_files import MAX_IMPORT_BYTES, MAX_IMPORT_ROWS, export_yaml, parse_import
from bot.core.question_list import parse_list_token
from bot.core.question_stats import question_stats
from bot.errors import BadInput

HEADER = "deck,kind,question,options,answer,explanation,difficulty"


def draft(**changes: str) -> QuestionDraft:
    values = {
        "deck": "loss-basics",
        "kind": "mcq",
        "difficulty": "easy",
        "question": "What does the loss measure?",
        "options": "How wrong predictions are\nHow fast training runs\nThe model size",
        "answer": "A",
        "explanation": "The loss compares predictions with the true values.",
    }
    values.update(changes)
    return QuestionDraft(**values)


def choice(item: AnyItem) -> ChoiceItem:
    """``item`` as a choice question (what the bank stores), so its answer can be read."""
    assert isinstance(item, ChoiceItem)
    return item


def csv_bytes(*rows: str, header: str = HEADER) -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode()


# -- forms ----------------------------------------------------------------------------------


def test_a_form_becomes_a_valid_item() -> None:
    item = build_item(draft())
    assert isinstance(item, MultipleChoice)
    assert item.options == ["How wrong predictions are", "How fast training runs", "The model size"]
    assert item.answer == "A" and item.difficulty == "easy"


def test_the_answer_may_be_the_option_text_or_a_marked_letter() -> None:
    assert choice(build_item(draft(answer="  the MODEL   size "))).answer == "C"
    assert choice(build_item(draft(answer="b)"))).answer == "B"
    assert resolve_answer(["A", "B"], "B") == "B"
    assert resolve_answer(["B", "A"], "A") == "B"  # the text wins over the letter


def test_an_answer_matching_an_option_past_f_is_refused_not_crashed() -> None:
    with pytest.raises(BadInput, match="needs 2–6 options, got 7"):
        resolve_answer(["0", "1", "2", "3", "4", "5", "A"], "A")


def test_lettered_option_lines_lose_their_markers() -> None:
    assert split_option_lines("A) one\nB) two\n\nC. three") == ["one", "two", "three"]
    assert split_option_lines("B) one\nA) two") == ["B) one", "A) two"]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"answer": "E"}, "answer 'E' is not one of the options A–C"),
        ({"answer": "banana"}, "answer 'banana' is neither a letter A–C"),
        ({"answer": " "}, "the correct option is empty"),
        ({"options": "only one"}, "needs 2–6 options, one per line — you gave 1"),
        ({"options": "a\nb\nc\nd\ne\nf\ng"}, "needs 2–6 options, one per line — you gave 7"),
        # found by the fuzzer: the answer names a 7th option that has no letter
        ({"options": "0\n1\n2\n3\n4\n5\nA", "answer": "A"}, "you gave 7"),
        ({"options": "same\nSame "}, "option B 'Same' repeats option A"),
        ({"question": "  "}, "question must not be empty"),
        ({"explanation": ""}, "explanation must not be empty"),
        ({"deck": "Loss Basics"}, "isn't a valid deck name"),
        ({"difficulty": "extreme"}, "Difficulty must be easy, medium or hard"),
        ({"question": "x" * 1001}, "the question is too long"),
    ],
)
def test_bad_forms_get_one_friendly_line(changes: dict[str, str], message: str) -> None:
    with pytest.raises(BadInput) as caught:
        build_item(draft(**changes))
    assert message in caught.value.message
    assert "q-new" not in caught.value.message and "\n" not in caught.value.message


def test_practice_forms_read_hint_steps_and_mistakes() -> None:
    practice = "Hint: compare with the labels\nStep: predict\ncompute the difference\nMistake: x"
    item = build_item(draft(kind="practice", practice=practice))
    assert isinstance(item, Practice)
    assert item.hint == "compare with the labels"
    assert item.steps == ["predict", "compute the difference"]
    assert item.mistakes == ["x"]
    again = draft_from_item("loss-basics", item)
    assert parse_practice_lines(again.practice) == (item.hint, item.steps, item.mistakes)
    with pytest.raises(BadInput, match="'Mistake: …'"):
        build_item(draft(kind="practice", practice="Hint: h\nStep: s"))


def test_the_problem_reply_echoes_everything_typed() -> None:
    typed = draft(answer="E", explanation="Because reasons.")
    reply = draft_problem_reply(typed, "answer 'E' is not one of the options A–C")
    assert reply.private and "Nothing was stored" in reply.text
    assert reply.text.startswith("Answer 'E' is not one of the options A–C.")
    for part in ("What does the loss measure?", "How fast training runs", "E", "Because reasons."):
        assert part in reply.code


def test_edit_form_round_trips() -> None:
    item = build_item(draft())
    assert build_item(draft_from_item("loss-basics", item)) == item


def test_deck_names_and_list_tokens() -> None:
    assert check_deck_name(" loss-basics ") == "loss-basics"
    with pytest.raises(BadInput):
        check_deck_name("x")
    assert parse_list_token("ql:3:loss-basics") == (3, "loss-basics")
    assert parse_list_token("ql:0") == (0, None)
    with pytest.raises(BadInput, match="out of date"):
        parse_list_token("ql:x")


def test_question_keys_ignore_case_and_spaces() -> None:
    assert question_key("  What IS\tthe loss? ") == question_key("what is the loss?")


# -- CSV imports ----------------------------------------------------------------------------


def test_a_good_csv_imports_every_row() -> None:
    data = csv_bytes(
        "d1,mcq,Q one?,a|b|c,B,Because.,easy",
        'd1,,"Q two, with a comma?",yes | no,no,Since.,',
        ",practice,Q three?,1|2,A,E.,hard,h,s1|s2,m1",
        header=HEADER + ",hint,steps,mistakes",
    )
    parsed = parse_import("bank.csv", data, deck="d1")
    assert parsed.ok, parsed.problems
    assert [q.where for q in parsed.questions] == ["row 2", "row 3", "row 4"]
    assert [q.item.kind for q in parsed.questions] == ["mcq", "mcq", "practice"]
    assert (
        choice(parsed.questions[1].item).answer == "B"
        and parsed.questions[1].item.difficulty == "medium"
    )
    assert {q.deck for q in parsed.questions} == {"d1"}


def test_every_bad_csv_row_is_reported_and_nothing_is_kept() -> None:
    data = csv_bytes(
        "d1,mcq,Fine question?,a|b,A,Fine.,easy",  # row 2
        "d1,mcq,Bad answer?,a|b|c,E,Why.,easy",  # row 3
        "d1,mcq,One option?,only,A,Why.,easy",  # row 4
        "d1,flashcard,A card?,a|b,A,Why.,easy",  # row 5
        "d1,mcq,No explanation?,a|b,A,,easy",  # row 6
        "d1,mcq,Fine question?,c|d,A,Same text.,easy",  # row 7: repeats row 2
        "Bad Deck,mcq,Deck?,a|b,A,Why.,easy",  # row 8
        "d1,mcq,Hard?,a|b,A,Why.,impossible",  # row 9
        "d1,mcq,Too,many,cells,a|b,A,Why.,easy",  # row 10
        ",,,,,,",  # blank row: skipped
        "d1,practice,No hint?,a|b,A,Why.,easy",  # row 12
    )
    parsed = parse_import("bank.csv", data)
    assert not parsed.ok
    messages = dict(p.split(": ", 1) for p in parsed.problems)
    assert messages["row 3"] == "answer 'E' is not one of the options A–C"
    assert messages["row 4"].startswith("needs 2–6 options, got 1")
    assert messages["row 5"] == "kind must be mcq or practice, got 'flashcard'"
    assert messages["row 6"] == "explanation must not be empty"
    assert messages["row 7"] == "same question as row 2"
    assert "isn't a valid deck name" in messages["row 8"]
    assert "difficulty must be one of easy, medium or hard" in messages["row 9"]
    assert "more cells than the header" in messages["row 10"]
    assert "missing 'hint', 'steps', 'mistakes'" in messages["row 12"]
    assert len(parsed.problems) == 9


def test_csv_header_problems() -> None:
    parsed = parse_import("bank.csv", b"deck,kind,question,optoins,answer,explanation,difficulty\n")
    assert parsed.problems == [
        "row 1: unknown column 'optoins' (did you mean 'options'?)",
        "row 1: the header is missing options "
        "(it needs deck,kind,question,options,answer,explanation,difficulty)",
    ]
    assert parse_import("bank.csv", b"").problems[0].startswith("the file is empty")


def test_file_limits_and_decoding_are_friendly() -> None:
    with pytest.raises(BadInput, match="limit is 1 MB"):
        parse_import("bank.csv", b"x" * (MAX_IMPORT_BYTES + 1))
    with pytest.raises(BadInput, match="isn't UTF-8"):
        parse_import("bank.csv", "deck,é".encode("latin-1"))
    with pytest.raises(BadInput, match=r"\.csv or \.yaml"):
        parse_import("bank.xlsx", b"PK")
    rows = [f"d1,mcq,Question {n}?,a|b,A,Why.,easy" for n in range(MAX_IMPORT_ROWS + 1)]
    parsed = parse_import("bank.csv", csv_bytes(*rows))
    assert not parsed.questions and "limit is 500" in parsed.problems[0]
    bom = b"\xef\xbb\xbf" + csv_bytes("d1,mcq,Q?,a|b,A,Why.,easy")
    assert parse_import("bank.csv", bom).ok


# -- YAML imports and export ----------------------------------------------------------------

DECK_YAML = """\
deck: yaml-deck
title: A deck
items:
  - id: one
    kind: mcq
    question: First?
    options: [a, b]
    answer: A
    explanation: Why.
  - id: two
    kind: flashcard
    front: A card
    back: Its back
  - id: three
    kind: mcq
    question: "  FIRST? "
    options: [c, d]
    answer: B
    explanation: Again.
"""


def test_yaml_imports_use_the_deck_schema_and_report_lines() -> None:
    parsed = parse_import("deck.yaml", DECK_YAML.encode())
    # Every kind may be imported (flashcards and typed questions too).
    assert parsed.problems == ["line 14: same question as line 4"]
    assert [q.item.kind for q in parsed.questions] == ["mcq", "flashcard"]
    broken = DECK_YAML.replace("answer: A", "answer: E")
    parsed = parse_import("deck.yml", broken.encode())
    assert parsed.problems == ["line 8: item 'one': answer 'E' is not one of the options A–B"]
    assert parse_import("deck.yaml", b"deck: [").problems[0].startswith("line 1: invalid YAML")


def test_yaml_deck_option_replaces_the_files_deck() -> None:
    text = DECK_YAML.split("  - id: two")[0]
    parsed = parse_import("deck.yaml", text.encode(), deck="other-deck")
    assert parsed.ok and parsed.questions[0].deck == "other-deck"


def test_export_is_a_content_deck_that_imports_again() -> None:
    items = [
        build_item(draft()).model_copy(update={"id": "q-1"}),
        build_item(
            draft(
                kind="practice",
                question="null",
                practice="Hint: h\nStep: s\nMistake: m",
                code="x = 1\nprint(x)",
            )
        ).model_copy(update={"id": "q-2"}),
    ]
    text = export_yaml("loss-basics", items, comment="Exported from Study Hall.")
    assert text.startswith("# Exported from Study Hall.\n")
    deck, problems = load_deck_text(text, "export.yaml")
    assert not problems and deck is not None
    assert deck.items == items
    assert parse_import("loss-basics.yaml", text.encode()).ok


# -- stats ----------------------------------------------------------------------------------


def test_stats_count_wrong_options_and_flag_broken_keys() -> None:
    options = ["right", "wrong", "other"]
    answers = [("right", True, 1), ("wrong", False, 4), ("gone", False, 1)]
    stats = question_stats(options, 0, answers)
    assert (stats.total, stats.correct, stats.percent) == (6, 1, 17)
    assert stats.flagged
    assert [(o.label, o.count) for o in stats.wrong_choices] == [("B", 4), ("earlier option", 1)]
    assert not question_stats(options, 0, [("wrong", False, 4)]).flagged  # too few answers
    assert not question_stats(options, 0, [("right", True, 2), ("wrong", False, 4)]).flagged
    assert question_stats(options, 0, []).percent == 0
