"""End to end: typed questions on Discord — the one-line answer form, pictures and the daily
quiz — with the real bot against the fake Discord."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from bot.app import discord_bot
from bot.exts.client import TutorBot
from bot.settings import Settings
from tests.dbquery import query
from tests.exts.conftest import ACK_BUDGET_S, ACK_DEADLINE_S
from tests.fakediscord import FakeDiscord, MessageRecord, running_client
from tests.fakediscord.fixtures import ALICE_ID, BOB_ID, CHANNEL_ID, GUILD_ID
from tests.fakediscord.reading import button, embed

pytestmark = pytest.mark.slow

UPDATE_MESSAGE = 7
MODAL = 9
SHORT_TEXT = 1
CAROL_ID = 555555555555555555
PICTURE = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def deck_text(picture: str) -> str:
    return f"""\
deck: trivia
title: Typed trivia
items:
  - id: capital-of-france
    kind: typed
    question: What is the capital of France?
    answers: [Paris, Paname]
    explanation: Paris has been the capital since 987.
    hint: City of light.
    image: {picture}
"""


@pytest.fixture
def picture_name() -> str:
    return f"eiffel-{uuid.uuid4().hex[:8]}.png"


@pytest.fixture
def typed_settings(db_url: str, tmp_path: Path, picture_name: str) -> Settings:
    """A bot whose only deck is one typed question with a picture in its media folder."""
    content = tmp_path / "content"
    content.mkdir()
    (content / "trivia.yaml").write_text(deck_text(picture_name), encoding="utf-8")
    settings = Settings(
        discord_token="fake-token",
        database_url=db_url,
        content_dir=content,
        media_dir=tmp_path / "media",
        discord_ack_budget_s=ACK_BUDGET_S,
        fsrs_fuzzing=False,
        training_workers=0,
    )
    settings.media_path.mkdir(parents=True, exist_ok=True)
    picture = settings.media_path / picture_name
    picture.write_bytes(PICTURE)
    return settings


@pytest_asyncio.fixture
async def bot(fake_discord: FakeDiscord, typed_settings: Settings) -> AsyncIterator[TutorBot]:
    fake_discord.ack_deadline_s = ACK_DEADLINE_S
    fake_discord.add_member(GUILD_ID, CAROL_ID, "Carol")
    tutor_bot = discord_bot(typed_settings)
    async with running_client(tutor_bot, fake_discord):
        await fake_discord.wait_for_commands("review", "dailyquiz")
        yield tutor_bot


def stored(settings: Settings, sql: str) -> list[tuple[Any, ...]]:
    return query(settings.database_url, sql)


async def answer_in_form(
    fake: FakeDiscord, message: MessageRecord, text: str, user_id: int
) -> MessageRecord:
    """Click **Answer**, check the one-line form that opens, type ``text`` and submit it."""
    opened = await fake.click_button(message, button(message, "Answer"), user_id=user_id)
    form = await fake.wait_for_modal(opened)
    assert [c.type for c in fake.callbacks_for(opened)] == [MODAL]
    assert form.title == "Your answer"
    [box] = [c for c in form.iter_components() if c.get("type") == 4]
    assert box["style"] == SHORT_TEXT and box["label"] == "Your answer"
    submitted = await fake.submit_modal(
        form, {"explanation": text}, user_id=user_id, message=message
    )
    return await fake.wait_for_message(submitted, timeout=5)


def assert_acks_in_time(fake: FakeDiscord) -> None:
    assert fake.callbacks and all(c.ok for c in fake.callbacks), fake.callbacks
    assert max(c.elapsed_s for c in fake.callbacks) < ACK_DEADLINE_S


async def test_review_asks_a_typed_question_with_its_picture_and_a_form(
    fake_discord: FakeDiscord, bot: TutorBot, typed_settings: Settings, picture_name: str
) -> None:
    handle = await fake_discord.send_slash_command("review", user_id=ALICE_ID)
    question = await fake_discord.wait_for_message(handle)
    assert question.ephemeral and embed(question)["title"] == "Question · trivia · medium"
    assert embed(question)["description"] == "What is the capital of France?"
    assert button(question, "Answer").startswith("ta:ex:")
    assert [a.filename for a in question.attachments] == [picture_name]
    assert question.attachments[0].data == PICTURE
    assert embed(question)["image"]["url"] == f"attachment://{picture_name}"

    hint = await fake_discord.click_button(question, button(question, "Hint"), user_id=ALICE_ID)
    hinted = await fake_discord.wait_for_message(hint)
    assert [c.type for c in fake_discord.callbacks_for(hint)] == [UPDATE_MESSAGE]
    assert [f["value"] for f in embed(hinted)["fields"]] == ["City of light."]

    graded = await answer_in_form(fake_discord, hinted, "  paris ", ALICE_ID)
    assert graded.ephemeral and embed(graded)["title"] == "✅ Correct"
    assert "**Paris**" in embed(graded)["description"]
    assert stored(typed_settings, "SELECT mode, answer, correct, rating FROM attempts") == [
        ("review", "paris", 1, 3)
    ]
    assert_acks_in_time(fake_discord)


async def test_the_daily_quiz_takes_typed_answers_through_its_form(
    fake_discord: FakeDiscord, bot: TutorBot, typed_settings: Settings, picture_name: str
) -> None:
    before = len(fake_discord.messages)
    handle = await fake_discord.send_slash_command("dailyquiz", user_id=ALICE_ID, subcommand="now")
    posted = await fake_discord.wait_for_message(handle, timeout=5)
    assert "Posted" in embed(posted)["title"]
    question = await fake_discord.wait_for_channel_message(
        CHANNEL_ID,
        predicate=lambda m: bool(m.embeds) and "Daily quiz" in embed(m).get("title", ""),
        after=before,
    )
    assert not question.ephemeral
    # Answer only (no hint in the timed quiz); it opens the daily quiz's own form.
    assert [c[:6] for c in question.custom_ids] == ["ta:dt:"]
    assert [a.filename for a in question.attachments] == [picture_name]

    bob = await answer_in_form(fake_discord, question, "Paris", BOB_ID)
    assert bob.ephemeral and embed(bob)["title"] == "✅ Correct"
    carol = await answer_in_form(fake_discord, question, "Parisienne", CAROL_ID)
    assert carol.ephemeral and embed(carol)["title"] == "❌ Not quite"
    assert "You typed “Parisienne”" in embed(carol)["description"]
    again = await answer_in_form(fake_discord, question, "Paris", BOB_ID)
    assert again.ephemeral and "already answered" in again.content
    assert stored(typed_settings, "SELECT mode, correct FROM attempts ORDER BY id") == [
        ("daily", 1),
        ("daily", 0),
    ]
    assert_acks_in_time(fake_discord)
