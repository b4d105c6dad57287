"""Writing items to an Anki package: read back with zipfile and sqlite3, and with the reader."""

from __future__ import annotations

import dataclasses
import json
import math
import sqlite3
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.core.anki_model import TUTOR_FIELD, AnkiReview
from bot.core.anki_notes import notes_to_questions
from bot.core.content import AnyItem, Concept, Explain, Flashcard, MultipleChoice, Practice, Typed
from bot.core.markup import html_to_markdown, html_to_plain
from bot.core.review_history import card_from_history
from bot.core.scheduling import CardState, Grade, SchedulerConfig, SpacedRepetition
from bot.decks.anki_read import read_anki_package
from bot.decks.anki_write import (
    BASIC_MODEL,
    MCQ_MODEL,
    TYPE_IN_MODEL,
    default_key,
    markdown_html,
    note_guid,
    stable_id,
    write_apkg,
)

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32

FLASH = Flashcard(id="loss", front="What does **loss** measure?", back="The *error*.", tags=["ml"])
MCQ = MultipleChoice(
    id="optimizer",
    question="Which updates the weights?",
    code="model.fit(x, y)",
    options=["The loss", "The optimizer", "The metric"],
    answer="B",
    explanation="The optimizer applies the gradients.",
    image="graph.png",
    tags=["ml", "week-1"],
)
PRACTICE = Practice(
    id="lr",
    question="What happens with a huge learning rate?",
    options=["It diverges", "It converges"],
    answer="A",
    explanation="Steps overshoot.",
    hint="Think of big steps.",
    steps=["Take a big step", "Overshoot"],
    mistakes=["Thinking bigger is faster"],
)
EXPLAIN = Explain(
    id="why-train",
    prompt="Why train a model?",
    hint="Weights.",
    model_answer="To fit the weights to the data.",
    concepts=[Concept(name="weights", phrases=["weights"])],
    image="missing.png",
)
TYPED = Typed(
    id="capital",
    question="Capital of France?",
    answers=["Paris", "paris city"],
    explanation="Since 987 or so.",
    hint="City of light.",
)
DECKS: dict[str, list[AnyItem]] = {"basics": [FLASH, MCQ, PRACTICE], "more": [EXPLAIN, TYPED]}


@pytest.fixture
def media(tmp_path: Path) -> Path:
    folder = tmp_path / "media"
    folder.mkdir()
    (folder / "graph.png").write_bytes(PNG)
    return folder


def export(
    path: Path,
    media_dir: Path,
    *,
    now: datetime = NOW,
    title: str = "Study Tutor",
    decks: Mapping[str, Sequence[AnyItem]] = DECKS,
    scheduling: Mapping[str, CardState] | None = None,
    history: Mapping[str, Sequence[AnkiReview]] | None = None,
) -> Path:
    write_apkg(
        path,
        decks,
        media_dir=media_dir,
        title=title,
        now=now,
        scheduling=scheduling,
        history=history,
    )
    return path


@contextmanager
def collection(path: Path, tmp_path: Path) -> Iterator[sqlite3.Connection]:
    with zipfile.ZipFile(path) as archive:
        database = tmp_path / f"{path.stem}.anki2"
        database.write_bytes(archive.read("collection.anki2"))
    connection = sqlite3.connect(database)
    try:
        yield connection
    finally:
        connection.close()


def notes_by_guid(connection: sqlite3.Connection) -> dict[str, dict[str, Any]]:
    models = json.loads(connection.execute("SELECT models FROM col").fetchone()[0])
    decks = json.loads(connection.execute("SELECT decks FROM col").fetchone()[0])
    found: dict[str, dict[str, Any]] = {}
    query = (
        "SELECT notes.guid, notes.mid, notes.tags, notes.flds, cards.did, cards.type, "
        "cards.queue, cards.due, cards.ivl, cards.factor, cards.reps, cards.lapses, cards.left, "
        "cards.data, cards.id FROM notes JOIN cards ON cards.nid = notes.id"
    )
    for guid, mid, tags, flds, did, *card in connection.execute(query):
        model = models[str(mid)]
        names = [field["name"] for field in model["flds"]]
        found[guid] = {
            "model": model["name"],
            "model_id": mid,
            "tags": tags.split(),
            "fields": dict(zip(names, flds.split("\x1f"), strict=True)),
            "deck": decks[str(did)]["name"],
            "deck_id": did,
            "card": dict(
                zip(
                    (
                        "type",
                        "queue",
                        "due",
                        "ivl",
                        "factor",
                        "reps",
                        "lapses",
                        "left",
                        "data",
                        "id",
                    ),
                    card,
                    strict=True,
                )
            ),
        }
    return found


