"""Persistent buttons and the explanation form.

A button's ``custom_id`` is ``t:<action token>`` (see :mod:`bot.core.actions`): all the
state lives in it, so buttons on old messages keep working after a restart
(discord.py's :class:`~discord.ui.DynamicItem`).
"""

from __future__ import annotations

import re
from typing import Any, Protocol, cast

import discord

BUTTON_PREFIX = "t:"
MODAL_PREFIX = "tm:"
TOKEN_PATTERN = r"[a-z]{2}:[A-Za-z0-9:_\-]{1,90}"
EXPLANATION_FIELD = "explanation"
MAX_EXPLANATION = 2000


class ButtonRouter(Protocol):
    """The client as a button sees it: something that routes a click by its token.

    (A protocol rather than the client class, so this module does not import the client.)
    """

    async def handle_button(self, interaction: discord.Interaction[Any], token: str) -> None:
        """Answer a click on a button carrying ``token``."""
        ...


class TutorButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=rf"t:(?P<token>{TOKEN_PATTERN})"
):
    """A button that hands its action token to the engine when clicked."""

    def __init__(
        self,
        token: str,
        *,
        label: str = "…",
        style: discord.ButtonStyle = discord.ButtonStyle.secondary,
        row: int | None = None,
    ) -> None:
        super().__init__(
            discord.ui.Button(label=label, style=style, custom_id=BUTTON_PREFIX + token),
            row=row,
        )
        self.token = token

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> TutorButton:
        """Rebuild the button from a click (also on messages sent before a restart)."""
        return cls(match["token"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        """Pass the click to the bot, which asks the engine and replies."""
        client = cast(ButtonRouter, interaction.client)
        await client.handle_button(interaction, self.token)


class ExplanationModal(discord.ui.Modal):
    """The form behind an explain prompt's **Answer** button.

    Submissions are handled by :meth:`TutorBot.on_interaction` from the ``custom_id``
    (``tm:<token>``), not by this object, so a form opened before a restart still works.
    """

    def __init__(self, token: str, *, title: str, label: str, placeholder: str) -> None:
        super().__init__(title=title[:45], custom_id=MODAL_PREFIX + token, timeout=None)
        self.answer: discord.ui.TextInput[ExplanationModal] = discord.ui.TextInput(
            label=(label or "Your answer")[:45],
            style=discord.TextStyle.paragraph,
            placeholder=placeholder[:100] or None,
            custom_id=EXPLANATION_FIELD,
            required=True,
            max_length=MAX_EXPLANATION,
        )
        self.add_item(self.answer)

    async def on_submit(self, interaction: discord.Interaction[Any], /) -> None:
        """Nothing: the bot's interaction listener answers (see the class docstring)."""


def modal_values(data: Any) -> dict[str, str]:
    """Every text box of a submitted form, by custom_id (searching nested components)."""
    found: dict[str, str] = {}
    if isinstance(data, dict):
        if "custom_id" in data and "value" in data:
            found[str(data["custom_id"])] = str(data["value"] or "")
        for key in ("components", "component"):
            if key in data:
                found.update(modal_values(data[key]))
    elif isinstance(data, list):
        for entry in data:
            found.update(modal_values(entry))
    return found


def modal_text(data: Any) -> str:
    """The explanation typed into a submitted explain form."""
    return modal_values(data).get(EXPLANATION_FIELD, "")
