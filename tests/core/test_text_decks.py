"""Quizlet, Anki text and Red Trivia files in and out, and telling the formats apart."""

from __future__ import annotations

import csv
import io

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from bot.core.content import (
    AnyItem,
    Flashcard,
    MultipleChoice,
    Practice,
    Typed,
    is_blank,
    parse_item,
)
from bot.core.import_rules import text_key
from bot.core.question_drafts import DRAFT_ID
from bot.core.question_files import CSV_OPTIONAL, CSV_REQUIRED, ImportParse, parse_csv
from bot.core.text_decks import (
    STOCK_NOTETYPES,
    detect_text_format,
    notetype_named,
    parse_anki_text,
    parse_quizlet,
    parse_red,
)
from bot.core.text_exports import export_csv, export_quizlet, export_red


def pairs(parsed: ImportParse) -> list[tuple[str, str]]:
    """(question, first answer) of every question."""
    return [(q.item.prompt, q.item.answer_text or "") for q in parsed.questions]


def items(parsed: ImportParse) -> list[AnyItem]:
    return [q.item for q in parsed.questions]


# --------------------------------------------------------------------------- Quizlet


def test_quizlet_tab_and_lines() -> None:
    parsed = parse_quizlet("dog\tHund\r\ncat\tKatze, die\n\n  bird \t  Vogel  \n", deck="german")
    assert parsed.problems == []
    assert pairs(parsed) == [("dog", "Hund"), ("cat", "Katze, die"), ("bird", "Vogel")]
    assert [q.where for q in parsed.questions] == ["line 1", "line 2", "line 4"]
    assert [q.deck for q in parsed.questions] == ["german"] * 3
    assert [q.key for q in parsed.questions] == [text_key("dog"), text_key("cat"), text_key("bird")]
    assert all(isinstance(item, Flashcard) for item in items(parsed))


@pytest.mark.parametrize(
    ("text", "term", "card", "expected"),
    [
        ("dog,Hund\ncat,Katze, die", None, None, [("dog", "Hund"), ("cat", "Katze, die")]),
        ("dog,Hund;cat,Katze", None, None, [("dog", "Hund"), ("cat", "Katze")]),
        (
            "dog - Hund\nhalf-time - Halbzeit",
            None,
            None,
            [("dog", "Hund"), ("half-time", "Halbzeit")],
        ),
        ("dog = Hund || cat = Katze", " = ", "||", [("dog", "Hund"), ("cat", "Katze")]),
        ("dog\tHund\tder", None, None, [("dog", "Hund der")]),
        ("a\tb; c", None, None, [("a", "b; c")]),  # one card: the ; is text
    ],
)
def test_quizlet_separators(
    text: str, term: str | None, card: str | None, expected: list[tuple[str, str]]
) -> None:
    parsed = parse_quizlet(text, deck="d1", term_separator=term, card_separator=card)
    assert parsed.problems == []
    assert pairs(parsed) == expected


def test_quizlet_text_is_escaped_so_it_shows_as_typed() -> None:
    parsed = parse_quizlet("a_b*c\t2*3*4 > 1", deck="d1")
    [item] = items(parsed)
    assert isinstance(item, Flashcard)
    assert (item.front, item.back) == ("a\\_b\\*c", "2\\*3\\*4 > 1")


def test_quizlet_problems_name_their_lines() -> None:
    text = "dog\tHund\nno separator here\n\tmissing term\ncat\t\nDOG\tHund again\n"
    parsed = parse_quizlet(text, deck="d1")
    assert pairs(parsed) == [("dog", "Hund")]
    assert parsed.problems == [
        "line 2: no tab between the term and its definition",
        "line 3: the term is empty",
        "line 4: the definition of 'cat' is empty",
        "line 5: same question as line 1; keep one of them",
    ]