# --------------------------------------------------------------------------- markdown


@pytest.mark.parametrize(
    ("markdown", "expected"),
    [
        ("**bold** and *it*", "<b>bold</b> and <i>it</i>"),
        ("_it_ __under__ ~~gone~~", "<i>it</i> <u>under</u> <s>gone</s>"),
        ("***both***", "<b><i>both</i></b>"),
        ("a < b & <b>c</b>", "a &lt; b &amp; &lt;b&gt;c&lt;/b&gt;"),
        ("line\nnext", "line<br>next"),
        ("use `x<3` now", "use <code>x&lt;3</code> now"),
        ("```py\nif a < b:\n    **no**\n```", "<pre><code>if a &lt; b:\n    **no**</code></pre>"),
        (r"not \*stars\* in snake_case_name", "not *stars* in snake_case_name"),
        ("2 * 3 * 4", "2 * 3 * 4"),
    ],
)
def test_markdown_becomes_field_html(markdown: str, expected: str) -> None:
    assert markdown_html(markdown) == expected


# --------------------------------------------------------------------------- the package


def test_package_holds_notes_models_decks_tags_and_media(tmp_path: Path, media: Path) -> None:
    path = export(tmp_path / "out.apkg", media)
    with zipfile.ZipFile(path) as archive:
        assert json.loads(archive.read("media")) == {"0": "graph.png"}
        assert archive.read("0") == PNG
    with collection(path, tmp_path) as connection:
        notes = notes_by_guid(connection)
    assert set(notes) == {
        note_guid(default_key(deck, item)) for deck, items in DECKS.items() for item in items
    }
    flash = notes[note_guid("basics/loss")]
    assert flash["model"] == "Study Tutor Basic" and flash["model_id"] == BASIC_MODEL.model_id
    assert flash["deck"] == "Study Tutor::basics"
    assert flash["deck_id"] == stable_id("deck", "Study Tutor::basics")
    assert flash["tags"] == ["ml"]
    assert flash["fields"]["Front"] == "What does <b>loss</b> measure?"
    assert flash["fields"]["Back"] == "The <i>error</i>."

    mcq = notes[note_guid("basics/optimizer")]
    assert mcq["model"] == "Study Tutor MCQ" and mcq["model_id"] == MCQ_MODEL.model_id
    assert mcq["tags"] == ["ml", "week-1"]
    assert mcq["fields"]["Question"] == (
        'Which updates the weights?<pre><code>model.fit(x, y)</code></pre><br><img src="graph.png">'
    )
    assert mcq["fields"]["Options"] == (
        '<ol type="A"><li>The loss</li><li>The optimizer</li><li>The metric</li></ol>'
    )
    assert mcq["fields"]["Answer"] == "B. The optimizer"
    assert mcq["fields"]["Hint"] == ""

    practice = notes[note_guid("basics/lr")]["fields"]
    assert practice["Hint"] == "Think of big steps."
    assert "<ol><li>Take a big step</li><li>Overshoot</li></ol>" in practice["Explanation"]
    assert "<ul><li>Thinking bigger is faster</li></ul>" in practice["Explanation"]

    explain = notes[note_guid("more/why-train")]
    assert explain["deck"] == "Study Tutor::more"
    assert explain["fields"]["Front"] == "Why train a model?"  # its image is missing: left out
    assert explain["fields"]["Back"] == "To fit the weights to the data."
    assert explain["fields"]["Extra"] == "<b>Key ideas:</b> weights"
    assert explain["tags"] == []

    typed = notes[note_guid("more/capital")]
    assert typed["model"] == "Study Tutor Type-in" and typed["model_id"] == TYPE_IN_MODEL.model_id
    assert typed["fields"]["Back"] == "Paris"
    assert typed["fields"]["Extra"] == "<b>Also accepted:</b> paris city<br><br>Since 987 or so."


