"""Self-test of members' messages in the fake: MESSAGE_CREATE and Discord's intent rules.

A small real discord.py client echoes what it reads; the fake decides who gets a message
(GUILD_MESSAGES / DIRECT_MESSAGES) and empties the content without MESSAGE_CONTENT unless
the message is a DM or mentions the bot.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import discord
import pytest_asyncio

from tests.fakediscord import FakeDiscord, running_client
from tests.fakediscord.fixtures import ALICE_ID, BOB_ID, CHANNEL_ID, GUILD_ID
from tests.fakediscord.gateway import (
    DIRECT_MESSAGES,
    GUILD_MESSAGES,
    MESSAGE_CONTENT,
    message_as_seen,
)

BOT_ID = 42
SEND_MESSAGES = 1 << 11


class EchoBot(discord.Client):
    """Queues every message it reads; answers members' messages that have text."""

    def __init__(self, intents: discord.Intents) -> None:
        super().__init__(intents=intents)
        self.inbox: asyncio.Queue[discord.Message] = asyncio.Queue()
        self.refused: asyncio.Queue[int] = asyncio.Queue()

    async def on_message(self, message: discord.Message) -> None:
        """Queue it; reply ``echo: <text>`` to a member's message with text."""
        await self.inbox.put(message)
        if message.author.bot or not message.content:
            return
        try:
            await message.reply(f"echo: {message.content}", mention_author=False)
        except discord.HTTPException as error:
            await self.refused.put(error.code)

    async def next_message(self) -> discord.Message:
        """The next message the client read (waits up to 5 s)."""
        return await asyncio.wait_for(self.inbox.get(), timeout=5)


@pytest_asyncio.fixture
async def echo_bot(fake_discord: FakeDiscord) -> AsyncIterator[EchoBot]:
    """An EchoBot with discord.py's default intents (messages, no message content)."""
    async with running_client(EchoBot(discord.Intents.default()), fake_discord) as client:
        yield client


def chat(**overrides: object) -> dict[str, object]:
    """A guild MESSAGE_CREATE payload from Alice with text, an embed and no mentions."""
    data: dict[str, object] = {
        "guild_id": str(GUILD_ID),
        "author": {"id": str(ALICE_ID)},
        "content": "hello",
        "embeds": [{"title": "x"}],
        "attachments": [{"id": "1"}],
        "components": [{"type": 1}],
        "poll": {},
        "mentions": [],
    }
    data.update(overrides)
    return data


def test_without_message_content_only_mentions_dms_and_own_messages_keep_their_text() -> None:
    plain = message_as_seen(chat(), intents=GUILD_MESSAGES, bot_user_id=BOT_ID)
    assert (plain["content"], plain["embeds"], plain["attachments"], plain["components"]) == (
        "",
        [],
        [],
        [],
    )
    assert "poll" not in plain
    kept = [
        chat(mentions=[{"id": str(BOT_ID)}]),
        chat(author={"id": str(BOT_ID)}),
        {k: v for k, v in chat().items() if k != "guild_id"},
    ]
    for data in kept:
        assert message_as_seen(data, intents=GUILD_MESSAGES, bot_user_id=BOT_ID) == data
    with_intent = GUILD_MESSAGES | MESSAGE_CONTENT
    assert message_as_seen(chat(), intents=with_intent, bot_user_id=BOT_ID) == chat()


async def test_a_mention_keeps_its_text_and_the_reply_is_recorded(
    fake_discord: FakeDiscord, echo_bot: EchoBot
) -> None:
    sent = await fake_discord.send_user_message(f"{fake_discord.bot_mention} why?", user_id=BOB_ID)
    assert sent.mention_ids == [fake_discord.bot_user_id]
    assert [d["content"] for d in sent.delivered] == [sent.content]
    read = await echo_bot.next_message()
    assert read.id == sent.id and read.content == sent.content
    assert isinstance(read.author, discord.Member) and read.author.id == BOB_ID
    assert echo_bot.user in read.mentions
    reply = await fake_discord.wait_for_reply(sent)
    assert reply.content == f"echo: {sent.content}" and reply.channel_id == CHANNEL_ID
    assert reply.kind == "channel" and reply.reply_to == sent.id
    # Discord echoes the bot's own message back to it (with its text).
    own = await echo_bot.next_message()
    assert own.author == echo_bot.user and own.content == reply.content
    assert own.reference is not None and own.reference.message_id == sent.id


