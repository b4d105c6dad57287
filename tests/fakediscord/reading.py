"""Reading what the bot posted: a message's embed, its fields and its buttons.

Shared by the end-to-end tests, which look at the messages the fake recorded.
"""

from __future__ import annotations

from typing import Any

from tests.fakediscord import MessageRecord


def embed(message: MessageRecord) -> dict[str, Any]:
    """The message's (first) embed; fails the test when it has none."""
    assert message.embeds, f"no embed in {message.payload}"
    return message.embeds[0]


def fields(message: MessageRecord) -> dict[str, str]:
    """The first embed's fields, name → value."""
    return {f["name"]: f["value"] for f in embed(message).get("fields", [])}


def button_labels(message: MessageRecord) -> list[str]:
    """The labels of the message's buttons, in order."""
    return [str(c.get("label")) for c in message.iter_components() if c.get("type") == 2]


def button(message: MessageRecord, label: str) -> str:
    """The custom_id of the button labelled ``label``; fails the test when there is none."""
    for component in message.iter_components():
        if component.get("type") == 2 and component.get("label") == label:
            return str(component["custom_id"])
    raise AssertionError(f"no button {label!r} among {button_labels(message)}")
