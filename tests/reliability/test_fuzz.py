"""Fuzzing every input surface a member, a moderator or an operator can type into.

For each surface the contract is the same: a bad input gets a clear, friendly error (a
:class:`~bot.errors.TutorError` with a non-empty message, a
:class:`~bot.core.content.ContentProblem` with a line and a message, or a settings error
that :func:`bot.settings.describe_settings_error` turns into one line), no other exception
escapes, and nothing is half-written to the database.

The bugs this file found (deeply nested YAML, YAML alias bombs, a huge CSV cell, Unicode
digits in button tokens, huge integers for /train) are fixed; their regression tests stay
at the end of each section.
"""

from __future__ import annotations

import copy
import csv
import io
import math
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from sqlalchemy import func
from sqlmodel import col, select

from bot import PROJECT_ROOT
from bot.console.app import LOCAL_GUILD_ID, ConsoleApp, console_learner
from bot.core import actions
from bot.core.answering import MAX_EXPLANATION_CHARS
from bot.core.clock import SystemClock
from bot.core.content import ITEM_KINDS, ContentProblem, Deck, MultipleChoice, Practice, parse_item
from bot.core.deck_files import load_deck_text
from bot.core.deck_imports import parse_text_upload
from bot.core.learners import Learner
from bot.core.question_drafts import QuestionDraft, build_item
from bot.core.question_files import CSV_OPTIONAL, CSV_REQUIRED, ImportParse, parse_import
from bot.core.replies import Reply
from bot.core.scheduling import SpacedRepetition
from bot.core.sharding import validate_shards
from bot.errors import AlreadyAnswered, BadInput, ExpiredAction, TutorError
from bot.services.deck_import import DeckImportService
from bot.services.question_bank import QuestionBankService
from bot.services.study import StudyServices
from bot.settings import Settings, describe_settings_error
from bot.storage.db import Database
from bot.storage.models import Attempt, AuditEntry, Item
from bot.training.jobs import (
    MAX_LEARNING_RATE,
    MAX_SEED,
    MAX_STEPS,
    MIN_LEARNING_RATE,
    MIN_SEED,
    MIN_STEPS,
    OPTIMIZERS,
    PRESETS,
    TrainRequest,
    parse_train_options,
)
from tests.study_helpers import console_question_commands

SHIPPED_DECK = PROJECT_ROOT / "content" / "tensorflow-training-basics.yaml"
SOURCE = "fuzz.yaml"
GUILD = 4242
HEADER = ",".join(CSV_REQUIRED)

