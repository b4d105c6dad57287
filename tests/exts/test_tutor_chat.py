"""End to end: members ask the tutor in plain chat (a mention in a server, or a DM).

The unmodified discord.py client runs TutorBot against the fake Discord, which delivers
members' messages as MESSAGE_CREATE the way Discord does for a bot without the Message
Content intent: a mention or a DM carries its text, anything else arrives empty.
"""

from __future__ import annotations

import asyncio
import logging

import discord
import pytest

from bot.core.replies import Reply
from bot.exts.client import TutorBot
from tests.fakediscord import FakeDiscord, MessageRecord, UserMessage
from tests.fakediscord.fixtures import ALICE_ID, BOB_ID, CHANNEL_ID, GUILD_ID
from tests.fakediscord.gateway import MESSAGE_CONTENT
from tests.fakediscord.reading import button, button_labels, embed

pytestmark = pytest.mark.slow

SEND_MESSAGES = 1 << 11
QUIZ_ME = "Quiz me on this"
WORKED_PROBLEM = "Show a worked problem"
SOURCE_FIELD = "The question this comes from"


def shown_text(message: MessageRecord) -> str:
    """Everything the member reads in a message: content, title, text, fields, footer."""
    parts = [message.content]
    for shown in message.embeds:
        parts += [shown.get("title") or "", shown.get("description") or ""]
        parts += [f"{f['name']} {f['value']}" for f in shown.get("fields", [])]
        parts.append((shown.get("footer") or {}).get("text", ""))
    return "\n".join(parts)


def source_question(message: MessageRecord) -> str:
    """The deck question an answer names as its source ("" when it names none)."""
    for shown in message.embeds:
        for field in shown.get("fields", []):
            if field["name"] == SOURCE_FIELD:
                return str(field["value"])
    return ""


async def ask_in_channel(
    fake: FakeDiscord, text: str, *, user_id: int = BOB_ID, channel_id: int = CHANNEL_ID
) -> tuple[UserMessage, MessageRecord]:
    """A member mentions the tutor with ``text``; their message and the tutor's reply."""
    sent = await fake.send_user_message(
        f"{fake.bot_mention} {text}", user_id=user_id, channel_id=channel_id
    )
    return sent, await fake.wait_for_reply(sent, timeout=15)


async def ask_in_dm(
    fake: FakeDiscord, text: str, *, user_id: int = BOB_ID
) -> tuple[UserMessage, MessageRecord]:
    """A member DMs the tutor ``text``; their message and the tutor's reply."""
    sent = await fake.send_dm(text, user_id=user_id)
    return sent, await fake.wait_for_reply(sent, timeout=15)


async def test_the_bot_asks_for_no_privileged_intent(
    fake_discord: FakeDiscord, tutor_bot: TutorBot
) -> None:
    intents = tutor_bot.intents
    assert intents.guilds and intents.guild_messages and intents.dm_messages
    assert not (intents.message_content or intents.members or intents.presences)
    session = fake_discord.gateway.latest
    assert session is not None and not session.intents & MESSAGE_CONTENT


async def test_a_bare_mention_gets_a_hint(fake_discord: FakeDiscord, tutor_bot: TutorBot) -> None:
    sent = await fake_discord.send_user_message(f"{fake_discord.bot_mention}  ", user_id=BOB_ID)
    reply = await fake_discord.wait_for_reply(sent)
    assert "Ask me something about your decks" in shown_text(reply)
    assert "@TutorBot why do we need an optimizer?" in shown_text(reply)
    assert reply.payload["allowed_mentions"]["replied_user"] is False


async def test_a_message_without_a_mention_is_left_alone(
    fake_discord: FakeDiscord, tutor_bot: TutorBot
) -> None:
    chatter = await fake_discord.send_user_message("why do we need an optimizer?", user_id=BOB_ID)
    # Without the Message Content intent the bot never saw the text.
    assert [d["content"] for d in chatter.delivered] == [""]
    # Messages are handled in order; once a later mention is answered, the first was skipped.
    later = await fake_discord.send_user_message(fake_discord.bot_mention, user_id=BOB_ID)
    await fake_discord.wait_for_reply(later)
    assert fake_discord.replies_to(chatter) == []