def test_note_types_have_the_documented_templates(tmp_path: Path, media: Path) -> None:
    with collection(export(tmp_path / "out.apkg", media), tmp_path) as connection:
        models = json.loads(connection.execute("SELECT models FROM col").fetchone()[0])
    mcq = models[str(MCQ_MODEL.model_id)]
    assert [field["name"] for field in mcq["flds"]] == [
        "Question",
        "Options",
        "Answer",
        "Explanation",
        "Hint",
        TUTOR_FIELD,
    ]
    assert all(TUTOR_FIELD not in template["qfmt"] + template["afmt"] for template in mcq["tmpls"])
    type_in = models[str(TYPE_IN_MODEL.model_id)]
    assert "{{type:Back}}" in type_in["tmpls"][0]["qfmt"]
    assert "{{type:Back}}" in type_in["tmpls"][0]["afmt"]


def test_new_cards_keep_the_items_order_and_have_no_scheduling(tmp_path: Path, media: Path) -> None:
    with collection(export(tmp_path / "out.apkg", media), tmp_path) as connection:
        notes = notes_by_guid(connection)
        assert connection.execute("SELECT count(*) FROM revlog").fetchone() == (0,)
    order = [note_guid(default_key(deck, item)) for deck, items in DECKS.items() for item in items]
    assert [notes[guid]["card"]["due"] for guid in order] == [1, 2, 3, 4, 5]
    assert all(notes[guid]["card"]["queue"] == 0 for guid in order)
    assert all(notes[guid]["card"]["type"] == 0 for guid in order)


def test_two_exports_name_notes_models_and_decks_the_same(tmp_path: Path, media: Path) -> None:
    first = export(tmp_path / "first.apkg", media)
    second = export(tmp_path / "second.apkg", media, now=NOW + timedelta(days=3))
    with collection(first, tmp_path) as one, collection(second, tmp_path) as two:
        before, after = notes_by_guid(one), notes_by_guid(two)
        mod_before = one.execute("SELECT max(mod) FROM notes").fetchone()[0]
        mod_after = two.execute("SELECT max(mod) FROM notes").fetchone()[0]
    assert set(before) == set(after)
    for guid, note in before.items():
        assert (note["model_id"], note["deck_id"]) == (
            after[guid]["model_id"],
            after[guid]["deck_id"],
        )
    assert mod_after > mod_before  # so Anki takes the second export as newer


def test_title_names_the_parent_deck_and_an_empty_title_none(tmp_path: Path, media: Path) -> None:
    path = export(tmp_path / "out.apkg", media, title="")
    with collection(path, tmp_path) as connection:
        notes = notes_by_guid(connection)
    assert {note["deck"] for note in notes.values()} == {"basics", "more"}


def test_a_custom_key_decides_the_guid_and_repeated_keys_are_refused(
    tmp_path: Path, media: Path
) -> None:
    path = tmp_path / "out.apkg"
    write_apkg(
        path,
        {"basics": [FLASH]},
        media_dir=media,
        title="T",
        now=NOW,
        key_of=lambda deck, item: f"guild-7/{item.id}",
    )
    with collection(path, tmp_path) as connection:
        assert set(notes_by_guid(connection)) == {note_guid("guild-7/loss")}
    with pytest.raises(ValueError, match="guild-7/loss"):
        write_apkg(
            path,
            {"a": [FLASH], "b": [FLASH]},
            media_dir=media,
            title="T",
            now=NOW,
            key_of=lambda deck, item: f"guild-7/{item.id}",
        )


def test_summary_counts_what_was_written(tmp_path: Path, media: Path) -> None:
    summary = write_apkg(tmp_path / "out.apkg", DECKS, media_dir=media, title="T", now=NOW)
    assert summary.notes == 5
    assert summary.media == ("graph.png",)
    assert summary.missing_media == ("missing.png",)
    assert summary.scheduled == summary.reviews == 0


# --------------------------------------------------------------------------- scheduling