#: ``FUZZ_SCALE=N`` multiplies every property's examples (a deeper local hunt).
SCALE = max(1, int(os.environ.get("FUZZ_SCALE", "1") or "1"))
#: Pure, in-memory properties: cheap, so more examples.
PURE = settings(max_examples=100 * SCALE, deadline=None)
#: Properties that write to the temporary database: fewer examples, fixtures reused.
WITH_DB = settings(
    max_examples=30 * SCALE,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# --------------------------------------------------------------------------- strategies

#: Text a member or moderator could send: any Unicode that survives UTF-8 (controls,
#: emoji and right-to-left scripts included), no lone surrogates.
any_text = st.text(alphabet=st.characters(codec="utf-8"), max_size=60)
edge_text = st.sampled_from(
    [
        "",
        " ",
        "\t\n ",
        "\x00",
        "\x1b[31mred\x1b[0m",
        "🧠🔥" * 5,
        "مرحبا بالعالم",  # right-to-left
        "\u202eevil\u202c",  # RTL override
        "a\u0301\u0302",  # combining marks
        "\r\n",
        "ｆｕｌｌ ｗｉｄｔｈ",
        "0",
        "null",
        "~",
    ]
)
text_like = st.one_of(any_text, edge_text)

_YAML_FRAGMENTS = [
    "deck: ",
    "title: ",
    "description: ",
    "items:",
    "\n",
    "\n  - ",
    "\n    ",
    "id: ",
    "kind: ",
    "mcq",
    "flashcard",
    "practice",
    "explain",
    "options: [a, b]",
    "answer: ",
    "A",
    "E",
    "front: ",
    "back: ",
    "question: ",
    "explanation: ",
    "concepts:",
    "phrases: ",
    "&a ",
    "*a",
    "!!binary ",
    "!!python/object:os.system ",
    "? ",
    ": ",
    "- ",
    "[",
    "]",
    "{",
    "}",
    ",",
    "'",
    '"',
    "|",
    ">-",
    "#",
    "---\n",
    "...\n",
    "%YAML 1.1\n",
    "\t",
    "\ufeff",
    "~",
    "null",
    "tensorflow-training-basics",
]
yaml_ish = st.lists(
    st.one_of(st.sampled_from(_YAML_FRAGMENTS), st.text(max_size=8)), max_size=40
).map("".join)

_DECK_KEYS = [
    "deck",
    "title",
    "description",
    "items",
    "id",
    "kind",
    "front",
    "back",
    "level",
    "question",
    "code",
    "options",
    "answer",
    "explanation",
    "difficulty",
    "hint",
    "steps",
    "mistakes",
    "prompt",
    "model_answer",
    "concepts",
    "name",
    "phrases",
]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(["mcq", "flashcard", "practice", "explain", "A", "E", "easy", "ok-slug"]),
)
keys = st.one_of(st.sampled_from(_DECK_KEYS), st.text(max_size=10))
nested = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(keys, children, max_size=5)
    ),
    max_leaves=25,
)
deck_shaped = st.fixed_dictionaries(
    {},
    optional={
        "deck": st.one_of(st.just("fuzz-deck"), scalars),
        "title": st.one_of(st.just("A title"), nested),
        "description": nested,
        "items": st.lists(st.dictionaries(keys, nested, max_size=8), max_size=4) | nested,
    },
)