async def test_bots_and_the_tutor_itself_are_not_answered(
    fake_discord: FakeDiscord, tutor_bot: TutorBot
) -> None:
    fake_discord.add_member(GUILD_ID, 555, "OtherBot", bot=True)
    other_bot = await fake_discord.send_user_message(
        f"{fake_discord.bot_mention} hello", user_id=555
    )
    later = await fake_discord.send_user_message(fake_discord.bot_mention, user_id=BOB_ID)
    answer = await fake_discord.wait_for_reply(later)
    assert fake_discord.replies_to(other_bot) == []
    # The tutor's own answer came back as MESSAGE_CREATE too and was not answered.
    assert fake_discord.replies_to(answer.id) == []


async def test_no_answer_where_the_tutor_may_not_speak(
    fake_discord: FakeDiscord, tutor_bot: TutorBot, caplog: pytest.LogCaptureFixture
) -> None:
    open_channel = fake_discord.add_channel(GUILD_ID, "open")
    muted = fake_discord.add_channel(GUILD_ID, "muted")
    updated = asyncio.ensure_future(tutor_bot.wait_for("guild_channel_update", timeout=5))
    fake_discord.set_overwrite(GUILD_ID, muted.id, fake_discord.bot_user_id, deny=SEND_MESSAGES)
    _, channel = await updated
    assert isinstance(channel, discord.TextChannel) and channel.id == muted.id
    assert not channel.permissions_for(channel.guild.me).send_messages
    with caplog.at_level(logging.INFO, logger="bot.exts.tutor_chat"):
        question = await fake_discord.send_user_message(
            f"{fake_discord.bot_mention} why do we need an optimizer?",
            user_id=BOB_ID,
            channel_id=muted.id,
        )
        later = await fake_discord.send_user_message(
            fake_discord.bot_mention, user_id=BOB_ID, channel_id=open_channel.id
        )
        await fake_discord.wait_for_reply(later)
    assert fake_discord.replies_to(question) == []
    assert "not allowed to answer" in caplog.text
    assert muted.id not in fake_discord.typing


async def test_a_refused_answer_is_logged_and_the_next_one_works(
    fake_discord: FakeDiscord, tutor_bot: TutorBot, caplog: pytest.LogCaptureFixture
) -> None:
    fake_discord.fail_route(
        "POST", "/channels/*/messages", status=403, code=50013, message="Missing Permissions"
    )
    with caplog.at_level(logging.INFO, logger="bot.exts.tutor_chat"):
        refused = await fake_discord.send_user_message(fake_discord.bot_mention, user_id=BOB_ID)
        later = await fake_discord.send_user_message(fake_discord.bot_mention, user_id=BOB_ID)
        await fake_discord.wait_for_reply(later)
    assert fake_discord.replies_to(refused) == []
    assert "not allowed to answer" in caplog.text and "Traceback" not in caplog.text


async def test_a_mention_is_answered_from_the_decks_and_quiz_me_asks_a_question(
    fake_discord: FakeDiscord, tutor_bot: TutorBot, caplog: pytest.LogCaptureFixture
) -> None:
    sent, reply = await ask_in_channel(fake_discord, "why do we need an optimizer?")
    assert sent.delivered[0]["content"] == sent.content
    assert reply.kind == "channel" and reply.channel_id == CHANNEL_ID and not reply.ephemeral
    assert "optimizer" in source_question(reply).casefold()
    assert button_labels(reply) == [QUIZ_ME, WORKED_PROBLEM]
    # The tutor showed it was working on it while it looked the answer up.
    assert CHANNEL_ID in fake_discord.typing
    click = await fake_discord.click_button(reply, button(reply, QUIZ_ME), user_id=ALICE_ID)
    question = await fake_discord.wait_for_message(click, timeout=10)
    assert question.ephemeral and question.custom_ids
    assert source_question(reply) in shown_text(question)
    # "@Tutor why …" is no prefix command: nothing is logged as an error.
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


async def test_a_dm_question_is_answered_in_the_dm(
    fake_discord: FakeDiscord, tutor_bot: TutorBot
) -> None:
    sent, reply = await ask_in_dm(fake_discord, "why do we need an optimizer?")
    assert sent.guild_id is None and sent.delivered[0]["content"] == sent.content
    assert reply.kind == "dm" and reply.channel_id == fake_discord.dm_channel(BOB_ID).id
    assert "optimizer" in source_question(reply).casefold()
    assert button_labels(reply) == [QUIZ_ME, WORKED_PROBLEM]
    click = await fake_discord.click_button(reply, button(reply, WORKED_PROBLEM), user_id=BOB_ID)
    problem = await fake_discord.wait_for_message(click, timeout=10)
    assert "Practice" in embed(problem)["title"] and "Hint" in button_labels(problem)


