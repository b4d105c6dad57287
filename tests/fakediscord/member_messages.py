"""Test-facing drivers for members' chat messages: MESSAGE_CREATE as Discord sends it.

:meth:`MemberMessagesMixin.send_user_message` stores a member's message in a guild
channel, a thread or the member's DM with the bot (so the bot can reply to it and fetch
it) and dispatches it on the gateway the way Discord does: only to sessions with the
GUILD_MESSAGES (guild) or DIRECT_MESSAGES (DM) intent, and without the privileged
MESSAGE_CONTENT intent with its content emptied unless it is a DM or mentions the bot
(:func:`~tests.fakediscord.gateway.message_as_seen`). The bot's answer is a channel message
with a ``message_reference``: ``wait_for_reply`` waits for it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from .drivers import UNSET, InteractionDriversMixin, _Unset
from .models import MessageKind, UserMessage
from .payloads import iso_now, snowflake
from .state import StoredMessage

USER_MENTION = re.compile(r"<@!?(\d+)>")
ROLE_MENTION = re.compile(r"<@&(\d+)>")
DEFAULT_MESSAGE = 0
REPLY_MESSAGE = 19


class MemberMessagesMixin(InteractionDriversMixin):
    """Members sending messages (``send_user_message``, ``send_dm``)."""

    @property
    def bot_mention(self) -> str:
        """The raw mention of the bot user (``<@id>``), to put in a message's text."""
        return f"<@{self.bot_user.id}>"

    async def send_dm(self, content: str, *, user_id: int) -> UserMessage:
        """A member's message in their DM with the bot (see :meth:`send_user_message`)."""
        return await self.send_user_message(content, user_id=user_id, guild_id=None)

    async def send_user_message(
        self,
        content: str,
        *,
        user_id: int,
        guild_id: int | _Unset | None = UNSET,
        channel_id: int | None = None,
        reply_to: int | None = None,
        mention_replied: bool = True,
        embeds: Sequence[dict[str, Any]] = (),
    ) -> UserMessage:
        """A member posts ``content``; MESSAGE_CREATE goes to the sessions that may see it.

        ``guild_id=None`` sends it in the member's DM with the bot; the default is the first
        guild's first text channel (or ``channel_id``: a channel or a thread of that guild,
        of which the member must be a member). ``<@id>`` / ``<@!id>`` in the text mention
        those users (:attr:`bot_mention` the bot), ``<@&id>`` roles. ``reply_to`` makes it a
        reply to that message of the same channel, which mentions its author unless
        ``mention_replied`` is false (Discord's "@ON" reply toggle).
        """
        gid, cid = self._resolve_place(user_id, guild_id, channel_id)
        if gid is not None and user_id not in self.guilds[gid].members:
            raise ValueError(f"user {user_id} is not a member of guild {gid}")
        author = self.users.get(user_id) or self.add_user(user_id, f"user{user_id}")
        mentioned = self._mentioned_users(content)
        message: dict[str, Any] = {
            "id": str(snowflake()),
            "channel_id": str(cid),
            "author": author.payload(),
            "content": content,
            "timestamp": iso_now(),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": list(dict.fromkeys(ROLE_MENTION.findall(content))),
            "mention_channels": [],
            "attachments": [],
            "embeds": [dict(embed) for embed in embeds],
            "reactions": [],
            "pinned": False,
            "type": DEFAULT_MESSAGE,
            "flags": 0,
            "components": [],
        }
        if gid is not None:
            message["guild_id"] = str(gid)
        if reply_to is not None:
            replied_author = self._make_reply(message, reply_to)
            if mention_replied and replied_author not in mentioned:
                mentioned.append(replied_author)
        message["mentions"] = [self.users[uid].payload() for uid in mentioned]
        kind: MessageKind = "dm" if gid is None else "channel"
        stored = StoredMessage(payload=message, kind=kind, interaction_id=None, files=[])
        self._store[stored.id] = stored
        delivered = await self.gateway.dispatch_message(self._message_event(message))
        self._notify()
        return UserMessage(
            id=stored.id,
            channel_id=cid,
            guild_id=gid,
            author_id=user_id,
            content=content,
            payload=message,
            delivered=delivered,
        )

    def _mentioned_users(self, content: str) -> list[int]:
        """Known users mentioned in ``content``, once each, in order."""
        ids = (int(found) for found in USER_MENTION.findall(content))
        return list(dict.fromkeys(uid for uid in ids if uid in self.users))

    def _make_reply(self, message: dict[str, Any], reply_to: int) -> int:
        """Turn ``message`` into a reply to stored message ``reply_to``; its author's id."""
        target = self._store.get(reply_to)
        if target is None or target.deleted or target.channel_id != int(message["channel_id"]):
            raise LookupError(f"message {reply_to} is not in channel {message['channel_id']}")
        reference = {"message_id": str(reply_to), "channel_id": message["channel_id"], "type": 0}
        if "guild_id" in message:
            reference["guild_id"] = message["guild_id"]
        message["type"] = REPLY_MESSAGE
        message["message_reference"] = reference
        message["referenced_message"] = {
            k: v for k, v in target.payload.items() if k != "referenced_message"
        }
        return int(target.payload["author"]["id"])