def _shipped() -> dict[str, Any]:
    data = yaml.safe_load(SHIPPED_DECK.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


SHIPPED: dict[str, Any] = _shipped()


def check_problems(text: str, deck: Deck | None, problems: list[ContentProblem]) -> None:
    """``load_deck_text``'s contract: a deck xor problems, each with a line and a message."""
    assert (deck is None) == bool(problems), (deck, problems)
    last_line = len(text.splitlines()) + 1
    for problem in problems:
        assert problem.file == SOURCE
        assert isinstance(problem.line, int) and 1 <= problem.line <= last_line, problem
        assert isinstance(problem.message, str) and problem.message.strip(), problem


def one_line(message: str) -> None:
    """A friendly error: non-empty, a single line."""
    assert message.strip(), repr(message)
    assert "\n" not in message, repr(message)


# --------------------------------------------------------------------------- deck files


def test_the_shipped_deck_is_valid_and_round_trips() -> None:
    text = SHIPPED_DECK.read_text(encoding="utf-8")
    deck, problems = load_deck_text(text, SOURCE)
    assert deck is not None and problems == []
    deck2, problems2 = load_deck_text(yaml.safe_dump(SHIPPED, allow_unicode=True), SOURCE)
    assert problems2 == [] and deck2 == deck


@PURE
@given(st.one_of(st.text(), yaml_ish))
def test_arbitrary_text_never_breaks_the_deck_loader(text: str) -> None:
    deck, problems = load_deck_text(text, SOURCE)
    check_problems(text, deck, problems)


@PURE
@given(st.one_of(deck_shaped, nested))
def test_random_structures_never_break_the_deck_loader(data: Any) -> None:
    text = yaml.safe_dump(data, allow_unicode=True)
    deck, problems = load_deck_text(text, SOURCE)
    check_problems(text, deck, problems)


def _paths(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every key/index path inside a loaded deck (parents before children)."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield (*path, key)
            yield from _paths(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield (*path, index)
            yield from _paths(value, (*path, index))


SHIPPED_PATHS = list(_paths(SHIPPED))


def _parent(data: Any, path: tuple[Any, ...]) -> Any:
    for part in path[:-1]:
        data = data[part]
    return data


@st.composite
def mutated_decks(draw: st.DrawFn) -> tuple[dict[str, Any], str]:
    """The shipped deck with one mutation: delete, replace or duplicate something."""
    data = copy.deepcopy(SHIPPED)
    how = draw(st.sampled_from(["delete", "replace", "duplicate-item"]))
    if how == "duplicate-item":
        items = data["items"]
        index = draw(st.integers(0, len(items) - 1))
        items.insert(draw(st.integers(0, len(items))), copy.deepcopy(items[index]))
        return data, how
    path = draw(st.sampled_from(SHIPPED_PATHS))
    parent = _parent(data, path)
    if how == "delete":
        del parent[path[-1]]
    else:
        parent[path[-1]] = draw(st.one_of(scalars, st.lists(scalars, max_size=3), nested))
    return data, how


@settings(PURE, max_examples=60 * SCALE)
@given(mutated_decks())
def test_mutations_of_the_shipped_deck_are_reported_by_line(
    case: tuple[dict[str, Any], str],
) -> None:
    data, how = case
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    deck, problems = load_deck_text(text, SOURCE)
    check_problems(text, deck, problems)
    if how == "duplicate-item":
        assert deck is None
        assert any("duplicate id" in p.message for p in problems), problems


# --------------------------------------------------------------------------- imports

slugs = st.from_regex(r"[a-z0-9][a-z0-9-]{1,12}", fullmatch=True)
cells = {
    "deck": st.one_of(st.sampled_from(["fuzz-deck", "other-deck"]), slugs, any_text),
    "kind": st.sampled_from(["mcq", "practice", "", "flashcard", "MCQ", "quiz"]),
    "question": st.one_of(st.text(min_size=1, max_size=40), text_like),
    "options": st.one_of(
        st.lists(st.text(min_size=1, max_size=12), min_size=0, max_size=7).map("|".join),
        text_like,
    ),
    "answer": st.one_of(st.sampled_from([*"ABCDEFGabc", "", "b)", "zz"]), any_text),
    "explanation": st.one_of(st.just("Because."), text_like),
    "difficulty": st.sampled_from(["easy", "medium", "hard", "", "Hard", "extreme"]),
    "hint": st.one_of(st.just("Think."), text_like),
    "steps": st.one_of(st.just("s1|s2"), text_like),
    "mistakes": st.one_of(st.just("m1"), text_like),
}


@st.composite
def csv_files(draw: st.DrawFn) -> bytes:
    """A CSV file: usually a proper header and rows of plausible or random cells."""
    if draw(st.integers(0, 9)) == 0:  # now and then, a random header
        columns = draw(st.lists(st.sampled_from([*CSV_REQUIRED, *CSV_OPTIONAL, "junk"])))
    else:
        columns = [*CSV_REQUIRED, *draw(st.lists(st.sampled_from(CSV_OPTIONAL), unique=True))]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for _ in range(draw(st.integers(0, 5))):
        row = [draw(cells.get(name, any_text)) for name in columns]
        if draw(st.booleans()) and row:
            row = row[: draw(st.integers(0, len(row)))] + draw(st.lists(any_text, max_size=2))
        writer.writerow(row)
    return out.getvalue().encode()


valid_rows = st.lists(
    st.tuples(
        st.text(alphabet="abcdefghijklmnopqrstuvwxyz ?", min_size=3, max_size=30),
        st.sampled_from(["easy", "medium", "hard"]),
    ),
    min_size=1,
    max_size=4,
).map(
    lambda rows: (
        f"{HEADER}\n" + "".join(f"fuzz-deck,mcq,{q},yes|no,A,Because.,{d}\n" for q, d in rows)
    ).encode()
)

yaml_imports = st.one_of(
    yaml_ish,
    deck_shaped.map(lambda d: yaml.safe_dump(d, allow_unicode=True)),
    mutated_decks().map(lambda case: yaml.safe_dump(case[0], allow_unicode=True)),
)


def check_import(result: ImportParse) -> None:
    """An import parse: questions and/or non-empty problem lines."""
    for problem in result.problems:
        assert isinstance(problem, str) and problem.strip(), result.problems
    for question in result.questions:
        assert question.item.kind in ITEM_KINDS


@PURE
@given(
    st.sampled_from(["bank.csv", "bank.yaml", "BANK.YML", "bank.txt", "bank"]),
    st.one_of(st.binary(max_size=300), csv_files(), yaml_imports.map(str.encode)),
    st.one_of(st.none(), st.just("fuzz-deck"), any_text),
)
def test_import_parser_never_raises_unexpectedly(
    filename: str, data: bytes, deck: str | None
) -> None:
    try:
        result = parse_import(filename, data, deck=deck)
    except BadInput as error:
        one_line(error.message)
        return
    check_import(result)


async def _count(db: Database, model: type[Any]) -> int:
    async with db.session() as session:
        column = model.guild_id
        statement = select(func.count()).select_from(model).where(column == GUILD)
        return int((await session.exec(statement)).one())


@pytest.fixture
def bank_service(db: Database) -> QuestionBankService:
    """The question-bank service over the test database."""
    return QuestionBankService(db, clock=SystemClock())


@pytest.fixture
def import_service(db: Database, tmp_path: Path) -> DeckImportService:
    """The import service over the test database."""
    return DeckImportService(
        db, clock=SystemClock(), srs=SpacedRepetition(), media_dir=tmp_path / "media"
    )


MODERATOR = Learner("discord", "900", "Mod", guild_id=GUILD, guild_name="Fuzz Hall")


@WITH_DB
@given(
    st.one_of(
        csv_files().map(lambda data: ("bank.csv", data)),
        valid_rows.map(lambda data: ("bank.csv", data)),
        yaml_imports.map(lambda text: ("bank.yaml", text.encode())),
        st.binary(max_size=200).map(lambda data: ("bank.csv", data)),
    )
)
async def test_imports_are_all_or_nothing(
    db: Database, import_service: DeckImportService, upload: tuple[str, bytes]
) -> None:
    filename, data = upload
    items_before, audit_before = await _count(db, Item), await _count(db, AuditEntry)
    try:
        result = await import_service.import_upload(MODERATOR, filename, data)
    except BadInput as error:
        one_line(error.message)
        event("unreadable file")
        audits = 0
    else:
        event("imported" if "Nothing imported" not in result.reply.title else "refused")
        if not result.reply.title.startswith("Nothing imported"):
            count = len(parse_text_upload(filename, data).questions)
            assert count > 0 and result.reply.title.startswith(f"Imported {count} question")
            audits = 1
        else:
            assert result.report is not None
            audits = 0
    if not audits:
        assert await _count(db, Item) == items_before
    else:
        assert await _count(db, Item) >= items_before
    assert await _count(db, AuditEntry) == audit_before + audits


# --------------------------------------------------------------------------- modal inputs


PLAUSIBLE_DRAFT: dict[str, str] = {
    "deck": "fuzz-deck",
    "kind": "mcq",
    "difficulty": "easy",
    "question": "What does the loss measure?",
    "options": "How wrong predictions are\nHow fast training runs",
    "answer": "A",
    "explanation": "The loss compares predictions with the true values.",
    "practice": "Hint: h\nStep: s\nMistake: m",
    "code": "",
}
draft_fields: dict[str, st.SearchStrategy[str]] = {
    "deck": st.one_of(st.just("fuzz-deck"), slugs, text_like),
    "kind": st.sampled_from(["mcq", "practice", "explain", "", "MCQ"]),
    "difficulty": st.one_of(st.sampled_from(["easy", "medium", "hard", "HARD "]), any_text),
    "question": st.one_of(st.text(min_size=1, max_size=50), text_like, st.just("q" * 1001)),
    "options": st.one_of(
        st.lists(st.text(min_size=1, max_size=15), max_size=7).map("\n".join),
        st.just("A) yes\nB) no\nC) maybe"),
        st.just("o" * 201 + "\nshort"),
        text_like,
    ),
    "answer": st.one_of(st.sampled_from(["A", "b", "C)", "yes", "E"]), any_text),
    "explanation": st.one_of(st.just("Because."), text_like, st.just("e" * 1501)),
    "practice": st.one_of(st.just("Hint: h\nStep: s\nMistake: m"), text_like, st.just("")),
    "code": st.one_of(st.just(""), any_text),
}


@st.composite
def drafts(draw: st.DrawFn) -> QuestionDraft:
    """What a moderator might type into the add-question form.

    Half the time every field is random; otherwise a good form with one or two fields
    replaced, so accepted questions (and duplicate checks) are exercised too.
    """
    if draw(st.booleans()):
        values = {name: draw(strategy) for name, strategy in draft_fields.items()}
    else:
        values = dict(PLAUSIBLE_DRAFT)
        values["question"] = draw(st.text(alphabet="abcdefghij ?", min_size=5, max_size=30))
        values["kind"] = draw(st.sampled_from(["mcq", "practice"]))
        for name in draw(st.lists(st.sampled_from(sorted(draft_fields)), max_size=2)):
            values[name] = draw(draft_fields[name])
    return QuestionDraft(**values)


@PURE
@given(drafts())
def test_question_form_gives_an_item_or_a_friendly_error(draft: QuestionDraft) -> None:
    try:
        item = build_item(draft)
    except BadInput as error:
        event("refused")
        one_line(error.message)
        return
    event("item")
    assert isinstance(item, MultipleChoice | Practice)
    assert item.kind == draft.kind


@WITH_DB
@given(drafts())
async def test_adding_a_question_stores_it_once_or_not_at_all(
    db: Database, bank_service: QuestionBankService, draft: QuestionDraft
) -> None:
    before = await _count(db, Item), await _count(db, AuditEntry)
    try:
        reply = await bank_service.add(MODERATOR, draft)
    except BadInput as error:
        one_line(error.message)
        event("refused")
        assert (await _count(db, Item), await _count(db, AuditEntry)) == before
        return
    event("added")
    assert reply.title.startswith("Added #")
    assert (await _count(db, Item), await _count(db, AuditEntry)) == (before[0] + 1, before[1] + 1)


async def _attempts(db: Database) -> int:
    async with db.session() as session:
        return int((await session.exec(select(func.count()).select_from(Attempt))).one())


async def _explain_token(study: StudyServices, learner: Learner) -> str:
    reply = await study.practice.explain(learner)
    return next(c.action for c in reply.choices if c.action.startswith("ex:"))


explanations = st.one_of(
    st.text(alphabet=st.characters(codec="utf-8"), max_size=300),
    edge_text,
    st.sampled_from(
        [
            "The loss measures how wrong the model is; the optimizer updates the weights.",
            "x" * MAX_EXPLANATION_CHARS,
            "x" * (MAX_EXPLANATION_CHARS + 1),
            " " * 5000 + "short",
            "🧠" * 2500,
            "loss " * 1000,
        ]
    ),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=5).map(
        lambda s: s * (2001 // len(s) + 1)
    ),
)


@WITH_DB
@given(explanations)
async def test_explanation_forms_are_graded_or_refused(
    db: Database, study: StudyServices, alice: Learner, text: str
) -> None:
    token = await _explain_token(study, alice)
    before = await _attempts(db)
    try:
        reply = await study.actions.act(alice, token, text)
    except TutorError as error:
        event(f"refused: {type(error).__name__}")
        assert error.message.strip()
        assert await _attempts(db) == before
        return
    event("graded")
    assert isinstance(reply, Reply) and "concepts" in reply.title
    assert await _attempts(db) == before + 1
    # The same form sent again (a double submit) is refused and stored once.
    with pytest.raises(AlreadyAnswered):
        await study.actions.act(alice, token, text)
    assert await _attempts(db) == before + 1


# --------------------------------------------------------------------------- console forms

#: A complete, valid answer to each prompt of the console's /question add form (mcq).
CONSOLE_FORM = [
    "fuzz-deck",
    "mcq",
    "easy",
    "What does the optimizer change?",
    "The weights",
    "The data",
    "",
    "A",
    "Because.",
]
#: What else a person might type at any prompt: junk, blank lines, commands, /cancel.
console_noise = st.one_of(
    st.sampled_from(
        ["", "G", "practice", "Hint: h", "/cancel", "/quiz", "/question add", "yes", "no"]
    ),
    any_text,
    edge_text,
)


@st.composite
def console_form_lines(draw: st.DrawFn) -> list[str]:
    """The valid form with noise inserted, a field replaced, or the end cut off."""
    lines = list(CONSOLE_FORM)
    # A fresh question text each time, so earlier examples' questions are not duplicates.
    lines[3] = f"{lines[3]} ({draw(st.integers(min_value=0, max_value=10**9))})"
    for _ in range(draw(st.integers(min_value=0, max_value=4))):
        at = draw(st.integers(min_value=0, max_value=len(lines)))
        lines.insert(at, draw(console_noise))
    if draw(st.booleans()):
        at = draw(st.integers(min_value=0, max_value=len(lines) - 1))
        lines[at] = draw(console_noise)
    if draw(st.booleans()):
        lines = lines[: draw(st.integers(min_value=0, max_value=len(lines)))]
    return lines


@WITH_DB
@given(console_form_lines())
async def test_console_question_forms_never_fail_or_half_save(
    db: Database, study: StudyServices, tmp_path: Path, lines: list[str]
) -> None:
    """Whatever is typed into /question add: friendly replies, one whole item or none."""
    before = await _local_items(db)
    out = io.StringIO()
    app = ConsoleApp(
        study,
        console_learner("fuzz"),
        out=out,
        commands=console_question_commands(study, tmp_path / "exports"),
    )
    for line in ["/question add", *lines]:
        assert await app.handle_line(line + "\n") or line.casefold() in {"/quit", "/exit"}
    assert "Something went wrong" not in out.getvalue(), out.getvalue()[-2000:]
    added = (await _local_items(db))[len(before) :]
    assert len(added) <= 1  # one form, so one question at most
    for row in added:
        item = parse_item(row.payload)  # a whole, valid item
        assert item.prompt.strip()
    event(f"stored {len(added)}")


async def _local_items(db: Database) -> list[Item]:
    async with db.session() as session:
        statement = select(Item).where(Item.guild_id == LOCAL_GUILD_ID).order_by(col(Item.id))
        return list((await session.exec(statement)).all())


# --------------------------------------------------------------------------- /train options

#: Integers within float range; beyond it, see test_huge_integers_are_bad_input.
finite_ints = st.integers(min_value=-(10**300), max_value=10**300)
option_values = st.one_of(
    st.none(),
    st.booleans(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.text(max_size=30),
    st.sampled_from(
        [
            *("", " 25 ", "1e-3", "1e999", "-0", "nan", "inf", "0x10", "1_000", "١٢", "7.5"),
            *PRESETS,
            *OPTIMIZERS,
            *("Single_Step", " ADAM ", "500.0"),
        ]
    ),
)
#: Mostly-good values per option, so the accepted path is exercised as well.
good_names = st.one_of(st.none(), st.sampled_from([*PRESETS, *OPTIMIZERS, "Single_Step", "Adam"]))
good_numbers = st.one_of(
    st.none(),
    st.floats(min_value=MIN_LEARNING_RATE, max_value=MAX_LEARNING_RATE),
    st.integers(min_value=MIN_STEPS, max_value=MAX_STEPS),
    st.integers(min_value=MIN_STEPS, max_value=MAX_STEPS).map(str),
)
huge_ints = st.integers(min_value=-(10**600), max_value=10**600)
RANGE_HINTS = (
    "Unknown preset",
    "Unknown optimizer",
    "from 0.00001 to 10",
    f"from {MIN_STEPS} to {MAX_STEPS}",
    f"from {MIN_SEED} to {MAX_SEED}",
)


@PURE
@given(
    st.one_of(good_names, option_values),
    st.one_of(good_names, option_values),
    st.one_of(good_numbers, option_values, finite_ints),
    st.one_of(good_numbers, option_values, huge_ints),
    st.one_of(good_numbers, option_values, huge_ints),
)
def test_train_options_are_in_range_or_named(
    preset: Any, optimizer: Any, learning_rate: Any, steps: Any, seed: Any
) -> None:
    try:
        request = parse_train_options(
            preset=preset,
            optimizer=optimizer,
            learning_rate=learning_rate,
            steps=steps,
            seed=seed,
        )
    except BadInput as error:
        event("refused")
        one_line(error.message)
        assert any(hint in error.message for hint in RANGE_HINTS), error.message
        return
    event("accepted")
    assert isinstance(request, TrainRequest)
    assert request.preset in PRESETS and request.optimizer in OPTIMIZERS
    assert math.isfinite(request.learning_rate)
    assert MIN_LEARNING_RATE <= request.learning_rate <= MAX_LEARNING_RATE
    assert MIN_STEPS <= request.steps <= MAX_STEPS
    assert MIN_SEED <= request.seed <= MAX_SEED
    assert TrainRequest.from_dict(request.to_dict()) == request


@pytest.mark.parametrize(
    "options",
    [{"learning_rate": 10**400}, {"steps": 10**5000}, {"seed": -(10**5000)}],
    ids=["lr-beyond-float", "steps-5000-digits", "seed-5000-digits"],
)
def test_huge_integers_are_bad_input(options: dict[str, Any]) -> None:
    with pytest.raises(BadInput, match="from"):
        parse_train_options(**options)


# --------------------------------------------------------------------------- settings

SETTING_RANGES: dict[str, tuple[float, float]] = {
    "NEW_ITEMS_PER_DAY": (0, 1000),
    "DATABASE_ANSWER_CONNECTIONS": (1, 64),
    "SHARD_COUNT": (1, 1024),
    "DESIRED_RETENTION": (0.5, 1.0),
    "TRAINING_WORKERS": (0, 8),
    "TRAINING_JOB_TIMEOUT_S": (0, 600),
    "TRAINING_MAX_QUEUE": (0, 100),
    "TRAINING_COOLDOWN_S": (0, 3600),
    "TRAINING_MEMORY_LIMIT_MB": (256, 262144),
    "TRAINING_IDLE_S": (0, 86400),
}
SETTING_NAMES = [*SETTING_RANGES, "SHARD_IDS"]
env_text = st.text(alphabet=st.characters(codec="utf-8", blacklist_characters="\x00"), max_size=20)
env_values = st.one_of(
    env_text,
    st.integers(-(10**6), 10**6).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.lists(st.integers(-3, 2000), max_size=4).map(lambda ids: str(ids)),
    st.sampled_from(["", " ", "1e3", "0.95", "0,1", "[0, 1]", "[]", "{}", "null", "true", "x"]),
)


@PURE
@given(st.dictionaries(st.sampled_from(SETTING_NAMES), env_values, min_size=1, max_size=4))
def test_settings_are_valid_or_explained_in_one_line(env: dict[str, str]) -> None:
    clean = {k: v for k, v in os.environ.items() if k.upper() not in SETTING_NAMES}
    with mock.patch.dict(os.environ, {**clean, **env}, clear=True):
        try:
            loaded = Settings(_env_file=None)
            validate_shards(loaded.shard_count, loaded.shard_ids)
        except (ValidationError, ValueError) as error:
            event(type(error).__name__)
            line = describe_settings_error(error)
            one_line(line)
            assert any(name.lower() in line.lower() for name in env), (env, line)
            return
    for name, (low, high) in SETTING_RANGES.items():
        value = getattr(loaded, name.lower())
        if value is not None:
            assert low <= value <= high, (name, value)


@pytest.mark.parametrize(
    ("name", "value"),
    [("NEW_ITEMS_PER_DAY", "-5"), ("SHARD_IDS", "not json")],
)
def test_health_with_a_bad_setting_exits_2_with_one_line(
    tmp_path: Path, name: str, value: str
) -> None:
    env = {k: v for k, v in os.environ.items() if k.upper() not in SETTING_NAMES}
    env.update(
        {
            name: value,
            "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'tutor.db'}",
            "PYTHONPATH": str(PROJECT_ROOT),
        }
    )
    env.pop("DISCORD_TOKEN", None)
    done = subprocess.run(
        [sys.executable, "-m", "bot", "health"],
        cwd=tmp_path,  # no .env here
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert name.lower() in lines[0].lower()
    assert not (tmp_path / "tutor.db").exists()


# --------------------------------------------------------------------------- action tokens


structured_tokens = st.builds(
    lambda head, parts: ":".join([head, *parts]),
    st.sampled_from(["rv", "rt", "an", "hi", "ex", "nx", "zz", ""]),
    st.lists(
        st.one_of(
            st.integers(-5, 10**20).map(str),
            st.sampled_from(["review", "test", "quiz", "practice", "explain", "-", "easy", "x"]),
            st.sampled_from(["tensorflow-training-basics", "hard", "0", "1", "4", "007"]),
            any_text,
        ),
        max_size=4,
    ),
)


@WITH_DB
@given(
    st.one_of(
        any_text,
        st.text(max_size=120),
        structured_tokens,
        st.sampled_from(
            [
                *("nx:review", "nx:quiz:-:-", "nx:explain:tensorflow-training-basics:-"),
                *("rv:1", "hi:1", "an:1:0", "an:1:9", "rt:1:3", "ex:1", "nx:test:1"),
                "nx:quiz:-:extreme",
            ]
        ),
    )
)
async def test_any_token_is_expired_or_answered(
    db: Database, study: StudyServices, alice: Learner, token: str
) -> None:
    before = await _attempts(db)
    try:
        reply = await study.actions.act(alice, token, "some text")
    except TutorError as error:
        event(type(error).__name__)
        assert error.message.strip()
        assert await _attempts(db) == before
        return
    event("reply")
    assert isinstance(reply, Reply)
    assert await _attempts(db) <= before + 1


@PURE
@given(st.text(max_size=100))
def test_random_tokens_parse_or_expire(token: str) -> None:
    try:
        actions.parse_action(token)
    except ExpiredAction as error:
        assert error.message == actions.EXPIRED_MESSAGE


@pytest.mark.parametrize("token", ["rv:²", "an:1:¹", "nx:test:³"])
async def test_unicode_digit_tokens_are_expired(
    study: StudyServices, alice: Learner, token: str
) -> None:
    with pytest.raises(ExpiredAction):
        await study.actions.act(alice, token)


# --------------------------------------------------------------------------- regressions


#: Deeper than Python's default recursion limit (1000); ~3 KB of YAML.
DEPTH = 1500


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def test_deeply_nested_yaml_is_a_problem_not_a_crash() -> None:
    deck, problems = load_deck_text(_nested(DEPTH), SOURCE)
    check_problems(_nested(DEPTH), deck, problems)


def test_deeply_nested_yaml_import_is_refused() -> None:
    result = parse_import("bank.yaml", _nested(DEPTH).encode())
    assert result.problems


def test_a_huge_csv_cell_is_a_row_problem() -> None:
    data = f"{HEADER}\nfuzz-deck,mcq,{'q' * 140_000},a|b,A,Because.,easy\n".encode()
    assert len(data) < 1_000_000  # under the upload limit
    result = parse_import("bank.csv", data)
    assert result.problems and not result.questions


def _alias_bomb(levels: int, width: int = 10) -> str:
    lines = ["a0: &a0 [lol]"]
    for level in range(1, levels + 1):
        refs = ",".join([f"*a{level - 1}"] * width)
        lines.append(f"a{level}: &a{level} [{refs}]")
    return "\n".join(lines) + "\n"


def test_yaml_aliases_do_not_expand_exponentially(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.core import deck_files

    calls = 0
    original = deck_files._Located.build

    def counting(self: Any, node: yaml.Node, path: Any, active: frozenset[int]) -> Any:
        nonlocal calls
        calls += 1
        return original(self, node, path, active)

    monkeypatch.setattr(deck_files._Located, "build", counting)
    text = _alias_bomb(4)  # ~200 bytes; 6 levels (~300 bytes) take ~8 s, 7 levels ~80 s
    load_deck_text(text, SOURCE)
    assert calls < 1000, f"{len(text)} bytes of YAML built {calls} values"
