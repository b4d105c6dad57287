"""REST routes under ``/channels/{channel}``: the channel and its messages."""

from __future__ import annotations

import re

from aiohttp import web

from .message_store import MessageStoreMixin
from .models import EPHEMERAL_FLAG, MessageKind
from .payloads import ChannelState
from .rest import CHANNEL, Body, HTTPError, RouteSpec, json_response
from .state import StoredMessage


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
            ("POST", rf"{chan}/typing", self._h_no_content),
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
        kind: MessageKind = "dm" if chan.type == 1 else "channel"
        stored = self._create_message(chan.id, body, kind=kind, interaction=None)
        return json_response(stored.payload)

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

    async def _h_get_channel(
        self, request: web.Request, m: re.Match[str], body: Body
    ) -> web.Response:
        return json_response(self._require_channel(m).payload(self.users))
