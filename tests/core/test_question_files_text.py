"""Import files and question forms: unclosed quotes, non-UTF-8 files and blank fields."""

from __future__ import annotations

import csv
import io
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.question_drafts import QuestionDraft, build_item, validate_question
from bot.core.question_files import decode_upload, parse_import, unclosed_quote_line
from bot.errors import BadInput

HEADER = "deck,kind,question,options,answer,explanation,difficulty"
INVISIBLE = "has only spaces or invisible characters (such as zero-width spaces)"
DRAFT = QuestionDraft(
    deck="d1",
    kind="mcq",
    difficulty="easy",
    question="Which one?",
    options="first\nsecond",
    answer="A",
    explanation="Because.",
)


# --------------------------------------------------------------------------- unclosed quotes


def test_an_unclosed_quote_is_reported_where_it_opens() -> None:
    data = "\n".join(
        [
            HEADER,
            'd1,mcq,"A question, with a comma?",a|b,A,Why.,easy',
            'd1,mcq,"Where does this quote end?,a|b,A,Why.,easy',
            "d1,mcq,Third?,a|b,A,Why.,easy",
            "d1,mcq,Fourth?,a|b,A,Why.,easy",
        ]
    )
    parsed = parse_import("bank.csv", data.encode())
    assert parsed.questions == []
    assert parsed.problems == [
        'line 3: a quote (") opens a cell here and is never closed. Close it, or write a '
        'quote inside a quoted cell as two ("")'
    ]


def test_an_unclosed_quote_after_a_multi_line_cell_counts_lines() -> None:
    data = f'{HEADER}\r\nd1,mcq,"two\r\nlines?",a|b,A,"Why\r\n\r\nnot.,easy\r\n'
    assert unclosed_quote_line(data) == 3
    assert parse_import("bank.csv", data.encode()).problems[0].startswith("line 3: ")


@pytest.mark.parametrize(
    "text",
    [
        f"{HEADER}\nd1,mcq,Q?,a|b,A,Why.,easy\n",
        'a,"b ""quoted"" c",d\n',
        'a,b "inch" c,d\n',  # a quote inside an unquoted cell is text
        '"a"b"c,d\n',  # text after a closing quote is text too
        "",
    ],
)
def test_closed_quotes_are_fine(text: str) -> None:
    assert unclosed_quote_line(text) is None


@given(st.text(alphabet=st.sampled_from('a,"\n\r'), max_size=30))
def test_unclosed_quotes_are_found_as_strict_csv_finds_them(text: str) -> None:
    try:
        list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except csv.Error as error:
        if "unexpected end of data" in str(error):
            assert unclosed_quote_line(text) is not None
        return  # another strict-only complaint, which stops the strict reader early
    assert unclosed_quote_line(text) is None


# --------------------------------------------------------------------------- not UTF-8


def test_a_file_that_is_not_utf8_is_named_with_where_it_breaks() -> None:
    data = f"{HEADER}\nd1,mcq,Café?,a|b,A,Why.,easy\n".encode("latin-1")
    with pytest.raises(BadInput) as caught:
        parse_import("my bank.csv", data)
    offset = data.index(b"\xe9")
    assert caught.value.message == (
        f"my bank.csv isn't UTF-8 text (line 2, byte offset {offset}). Save it as UTF-8 "
        "(in Excel: 'CSV UTF-8') and try again."
    )


def test_a_binary_file_is_named() -> None:
    with pytest.raises(BadInput, match=r"^deck\.yaml looks like a binary file"):
        parse_import("deck.yaml", b"deck: x\x00")
    with pytest.raises(BadInput, match=r"^That file isn't UTF-8 text \(line 1, byte offset 0\)"):
        decode_upload(b"\xff")


# --------------------------------------------------------------------------- blank fields


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("question", "\u200b", f"question {INVISIBLE}"),
        ("question", " \u2060\ufeff ", f"question {INVISIBLE}"),
        ("options", "first\n\u200d", f"option B {INVISIBLE}"),
        ("explanation", "\u200c", f"explanation {INVISIBLE}"),
        ("answer", "\u200b", "the correct option is empty: type its letter (A–B) or its text"),
    ],
)
def test_blank_form_fields_are_refused_by_name(field: str, value: str, message: str) -> None:
    with pytest.raises(BadInput) as caught:
        build_item(replace(DRAFT, **{field: value}))
    assert caught.value.message.startswith(message)


def test_blank_practice_parts_are_refused_by_name() -> None:
    draft = replace(DRAFT, kind="practice", practice="Hint: think\nStep: \u200b\nMistake: rushing")
    with pytest.raises(BadInput) as caught:
        build_item(draft)
    assert caught.value.message == f"step 1 {INVISIBLE}; type some visible text"


def test_blank_fields_in_an_import_name_the_row() -> None:
    data = "\n".join(
        [HEADER, "d1,mcq,\u200b,a|b,A,Why.,easy", "d1,mcq,Fine?,a|b,A,\ufeff\u2060,easy"]
    )
    parsed = parse_import("bank.csv", data.encode())
    assert parsed.problems == [
        f"row 2: question {INVISIBLE}; type some visible text",
        f"row 3: explanation {INVISIBLE}; type some visible text",
    ]


def test_visible_text_with_zero_width_characters_is_kept() -> None:
    item = validate_question(
        {
            "kind": "mcq",
            "question": "Zero\u200bwidth?",
            "options": ["a", "b"],
            "answer": "A",
            "explanation": "Why.",
        }
    )
    assert item.prompt == "Zero\u200bwidth?"
