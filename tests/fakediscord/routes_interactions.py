"""REST routes for interactions: the callback and the interaction webhooks (followups).

``POST /interactions/{id}/{token}/callback`` enforces the acknowledgement deadline and
"already acknowledged"; ``/webhooks/{app}/{token}[/messages/{id|@original}]`` serve
followups and edits/deletes of the original response.
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any

from aiohttp import web

from .message_store import MessageStoreMixin
from .models import (
    EPHEMERAL_FLAG,
    LOADING_FLAG,
    AutocompleteRecord,
    CallbackRecord,
    MessageRecord,
    ModalRecord,
)
from .rest import APP, TOKEN, Body, HTTPError, RouteSpec, json_response
from .state import InteractionState, StoredMessage

log = logging.getLogger(__name__)

CALLBACK_PONG = 1
CALLBACK_CHANNEL_MESSAGE = 4
CALLBACK_DEFERRED_CHANNEL_MESSAGE = 5
CALLBACK_DEFERRED_UPDATE_MESSAGE = 6
CALLBACK_UPDATE_MESSAGE = 7
CALLBACK_AUTOCOMPLETE_RESULT = 8
CALLBACK_MODAL = 9


class InteractionRoutesMixin(MessageStoreMixin):
    """Interaction callbacks and the interaction webhook (followup/original) routes."""

    def _interaction_routes(self) -> list[RouteSpec]:
        message = rf"/webhooks/{APP}/{TOKEN}/messages/(?P<mid>@original|\d+)"
        return [
            ("POST", rf"/interactions/(?P<iid>\d+)/{TOKEN}/callback", self._h_callback),
            ("POST", rf"/webhooks/{APP}/{TOKEN}", self._h_followup),
            ("GET", message, self._h_wh_get),
            ("PATCH", message, self._h_wh_edit),
            ("DELETE", message, self._h_wh_delete),
        ]

    async def _h_callback(self, request: web.Request, m: re.Match[str], body: Body) -> web.Response:
        received = time.monotonic()
        iid = int(m["iid"])
        state = self.interactions.get(iid)
        if state is None or state.handle.token != m["token"]:
            raise HTTPError(404, 10062, "Unknown interaction")
        payload: dict[str, Any] = body.json or {}
        cb_type = int(payload.get("type", 0))
        data = payload.get("data")
        self._record_callback(iid, state, cb_type, data, body, received)
        resource: dict[str, Any] = {"type": cb_type}
        info: dict[str, Any] = {"id": str(iid), "type": state.handle.type}
        self._apply_callback(iid, state, cb_type, data or {}, body, resource, info)
        state.acked = True
        state.ack_type = cb_type
        self._notify()
        if request.query.get("with_response") not in ("1", "true", "True"):
            return web.Response(status=204)
        return json_response({"interaction": info, "resource": resource})

    def _record_callback(
        self,
        iid: int,
        state: InteractionState,
        cb_type: int,
        data: dict[str, Any] | None,
        body: Body,
        received: float,
    ) -> None:
        """Record the callback attempt; raise if it is late or a double acknowledgement."""
        elapsed = received - (state.dispatched_at or state.created_at)
        status, code = 200, None
        if state.acked:
            status, code = 400, 40060
        elif elapsed > self.ack_deadline_s:
            status, code = 404, 10062
        files = self._new_files(body, (data or {}).get("attachments") or []) if data else []
        self.callbacks.append(CallbackRecord(iid, cb_type, data, elapsed, status, code, files))
        log.info(
            "callback type %s for interaction %s after %.1f ms -> %s",
            cb_type,
            iid,
            elapsed * 1000,
            status,
        )
        self._notify()
        if code == 40060:
            raise HTTPError(400, 40060, "Interaction has already been acknowledged.")
        if code == 10062:
            raise HTTPError(404, 10062, "Unknown interaction")

    def _apply_callback(
        self,
        iid: int,
        state: InteractionState,
        cb_type: int,
        data: dict[str, Any],
        body: Body,
        resource: dict[str, Any],
        info: dict[str, Any],
    ) -> None:
        """Carry an accepted callback out, filling the ``with_response`` ``resource``/``info``."""
        msg_body = Body(json=data, files=body.files)
        flags = int(data.get("flags") or 0)
        if cb_type == CALLBACK_CHANNEL_MESSAGE:
            stored = self._create_message(
                state.handle.channel_id, msg_body, kind="interaction_response", interaction=state
            )
            state.original_message_id = stored.id
            resource["message"] = stored.payload
            info.update(
                response_message_id=str(stored.id),
                response_message_loading=False,
                response_message_ephemeral=bool(flags & EPHEMERAL_FLAG),
            )
        elif cb_type == CALLBACK_DEFERRED_CHANNEL_MESSAGE:
            stored = self._create_message(
                state.handle.channel_id,
                Body(json={"content": ""}),
                kind="interaction_response",
                interaction=state,
                flags=LOADING_FLAG | (flags & EPHEMERAL_FLAG),
                record=False,
            )
            state.original_message_id = stored.id
            state.deferred_ephemeral = bool(flags & EPHEMERAL_FLAG)
            resource["message"] = stored.payload
            info.update(
                response_message_id=str(stored.id),
                response_message_loading=True,
                response_message_ephemeral=state.deferred_ephemeral,
            )
        elif cb_type in (CALLBACK_DEFERRED_UPDATE_MESSAGE, CALLBACK_UPDATE_MESSAGE):
            if state.source_message_id is None:
                raise HTTPError(400, 50035, "Invalid Form Body: no message to update")
            stored = self._store[state.source_message_id]
            state.original_message_id = stored.id
            if cb_type == CALLBACK_UPDATE_MESSAGE:
                self._edit_message(stored, msg_body, interaction=state)
                resource["message"] = stored.payload
            info.update(response_message_id=str(stored.id))
        elif cb_type == CALLBACK_AUTOCOMPLETE_RESULT:
            self.autocompletes.append(AutocompleteRecord(iid, list(data.get("choices", []))))
        elif cb_type == CALLBACK_MODAL:
            self.modals.append(
                ModalRecord(
                    iid,
                    str(data.get("custom_id")),
                    str(data.get("title")),
                    data.get("components", []),
                )
            )
        elif cb_type != CALLBACK_PONG:
            log.warning("callback type %s not modelled", cb_type)

    # -- interaction webhooks --------------------------------------------------------------

    def _interaction_for_token(self, m: re.Match[str]) -> InteractionState:
        iid = self._by_token.get(m["token"])
        state = self.interactions.get(iid) if iid is not None else None
        if int(m["app"]) != self.application_id or state is None or not state.acked:
            raise HTTPError(404, 10015, "Unknown Webhook")
        return state

    def _webhook_message(self, m: re.Match[str], state: InteractionState) -> StoredMessage:
        mid_s = m["mid"]
        mid = state.original_message_id if mid_s == "@original" else int(mid_s)
        stored = self._store.get(mid) if mid is not None else None
        if stored is None or stored.deleted:
            raise HTTPError(404, 10008, "Unknown Message")
        return stored

    async def _h_followup(self, request: web.Request, m: re.Match[str], body: Body) -> web.Response:
        state = self._interaction_for_token(m)
        data = body.json if isinstance(body.json, dict) else {}
        original = self._store.get(state.original_message_id or 0)
        if original is not None and original.payload["flags"] & LOADING_FLAG:
            # Discord: the first followup after a type-5 defer replaces the "thinking" message.
            self._edit_message(original, body, interaction=state, kind="followup")
            stored = original
            flags = int(stored.payload["flags"]) & ~EPHEMERAL_FLAG
            stored.payload["flags"] = flags | (EPHEMERAL_FLAG if state.deferred_ephemeral else 0)
            rec = self.messages.pop()
            self.messages.append(
                MessageRecord(
                    **{**rec.__dict__, "action": "create", "flags": stored.payload["flags"]}
                )
            )
        else:
            stored = self._create_message(
                state.handle.channel_id,
                body,
                kind="followup",
                interaction=state,
                flags=int(data.get("flags") or 0),
            )
        if request.query.get("wait") in ("1", "true", "True"):
            return json_response(stored.payload)
        return web.Response(status=204)

    async def _h_wh_get(self, request: web.Request, m: re.Match[str], body: Body) -> web.Response:
        state = self._interaction_for_token(m)
        return json_response(self._webhook_message(m, state).payload)

    async def _h_wh_edit(self, request: web.Request, m: re.Match[str], body: Body) -> web.Response:
        state = self._interaction_for_token(m)
        stored = self._webhook_message(m, state)
        self._edit_message(stored, body, interaction=state)
        return json_response(stored.payload)

    async def _h_wh_delete(
        self, request: web.Request, m: re.Match[str], body: Body
    ) -> web.Response:
        state = self._interaction_for_token(m)
        stored = self._webhook_message(m, state)
        stored.deleted = True
        self._record(stored, "delete", {}, interaction_id=state.handle.id)
        return web.Response(status=204)