async def test_a_follow_up_in_the_dm_continues_the_topic(
    fake_discord: FakeDiscord, tutor_bot: TutorBot
) -> None:
    follow_up_text = "and how does it know which way to change them?"
    # On its own (Alice's DM), the follow-up is not about the optimizer…
    _, alone = await ask_in_dm(fake_discord, follow_up_text, user_id=ALICE_ID)
    assert "optimizer" not in source_question(alone).casefold()
    # …after a question about the optimizer (Bob's DM), it is about the optimizer's gradients.
    _, first = await ask_in_dm(fake_discord, "what does the optimizer do?")
    assert "optimizer" in source_question(first).casefold()
    _, follow_up = await ask_in_dm(fake_discord, follow_up_text)
    assert "optimizer" in source_question(follow_up).casefold()
    assert "gradient" in shown_text(follow_up).casefold()


async def test_a_follow_up_in_a_thread_continues_the_topic(
    fake_discord: FakeDiscord, tutor_bot: TutorBot
) -> None:
    created = asyncio.ensure_future(tutor_bot.wait_for("thread_create", timeout=5))
    thread = fake_discord.add_thread(GUILD_ID, CHANNEL_ID, "optimizers", owner_id=BOB_ID)
    assert (await created).id == thread.id
    _, first = await ask_in_channel(
        fake_discord, "what does the optimizer do?", channel_id=thread.id
    )
    assert first.channel_id == thread.id
    _, follow_up = await ask_in_channel(
        fake_discord,
        "and how does it know which way to change them?",
        user_id=ALICE_ID,
        channel_id=thread.id,
    )
    assert "optimizer" in source_question(follow_up).casefold()


async def test_too_many_questions_are_slowed_down(
    fake_discord: FakeDiscord, tutor_bot: TutorBot
) -> None:
    limit = 6
    for _ in range(limit):
        _, answer = await ask_in_dm(fake_discord, "why do we need an optimizer?")
        assert "Slow down" not in shown_text(answer)
    _, slowed = await ask_in_dm(fake_discord, "why do we need an optimizer?")
    assert "Slow down a little" in shown_text(slowed) and not button_labels(slowed)
    # Another member is not slowed down by Bob's questions.
    _, alice = await ask_in_channel(fake_discord, "why do we need an optimizer?", user_id=ALICE_ID)
    assert "Slow down" not in shown_text(alice)


async def test_a_question_the_decks_do_not_cover_says_so(
    fake_discord: FakeDiscord, tutor_bot: TutorBot
) -> None:
    _, reply = await ask_in_channel(fake_discord, "how long should I boil pasta for dinner?")
    text = shown_text(reply)
    assert "I couldn't find that" in text and "/decks" in text
    assert not button_labels(reply)


async def test_in_a_channel_each_member_has_their_own_topic(
    fake_discord: FakeDiscord, tutor_bot: TutorBot
) -> None:
    follow_up_text = "and how does it know which way to change them?"
    _, first = await ask_in_channel(fake_discord, "what does the optimizer do?")
    assert "optimizer" in source_question(first).casefold()
    _, other = await ask_in_channel(fake_discord, follow_up_text, user_id=ALICE_ID)
    assert "optimizer" not in source_question(other).casefold()
    _, own = await ask_in_channel(fake_discord, follow_up_text)
    assert "optimizer" in source_question(own).casefold()


async def test_a_failing_lookup_gets_a_friendly_line(
    fake_discord: FakeDiscord,
    tutor_bot: TutorBot,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def broken(*args: object, **kwargs: object) -> Reply:
        raise RuntimeError("the index is on fire")

    monkeypatch.setattr(tutor_bot.services.ask, "ask", broken)
    _, reply = await ask_in_dm(fake_discord, "why do we need an optimizer?")
    text = shown_text(reply)
    assert "Something went wrong (id" in text and "fire" not in text
    incident = text.split("(id ")[1].split(")")[0]
    assert any(incident in record.getMessage() for record in caplog.records)
