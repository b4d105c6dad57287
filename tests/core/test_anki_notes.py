"""Anki notes into flashcards and typed questions: note types, decks, tags, pictures, problems."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.core.anki_model import AnkiCard, AnkiNote, AnkiNoteType, AnkiReview, AnkiTemplate
from bot.core.anki_notes import (
    PICTURE_QUESTION,
    notes_to_questions,
    referenced_media,
    with_made_cards,
)
from bot.core.content import Flashcard, Typed
from bot.core.import_rules import clean_tags, deck_slug, text_key
from bot.core.question_drafts import question_key
from bot.core.question_files import ImportParse

ANSWER = "{{FrontSide}}<hr id=answer>"
FORWARD = AnkiTemplate("Card 1", "{{Front}}", ANSWER + "{{Back}}")
BASIC = AnkiNoteType(1, "Basic", False, ("Front", "Back"), (FORWARD,))
REVERSED = AnkiNoteType(
    2,
    "Basic (and reversed card)",
    False,
    ("Front", "Back"),
    (FORWARD, AnkiTemplate("Card 2", "{{Back}}", ANSWER + "{{Front}}")),
)
OPTIONAL = AnkiNoteType(
    3,
    "Basic (optional reversed card)",
    False,
    ("Front", "Back", "Add Reverse"),
    (
        FORWARD,
        AnkiTemplate("Card 2", "{{#Add Reverse}}{{Back}}{{/Add Reverse}}", ANSWER + "{{Front}}"),
    ),
)
TYPE_IN = AnkiNoteType(
    4,
    "Basic (type in the answer)",
    False,
    ("Front", "Back"),
    (AnkiTemplate("Card 1", "{{Front}}\n\n{{type:Back}}", "{{Front}}<hr id=answer>{{type:Back}}"),),
)
CLOZE = AnkiNoteType(
    5,
    "Cloze",
    True,
    ("Text", "Back Extra"),
    (AnkiTemplate("Cloze", "{{cloze:Text}}", "{{cloze:Text}}<br>\n{{Back Extra}}"),),
)
#: A German "Basic": another name and other field names, the same templates.
EINFACH = AnkiNoteType(
    6,
    "Einfach",
    False,
    ("Vorderseite", "Rückseite"),
    (AnkiTemplate("Karte 1", "{{Vorderseite}}", ANSWER + "{{Rückseite}}"),),
)
VOCAB = AnkiNoteType(
    7,
    "Vocab",
    False,
    ("Word", "Reading", "Meaning", "Audio"),
    (
        AnkiTemplate(
            "Recognise",
            "<div class=big>{{Word}}</div>{{tts ja_JP:Word}}",
            ANSWER + "{{Reading}}<br>{{Meaning}}{{Audio}}<br>{{Tags}}",
        ),
    ),
)
NO_TEMPLATES = AnkiNoteType(8, "Mystery", False, ("One", "Two", "Three"), ())
REVIEW = AnkiReview(at=datetime(2026, 1, 5, 9, tzinfo=UTC), ease=3, kind=1, interval=4)


def note(
    note_id: int,
    kind: AnkiNoteType,
    *fields: str,
    ords: tuple[int, ...] = (0,),
    deck: str = "Default",
    tags: tuple[str, ...] = (),
) -> AnkiNote:
    """A note with a card for each template ordinal in ``ords``."""
    cards = tuple(AnkiCard(id=note_id * 10 + o, ord=o, deck=deck) for o in ords)
    return AnkiNote(note_id, f"guid{note_id}", kind, fields, tags, cards)


def convert(
    *notes: AnkiNote, media: dict[str, str] | None = None, deck: str | None = None
) -> ImportParse:
    return notes_to_questions(notes, media=media or {}, deck=deck)


def sides(parsed: ImportParse) -> list[tuple[str, str]]:
    """(question, answer) of every question."""
    out: list[tuple[str, str]] = []
    for question in parsed.questions:
        item = question.item
        assert isinstance(item, Flashcard | Typed)
        out.append((item.prompt, item.answer_text or ""))
    return out


# --------------------------------------------------------------------------- note types


def test_basic_note_is_a_flashcard_with_its_key_deck_and_history() -> None:
    card = AnkiCard(id=5, ord=0, deck="Biology::Cells", reviews=(REVIEW,))
    basic = AnkiNote(
        42, "Ab+c", BASIC, ("What is the <b>powerhouse</b>?", "Mitochondria"), (), (card,)
    )
    parsed = convert(basic)
    assert parsed.problems == [] and parsed.remarks == []
    [question] = parsed.questions
    assert question.where == "note 42"
    assert question.deck == "biology-cells"
    assert question.key == "anki:Ab+c:0"
    assert question.reviews == (REVIEW,)
    assert isinstance(question.item, Flashcard)
    assert (question.item.front, question.item.back) == (
        "What is the **powerhouse**?",
        "Mitochondria",
    )
    assert question.item.id.startswith("i-")


def test_reversed_note_makes_both_cards() -> None:
    parsed = convert(note(1, REVERSED, "dog", "Hund", ords=(0, 1)))
    assert sides(parsed) == [("dog", "Hund"), ("Hund", "dog")]
    assert [q.where for q in parsed.questions] == ["note 1 card 1", "note 1 card 2"]
    assert [q.key for q in parsed.questions] == ["anki:guid1:0", "anki:guid1:1"]


def test_optional_reverse_follows_the_cards_in_the_package() -> None:
    only_forward = note(1, OPTIONAL, "cat", "Katze", "", ords=(0,))
    both = note(2, OPTIONAL, "dog", "Hund", "y", ords=(0, 1))
    assert sides(convert(only_forward, both)) == [
        ("cat", "Katze"),
        ("dog", "Hund"),
        ("Hund", "dog"),
    ]


def test_notes_without_cards_get_the_cards_anki_would_make() -> None:
    bare = [
        AnkiNote(1, "a", OPTIONAL, ("cat", "Katze", "")),
        AnkiNote(2, "b", OPTIONAL, ("dog", "Hund", "yes")),
        AnkiNote(3, "c", CLOZE, ("{{c2::x}} {{c1::y}}", "")),
    ]
    assert sides(convert(*bare)) == [
        ("cat", "Katze"),
        ("dog", "Hund"),
        ("Hund", "dog"),
        ("x […]", "y"),
        ("[…] y", "x"),
    ]
    made = with_made_cards(bare[1], "Lang::German")
    assert [(c.ord, c.deck) for c in made.cards] == [(0, "Lang::German"), (1, "Lang::German")]


def test_type_in_the_answer_is_a_typed_question() -> None:
    parsed = convert(note(1, TYPE_IN, "Chemical symbol of <i>gold</i>?", "<b>Au</b>"))
    [question] = parsed.questions
    assert isinstance(question.item, Typed)
    assert question.item.question == "Chemical symbol of *gold*?"
    assert question.item.answers == ["Au"]  # plain text: no markers in an accepted answer


def test_hint_fields_and_typed_cloze_templates() -> None:
    hinted = AnkiNoteType(
        11,
        "Typed with hint",
        False,
        ("Front", "Back", "Hint", "Notes"),
        (AnkiTemplate("C", "{{Front}}{{hint:Hint}}{{type:Back}}", "{{FrontSide}}{{Notes}}"),),
    )
    typed_cloze = AnkiNoteType(
        12, "Cloze typed", False, ("Text",), (AnkiTemplate("C", "{{type:cloze:Text}}", "x"),)
    )
    parsed = convert(
        note(1, hinted, "Q?", "A", "starts with a", "see p. 4"), note(2, typed_cloze, "{{c1::x}} y")
    )
    first, second = (q.item for q in parsed.questions)
    assert isinstance(first, Typed) and isinstance(second, Typed)
    assert (first.question, first.answers, first.hint, first.explanation) == (
        "Q?",
        ["A"],
        "starts with a",
        "see p. 4",
    )
    assert (second.question, second.answers) == ("[…] y", ["x"])


def test_localised_basic_is_read_by_its_templates() -> None:
    parsed = convert(note(1, EINFACH, "Hund", "dog"))
    assert sides(parsed) == [("Hund", "dog")]
    assert parsed.remarks == []


def test_other_note_types_are_read_by_their_templates() -> None:
    parsed = convert(note(1, VOCAB, "猫", "ねこ", "cat", "[sound:neko.mp3]"))
    assert sides(parsed) == [("猫", "ねこ\ncat")]
    assert parsed.remarks == ["1 note had sounds, which were left out"]


def test_a_type_without_usable_templates_is_read_by_its_first_two_fields() -> None:
    parsed = convert(
        note(1, NO_TEMPLATES, "front", "back", "ignored"), note(2, NO_TEMPLATES, "f2", "b2")
    )
    assert sides(parsed) == [("front", "back"), ("f2", "b2")]
    assert parsed.remarks == [
        "note type 'Mystery' was read as front/back from its first two fields (2 notes)"
    ]


def test_a_one_field_type_is_a_problem() -> None:
    lonely = AnkiNoteType(9, "Lonely", False, ("Only",), ())
    parsed = convert(note(7, lonely, "text"))
    assert parsed.questions == []
    assert parsed.problems == [
        "note 7 ('text'): note type 'Lonely' has one field; it needs a front and a back"
    ]


# --------------------------------------------------------------------------- cloze


def test_cloze_note_is_one_typed_question_per_number() -> None:
    parsed = convert(
        note(
            3,
            CLOZE,
            "{{c1::Paris}} is the capital of {{c2::France::country}}; {{c1::Lyon}} is big.",
            "Both are in <i>Europe</i>.",
            ords=(0, 1),
            deck="Geo",
        )
    )
    first, second = parsed.questions
    assert isinstance(first.item, Typed) and isinstance(second.item, Typed)
    assert first.item.question == "[…] is the capital of France; […] is big."
    assert first.item.answers == ["Paris, Lyon"]
    assert second.item.question == "Paris is the capital of [country]; Lyon is big."
    assert second.item.answers == ["France"]
    assert first.item.explanation == "Both are in *Europe*."
    assert [q.where for q in parsed.questions] == ["note 3 cloze 1", "note 3 cloze 2"]
    assert [q.key for q in parsed.questions] == ["anki:guid3:0", "anki:guid3:1"]


def test_cloze_repeats_of_one_answer_are_one_answer() -> None:
    parsed = convert(note(1, CLOZE, "{{c1::H2O}} is water; ice is frozen {{c1::h2o}}", ""))
    [question] = parsed.questions
    assert isinstance(question.item, Typed)
    assert question.item.answers == ["H2O, h2o"]
    assert question.item.explanation is None


def test_cloze_cards_follow_the_numbers_in_the_text() -> None:
    history = AnkiCard(id=9, ord=0, deck="Geo", reviews=(REVIEW,))
    parsed = convert(
        note(1, CLOZE, "only {{c1::one}}", "", ords=(0, 1)),
        AnkiNote(2, "g2", CLOZE, ("{{c2::b}} {{c1::a}}", ""), (), (history,)),
    )
    assert sides(parsed) == [("only […]", "one"), ("b […]", "a"), ("[…] a", "b")]
    assert [(q.where, q.deck, q.reviews) for q in parsed.questions[1:]] == [
        ("note 2 cloze 1", "geo", (REVIEW,)),
        ("note 2 cloze 2", "geo", ()),  # a number without a card in the package
    ]
    assert parsed.problems == []


def test_cloze_problems() -> None:
    occlusion = note(1, CLOZE, "{{c1::image-occlusion:rect:left=.1:top=.2}}", "")
    picture_only = note(2, CLOZE, "See {{c1::<img src='x.png'>}} here", "")
    no_deletions = note(3, CLOZE, "nothing hidden", "", ords=())
    parsed = convert(occlusion, picture_only, no_deletions)
    assert parsed.questions == []
    assert parsed.problems == [
        "note 1 ('image-occlusion:rect:left=.1:top=.2'): image occlusion cards can't "
        "be imported (they need Anki's masks)",
        "note 2 ('See here'): cloze 1 hides no text to type; put the answer's words in it",
        "note 3 ('nothing hidden'): the text has no cloze deletion like {{c1::answer}}; add one",
    ]


def test_cloze_type_is_found_by_its_template_too() -> None:
    renamed = AnkiNoteType(
        10,
        "Lückentext",
        False,
        ("Text", "Extra"),
        (AnkiTemplate("L", "{{cloze:Text}}", "{{cloze:Text}}{{Extra}}"),),
    )
    parsed = convert(note(1, renamed, "a {{c1::b}}", "more"))
    [question] = parsed.questions
    assert isinstance(question.item, Typed)
    assert (question.item.question, question.item.answers, question.item.explanation) == (
        "a […]",
        ["b"],
        "more",
    )


# --------------------------------------------------------------------------- problems


def test_bad_notes_are_one_problem_line_each_naming_the_note() -> None:
    parsed = convert(
        note(1, BASIC, "", "lonely back"),
        note(2, BASIC, "Question?", "  "),
        note(3, REVERSED, "front", "", ords=(0, 1)),
        note(4, BASIC, "x" * 1001, "b"),
        note(5, BASIC, "good", "fine"),
    )
    assert sides(parsed) == [("good", "fine")]
    assert parsed.problems == [
        "note 1: 'Front' is empty; fill it in or delete the note",
        "note 2 ('Question?'): 'Back' is empty; fill it in or delete the note",
        "note 3 ('front'): card 1: 'Back' is empty; fill it in or delete the note; card 2: "
        "'Back' is empty; fill it in or delete the note",
        f"note 4 ('{'x' * 39}…'): the front is too long (1001 characters, at most 1000); "
        "shorten it",
    ]


@pytest.mark.parametrize(
    ("kind", "fields", "message"),
    [
        (
            BASIC,
            ("q", "b" * 1501),
            "the back is too long (1501 characters, at most 1500); shorten it",
        ),
        (
            TYPE_IN,
            ("q", "a" * 201),
            "the answer is too long (201 characters, at most 200); shorten it",
        ),
        (TYPE_IN, ("q", ""), "'Back' (the answer to type) is empty; fill it in or delete the note"),
        (
            CLOZE,
            ("{{c1::" + "a" * 201 + "}}", ""),
            "the answer is too long (201 characters, at most 200); shorten it",
        ),
    ],
)
def test_limits_and_empty_answers(
    kind: AnkiNoteType, fields: tuple[str, ...], message: str
) -> None:
    parsed = convert(note(9, kind, *fields))
    assert parsed.questions == []
    [problem] = parsed.problems
    assert problem.startswith("note 9") and problem.endswith(message)


# --------------------------------------------------------------------------- decks and tags


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Biology::Cells", "biology-cells"),
        ("Default", "default"),
        ("", "default"),
        ("Français — Vocabulaire", "francais-vocabulaire"),
        ("X", "deck-x"),
        ("--Maths--", "maths"),
    ],
)
def test_deck_slug(name: str, slug: str) -> None:
    assert deck_slug(name) == slug


def test_long_deck_names_are_cut_and_kept_apart() -> None:
    first, second = deck_slug("A" * 60 + " one"), deck_slug("A" * 60 + " two")
    assert len(first) == len(second) == 41
    assert first.startswith("a" * 34 + "-") and first != second


def test_deck_slug_without_latin_letters_is_a_stable_hash() -> None:
    assert deck_slug("日本語") == deck_slug("日本語")
    assert deck_slug("日本語").startswith("deck-") and deck_slug("日本語") != deck_slug("中文")


def test_decks_that_make_the_same_name_are_kept_apart() -> None:
    parsed = convert(
        note(1, BASIC, "a", "1", deck="Bio::Cells"),
        note(2, BASIC, "b", "2", deck="Bio Cells"),
        note(3, BASIC, "c", "3", deck="bio::cells"),  # Anki's deck names ignore case
        note(4, BASIC, "d", "4", deck=""),
        note(5, BASIC, "e", "5", deck="Default"),
    )
    assert [q.deck for q in parsed.questions] == [
        "bio-cells",
        "bio-cells-2",
        "bio-cells",
        "default",
        "default",
    ]


def test_the_moderators_deck_replaces_ankis() -> None:
    parsed = convert(note(1, BASIC, "a", "1", deck="X::Y"), deck="my-deck")
    assert [q.deck for q in parsed.questions] == ["my-deck"]
    bad = convert(note(1, BASIC, "a", "1"), deck="Not A Slug")
    assert bad.questions == [] and len(bad.problems) == 1
    assert bad.problems[0].startswith("'Not A Slug' isn't a valid deck name")


def test_tags_are_cleaned_and_limited() -> None:
    assert clean_tags(
        ["bio::cells", "two words", "\u200bhidden", "BIO::cells", "x" * 70, "  "]
    ) == (
        ["bio::cells", "two_words", "hidden", "x" * 60],
        False,
    )
    many = [f"t{n}" for n in range(25)]
    parsed = convert(note(1, REVERSED, "q", "a", ords=(0, 1), tags=tuple(many)))
    assert [q.item.tags for q in parsed.questions] == [many[:20], many[:20]]
    assert parsed.remarks == ["1 note had more than 20 tags; the first 20 were kept"]


# --------------------------------------------------------------------------- pictures


def test_the_first_question_picture_becomes_the_items_picture() -> None:
    media = {"bird.png": "3f2a.png", "my pic.jpg": "77aa.jpg"}
    parsed = convert(
        note(
            1,
            BASIC,
            "Which bird?<img src='bird.png'><img src='other.png'>",
            "Robin<img src='r.png'>",
        ),
        note(2, TYPE_IN, "<img src='bird.png'>", "robin"),
        note(3, BASIC, "<img src='my%20pic.jpg'>Name it", "x"),
        note(4, BASIC, "Gone?<img src='missing.gif'>", "yes"),
        media=media,
    )
    assert [q.item.image for q in parsed.questions] == ["3f2a.png", "3f2a.png", "77aa.jpg", None]
    assert parsed.questions[1].item.prompt == PICTURE_QUESTION
    assert parsed.remarks == [
        "1 question showed more than one picture; only the first is kept",
        "1 card had pictures in the answer, which were left out (a picture is shown with the "
        "question)",
        "1 picture wasn't in the file (e.g. 'missing.gif' in note 4); those questions have no "
        "picture",
    ]


def test_a_picture_only_question_without_its_picture_is_a_problem() -> None:
    parsed = convert(note(1, BASIC, "<img src='gone.png'>", "answer"))
    assert parsed.problems == [
        "note 1: the question is only a picture, and the file doesn't have it"
    ]


def test_referenced_media_names_the_pictures_a_conversion_uses() -> None:
    notes = [
        note(1, BASIC, "<img src='a.png'><img src='b.png'>", "<img src='answer.png'>"),
        note(
            2,
            CLOZE,
            "<img src='c%201.png'> {{c1::<img src='hidden.png'>x}}",
            "<img src='extra.png'>",
        ),
        note(3, REVERSED, "front", "<img src='d.png'>", ords=(0, 1)),
    ]
    assert referenced_media(notes) == {"a.png", "c%201.png", "c 1.png", "d.png"}


# --------------------------------------------------------------------------- keys


def test_text_key_ignores_case_and_spacing() -> None:
    assert text_key("What  is X?") == text_key("what is x?")
    assert text_key("a") != text_key("b")
    assert text_key("Q").startswith("text:") and len(text_key("Q")) == 29
    assert question_key("  A  b ") == "a b"


def test_keyless_notes_are_keyed_by_text_and_repeats_are_problems() -> None:
    rows = [
        AnkiNote(n, "", BASIC, (front, "x"), (), (AnkiCard(0, 0, "D"),))
        for n, front in ((1, "Same"), (2, "same "), (3, "other"))
    ]
    parsed = notes_to_questions(rows, media={})
    assert [q.key for q in parsed.questions] == [text_key("Same"), text_key("other")]
    assert parsed.problems == ["note 2 ('same'): same question as note 1; keep one of them"]
