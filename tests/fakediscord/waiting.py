# Waiters take ``timeout=`` on purpose: it is the test-facing API.
# ruff: noqa: ASYNC109
"""Test-facing waiters and record queries of the fake (``wait_for_*``, ``*_for``).

Every state change calls ``_notify()``, which wakes :meth:`WaitersMixin.wait_for`; the
other waiters are probes over the recorded ``callbacks``/``messages``/``modals``/...
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any, TypeVar

from .models import (
    AutocompleteRecord,
    CallbackRecord,
    InteractionHandle,
    MessageRecord,
    ModalRecord,
    UserMessage,
)
from .state import FakeState

T = TypeVar("T")


class WaitersMixin(FakeState):
    """``wait_for`` and the typed waiters built on it."""

    async def wait_for(
        self, probe: Callable[[], T | None], *, timeout: float = 5.0, what: str = "condition"
    ) -> T:
        """Wait until ``probe()`` returns something truthy and return it."""
        deadline = time.monotonic() + timeout
        while True:
            event = self._changed
            result = probe()
            if result:
                return result
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
            try:
                await asyncio.wait_for(event.wait(), timeout=remaining)
            except TimeoutError:
                continue

    async def wait_for_gateway_ready(self, *, timeout: float = 10.0) -> None:
        """Wait until a client has identified (READY + GUILD_CREATEs sent)."""
        await self.wait_for(
            lambda: self.gateway.latest is not None and self.gateway.latest.connected,
            timeout=timeout,
            what="gateway IDENTIFY",
        )

    async def wait_for_commands(
        self, *names: str, guild_id: int | None = None, timeout: float = 5.0
    ) -> list[dict[str, Any]]:
        """Wait until all ``names`` are registered (globally or for ``guild_id``)."""
        return await self.wait_for(
            lambda: (
                list(self.commands.get(guild_id, {}).values())
                if set(names) <= self.command_names(guild_id)
                else None
            ),
            timeout=timeout,
            what=f"commands {names} (guild {guild_id})",
        )

    def messages_for(self, handle: InteractionHandle | int) -> list[MessageRecord]:
        """All message records produced by an interaction (responses, edits, followups)."""
        iid = handle if isinstance(handle, int) else handle.id
        return [m for m in self.messages if m.interaction_id == iid]

    def callbacks_for(self, handle: InteractionHandle | int) -> list[CallbackRecord]:
        """All callback attempts for an interaction."""
        iid = handle if isinstance(handle, int) else handle.id
        return [c for c in self.callbacks if c.interaction_id == iid]

    async def wait_for_callback(
        self, handle: InteractionHandle, *, timeout: float = 5.0
    ) -> CallbackRecord:
        """Wait for the first callback attempt (accepted or rejected) for ``handle``."""
        return await self.wait_for(
            lambda: next(iter(self.callbacks_for(handle)), None),
            timeout=timeout,
            what=f"callback for interaction {handle.id}",
        )

    def _first_response(
        self, handle: InteractionHandle
    ) -> MessageRecord | ModalRecord | AutocompleteRecord | None:
        for modal in self.modals:
            if modal.interaction_id == handle.id:
                return modal
        for auto in self.autocompletes:
            if auto.interaction_id == handle.id:
                return auto
        for msg in self.messages_for(handle):
            if not msg.loading and msg.action != "delete":
                return msg
        return None

    async def wait_for_response(
        self, handle: InteractionHandle, *, timeout: float = 5.0
    ) -> MessageRecord | ModalRecord | AutocompleteRecord:
        """First visible answer: a message (type 4/7, edit of a deferred original, followup),
        a modal (type 9) or autocomplete choices (type 8)."""
        return await self.wait_for(
            lambda: self._first_response(handle),
            timeout=timeout,
            what=f"response to interaction {handle.id}",
        )

    async def _wait_for_kind(
        self, handle: InteractionHandle, kind: type[T], what: str, timeout: float
    ) -> T:
        """The first response to ``handle``, which must be a ``kind``."""
        resp = await self.wait_for_response(handle, timeout=timeout)
        if not isinstance(resp, kind):
            raise AssertionError(f"expected {what}, bot answered with {resp!r}")
        return resp

    async def wait_for_message(
        self, handle: InteractionHandle, *, timeout: float = 5.0
    ) -> MessageRecord:
        """Like :meth:`wait_for_response` but requires a message."""
        return await self._wait_for_kind(handle, MessageRecord, "a message", timeout)

    async def wait_for_modal(
        self, handle: InteractionHandle, *, timeout: float = 5.0
    ) -> ModalRecord:
        """Wait for the bot to open a modal in response to ``handle``."""
        return await self._wait_for_kind(handle, ModalRecord, "a modal", timeout)

    async def wait_for_autocomplete(
        self, handle: InteractionHandle, *, timeout: float = 5.0
    ) -> AutocompleteRecord:
        """Wait for the autocomplete choices returned for ``handle``."""
        return await self._wait_for_kind(
            handle, AutocompleteRecord, "autocomplete choices", timeout
        )

    async def wait_for_followup(
        self, handle: InteractionHandle, index: int = 0, *, timeout: float = 5.0
    ) -> MessageRecord:
        """Wait for the ``index``-th followup message (``POST /webhooks/{app}/{token}``)."""

        def probe() -> MessageRecord | None:
            followups = [m for m in self.messages_for(handle) if m.kind == "followup"]
            return followups[index] if len(followups) > index else None

        return await self.wait_for(probe, timeout=timeout, what=f"followup #{index} of {handle.id}")

    async def wait_for_edit(
        self, handle: InteractionHandle, *, index: int = 0, timeout: float = 5.0
    ) -> MessageRecord:
        """Wait for the ``index``-th edit made through ``handle`` (type 7 or webhook PATCH)."""

        def probe() -> MessageRecord | None:
            edits = [m for m in self.messages_for(handle) if m.action == "edit"]
            return edits[index] if len(edits) > index else None

        return await self.wait_for(probe, timeout=timeout, what=f"edit #{index} via {handle.id}")

    async def wait_for_channel_message(
        self,
        channel_id: int | None = None,
        *,
        predicate: Callable[[MessageRecord], bool] | None = None,
        after: int = 0,
        timeout: float = 5.0,
    ) -> MessageRecord:
        """Wait for a message the bot created via ``POST /channels/{id}/messages``.

        ``after`` skips records before that index of ``server.messages`` (pass
        ``len(server.messages)`` taken before triggering the bot).
        """

        def probe() -> MessageRecord | None:
            for msg in self.messages[after:]:
                if msg.kind not in ("channel", "dm") or msg.action != "create":
                    continue
                if channel_id is not None and msg.channel_id != channel_id:
                    continue
                if predicate is None or predicate(msg):
                    return msg
            return None

        return await self.wait_for(probe, timeout=timeout, what=f"message in channel {channel_id}")

    def replies_to(self, message: UserMessage | int) -> list[MessageRecord]:
        """The messages the bot posted in reply to ``message`` (a member's message)."""
        mid = message if isinstance(message, int) else message.id
        return [
            m
            for m in self.messages
            if m.reply_to == mid and m.action == "create" and m.kind in ("channel", "dm")
        ]

    async def wait_for_reply(
        self, message: UserMessage | int, *, timeout: float = 5.0
    ) -> MessageRecord:
        """Wait for the bot's reply to ``message`` (a channel message whose
        ``message_reference`` points at it, as ``Message.reply`` sends)."""
        mid = message if isinstance(message, int) else message.id
        return await self.wait_for(
            lambda: next(iter(self.replies_to(mid)), None),
            timeout=timeout,
            what=f"a reply to message {mid}",
        )
