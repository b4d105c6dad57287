"""``/question add explain`` in the console: the explain form, field by field, then /explain."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import col, select

from bot.console.app import LOCAL_GUILD_ID
from bot.core.question_drafts import DEFAULT_HINT
from bot.services.study import StudyServices
from bot.storage.models import Item
from tests.console.test_console_questions import feed, make_app

DECK = "regularization"
CONCEPTS = [
    "neurons are switched off at random: Dropout randomly turns off some neurons during "
    "training. | Random units are ignored at each training step.",
    "reduces overfitting: It stops the model from memorising the training data. | "
    "The network generalises better to new data.",
]
MISCONCEPTION = (
    "dropout removes neurons for good => Dropout only switches neurons off for one step; "
    "they all come back afterwards."
)


async def local_items(study: StudyServices) -> list[Item]:
    async with study.context.db.session() as session:
        statement = select(Item).where(Item.guild_id == LOCAL_GUILD_ID).order_by(col(Item.id))
        return list((await session.exec(statement)).all())


async def test_an_explain_prompt_is_added_field_by_field_and_graded_by_meaning(
    study: StudyServices, tmp_path: Path
) -> None:
    app = make_app(study, tmp_path)
    out = await feed(app, f"/question add {DECK} explain")
    assert "[3/8] Difficulty" in out
    out = await feed(
        app,
        "",  # difficulty: medium
        "Why does dropout help a neural network?",
        "Dropout randomly switches off some neurons at each step, so the network cannot rely "
        "on any one of them; this reduces overfitting.",
    )
    assert "[6/8] Hint" in out and DEFAULT_HINT in out
    out = await feed(app, "")  # the default hint
    assert "[7/8] Concepts" in out and "name: example | example" in out
    # A bad concept line is named and asked again; nothing is stored yet.
    out = await feed(app, CONCEPTS[0], ": no name here", "")
    assert "! Concept line 2: write it as `name: example | example`" in out
    assert "[7/8] Concepts" in out and await local_items(study) == []
    out = await feed(app, *CONCEPTS, "")
    assert "[8/8] Misconceptions" in out
    out = await feed(app, "no arrow", "")
    assert "! Misconception line 1: write it as `wrong idea => correction`" in out
    out = await feed(app, MISCONCEPTION, "")
    assert "Added #" in out and "/explain" in out and app.dialog is None

    (row,) = await local_items(study)
    assert (row.deck, row.kind, row.difficulty) == (DECK, "explain", "medium")
    assert row.payload["hint"] == DEFAULT_HINT
    assert [c["name"] for c in row.payload["concepts"]] == [
        "neurons are switched off at random",
        "reduces overfitting",
    ]

    # A member's own words, sharing almost nothing with the examples, earn both concepts.
    prompt = await feed(app, f"/explain {DECK}")
    assert "Why does dropout help a neural network?" in prompt
    graded = await feed(
        app,
        "During training some units get ignored randomly, so the net does not memorise the "
        "training examples and works better on new data.",
    )
    assert "2/2 concepts" in graded
    await feed(app, f"/explain {DECK}")
    careless = await feed(app, "Dropout removes neurons from the network forever.")
    assert "0/2 concepts" in careless and "they all come back afterwards" in careless


async def test_editing_an_explain_prompt_keeps_the_line_format(
    study: StudyServices, tmp_path: Path
) -> None:
    app = make_app(study, tmp_path)
    await feed(
        app,
        f"/question add {DECK} explain hard",
        "Why does dropout help?",
        "It switches neurons off at random, which reduces overfitting.",
        "Think about what is switched off.",
        *CONCEPTS,
        "",
        "",  # no misconceptions
    )
    (row,) = await local_items(study)
    out = await feed(app, f"/question edit {row.id}")
    assert "[1/6] Difficulty" in out
    out = await feed(app, "", "", "", "")  # keep difficulty, prompt, model answer and hint
    assert "[5/6] Concepts" in out
    for line in CONCEPTS:
        assert line in out  # shown in the same line format
    out = await feed(app, "", MISCONCEPTION, "")  # keep the concepts, add a misconception
    assert f"Saved #{row.id}" in out
    (row,) = await local_items(study)
    assert row.payload["misconceptions"][0]["wrong"] == "dropout removes neurons for good"
    assert row.payload["hint"] == "Think about what is switched off."
    assert len(row.payload["concepts"]) == 2
