"""Persistent buttons and the answer forms.

A button's ``custom_id`` is ``t:<action token>`` (see :mod:`bot.core.actions`): all the
state lives in it, so buttons on old messages keep working after a restart
(discord.py's :class:`~discord.ui.DynamicItem`). A button that asks for a short typed answer
first (a typed question's **Answer**) is ``ta:<token>``: it opens a one-line form itself,
submitted as ``tm:<token>`` for a study action and as ``<token>`` for a cog's own token
(the daily quiz's ``dt:``, taken by the form handler that cog registered).
"""

from __future__ import annotations

import re
from typing import Any, Protocol, cast

import discord

from bot.core.actions import parse_action
from bot.errors import ExpiredAction
from bot.log import get_logger

log = get_logger(__name__)

BUTTON_PREFIX = "t:"
#: A button that opens the short answer form before anything else happens.
ASK_BUTTON_PREFIX = "ta:"
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
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=rf"t(?P<asks>a?):(?P<token>{TOKEN_PATTERN})",
):
    """A button that hands its action token to the engine when clicked.

    With ``asks_text`` it first opens the short answer form (:func:`answer_form`).
    """

    def __init__(
        self,
        token: str,
        *,
        label: str = "…",
        style: discord.ButtonStyle = discord.ButtonStyle.secondary,
        row: int | None = None,
        asks_text: bool = False,
    ) -> None:
        prefix = ASK_BUTTON_PREFIX if asks_text else BUTTON_PREFIX
        super().__init__(
            discord.ui.Button(label=label, style=style, custom_id=prefix + token), row=row
        )
        self.token = token
        self.asks_text = asks_text

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> TutorButton:
        """Rebuild the button from a click (also on messages sent before a restart)."""
        return cls(match["token"], asks_text=bool(match["asks"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        """Open the answer form, or pass the click to the bot, which asks the engine."""
        if self.asks_text:
            try:
                await interaction.response.send_modal(answer_form(self.token))
            except discord.HTTPException as error:
                log.warning("could not open the answer form: %s", error)
            return
        client = cast(ButtonRouter, interaction.client)
        await client.handle_button(interaction, self.token)


def form_id(token: str) -> str:
    """The ``custom_id`` of the form answering ``token``: ``tm:<token>`` for a study action,
    the token itself for a cog's own (whose registered form handler takes it)."""
    try:
        parse_action(token)
    except ExpiredAction:
        return token
    return MODAL_PREFIX + token


class ExplanationModal(discord.ui.Modal):
    """The form behind an explain prompt's or a typed question's **Answer** button.

    Submissions are handled by :meth:`TutorBot.on_interaction` from the ``custom_id``
    (:func:`form_id`), not by this object, so a form opened before a restart still works.
    ``short`` asks for one line instead of a paragraph.
    """

    def __init__(
        self, token: str, *, title: str, label: str, placeholder: str, short: bool = False
    ) -> None:
        super().__init__(title=title[:45], custom_id=form_id(token), timeout=None)
        self.answer: discord.ui.TextInput[ExplanationModal] = discord.ui.TextInput(
            label=(label or "Your answer")[:45],
            style=discord.TextStyle.short if short else discord.TextStyle.paragraph,
            placeholder=placeholder[:100] or None,
            custom_id=EXPLANATION_FIELD,
            required=True,
            max_length=MAX_EXPLANATION,
        )
        self.add_item(self.answer)

    async def on_submit(self, interaction: discord.Interaction[Any], /) -> None:
        """Nothing: the bot's interaction listener answers (see the class docstring)."""


def answer_form(token: str) -> ExplanationModal:
    """The one-line form of a typed answer (a typed question's **Answer** button)."""
    return ExplanationModal(
        token,
        title="Your answer",
        label="Your answer",
        placeholder="A word, a name or a number — small typos are fine.",
        short=True,
    )


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
    """The text typed into a submitted answer form (explain or typed)."""
    return modal_values(data).get(EXPLANATION_FIELD, "")
