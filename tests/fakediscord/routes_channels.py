"""REST routes under ``/channels/{channel}``: the channel and its messages.

Posting checks the bot's permissions in guild channels, as Discord does (403 without View
Channel / Send Messages, or Read Message History for a reply), and echoes the new message
back on the gateway as MESSAGE_CREATE to the sessions whose intents receive it.
"""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from .message_store import MessageStoreMixin
from .models import EPHEMERAL_FLAG, MessageKind
from .payloads import ChannelState
from .rest import CHANNEL, Body, HTTPError, RouteSpec, json_response
from .state import StoredMessage

VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
READ_MESSAGE_HISTORY = 1 << 16
SEND_MESSAGES_IN_THREADS = 1 << 38


class ChannelRoutesMixin(MessageStoreMixin):
    """Channel messages (send, history, get, edit, delete), reactions, typing, channel."""

    def _channel_routes(self) -> list[RouteSpec]:
        chan = rf"/channels/{CHANNEL}"
        msg = rf"{chan}/messages/(?P<mid>\d+)"
        return [
            ("POST", rf"{chan}/messages", self._h_channel_post),
            ("GET", rf"{chan}/messages", self._h_channel_history),
            ("GET", msg, self._h_channel_get_msg),
            ("PATCH", msg, self._h_channel_edit_msg),
            ("DELETE", msg, self._h_channel_delete_msg),
            ("PUT", rf"{msg}/reactions/.+", self._h_no_content),
            ("DELETE", rf"{msg}/reactions/.+", self._h_no_content),
            ("POST", rf"{chan}/typing", self._h_typing),
            ("GET", chan, self._h_get_channel),
        ]

    def _require_channel(self, m: re.Match[str]) -> ChannelState:
        chan = self.channel(int(m["channel"]))
        if chan is None:
            raise HTTPError(404, 10003, "Unknown Channel")
        return chan

    def _channel_message(self, m: re.Match[str]) -> StoredMessage:
        chan = self._require_channel(m)
        stored = self._store.get(int(m["mid"]))
        if stored is None or stored.deleted or stored.channel_id != chan.id:
            raise HTTPError(404, 10008, "Unknown Message")
        return stored

    async def _h_channel_post(
        self, request: web.Request, m: re.Match[str], body: Body
    ) -> web.Response:
        chan = self._require_channel(m)
        data = body.json if isinstance(body.json, dict) else {}
        if not (data.get("content") or data.get("embeds") or data.get("components") or body.files):
            raise HTTPError(400, 50006, "Cannot send an empty message")
        self._check_bot_may_post(chan, replying=bool(data.get("message_reference")))
        self._check_reference(chan, data.get("message_reference"))
        kind: MessageKind = "dm" if chan.type == 1 else "channel"
        stored = self._create_message(chan.id, body, kind=kind, interaction=None)
        self._announce(stored)
        return json_response(stored.payload)

    def _check_bot_may_post(self, chan: ChannelState, *, replying: bool = False) -> None:
        """403 unless the bot may send in a guild channel (and read its history to reply):
        View Channel, then Send Messages (in a thread: Send Messages in Threads)."""
        if chan.guild_id is None:
            return
        allowed = self.guilds[chan.guild_id].channel_permissions(self.bot_user.id, chan.id)
        if not allowed & VIEW_CHANNEL:
            raise HTTPError(403, 50001, "Missing Access")
        send = SEND_MESSAGES_IN_THREADS if chan.is_thread else SEND_MESSAGES
        if not allowed & send or (replying and not allowed & READ_MESSAGE_HISTORY):
            raise HTTPError(403, 50013, "Missing Permissions")

    def _check_reference(self, chan: ChannelState, reference: dict[str, Any] | None) -> None:
        """400 for a reply to a message that is not in this channel (unless the bot allowed
        that with ``fail_if_not_exists: false``)."""
        if not reference or reference.get("fail_if_not_exists") is False:
            return
        stored = self._store.get(int(reference.get("message_id") or 0))
        if stored is None or stored.deleted or stored.channel_id != chan.id:
            raise HTTPError(400, 50035, "Invalid Form Body: unknown message_reference")

    async def _h_channel_history(
        self, request: web.Request, m: re.Match[str], body: Body
    ) -> web.Response:
        chan = self._require_channel(m)
        limit = int(request.query.get("limit", 50))
        msgs = [
            s.payload
            for s in self._store.values()
            if s.channel_id == chan.id and not s.deleted and not s.payload["flags"] & EPHEMERAL_FLAG
        ]
        msgs.sort(key=lambda p: int(p["id"]), reverse=True)
        return json_response(msgs[:limit])

    async def _h_channel_get_msg(
        self, request: web.Request, m: re.Match[str], body: Body
    ) -> web.Response:
        return json_response(self._channel_message(m).payload)

    async def _h_channel_edit_msg(
        self, request: web.Request, m: re.Match[str], body: Body
    ) -> web.Response:
        stored = self._channel_message(m)
        self._edit_message(stored, body, interaction=None)
        return json_response(stored.payload)

    async def _h_channel_delete_msg(
        self, request: web.Request, m: re.Match[str], body: Body
    ) -> web.Response:
        stored = self._channel_message(m)
        stored.deleted = True
        self._record(stored, "delete", {})
        return web.Response(status=204)

    async def _h_no_content(
        self, request: web.Request, m: re.Match[str], body: Body
    ) -> web.Response:
        return web.Response(status=204)

    async def _h_typing(self, request: web.Request, m: re.Match[str], body: Body) -> web.Response:
        chan = self._require_channel(m)
        self._check_bot_may_post(chan)
        self.typing.append(chan.id)
        self._notify()
        return web.Response(status=204)

    async def _h_get_channel(
        self, request: web.Request, m: re.Match[str], body: Body
    ) -> web.Response:
        return json_response(self._require_channel(m).payload(self.users))
