"""Plain chat with the tutor: mention it in a server channel or thread, or send it a DM.

Discord sends the text of messages that mention the bot, and of DMs to it, without the
privileged Message Content intent, which the bot never asks for; other messages reach it
empty and are ignored. The question (the text without the mention) goes to
``services.ask``, and its :class:`~bot.core.replies.Reply` is posted as a reply to the
member's message, with the tutor's buttons ("Quiz me on this", …) that the client's
button routing hands to the study actions.

Follow-ups continue the topic within a conversation: a DM or a thread is one
conversation; in a channel each member has their own.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import TYPE_CHECKING

import discord
from discord.ext import commands

from bot.core.learners import Learner
from bot.core.replies import Reply, Tone
from bot.exts.dailyquiz import channel_send_kwargs
from bot.exts.error_handler import friendly_message
from bot.log import get_logger

if TYPE_CHECKING:
    from bot.exts.client import TutorBot

log = get_logger(__name__)

#: Member messages the tutor reads: plain messages and replies (not joins, pins, threads…).
CHAT_TYPES = (discord.MessageType.default, discord.MessageType.reply)
EMPTY_QUESTION = "Ask me something about your decks, e.g. @{name} why do we need an optimizer?"


def learner_from(message: discord.Message) -> Learner:
    """The services' view of who wrote ``message``, and in which server (None in DMs)."""
    guild = message.guild
    return Learner(
        platform="discord",
        external_id=str(message.author.id),
        display_name=message.author.display_name,
        guild_id=guild.id if guild is not None else None,
        guild_name=guild.name if guild is not None else "",
    )


def conversation_key(message: discord.Message) -> str:
    """Which conversation a question continues: the DM or thread, else the member in the
    channel (so two members asking in one channel keep their own topics)."""
    channel = message.channel
    if message.guild is None or isinstance(channel, discord.Thread):
        return f"discord:{channel.id}"
    return f"discord:{channel.id}:{message.author.id}"


def mention_pattern(bot_id: int) -> re.Pattern[str]:
    """The raw mentions of the bot user in a message's text (``<@id>`` and ``<@!id>``)."""
    return re.compile(rf"<@!?{bot_id}>")


def question_in(message: discord.Message, me: discord.abc.User) -> str | None:
    """The question ``message`` asks the tutor, without the mentions of it; ``""`` when it
    only mentions the tutor; ``None`` when the message is not for the tutor (a bot's, a
    webhook's, a system message, or a server message that does not mention it)."""
    author = message.author
    if author.bot or author.id == me.id or message.webhook_id is not None:
        return None
    if message.type not in CHAT_TYPES:
        return None
    mentions = mention_pattern(me.id)
    if message.guild is not None:
        mentioned = any(user.id == me.id for user in message.mentions)
        if not mentioned and mentions.search(message.content) is None:
            return None
    return " ".join(mentions.sub(" ", message.content).split())


def may_answer_in(message: discord.Message) -> bool:
    """Whether the tutor may post its answer (an embed) where ``message`` was sent.

    DMs are always fine; in a server the bot needs Send Messages (Send Messages in
    Threads in a thread) and Embed Links there. True when it cannot tell (a channel it
    does not know): then Discord's refusal is logged instead.
    """
    guild, channel = message.guild, message.channel
    if guild is None or guild.me is None:
        return True
    if not isinstance(channel, discord.abc.GuildChannel | discord.Thread):
        return True
    allowed = channel.permissions_for(guild.me)
    send = (
        allowed.send_messages_in_threads
        if isinstance(channel, discord.Thread)
        else allowed.send_messages
    )
    return allowed.view_channel and send and allowed.embed_links


def may_reply_in(message: discord.Message) -> bool:
    """Whether the answer can point at the question (a reply needs Read Message History)."""
    guild, channel = message.guild, message.channel
    if guild is None or guild.me is None:
        return True
    if not isinstance(channel, discord.abc.GuildChannel | discord.Thread):
        return True
    return channel.permissions_for(guild.me).read_message_history


@asynccontextmanager
async def typing_in(channel: discord.abc.Messageable) -> AsyncIterator[None]:
    """Show "is typing…" in ``channel`` while the body runs (the member sees the tutor is
    on it); if Discord refuses, carry on without."""
    async with AsyncExitStack() as stack:
        try:
            await stack.enter_async_context(channel.typing())
        except discord.HTTPException as error:
            log.info("could not show typing: %s", error)
        yield


class TutorChat(commands.Cog):
    """Answers questions that mention the tutor in a server, or come by DM."""

    def __init__(self, bot: TutorBot) -> None:
        self.bot = bot

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        """Answer ``message`` if it asks the tutor something (see :func:`question_in`)."""
        me = self.bot.user
        if me is None:
            return
        question = question_in(message, me)
        if question is None:
            return
        if not may_answer_in(message):
            log.info("not allowed to answer in channel %s; question ignored", message.channel.id)
            return
        if not question:
            await self.send(message, Reply(text=EMPTY_QUESTION.format(name=self.bot_name(message))))
            return
        async with typing_in(message.channel):
            reply = await self.answer(message, question)
        await self.send(message, reply)

    async def answer(self, message: discord.Message, question: str) -> Reply:
        """The tutor's reply to ``question``, or the friendly line for what went wrong."""
        try:
            return await self.bot.services.ask.ask(
                learner_from(message), question, conversation=conversation_key(message)
            )
        except Exception as error:
            return Reply(text=friendly_message(error), tone=Tone.ERROR)

    def bot_name(self, message: discord.Message) -> str:
        """What members see as the tutor's name here (its nickname in a server)."""
        guild = message.guild
        if guild is not None and guild.me is not None:
            return guild.me.display_name
        return self.bot.user.display_name if self.bot.user is not None else "Tutor"

    async def send(self, message: discord.Message, reply: Reply) -> None:
        """Post ``reply`` as a reply to ``message``; a refusal by Discord is logged."""
        kwargs = channel_send_kwargs(reply, media_dir=self.bot.settings.media_path)
        try:
            if may_reply_in(message):
                await message.reply(mention_author=False, **kwargs)
            else:
                await message.channel.send(**kwargs)
        except discord.Forbidden as error:
            log.info("not allowed to answer in channel %s: %s", message.channel.id, error)
        except discord.HTTPException as error:
            log.warning("could not answer in channel %s: %s", message.channel.id, error)


async def setup(bot: TutorBot) -> None:
    """Load the cog (discord.py extension entry point)."""
    await bot.add_cog(TutorChat(bot))