def test_quizlet_limits_bad_deck_and_empty_text() -> None:
    assert parse_quizlet("q\t" + "b" * 1501, deck="d1").problems == [
        "line 1: the back is too long (1501 characters, at most 1500); shorten it"
    ]
    assert parse_quizlet("a\tb", deck="Bad Deck").problems[0].startswith("'Bad Deck' isn't")
    assert parse_quizlet(" \n\n", deck="d1").problems == [
        "the text has no cards: one term and definition a line"
    ]
    semicolons = parse_quizlet("a,b;\nc\n;d,e", deck="d1", card_separator=";")
    assert semicolons.problems == ["line 2: no comma between the term and its definition"]
    assert [q.where for q in semicolons.questions] == ["line 1", "line 3"]


quizlet_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp", "Zs")),
    min_size=1,
    max_size=12,
).filter(lambda text: not is_blank(text))
quizlet_words = st.lists(quizlet_text, min_size=1, max_size=3).map(" ".join)


@given(
    st.lists(
        st.tuples(quizlet_words, quizlet_words),
        min_size=1,
        max_size=6,
        unique_by=lambda p: p[0].casefold(),
    )
)
def test_quizlet_round_trip_gives_the_same_text(cards: list[tuple[str, str]]) -> None:
    text = "\n".join(f"{term}\t{definition}" for term, definition in cards)
    parsed = parse_quizlet(text, deck="d1")
    assert parsed.problems == []
    assert export_quizlet(items(parsed)) == text


def test_export_quizlet_of_every_kind() -> None:
    typed = Typed(id="t1", question="2 + 2?", answers=["4", "four"])
    mcq = MultipleChoice(
        id="m1", question="Pick *one*\nplease", options=["a", "b\tc"], answer="B", explanation="e"
    )
    card = Flashcard(id="f1", front="a\\_b", back="line one\nline two")
    assert export_quizlet([typed, mcq, card]) == (
        "2 + 2?\t4\nPick *one* please\tb c\na_b\tline one line two"
    )


# --------------------------------------------------------------------------- Red Trivia

RED = """\
AUTHOR: Jane Doe
CONFIG:
  bot_plays: true
  reveal_answer: false
What is 2 + 2?:
- 4
- four
Is the sky blue?:
- yes
- True
"Capital of *France*?":
- Paris
"""


def test_red_list_becomes_typed_questions() -> None:
    parsed = parse_red(RED, deck="trivia")
    assert parsed.problems == []
    assert parsed.remarks == ["the list is by Jane Doe"]
    typed = items(parsed)
    assert all(isinstance(item, Typed) for item in typed)
    assert [(item.prompt, item.answers) for item in typed if isinstance(item, Typed)] == [
        ("What is 2 + 2?", ["4", "four"]),
        ("Is the sky blue?", ["yes", "True"]),  # YAML's booleans stay the text written
        ("Capital of *France*?", ["Paris"]),  # Red shows markdown: kept as written
    ]
    assert [q.where for q in parsed.questions] == ["line 5", "line 8", "line 11"]
    assert parsed.questions[0].key == text_key("What is 2 + 2?")


def test_red_problems_name_their_lines() -> None:
    text = """\
Fine?:
- yes
No answers:
Empty list: []
Not a list: just text
Nested:
- [a, b]
fine?:
- again
Blank answers:
- ''
- ' '
"""
    parsed = parse_red(text, deck="trivia")
    assert pairs(parsed) == [("Fine?", "yes")]
    assert parsed.problems == [
        "line 3: 'No answers' has no answers; list them under it as '- answer' lines",
        "line 4: 'Empty list' has no answers; list them under it as '- answer' lines",
        "line 5: the answers of 'Not a list' must be a list of '- answer' lines",
        "line 6: answer 1 of 'Nested' must be text, not a list",
        "line 8: same question as line 1; keep one of them",
        "line 10: 'Blank answers' has no answers; list them under it as '- answer' lines",
    ]


def test_red_unreadable_files() -> None:
    assert (
        parse_red("a: [b\n", deck="d1").problems[0].startswith("line 2: this isn't readable YAML")
    )
    assert parse_red("- a\n- b\n", deck="d1").problems == [
        "line 1: a Trivia list is 'question:' lines, each followed by '- answer' lines"
    ]
    assert parse_red("", deck="d1").problems == parse_red("- a", deck="d1").problems
    assert parse_red("? [a]\n: [b]\n", deck="d1").problems == ["line 1: a question must be text"]