def srs() -> SpacedRepetition:
    return SpacedRepetition(SchedulerConfig(enable_fuzzing=False))


def answers(*rows: tuple[float, int, int, int]) -> list[AnkiReview]:
    """(days ago, ease, kind, interval) rows."""
    return [
        AnkiReview(
            at=NOW - timedelta(days=ago), ease=ease, kind=kind, interval=ivl, duration_ms=5000
        )
        for ago, ease, kind, ivl in rows
    ]


MATURE = answers((40, 3, 0, -600), (39.99, 3, 0, 1), (38, 3, 1, 4), (34, 3, 1, 12), (20, 3, 1, 30))
LAPSED = answers((30, 4, 0, 4), (20, 1, 1, -600))


def test_scheduled_cards_carry_the_members_state_and_history(tmp_path: Path, media: Path) -> None:
    review = card_from_history(MATURE, srs=srs(), now=NOW)
    relearning = card_from_history(LAPSED, srs=srs(), now=NOW)
    learning = srs().review(None, Grade.GOOD, NOW - timedelta(minutes=2))
    assert review is not None and review.is_review
    assert relearning is not None and relearning.state == 3
    scheduling = {"basics/loss": review, "basics/optimizer": learning, "more/capital": relearning}
    summary = write_apkg(
        tmp_path / "out.apkg",
        DECKS,
        media_dir=media,
        title="T",
        now=NOW,
        scheduling=scheduling,
        history={"basics/loss": MATURE, "more/capital": LAPSED, "more/why-train": MATURE},
    )
    assert (summary.scheduled, summary.reviews) == (3, 7)
    with collection(tmp_path / "out.apkg", tmp_path) as connection:
        notes = notes_by_guid(connection)
        crt = connection.execute("SELECT crt FROM col").fetchone()[0]
        revlog = connection.execute(
            "SELECT id, cid, ease, ivl, lastIvl, factor, time, type FROM revlog ORDER BY cid, id"
        ).fetchall()

    card = notes[note_guid("basics/loss")]["card"]
    assert (card["type"], card["queue"]) == (2, 2)
    assert card["due"] == math.floor((review.due.timestamp() - crt) / 86400)
    assert card["ivl"] == round((review.due - NOW + timedelta(days=20)).total_seconds() / 86400)
    assert (card["reps"], card["lapses"], card["factor"]) == (5, 0, 2500)
    data = json.loads(card["data"])
    assert review.stability is not None and review.difficulty is not None
    assert data == {"s": round(review.stability, 4), "d": round(review.difficulty, 4)}

    step = notes[note_guid("basics/optimizer")]["card"]
    assert (step["type"], step["queue"], step["ivl"], step["reps"]) == (1, 1, 0, 1)
    assert step["due"] == int(learning.due.timestamp())
    assert step["left"] == 1001  # one of the two learning steps left

    lapse = notes[note_guid("more/capital")]["card"]
    assert (lapse["type"], lapse["queue"], lapse["lapses"]) == (3, 1, 1)
    assert relearning.stability is not None
    assert lapse["ivl"] == max(1, round(relearning.stability))
    assert lapse["due"] == int(relearning.due.timestamp()) and lapse["due"] < NOW.timestamp()

    untouched = notes[note_guid("more/why-train")]["card"]  # history but no state: stays new
    assert (untouched["type"], untouched["queue"]) == (0, 0)

    assert [row[1] for row in revlog] == [card["id"]] * 5 + [lapse["id"]] * 2
    first = revlog[0]
    assert first == (int(MATURE[0].at.timestamp() * 1000), card["id"], 3, -600, 0, 2500, 5000, 0)
    assert revlog[2][3:5] == (4, 1)  # ivl, lastIvl


def test_revlog_ids_stay_unique_when_two_answers_share_a_millisecond(
    tmp_path: Path, media: Path
) -> None:
    state = card_from_history(MATURE[:1], srs=srs(), now=NOW)
    assert state is not None
    write_apkg(
        tmp_path / "out.apkg",
        {"d": [FLASH, TYPED, EXPLAIN]},
        media_dir=media,
        title="",
        now=NOW,
        scheduling={"d/loss": state, "d/capital": state, "d/why-train": state},
        history={"d/loss": MATURE[:2], "d/capital": MATURE[:1], "d/why-train": MATURE[:2]},
    )
    with collection(tmp_path / "out.apkg", tmp_path) as connection:
        ids = [row[0] for row in connection.execute("SELECT id FROM revlog ORDER BY id")]
    first, second = (int(row.at.timestamp() * 1000) for row in MATURE[:2])
    assert ids == [first, first + 1, first + 2, second, second + 1]


