"""End to end: the unmodified discord.py client running TutorBot against the fake Discord.

Each test drives slash commands, button clicks and forms the way Discord would and checks
what the bot sent back — and that every acknowledgement beat the deadline.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bot.app import discord_bot
from bot.core.replies import Reply
from bot.exts.client import TutorBot
from bot.settings import Settings
from tests.dbquery import query
from tests.exts.conftest import ACK_DEADLINE_S
from tests.fakediscord import FakeDiscord, InteractionHandle, MessageRecord, running_client
from tests.fakediscord.fixtures import ALICE_ID, BOB_ID, GUILD_ID
from tests.fakediscord.reading import button, embed

pytestmark = pytest.mark.slow

UPDATE_MESSAGE = 7
CHANNEL_MESSAGE = 4
DEFERRED_CHANNEL_MESSAGE = 5
MODAL = 9
COMMANDS = {"review", "quiz", "practice", "explain", "test", "stats", "forecast", "decks", "help"}


def field_names(message: MessageRecord) -> list[str]:
    return [f["name"] for f in embed(message).get("fields", [])]


async def click(
    fake: FakeDiscord, message: MessageRecord, label: str, user_id: int = ALICE_ID
) -> tuple[InteractionHandle, MessageRecord]:
    handle = await fake.click_button(message, button(message, label), user_id=user_id)
    return handle, await fake.wait_for_message(handle, timeout=5)


def stored(settings: Settings, sql: str) -> list[tuple[Any, ...]]:
    return query(settings.database_url, sql)


def assert_acks_in_time(fake: FakeDiscord) -> list[float]:
    elapsed = [c.elapsed_s for c in fake.callbacks]
    assert fake.callbacks and all(c.ok for c in fake.callbacks), fake.callbacks
    assert max(elapsed) < ACK_DEADLINE_S
    return elapsed


async def test_commands_are_registered_with_descriptions(
    fake_discord: FakeDiscord, tutor_bot: TutorBot
) -> None:
    assert fake_discord.command_names() >= COMMANDS
    quiz = fake_discord.find_command("quiz", None)
    options = {o["name"]: o for o in quiz["options"]}
    assert options["deck"]["autocomplete"] is True
    assert [c["value"] for c in options["difficulty"]["choices"]] == ["easy", "medium", "hard"]
    assert all(cmd["description"] for cmd in fake_discord.registered_commands[None])


async def test_help_is_private(fake_discord: FakeDiscord, tutor_bot: TutorBot) -> None:
    handle = await fake_discord.send_slash_command("help", user_id=BOB_ID)
    reply = await fake_discord.wait_for_message(handle)
    assert reply.ephemeral and "how to start" in embed(reply)["title"]
    assert_acks_in_time(fake_discord)


async def test_review_reveal_and_rate_edits_the_private_message(
    fake_discord: FakeDiscord, tutor_bot: TutorBot, bot_settings: Settings
) -> None:
    handle = await fake_discord.send_slash_command("review", user_id=ALICE_ID)
    card = await fake_discord.wait_for_message(handle)
    assert card.ephemeral and "Flashcard" in embed(card)["title"]
    assert all(cid.startswith("t:") for cid in card.custom_ids)
    reveal, revealed = await click(fake_discord, card, "Reveal")
    assert [c.type for c in fake_discord.callbacks_for(reveal)] == [UPDATE_MESSAGE]
    assert field_names(revealed) == ["Answer"]
    _, saved = await click(fake_discord, revealed, "Good")
    assert "Saved: Good" in embed(saved)["title"]
    _, following = await click(fake_discord, saved, "Next card")
    assert "Flashcard" in embed(following)["title"]
    rows = stored(bot_settings, "SELECT mode, rating, correct FROM attempts")
    assert rows == [("review", 3, 1)]
    assert_acks_in_time(fake_discord)


async def test_channel_quiz_feedback_is_private_and_once_per_member(
    fake_discord: FakeDiscord, tutor_bot: TutorBot, bot_settings: Settings
) -> None:
    handle = await fake_discord.send_slash_command(
        "quiz", user_id=ALICE_ID, options={"difficulty": "easy"}
    )
    question = await fake_discord.wait_for_message(handle)
    assert not question.ephemeral
    assert [c.get("label") for c in question.iter_components() if c.get("type") == 2] == list(
        "ABCD"
    )
    _, alice_feedback = await click(fake_discord, question, "A", ALICE_ID)
    _, bob_feedback = await click(fake_discord, question, "B", BOB_ID)
    for feedback in (alice_feedback, bob_feedback):
        assert feedback.ephemeral and feedback.kind == "interaction_response"
        title = embed(feedback)["title"]
        assert "Correct" in title or "Not quite" in title
    _, again = await click(fake_discord, question, "C", BOB_ID)
    assert again.ephemeral and "already answered" in again.content
    assert stored(bot_settings, "SELECT count(*) FROM attempts") == [(2,)]
    assert_acks_in_time(fake_discord)


async def test_practice_hint_then_solution(fake_discord: FakeDiscord, tutor_bot: TutorBot) -> None:
    handle = await fake_discord.send_slash_command(
        "practice", user_id=ALICE_ID, options={"difficulty": "hard"}
    )
    problem = await fake_discord.wait_for_message(handle)
    assert problem.ephemeral and "Practice" in embed(problem)["title"]
    _, hinted = await click(fake_discord, problem, "Hint")
    assert "💡 Hint" in field_names(hinted)
    _, solved = await click(fake_discord, hinted, "B")
    assert "Correct" in embed(solved)["title"]
    assert field_names(solved) == ["Solution", "Common mistakes"]


async def test_code_is_shown_in_a_code_block(
    fake_discord: FakeDiscord, tutor_bot: TutorBot
) -> None:
    for _ in range(12):
        handle = await fake_discord.send_slash_command(
            "practice", user_id=BOB_ID, options={"difficulty": "medium"}
        )
        problem = await fake_discord.wait_for_message(handle)
        if "```python" in embed(problem)["description"]:
            assert "GradientTape" in embed(problem)["description"]
            return
    raise AssertionError("no medium practice problem with code was shown")


async def test_explain_opens_a_form_and_grades_the_answer(
    fake_discord: FakeDiscord, tutor_bot: TutorBot, bot_settings: Settings
) -> None:
    handle = await fake_discord.send_slash_command("explain", user_id=ALICE_ID)
    prompt = await fake_discord.wait_for_message(handle)
    opened = await fake_discord.click_button(prompt, button(prompt, "Answer"), user_id=ALICE_ID)
    modal = await fake_discord.wait_for_modal(opened)
    assert [c.type for c in fake_discord.callbacks_for(opened)] == [MODAL]
    submitted = await fake_discord.submit_modal(
        modal,
        {"explanation": "The loss measures how wrong the model is; the optimizer updates weights."},
        user_id=ALICE_ID,
        message=prompt,
    )
    graded = await fake_discord.wait_for_message(submitted)
    assert "/3 concepts" in embed(graded)["title"] or "/2 concepts" in embed(graded)["title"]
    assert "A strong answer" in field_names(graded)
    assert stored(bot_settings, "SELECT mode FROM attempts") == [("explain",)]
    assert_acks_in_time(fake_discord)


async def test_a_whole_test_run(fake_discord: FakeDiscord, tutor_bot: TutorBot) -> None:
    handle = await fake_discord.send_slash_command("test", user_id=BOB_ID)
    message = await fake_discord.wait_for_message(handle)
    for number in range(1, 11):
        assert f"question {number} of 10" in embed(message)["title"]
        _, feedback = await click(fake_discord, message, "A", BOB_ID)
        if number < 10:
            _, message = await click(fake_discord, feedback, "Next question", BOB_ID)
    assert "Test finished" in embed(feedback)["footer"]["text"]
    assert "By difficulty" in field_names(feedback)
    assert_acks_in_time(fake_discord)


async def test_stats_and_decks(fake_discord: FakeDiscord, tutor_bot: TutorBot) -> None:
    handle = await fake_discord.send_slash_command("stats", user_id=ALICE_ID)
    stats = await fake_discord.wait_for_message(handle)
    assert stats.ephemeral and {"Answered", "Accuracy", "Streak", "Due now"} <= set(
        field_names(stats)
    )
    handle = await fake_discord.send_slash_command("decks", user_id=ALICE_ID)
    decks = await fake_discord.wait_for_message(handle)
    assert "tensorflow-training-basics" in embed(decks)["description"]


async def test_deck_autocomplete(fake_discord: FakeDiscord, tutor_bot: TutorBot) -> None:
    handle = await fake_discord.send_autocomplete(
        "quiz", focused="deck", user_id=ALICE_ID, options={"deck": "tensor"}
    )
    result = await fake_discord.wait_for_autocomplete(handle)
    assert result.values == ["tensorflow-training-basics"]


async def test_unknown_deck_gets_a_friendly_private_error(
    fake_discord: FakeDiscord, tutor_bot: TutorBot
) -> None:
    handle = await fake_discord.send_slash_command(
        "quiz", user_id=ALICE_ID, options={"deck": "cooking"}
    )
    reply = await fake_discord.wait_for_message(handle)
    assert reply.ephemeral and "no deck called 'cooking'" in reply.content


async def test_a_click_on_someone_elses_question(
    fake_discord: FakeDiscord, tutor_bot: TutorBot
) -> None:
    handle = await fake_discord.send_slash_command("review", user_id=ALICE_ID)
    card = await fake_discord.wait_for_message(handle)
    bobs_click, reply = await click(fake_discord, card, "Reveal", BOB_ID)
    assert reply.ephemeral and "isn't your question" in reply.content
    # A new private message for Bob; Alice's card is not edited.
    assert [c.type for c in fake_discord.callbacks_for(bobs_click)] == [CHANNEL_MESSAGE]


async def test_review_in_direct_messages(fake_discord: FakeDiscord, tutor_bot: TutorBot) -> None:
    handle = await fake_discord.send_slash_command("review", user_id=BOB_ID, guild_id=None)
    card = await fake_discord.wait_for_message(handle)
    assert "Flashcard" in embed(card)["title"]
    _, revealed = await click(fake_discord, card, "Reveal", BOB_ID)
    assert field_names(revealed) == ["Answer"]


async def test_old_buttons_work_after_a_restart(
    fake_discord: FakeDiscord, bot_settings: Settings
) -> None:
    fake_discord.ack_deadline_s = ACK_DEADLINE_S
    first = discord_bot(bot_settings)
    async with running_client(first, fake_discord):
        handle = await fake_discord.send_slash_command("review", user_id=ALICE_ID)
        card = await fake_discord.wait_for_message(handle)
    assert first.is_closed()
    second = discord_bot(bot_settings)
    async with running_client(second, fake_discord):
        _, revealed = await click(fake_discord, card, "Reveal")
        assert field_names(revealed) == ["Answer"]
        _, saved = await click(fake_discord, revealed, "Easy")
        assert "Saved: Easy" in embed(saved)["title"]
    assert stored(bot_settings, "SELECT rating FROM attempts") == [(4,)]


async def test_slow_work_is_deferred_then_followed_up(
    fake_discord: FakeDiscord, tutor_bot: TutorBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = tutor_bot.study.stats.stats

    async def slow_stats(*args: Any, **kwargs: Any) -> Reply:
        await asyncio.sleep(ACK_DEADLINE_S * 1.2)  # slower than Discord's deadline
        return await original(*args, **kwargs)

    monkeypatch.setattr(tutor_bot.study.stats, "stats", slow_stats)
    handle = await fake_discord.send_slash_command("stats", user_id=ALICE_ID)
    reply = await fake_discord.wait_for_message(handle, timeout=5)
    assert [c.type for c in fake_discord.callbacks_for(handle)] == [DEFERRED_CHANNEL_MESSAGE]
    assert "Answered" in field_names(reply)
    assert_acks_in_time(fake_discord)


async def test_unexpected_errors_are_logged_with_an_id(
    fake_discord: FakeDiscord,
    tutor_bot: TutorBot,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def broken(*args: Any, **kwargs: Any) -> Reply:
        raise RuntimeError("boom")

    monkeypatch.setattr(tutor_bot.study.review, "review", broken)
    handle = await fake_discord.send_slash_command("review", user_id=ALICE_ID)
    reply = await fake_discord.wait_for_message(handle)
    assert reply.ephemeral and "Something went wrong (id " in reply.content
    incident = reply.content.split("(id ")[1].split(")")[0]
    assert any(incident in record.getMessage() for record in caplog.records)
    # The bot is still up.
    handle = await fake_discord.send_slash_command("help", user_id=ALICE_ID)
    assert (await fake_discord.wait_for_message(handle)).ephemeral


async def test_gateway_resume_keeps_answering(
    fake_discord: FakeDiscord, tutor_bot: TutorBot
) -> None:
    await fake_discord.disconnect_gateway(resume=True)
    handle = await fake_discord.send_slash_command("help", user_id=BOB_ID)
    reply = await fake_discord.wait_for_message(handle, timeout=10)
    assert "how to start" in embed(reply)["title"]


def test_guild_is_known(fake_discord: FakeDiscord) -> None:
    assert fake_discord.default_guild().id == GUILD_ID
