"""End to end: a moderator adds an explain prompt with ``/question add kind:explain``.

The unmodified discord.py client runs TutorBot against the fake Discord. Alice (the
server's owner) fills in the five-box form; Bob answers the prompt in his own words with
``/explain`` and is graded by meaning (the concepts have no phrases, only examples).
"""

from __future__ import annotations

from typing import Any

import pytest

from bot.exts.client import TutorBot
from bot.settings import Settings
from tests.dbquery import query
from tests.fakediscord import FakeDiscord, MessageRecord, ModalRecord
from tests.fakediscord.fixtures import ALICE_ID, BOB_ID
from tests.fakediscord.reading import button, embed, fields

pytestmark = pytest.mark.slow

DECK = "regularization"
BOXES = {"question", "explanation", "hint", "concepts", "misconceptions"}
TYPED = {
    "question": "Why does dropout help a neural network?",
    "explanation": "Dropout randomly switches off some neurons at each training step, so the "
    "network cannot rely on any single one; this reduces overfitting and the model works "
    "better on new data.",
    "hint": "",
    "concepts": "neurons are switched off at random: Dropout randomly turns off some neurons "
    "during training. | Random units are ignored at each training step.\n"
    "reduces overfitting: It stops the model from memorising the training data. | "
    "The network generalises better to new data.",
    "misconceptions": "dropout removes neurons for good => Dropout only switches neurons off "
    "for one step; they all come back afterwards.",
}


def modal_values(modal: ModalRecord) -> dict[str, str]:
    return {
        str(c["custom_id"]): str(c.get("value") or "")
        for c in modal.iter_components()
        if c.get("type") == 4
    }


async def reply_to(fake: FakeDiscord, handle: Any) -> MessageRecord:
    message = await fake.wait_for_response(handle, timeout=5)
    assert isinstance(message, MessageRecord), message
    return message


async def answer_explain(fake: FakeDiscord, text: str) -> MessageRecord:
    """Bob asks for an explain prompt in the deck and answers it in the form."""
    handle = await fake.send_slash_command("explain", user_id=BOB_ID, options={"deck": DECK})
    prompt = await fake.wait_for_message(handle)
    assert TYPED["question"] in embed(prompt)["description"]
    opened = await fake.click_button(prompt, button(prompt, "Answer"), user_id=BOB_ID)
    modal = await fake.wait_for_modal(opened)
    submitted = await fake.submit_modal(
        modal, {"explanation": text}, user_id=BOB_ID, message=prompt
    )
    return await fake.wait_for_message(submitted)


async def test_a_moderator_adds_an_explain_prompt_and_a_member_is_graded_by_meaning(
    fake_discord: FakeDiscord, tutor_bot: TutorBot, bot_settings: Settings
) -> None:
    handle = await fake_discord.send_slash_command(
        "question",
        user_id=ALICE_ID,
        subcommand="add",
        options={"deck": DECK, "difficulty": "medium", "kind": "explain"},
    )
    modal = await fake_discord.wait_for_modal(handle)
    assert set(modal.input_custom_ids) == BOXES

    # A concept line without a name is refused with its line number; nothing is lost.
    bad = {**TYPED, "concepts": TYPED["concepts"] + "\n: a sentence without a name"}
    refused = await reply_to(
        fake_discord, await fake_discord.submit_modal(modal, bad, user_id=ALICE_ID)
    )
    assert refused.ephemeral
    description = embed(refused)["description"]
    assert "Concept line 3: write it as `name: example | example`" in description
    assert "a sentence without a name" in description and "Nothing was stored" in description
    assert query(
        bot_settings.database_url, "SELECT count(*) FROM items WHERE guild_id IS NOT NULL"
    ) == [(0,)]
    retry = await fake_discord.click_button(
        refused, button(refused, "Edit and retry"), user_id=ALICE_ID
    )
    reopened = await fake_discord.wait_for_modal(retry)
    assert modal_values(reopened) == bad

    saved = await reply_to(
        fake_discord, await fake_discord.submit_modal(reopened, TYPED, user_id=ALICE_ID)
    )
    assert embed(saved)["title"].startswith("Added #") and "/explain" in embed(saved)["description"]
    ((item_id, kind),) = query(
        bot_settings.database_url, "SELECT id, kind FROM items WHERE guild_id IS NOT NULL"
    )
    assert kind == "explain"

    # Bob's own words share almost no words with the examples: graded by meaning.
    graded = await answer_explain(
        fake_discord,
        "During training some units get ignored randomly, so the net does not memorise the "
        "training examples and works better on new data.",
    )
    assert embed(graded)["title"] == "2/2 concepts"
    assert "A strong answer" in fields(graded)
    careless = await answer_explain(
        fake_discord, "Dropout removes neurons from the network forever."
    )
    assert embed(careless)["title"] == "0/2 concepts"
    assert "they all come back afterwards" in fields(careless)["Careful"]
    modes = query(bot_settings.database_url, "SELECT mode FROM attempts")
    assert modes == [("explain",), ("explain",)]

    # /question edit opens the same five boxes, filled in with the same line format.
    handle = await fake_discord.send_slash_command(
        "question", user_id=ALICE_ID, subcommand="edit", options={"id": item_id}
    )
    edit_form = await fake_discord.wait_for_modal(handle)
    current = modal_values(edit_form)
    assert current["concepts"] == TYPED["concepts"]
    assert current["misconceptions"] == TYPED["misconceptions"]
    unchanged = await reply_to(
        fake_discord, await fake_discord.submit_modal(edit_form, current, user_id=ALICE_ID)
    )
    assert f"Nothing changed in #{item_id}." in str(unchanged.payload)
    current["concepts"] += "\nbetter on new data"
    edited = await reply_to(
        fake_discord, await fake_discord.submit_modal(edit_form, current, user_id=ALICE_ID)
    )
    assert embed(edited)["title"] == f"Saved #{item_id}"
    ((payload,),) = query(
        bot_settings.database_url, f"SELECT payload FROM items WHERE id = {item_id}"
    )
    assert "better on new data" in str(payload)
