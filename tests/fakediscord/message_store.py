"""Message storage of the fake: create/edit stored messages and record every change.

``server._store`` holds the *current* state of each message (what ``GET`` returns, as a
:class:`~tests.fakediscord.state.StoredMessage`); ``server.messages`` gets one
:class:`~tests.fakediscord.models.MessageRecord` per create/edit/delete, in order.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from .models import (
    EPHEMERAL_FLAG,
    INTERACTION_APPLICATION_COMMAND,
    LOADING_FLAG,
    AttachmentRecord,
    MessageAction,
    MessageKind,
    MessageRecord,
)
from .payloads import iso_now, snowflake
from .rest import Body
from .state import FakeState, InteractionState, StoredMessage

log = logging.getLogger(__name__)


def reply_id(message: dict[str, Any]) -> int | None:
    """The id of the message ``message`` replies to, if it is a reply."""
    reference = message.get("message_reference") or {}
    message_id = reference.get("message_id")
    return int(message_id) if message_id is not None else None


class MessageStoreMixin(FakeState):
    """Creating, editing and snapshotting stored messages and their attachments."""

    def get_message(self, message_id: int) -> MessageRecord:
        """Current state of a message as a record (``KeyError`` if unknown)."""
        stored = self._store[message_id]
        return self._snapshot(
            stored, "edit" if stored.payload.get("edited_timestamp") else "create"
        )

    def _attachment_payload(self, channel_id: int, att: AttachmentRecord) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(att.id),
            "filename": att.filename,
            "size": att.size,
            "url": f"{self.base_url}/attachments/{channel_id}/{att.id}/{att.filename}",
            "proxy_url": f"{self.base_url}/attachments/{channel_id}/{att.id}/{att.filename}",
            "content_type": att.content_type,
        }
        if att.description is not None:
            data["description"] = att.description
        return data

    def _new_files(self, body: Body, meta: list[dict[str, Any]]) -> list[AttachmentRecord]:
        by_index = {str(m.get("id")): m for m in meta}
        files = []
        for index, filename, ctype, blob in body.files:
            info = by_index.get(str(index), {})
            files.append(
                AttachmentRecord(
                    id=snowflake(),
                    filename=str(info.get("filename") or filename),
                    content_type=ctype,
                    data=blob,
                    description=info.get("description"),
                )
            )
        return files

    def _create_message(
        self,
        channel_id: int,
        body: Body,
        *,
        kind: MessageKind,
        interaction: InteractionState | None,
        flags: int | None = None,
        record: bool = True,
        message_id: int | None = None,
    ) -> StoredMessage:
        data: dict[str, Any] = body.json if isinstance(body.json, dict) else {}
        chan = self.channel(channel_id)
        files = self._new_files(body, data.get("attachments") or [])
        msg: dict[str, Any] = {
            "id": str(message_id or snowflake()),
            "channel_id": str(channel_id),
            "author": self.bot_user.payload(),
            "content": data.get("content") or "",
            "timestamp": iso_now(),
            "edited_timestamp": None,
            "tts": bool(data.get("tts", False)),
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "mention_channels": [],
            "attachments": [],
            "embeds": data.get("embeds") or [],
            "reactions": [],
            "pinned": False,
            "type": 0,
            "flags": int(data.get("flags") or 0) if flags is None else flags,
            "components": data.get("components") or [],
        }
        if chan is not None and chan.guild_id is not None:
            msg["guild_id"] = str(chan.guild_id)
        if data.get("message_reference"):
            msg["message_reference"] = data["message_reference"]
            msg["type"] = 19
            referenced = self._store.get(reply_id(msg) or 0)
            if referenced is not None:
                msg["referenced_message"] = {
                    k: v for k, v in referenced.payload.items() if k != "referenced_message"
                }
        if interaction is not None:
            handle = interaction.handle
            msg["application_id"] = str(self.application_id)
            msg["webhook_id"] = str(self.application_id)
            meta: dict[str, Any] = {
                "id": str(handle.id),
                "type": handle.type,
                "user": self.users[handle.user_id].payload(),
                "authorizing_integration_owners": handle.payload.get(
                    "authorizing_integration_owners", {}
                ),
            }
            if interaction.source_message_id is not None:
                meta["interacted_message_id"] = str(interaction.source_message_id)
            msg["interaction_metadata"] = meta
            if handle.type == INTERACTION_APPLICATION_COMMAND and kind == "interaction_response":
                msg["type"] = 20
        stored = StoredMessage(
            payload=msg,
            kind=kind,
            interaction_id=interaction.handle.id if interaction else None,
            files=files,
        )
        msg["attachments"] = [self._attachment_payload(channel_id, f) for f in files]
        self._store[stored.id] = stored
        if record:
            self._record(stored, "create", data)
        return stored

    def _message_event(self, message: dict[str, Any]) -> dict[str, Any]:
        """The MESSAGE_CREATE ``d`` for a stored message: in a guild, the author and every
        mentioned member carry their partial ``member`` object, as Discord sends them."""
        event: dict[str, Any] = json.loads(json.dumps(message))
        guild = self.guilds.get(int(event["guild_id"])) if event.get("guild_id") else None
        if guild is None:
            return event
        author = guild.members.get(int(event["author"]["id"]))
        if author is not None:
            event["member"] = author.payload(with_user=False)
        for user in event["mentions"]:
            member = guild.members.get(int(user["id"]))
            if member is not None:
                user["member"] = member.payload(with_user=False)
        return event

    def _announce(self, stored: StoredMessage) -> None:
        """Dispatch MESSAGE_CREATE for a message the bot posted in a channel (in the
        background), to the sessions whose intents receive it — as Discord echoes a bot's
        own messages back to it."""
        event = self._message_event(stored.payload)
        task = asyncio.get_running_loop().create_task(self.gateway.dispatch_message(event))
        self._bg_tasks.add(task)
        task.add_done_callback(self._bg_tasks.discard)

    def _edit_message(
        self,
        stored: StoredMessage,
        body: Body,
        *,
        interaction: InteractionState | None,
        kind: MessageKind | None = None,
        clear_loading: bool = True,
    ) -> StoredMessage:
        data: dict[str, Any] = body.json if isinstance(body.json, dict) else {}
        msg = stored.payload
        if "content" in data:
            msg["content"] = data["content"] or ""
        if "embeds" in data:
            msg["embeds"] = data["embeds"] or []
        if "components" in data:
            msg["components"] = data["components"] or []
        if "flags" in data and data["flags"] is not None:
            keep = int(msg["flags"]) & EPHEMERAL_FLAG
            msg["flags"] = int(data["flags"]) | keep
        if clear_loading:
            msg["flags"] = int(msg["flags"]) & ~LOADING_FLAG
        new_files = self._new_files(body, data.get("attachments") or [])
        if "attachments" in data:
            keep_ids = {str(a.get("id")) for a in data["attachments"] or []}
            stored.files = [f for f in stored.files if str(f.id) in keep_ids] + new_files
        else:
            stored.files = stored.files + new_files
        msg["attachments"] = [self._attachment_payload(stored.channel_id, f) for f in stored.files]
        msg["edited_timestamp"] = iso_now()
        if kind is not None:
            stored.kind = kind
        self._record(
            stored, "edit", data, interaction_id=interaction.handle.id if interaction else None
        )
        return stored

    def _snapshot(
        self, stored: StoredMessage, action: MessageAction, *, interaction_id: int | None = None
    ) -> MessageRecord:
        msg = stored.payload
        return MessageRecord(
            id=stored.id,
            channel_id=stored.channel_id,
            guild_id=int(msg["guild_id"]) if msg.get("guild_id") else None,
            kind=stored.kind,
            action=action,
            content=msg["content"],
            embeds=json.loads(json.dumps(msg["embeds"])),
            components=json.loads(json.dumps(msg["components"])),
            attachments=list(stored.files),
            flags=int(msg["flags"]),
            interaction_id=interaction_id if interaction_id is not None else stored.interaction_id,
            payload={},
            reply_to=reply_id(msg),
        )

    def _record(
        self,
        stored: StoredMessage,
        action: MessageAction,
        request_payload: dict[str, Any],
        *,
        interaction_id: int | None = None,
    ) -> MessageRecord:
        rec = self._snapshot(stored, action, interaction_id=interaction_id)
        rec = MessageRecord(**{**rec.__dict__, "payload": request_payload})
        self.messages.append(rec)
        log.debug("message %s %s (%s): %r", action, rec.id, rec.kind, rec.content[:80])
        self._notify()
        return rec
