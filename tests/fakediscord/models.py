"""Plain data records kept by :class:`~tests.fakediscord.server.FakeDiscord`.

Everything a test may want to assert on (callbacks, messages, modals, autocomplete
results, raw requests) is stored as one of these small dataclasses.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

EPHEMERAL_FLAG = 64
"""``MessageFlags.ephemeral``."""
LOADING_FLAG = 128
"""``MessageFlags.loading`` (a deferred "Bot is thinking..." placeholder)."""

INTERACTION_PING = 1
INTERACTION_APPLICATION_COMMAND = 2
INTERACTION_COMPONENT = 3
INTERACTION_AUTOCOMPLETE = 4
INTERACTION_MODAL_SUBMIT = 5

MessageKind = Literal["channel", "dm", "interaction_response", "followup"]
MessageAction = Literal["create", "edit", "delete"]


def _walk_components(components: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Yield every component dict, depth first, including nested rows/labels/sections."""
    for comp in components:
        yield comp
        nested = comp.get("components")
        if isinstance(nested, list):
            yield from _walk_components(nested)
        inner = comp.get("component")
        if isinstance(inner, dict):
            yield from _walk_components([inner])
        accessory = comp.get("accessory")
        if isinstance(accessory, dict):
            yield from _walk_components([accessory])


@dataclass(frozen=True)
class AttachmentRecord:
    """A file the bot uploaded (multipart ``files[n]``)."""

    id: int
    filename: str
    content_type: str | None
    data: bytes
    description: str | None = None

    @property
    def size(self) -> int:
        """Size of the uploaded bytes."""
        return len(self.data)


@dataclass(frozen=True)
class MessageRecord:
    """A snapshot of a message the bot created, edited or deleted.

    ``server.messages`` holds one record per create/edit/delete, in order.
    """

    id: int
    channel_id: int
    guild_id: int | None
    kind: MessageKind
    action: MessageAction
    content: str
    embeds: list[dict[str, Any]]
    components: list[dict[str, Any]]
    attachments: list[AttachmentRecord]
    flags: int
    interaction_id: int | None
    payload: dict[str, Any]
    """The JSON body (or ``payload_json``) the bot sent for this create/edit."""
    at: float = field(default_factory=time.monotonic)
    reply_to: int | None = None
    """The message this one replies to (its ``message_reference``), if any."""

    @property
    def ephemeral(self) -> bool:
        """Whether the message has the EPHEMERAL (64) flag."""
        return bool(self.flags & EPHEMERAL_FLAG)

    @property
    def loading(self) -> bool:
        """Whether this is still a deferred "thinking" placeholder."""
        return bool(self.flags & LOADING_FLAG)

    def iter_components(self) -> Iterator[dict[str, Any]]:
        """Iterate all components, including nested ones."""
        return _walk_components(self.components)

    @property
    def custom_ids(self) -> list[str]:
        """All component ``custom_id`` values in the message."""
        return [c["custom_id"] for c in self.iter_components() if "custom_id" in c]

    def component(self, custom_id: str) -> dict[str, Any]:
        """Return the component with ``custom_id`` (``KeyError`` if absent)."""
        for comp in self.iter_components():
            if comp.get("custom_id") == custom_id:
                return comp
        raise KeyError(f"message {self.id} has no component {custom_id!r}; has {self.custom_ids}")


@dataclass(frozen=True)
class UserMessage:
    """A message a member sent (see ``FakeDiscord.send_user_message``).

    ``payload`` is the full message, as a bot with the Message Content intent sees it;
    ``delivered`` holds the MESSAGE_CREATE ``d`` each gateway session was sent, after
    Discord's intent rules (empty when no session may receive it).
    """

    id: int
    channel_id: int
    guild_id: int | None
    author_id: int
    content: str
    payload: dict[str, Any] = field(repr=False)
    delivered: list[dict[str, Any]] = field(repr=False)

    @property
    def mention_ids(self) -> list[int]:
        """Ids of the users the message mentions."""
        return [int(user["id"]) for user in self.payload["mentions"]]


@dataclass(frozen=True)
class CallbackRecord:
    """One ``POST /interactions/{id}/{token}/callback`` and how the fake answered it."""

    interaction_id: int
    type: int
    data: dict[str, Any] | None
    elapsed_s: float
    """Seconds between dispatching INTERACTION_CREATE and receiving this callback."""
    status: int
    """HTTP status the fake answered with (200, 404 late, 400 double ack)."""
    error_code: int | None = None
    """Discord JSON error code (10062 unknown interaction, 40060 already acknowledged)."""
    attachments: list[AttachmentRecord] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether the callback was accepted."""
        return 200 <= self.status < 300


@dataclass(frozen=True)
class ModalRecord:
    """A modal the bot opened (callback type 9)."""

    interaction_id: int
    custom_id: str
    title: str
    components: list[dict[str, Any]]

    def iter_components(self) -> Iterator[dict[str, Any]]:
        """Iterate all components, including those wrapped in labels/rows."""
        return _walk_components(self.components)

    @property
    def input_custom_ids(self) -> list[str]:
        """Custom ids of all inputs (text inputs, selects...) in the modal."""
        return [
            c["custom_id"]
            for c in self.iter_components()
            if "custom_id" in c and c.get("type") not in (1, 18)
        ]


@dataclass(frozen=True)
class AutocompleteRecord:
    """The choices the bot returned for an autocomplete interaction (callback type 8)."""

    interaction_id: int
    choices: list[dict[str, Any]]

    @property
    def names(self) -> list[str]:
        """Choice display names."""
        return [str(c.get("name")) for c in self.choices]

    @property
    def values(self) -> list[Any]:
        """Choice values."""
        return [c.get("value") for c in self.choices]


@dataclass(frozen=True)
class RequestRecord:
    """A REST request the fake received (every route, handled or not)."""

    method: str
    path: str
    """Path relative to the API base, e.g. ``/channels/1/messages``."""
    query: dict[str, str]
    status: int
    at: float


@dataclass(frozen=True)
class InteractionHandle:
    """Returned by the ``send_*``/``click_*``/``submit_*`` drivers to identify an interaction."""

    id: int
    token: str
    type: int
    user_id: int
    guild_id: int | None
    channel_id: int
    payload: dict[str, Any] = field(repr=False, compare=False)
    """The full INTERACTION_CREATE ``d`` payload that was dispatched."""


@dataclass
class RouteFault:
    """A programmed REST fault (see ``FakeDiscord.fail_route``/``slow_route``)."""

    method: str
    path_glob: str
    status: int | None
    """HTTP status to answer with instead of handling; ``None`` = only delay."""
    delay_s: float
    times: int
    """Remaining applications; ``-1`` = forever."""
    body: dict[str, Any] | None = None
    hits: int = 0
