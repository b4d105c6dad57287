"""End to end on Discord: ``/review mode:mistakes``, ``tag`` options on ``/review`` and
``/quiz``, and the mistakes count in ``/stats`` — the real discord.py client against the
fake Discord, over a deck with tags."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.exts.client import TutorBot
from bot.settings import Settings
from tests.dbquery import query
from tests.exts.conftest import ACK_BUDGET_S, ACK_DEADLINE_S
from tests.fakediscord import FakeDiscord, InteractionHandle, MessageRecord
from tests.fakediscord.fixtures import ALICE_ID, BOB_ID
from tests.fakediscord.reading import button, embed, fields

pytestmark = pytest.mark.slow

DECK = """
deck: chem-deck
title: Chemistry
description: Tagged questions.
items:
  - id: atom-card
    kind: flashcard
    front: What is an atom?
    back: The smallest unit of an element.
    tags: [chem]
  - id: atom-quiz
    kind: mcq
    question: What is in an atom's nucleus?
    options: [Protons and neutrons, Electrons]
    answer: A
    explanation: Electrons orbit the nucleus.
    difficulty: easy
    tags: [Chem, week-1]
  - id: plain-quiz
    kind: mcq
    question: An untagged question?
    options: ["Yes", "No"]
    answer: A
    explanation: It has no tags.
    difficulty: easy
"""


@pytest.fixture
def bot_settings(db_url: str, tmp_path: Path) -> Settings:
    """The usual test bot, studying :data:`DECK` only."""
    content = tmp_path / "decks"
    content.mkdir()
    (content / "chem-deck.yaml").write_text(DECK, encoding="utf-8")
    return Settings(
        discord_token="fake-token",
        database_url=db_url,
        discord_ack_budget_s=ACK_BUDGET_S,
        fsrs_fuzzing=False,
        training_workers=0,
        content_dir=content,
    )


async def click(
    fake: FakeDiscord, message: MessageRecord, label: str, user_id: int = ALICE_ID
) -> tuple[InteractionHandle, MessageRecord]:
    handle = await fake.click_button(message, button(message, label), user_id=user_id)
    return handle, await fake.wait_for_message(handle, timeout=5)


async def command(
    fake: FakeDiscord, name: str, user_id: int = ALICE_ID, **options: str
) -> MessageRecord:
    handle = await fake.send_slash_command(name, user_id=user_id, options=options or None)
    return await fake.wait_for_message(handle)


async def test_the_new_options_are_registered_with_descriptions(
    fake_discord: FakeDiscord, tutor_bot: TutorBot
) -> None:
    review = {o["name"]: o for o in fake_discord.find_command("review", None)["options"]}
    assert [c["value"] for c in review["mode"]["choices"]] == ["due", "mistakes"]
    assert review["mode"]["description"] and review["tag"]["description"]
    assert review["tag"]["autocomplete"] is True
    quiz = {o["name"]: o for o in fake_discord.find_command("quiz", None)["options"]}
    assert quiz["tag"]["autocomplete"] is True and not quiz["tag"].get("required")
    handle = await fake_discord.send_autocomplete(
        "quiz", focused="tag", user_id=BOB_ID, options={"tag": "WEE"}
    )
    assert (await fake_discord.wait_for_autocomplete(handle)).values == ["week-1"]


async def test_a_missed_channel_quiz_is_retried_until_right_twice(
    fake_discord: FakeDiscord, tutor_bot: TutorBot, bot_settings: Settings
) -> None:
    nothing = await command(fake_discord, "review", mode="mistakes")
    assert nothing.ephemeral and embed(nothing)["title"] == "No mistakes to retry"
    question = await command(fake_discord, "quiz", tag="chem")
    assert not question.ephemeral
    assert "atom's nucleus" in embed(question)["description"]
    _, feedback = await click(fake_discord, question, "B")
    assert "Not quite" in embed(feedback)["title"]
    stats = await command(fake_discord, "stats")
    assert fields(stats)["Mistakes to retry"] == "1"
    retry = await command(fake_discord, "review", mode="mistakes")
    assert retry.ephemeral and "atom's nucleus" in embed(retry)["description"]
    assert embed(retry)["footer"]["text"].startswith("Retry · 1 to go · missed once lately")
    for _ in range(2):
        _, feedback = await click(fake_discord, retry, "A")
        assert "Correct" in embed(feedback)["title"]
        _, retry = await click(fake_discord, feedback, "Next mistake")
    assert embed(retry)["title"] == "No mistakes to retry"
    assert "Nothing to retry" in embed(retry)["description"]
    rows = query(bot_settings.database_url, "SELECT mode, correct FROM attempts ORDER BY id")
    assert [(mode, bool(correct)) for mode, correct in rows] == [
        ("quiz", False),
        ("mistakes", True),
        ("mistakes", True),
    ]
    stats = await command(fake_discord, "stats")
    assert fields(stats)["Mistakes to retry"] == "0"
    assert max(c.elapsed_s for c in fake_discord.callbacks) < ACK_DEADLINE_S


async def test_a_tagged_review_keeps_its_tag_and_an_unknown_tag_is_explained(
    fake_discord: FakeDiscord, tutor_bot: TutorBot
) -> None:
    card = await command(fake_discord, "review", BOB_ID, tag="CHEM")
    assert "atom?" in embed(card)["description"]
    assert embed(card)["footer"]["text"].startswith("New · tagged chem")
    _, revealed = await click(fake_discord, card, "Reveal", BOB_ID)
    _, saved = await click(fake_discord, revealed, "Good", BOB_ID)
    _, following = await click(fake_discord, saved, "Next card", BOB_ID)
    assert "atom's nucleus" in embed(following)["description"]
    _, feedback = await click(fake_discord, following, "A", BOB_ID)
    _, done = await click(fake_discord, feedback, "Next card", BOB_ID)
    assert "Nothing tagged 'chem' is due right now." in embed(done)["description"]
    unknown = await command(fake_discord, "quiz", BOB_ID, tag="physics")
    assert unknown.ephemeral
    assert "No questions are tagged 'physics' here. Tags in use: chem, week-1." in (unknown.content)