def test_red_keeps_twenty_answers() -> None:
    answers = "".join(f"- a{n}\n" for n in range(25))
    parsed = parse_red(f"Many?:\n{answers}", deck="d1")
    [item] = items(parsed)
    assert isinstance(item, Typed) and item.answers == [f"a{n}" for n in range(20)]
    assert parsed.remarks == ["1 question(s) had more than 20 answers; the first 20 were kept"]


def test_red_round_trip_and_safe_load() -> None:
    parsed = parse_red(RED, deck="trivia")
    exported = export_red(items(parsed), "Jane Doe")
    loaded = yaml.safe_load(exported)
    assert loaded == {
        "AUTHOR": "Jane Doe",
        "What is 2 + 2?": ["4", "four"],
        "Is the sky blue?": ["yes", "True"],
        "Capital of *France*?": ["Paris"],
    }
    again = parse_red(exported, deck="trivia")
    assert items(again) == items(parsed)


def test_export_red_of_every_kind() -> None:
    card = Flashcard(id="f1", front="Hund", back="dog\\_s")
    mcq = MultipleChoice(
        id="m1", question="Hund?", options=["cat", "dog"], answer="B", explanation="e"
    )
    typed = Typed(id="t1", question="1/2 as a decimal?", answers=["0.5", "1"])
    explain = parse_item(
        {
            "id": "e1",
            "kind": "explain",
            "prompt": "Why?",
            "hint": "h",
            "model_answer": "Because.",
            "concepts": [{"name": "c", "phrases": ["because"]}],
        }
    )
    loaded = yaml.safe_load(export_red([card, mcq, typed, explain], ""))
    assert loaded == {"Hund": ["dog_s"], "Hund?": ["dog"], "1/2 as a decimal?": ["0.5", "1"]}


red_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp", "Zs")),
    min_size=1,
    max_size=15,
).filter(lambda text: not is_blank(text) and text not in ("AUTHOR", "CONFIG"))


@given(
    st.lists(
        st.tuples(red_text, st.lists(red_text, min_size=1, max_size=4, unique_by=str.casefold)),
        min_size=1,
        max_size=5,
        unique_by=lambda question: question[0].casefold(),
    )
)
def test_red_round_trip_property(questions: list[tuple[str, list[str]]]) -> None:
    text = yaml.safe_dump(dict(questions), allow_unicode=True, sort_keys=False)
    parsed = parse_red(text, deck="d1")
    assert parsed.problems == []
    assert [
        (q.item.prompt, getattr(q.item, "answers", None)) for q in parsed.questions
    ] == questions
    exported = export_red(items(parsed), "me")
    assert items(parse_red(exported, deck="d1")) == items(parsed)
    loaded = yaml.safe_load(exported)
    assert loaded == {"AUTHOR": "me", **dict(questions)}


# --------------------------------------------------------------------------- Anki text

ANKI_TEXT = """\
#separator:tab
#html:true
#guid column:1
#notetype column:2
#deck column:3
#tags column:6
g1\tBasic\tBio::Cells\t<b>Mito</b>chondria do?\t"make ""ATP""\tenergy"\tcell energy
g2\tCloze\tBio\t{{c1::ATP}} is the energy {{c2::currency::money}}\tExtra <i>info</i>\t
g3\tBasic (and reversed card)\tBio\tdog\tHund\t
g4\tBasic\tBio\t"two
lines"\tback\t
"""


