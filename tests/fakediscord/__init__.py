"""Fake Discord server (REST + gateway) for end-to-end tests of the real discord.py client."""

from .client import FAKE_TOKEN, running_client
from .models import (
    EPHEMERAL_FLAG,
    LOADING_FLAG,
    AttachmentRecord,
    AutocompleteRecord,
    CallbackRecord,
    InteractionHandle,
    MessageRecord,
    ModalRecord,
    RequestRecord,
    RouteFault,
    UserMessage,
)
from .patching import apply_discord_py_urls, point_discord_py_at
from .server import UNSET, FakeDiscord, json_response

__all__ = [
    "EPHEMERAL_FLAG",
    "FAKE_TOKEN",
    "LOADING_FLAG",
    "UNSET",
    "AttachmentRecord",
    "AutocompleteRecord",
    "CallbackRecord",
    "FakeDiscord",
    "InteractionHandle",
    "MessageRecord",
    "ModalRecord",
    "RequestRecord",
    "RouteFault",
    "UserMessage",
    "apply_discord_py_urls",
    "json_response",
    "point_discord_py_at",
    "running_client",
]