async def test_a_message_without_a_mention_arrives_without_its_text(
    fake_discord: FakeDiscord, echo_bot: EchoBot
) -> None:
    sent = await fake_discord.send_user_message(
        "just chatting", user_id=ALICE_ID, embeds=[{"title": "link"}]
    )
    assert sent.payload["content"] == "just chatting"
    assert [(d["content"], d["embeds"]) for d in sent.delivered] == [("", [])]
    read = await echo_bot.next_message()
    assert read.id == sent.id and read.content == "" and read.embeds == []
    assert fake_discord.replies_to(sent) == []


async def test_a_dm_keeps_its_text_and_is_answered_in_the_dm(
    fake_discord: FakeDiscord, echo_bot: EchoBot
) -> None:
    sent = await fake_discord.send_dm("what is a tensor?", user_id=BOB_ID)
    assert sent.guild_id is None and "guild_id" not in sent.delivered[0]
    read = await echo_bot.next_message()
    assert read.guild is None and read.content == "what is a tensor?"
    reply = await fake_discord.wait_for_reply(sent)
    assert reply.kind == "dm" and reply.channel_id == fake_discord.dm_channel(BOB_ID).id


async def test_a_reply_to_the_bot_mentions_it(fake_discord: FakeDiscord, echo_bot: EchoBot) -> None:
    first = await fake_discord.send_user_message(f"{fake_discord.bot_mention} hi", user_id=BOB_ID)
    answer = await fake_discord.wait_for_reply(first)
    follow_up = await fake_discord.send_user_message(
        "and then?", user_id=BOB_ID, reply_to=answer.id
    )
    assert follow_up.mention_ids == [fake_discord.bot_user_id]
    assert follow_up.delivered[0]["content"] == "and then?"
    quiet = await fake_discord.send_user_message(
        "psst", user_id=BOB_ID, reply_to=answer.id, mention_replied=False
    )
    assert quiet.delivered[0]["content"] == ""


async def test_a_thread_message_and_its_reply(fake_discord: FakeDiscord, echo_bot: EchoBot) -> None:
    created = asyncio.ensure_future(echo_bot.wait_for("thread_create", timeout=5))
    thread = fake_discord.add_thread(GUILD_ID, CHANNEL_ID, "questions", owner_id=BOB_ID)
    assert (await created).id == thread.id
    sent = await fake_discord.send_user_message(
        f"{fake_discord.bot_mention} hi", user_id=BOB_ID, channel_id=thread.id
    )
    read = await echo_bot.next_message()
    assert isinstance(read.channel, discord.Thread) and read.channel.parent_id == CHANNEL_ID
    reply = await fake_discord.wait_for_reply(sent)
    assert reply.channel_id == thread.id


async def test_the_bot_cannot_reply_where_it_may_not_send(
    fake_discord: FakeDiscord, echo_bot: EchoBot
) -> None:
    fake_discord.set_overwrite(GUILD_ID, CHANNEL_ID, fake_discord.bot_user_id, deny=SEND_MESSAGES)
    sent = await fake_discord.send_user_message(f"{fake_discord.bot_mention} hi", user_id=BOB_ID)
    await echo_bot.next_message()
    assert await asyncio.wait_for(echo_bot.refused.get(), timeout=5) == 50013
    assert fake_discord.replies_to(sent) == []


async def test_intents_decide_who_gets_messages(fake_discord: FakeDiscord) -> None:
    intents = discord.Intents.none()
    intents.guilds = True
    intents.dm_messages = True
    async with running_client(EchoBot(intents), fake_discord) as client:
        in_guild = await fake_discord.send_user_message(
            f"{fake_discord.bot_mention} hi", user_id=BOB_ID
        )
        assert in_guild.delivered == []
        dm = await fake_discord.send_dm("hi", user_id=BOB_ID)
        assert [d["content"] for d in dm.delivered] == ["hi"]
        assert (await client.next_message()).id == dm.id
    assert fake_discord.gateway.latest is not None
    assert fake_discord.gateway.latest.intents & (GUILD_MESSAGES | DIRECT_MESSAGES) == (
        DIRECT_MESSAGES
    )


async def test_with_message_content_every_message_keeps_its_text(
    fake_discord: FakeDiscord,
) -> None:
    intents = discord.Intents.default()
    intents.message_content = True
    async with running_client(EchoBot(intents), fake_discord) as client:
        sent = await fake_discord.send_user_message("no mention", user_id=ALICE_ID)
        assert (await client.next_message()).content == "no mention"
        assert (await fake_discord.wait_for_reply(sent)).content == "echo: no mention"