def test_anki_text_with_headers() -> None:
    parsed = parse_anki_text(ANKI_TEXT)
    assert parsed.problems == []
    assert pairs(parsed) == [
        ("**Mito**chondria do?", 'make "ATP" energy'),
        ("[…] is the energy currency", "ATP"),
        ("ATP is the energy [money]", "currency"),
        ("dog", "Hund"),
        ("Hund", "dog"),
        ("two lines", "back"),
    ]
    assert [q.where for q in parsed.questions] == [
        "line 7",
        "line 8 cloze 1",
        "line 8 cloze 2",
        "line 9 card 1",
        "line 9 card 2",
        "line 10",
    ]
    assert [q.key for q in parsed.questions] == [
        "anki:g1:0",
        "anki:g2:0",
        "anki:g2:1",
        "anki:g3:0",
        "anki:g3:1",
        "anki:g4:0",
    ]
    assert [q.deck for q in parsed.questions][:2] == ["bio-cells", "bio"]
    assert parsed.questions[0].item.tags == ["cell", "energy"]
    cloze = parsed.questions[1].item
    assert isinstance(cloze, Typed) and cloze.explanation == "Extra *info*"


def test_anki_text_without_html_and_with_header_deck_notetype_and_tags() -> None:
    text = (
        "#separator:Semicolon\n#html:false\n#notetype:Basic (type in the answer)\n"
        "#deck:Languages::German\n#tags:imported lang\n"
        'Say <b>dog</b> a_b;"Hund; der"\nplain;answer\n'
    )
    parsed = parse_anki_text(text)
    assert parsed.problems == []
    assert pairs(parsed) == [("Say <b>dog</b> a\\_b", "Hund; der"), ("plain", "answer")]
    first = parsed.questions[0]
    assert isinstance(first.item, Typed) and first.item.explanation is None
    assert first.deck == "languages-german"
    assert first.item.tags == ["imported", "lang"]
    assert first.key == text_key("Say <b>dog</b> a\\_b")  # no guid column: keyed by the text


def test_anki_text_separators_by_name_and_character() -> None:
    for header, line in (
        ("pipe", "a|b"),
        ("|", "a|b"),
        ("Comma", "a,b"),
        ("colon", "a:b"),
        ("space", "a b"),
    ):
        parsed = parse_anki_text(f"#separator:{header}\n#html:false\n{line}\n")
        assert pairs(parsed) == [("a", "b")], header


def test_anki_text_cloze_without_a_notetype_and_named_columns() -> None:
    text = "#separator:tab\n#columns:Text\tTags\n{{c1::Paris}} is in France\tgeo\n"
    parsed = parse_anki_text(text, deck="capitals")
    assert pairs(parsed) == [("[…] is in France", "Paris")]
    assert parsed.questions[0].item.tags == ["geo"]
    assert parsed.questions[0].deck == "capitals"


def test_anki_text_other_note_types() -> None:
    text = "#separator:tab\n#notetype column:1\nVocab\tneko\tcat\textra\nMy Cloze\t{{c1::x}} y\t\n"
    parsed = parse_anki_text(text)
    assert pairs(parsed) == [("neko", "cat"), ("[…] y", "x")]
    assert parsed.remarks == [
        "note type 'Vocab' was read as front/back from its first two fields (1 line)"
    ]


def test_anki_text_problems() -> None:
    assert parse_anki_text("#separator:tabs\na\tb\n").problems == [
        "line 1: unknown separator 'tabs'; use tab, comma, semicolon, space, pipe, colon or "
        "one character"
    ]
    assert parse_anki_text("#separator:tab\n#deck column:x\na\tb\n").problems == [
        "line 2: 'deck column' must be a column number (1, 2, …)"
    ]
    unclosed = parse_anki_text('#separator:tab\na\tb\n"never closed\tc\nd\te\n')
    assert unclosed.problems == [
        "line 3: this row can't be read (unexpected end of data); write a quote inside a "
        'quoted field as two ("") and close every quote'
    ]
    rows = parse_anki_text("#separator:tab\n#html:false\n\tlonely back\nfront only\ngood\tyes\n")
    assert pairs(rows) == [("good", "yes")]
    assert rows.problems == [
        "line 3: 'Front' is empty; fill it in or delete the note",
        "line 4 ('front only'): 'Back' is empty; fill it in or delete the note",
    ]
    assert parse_anki_text("#separator:tab\n").problems == [
        "the file has no notes after its # header lines"
    ]