# --------------------------------------------------------------------------- with the reader


def test_round_trip_through_the_reader(tmp_path: Path, media: Path) -> None:
    review = card_from_history(MATURE, srs=srs(), now=NOW)
    assert review is not None
    path = tmp_path / "out.apkg"
    write_apkg(
        path,
        DECKS,
        media_dir=media,
        title="Study Tutor",
        now=NOW,
        scheduling={"basics/loss": review},
        history={"basics/loss": MATURE},
    )
    with read_anki_package(path) as package:
        read = package.collection
    by_guid = {note.guid: note for note in read.notes}
    assert read.media_names == frozenset({"graph.png"})

    flash = by_guid[note_guid("basics/loss")]
    assert html_to_markdown(flash.field("Front")).text == FLASH.front
    assert html_to_markdown(flash.field("Back")).text == FLASH.back
    assert flash.tags == ("ml",)
    assert [card.deck for card in flash.cards] == ["Study Tutor::basics"]
    assert flash.cards[0].reviews == tuple(MATURE)
    assert card_from_history(flash.cards[0].reviews, srs=srs(), now=NOW) == review

    mcq = by_guid[note_guid("basics/optimizer")]
    question = html_to_markdown(mcq.field("Question"))
    assert question.text.startswith(MCQ.question) and question.images == ("graph.png",)
    assert html_to_markdown(mcq.field("Explanation")).text == MCQ.explanation
    assert mcq.tags == ("ml", "week-1")

    typed = by_guid[note_guid("more/capital")]
    assert html_to_plain(typed.field("Back")).text == TYPED.answers[0]
    assert html_to_markdown(typed.field("Front")).text == TYPED.question
    assert typed.notetype.name == "Study Tutor Type-in"

    explain = by_guid[note_guid("more/why-train")]
    assert html_to_markdown(explain.field("Back")).text == EXPLAIN.model_answer
    assert [card.deck for card in explain.cards] == ["Study Tutor::more"]


def test_a_cloze_gap_goes_out_as_a_cloze_note_and_comes_back(tmp_path: Path, media: Path) -> None:
    gap = Typed(
        id="gap",
        question="[…] are the **powerhouse** of the cell.",
        answers=["Mitochondria", "mitochondrion"],
        hint="organelle",
        explanation="Biology 101",
    )
    plain = Typed(id="plain", question="Capital of Peru?", answers=["Lima"])
    path = export(tmp_path / "cloze.apkg", media, title="", decks={"bio": [gap, plain]})
    with collection(path, tmp_path) as connection:
        notes = notes_by_guid(connection)
    note = notes[note_guid("bio/gap")]
    assert note["model"] == "Study Tutor Cloze"
    assert note["fields"]["Text"] == (
        "{{c1::Mitochondria::organelle}} are the <b>powerhouse</b> of the cell."
    )
    assert "mitochondrion" in note["fields"]["Back Extra"]
    assert notes[note_guid("bio/plain")]["model"] == "Study Tutor Type-in"
    # Read back as Anki would (the hidden field dropped, as if edited there): the same gap.
    with read_anki_package(path) as package:
        cloze = next(n for n in package.collection.notes if n.guid == note_guid("bio/gap"))
    edited = dataclasses.replace(cloze, fields=(cloze.fields[0], cloze.fields[1], ""))
    (question,) = notes_to_questions([edited], media={}).questions
    assert isinstance(question.item, Typed)
    assert question.item.question == gap.question.replace("[…]", "[organelle]")
    assert question.item.answers == ["Mitochondria"]
    # Unedited, the hidden field gives back the very item.
    (again,) = notes_to_questions([cloze], media={}).questions
    assert again.item.model_copy(update={"id": "gap"}) == gap