def test_notetype_named() -> None:
    assert notetype_named("basic", 2) is STOCK_NOTETYPES["basic"]
    assert notetype_named("CLOZE", 1).is_cloze
    other = notetype_named("Vocab", 3)
    assert (other.name, other.field_names, other.templates) == (
        "Vocab",
        ("Field 1", "Field 2", "Field 3"),
        (),
    )


# --------------------------------------------------------------------------- CSV

MCQ = MultipleChoice(
    id="m1",
    question='Which loss, "really"?\nTwo lines.',
    options=["MSE", "Cross-entropy, binary"],
    answer="B",
    explanation="Because, well.",
    difficulty="hard",
    code="  indented = False\nif x:\n    y()",
)
PRACTICE = Practice(
    id="p1",
    question="Solve 2x = 4",
    options=["1", "2", "3"],
    answer="B",
    explanation="Divide.",
    hint="Divide both sides",
    steps=["x = 4 / 2", "x = 2"],
    mistakes=["Subtracting"],
    code="x = 4 / 2",
)


def test_export_csv_round_trips_through_the_csv_import() -> None:
    flat_code = MCQ.model_copy(update={"code": "indented = False\nif x:\n    y()"})
    letters = MultipleChoice(
        id="m2", question="Grade?", options=["b", "a"], answer="B", explanation="e"
    )
    text, skipped = export_csv([flat_code, PRACTICE, letters], "my-deck")
    assert skipped == []
    parsed = parse_csv(text)
    assert parsed.problems == []
    assert [q.deck for q in parsed.questions] == ["my-deck"] * 3
    assert [q.item for q in parsed.questions] == [
        item.model_copy(update={"id": DRAFT_ID}) for item in (flat_code, PRACTICE, letters)
    ]
    header = next(csv.reader(io.StringIO(text)))
    assert header == [*CSV_REQUIRED, *CSV_OPTIONAL]


def test_export_csv_says_what_it_left_out() -> None:
    piped = MCQ.model_copy(update={"options": ["a|b", "c"], "code": None})
    tagged = PRACTICE.model_copy(update={"tags": ["t"]})
    card = Flashcard(id="f1", front="front", back="back")
    text, skipped = export_csv([card, MCQ, piped, tagged], "d1")
    assert skipped == [
        "'front' was left out: a flashcard: CSV files carry only multiple-choice and practice "
        "questions",
        "'Which loss, \"really\"? Two lines.' was left out: its code starts indented, which a "
        "CSV cell doesn't keep",
        "'Which loss, \"really\"? Two lines.' was left out: an option, step or mistake has '|', "
        "which CSV puts between them",
        "1 question(s) lost their tags or picture (CSV has no column for them)",
    ]
    assert [q.item.prompt for q in parse_csv(text).questions] == ["Solve 2x = 4"]


# --------------------------------------------------------------------------- detection


@pytest.mark.parametrize(
    ("filename", "text", "expected"),
    [
        ("notes.txt", ANKI_TEXT, "anki-text"),
        ("x.csv", "\ufeff#html:true\na\tb\n", "anki-text"),
        ("trivia.txt", RED, "red"),
        ("trivia.yaml", RED, "red"),
        ("trivia.txt", "# My list\n\nQ?:\n- a\n", "red"),
        ("deck.txt", "deck: d1\ntitle: T\nitems:\n  - id: a\n", "yaml"),
        ("deck.yaml", "items: [\n", "yaml"),  # broken, but ours: its parser names the mistake
        ("list.yml", "What?: [a\n", "red"),
        ("bank.txt", "deck,kind,question,options,answer,explanation,difficulty\n", "csv"),
        (
            "bank.csv",
            "deck,kind,question,options,answer\n",
            "csv",
        ),  # its parser says what's missing
        ("set.csv", "dog,Hund\ncat,Katze\n", "quizlet"),
        ("set.txt", "dog\tHund\ncat\tKatze\n", "quizlet"),
        ("paste", "What is it: a cat\tKatze\n", "quizlet"),
        ("paste", "Key: value\n", "quizlet"),
        ("", "", "quizlet"),
    ],
)
def test_detect_text_format(filename: str, text: str, expected: str) -> None:
    assert detect_text_format(filename, text) == expected
