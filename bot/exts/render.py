"""Rendering a neutral :class:`Reply` as Discord message parts, within Discord's limits."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import discord

from bot.core.replies import Choice, ChoiceStyle, Reply, Tone
from bot.exts.components import TutorButton
from bot.log import get_logger

log = get_logger(__name__)

# Discord's limits (https://discord.com/developers/docs/resources/message).
MAX_CONTENT = 2000
MAX_TITLE = 256
MAX_DESCRIPTION = 4096
MAX_FIELDS = 25
MAX_FIELD_NAME = 256
MAX_FIELD_VALUE = 1024
MAX_FOOTER = 2048
MAX_EMBED_TOTAL = 6000
MAX_BUTTON_LABEL = 80
BUTTONS_PER_ROW = 5
MAX_ROWS = 5

TONE_COLOURS = {
    Tone.INFO: discord.Colour.blurple(),
    Tone.QUESTION: discord.Colour.blue(),
    Tone.SUCCESS: discord.Colour.green(),
    Tone.FAILURE: discord.Colour.red(),
    Tone.WARNING: discord.Colour.gold(),
    Tone.ERROR: discord.Colour.dark_red(),
}
BUTTON_STYLES = {
    ChoiceStyle.PRIMARY: discord.ButtonStyle.primary,
    ChoiceStyle.SECONDARY: discord.ButtonStyle.secondary,
    ChoiceStyle.SUCCESS: discord.ButtonStyle.success,
    ChoiceStyle.DANGER: discord.ButtonStyle.danger,
}


def clip(text: str, limit: int) -> str:
    """Cut ``text`` to ``limit`` characters, marking the cut with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def split_text(text: str, limit: int) -> list[str]:
    """Split ``text`` into pieces of at most ``limit`` characters, at line breaks if possible."""
    pieces: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = rest.rfind("\n", 0, limit)
        if cut <= 0:
            cut = rest.rfind(" ", 0, limit)
        if cut <= 0:
            cut = limit
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip("\n ")
    if rest:
        pieces.append(rest)
    return pieces


def code_block(code: str, language: str) -> str:
    """A fenced code block that a backtick run inside the code cannot break."""
    safe = code.replace("```", "`\u200b``")
    return f"```{language}\n{safe.rstrip()}\n```"


def build_embed(reply: Reply, *, picture: str = "") -> discord.Embed:
    """The embed for a reply: title, text (+ code block), fields and footer, all clipped.

    ``picture`` is the file name of an attached question picture, shown when the reply has
    no chart of its own.
    """
    description = reply.text
    if reply.code:
        description = f"{description}\n{code_block(reply.code, reply.code_language)}"
    title = clip(reply.title, MAX_TITLE)
    footer = clip(reply.footer, min(MAX_FOOTER, 512))
    room = MAX_EMBED_TOTAL - len(title) - len(footer)
    embed = discord.Embed(
        title=title or None,
        description=clip(description, min(MAX_DESCRIPTION, room)) or None,
        colour=TONE_COLOURS.get(reply.tone, discord.Colour.blurple()),
    )
    budget = room - len(embed.description or "")
    for reply_field in reply.fields:
        chunks = split_text(reply_field.value, MAX_FIELD_VALUE) or ["—"]
        for number, chunk in enumerate(chunks):
            name = reply_field.name if number == 0 else f"{reply_field.name} (cont.)"
            name = clip(name, MAX_FIELD_NAME)
            if len(embed.fields) >= MAX_FIELDS or len(name) + len(chunk) > budget:
                break
            embed.add_field(name=name, value=chunk, inline=reply_field.inline)
            budget -= len(name) + len(chunk)
    if footer:
        embed.set_footer(text=footer)
    if reply.image is not None:
        embed.set_image(url=f"attachment://{reply.image.filename}")
    elif picture:
        embed.set_image(url=f"attachment://{picture}")
    return embed


def make_button(choice: Choice, row: int) -> TutorButton:
    """A persistent button for a choice (its action token lives in the custom_id).

    A choice asking for one line of text opens the short answer form itself.
    """
    return TutorButton(
        choice.action,
        label=clip(choice.label, MAX_BUTTON_LABEL),
        style=BUTTON_STYLES.get(choice.style, discord.ButtonStyle.secondary),
        row=row,
        asks_text=choice.needs_text and choice.short_text,
    )


def build_view(reply: Reply) -> discord.ui.View | None:
    """Buttons for the reply's choices, five per row, at most five rows."""
    if not reply.choices:
        return None
    view = discord.ui.View(timeout=None)
    for index, choice in enumerate(reply.choices[: BUTTONS_PER_ROW * MAX_ROWS]):
        view.add_item(make_button(choice, row=index // BUTTONS_PER_ROW))
    return view


@dataclass(slots=True)
class DiscordMessage:
    """Keyword arguments for ``send_message`` / ``edit_message`` / ``followup.send``."""

    embed: discord.Embed
    view: discord.ui.View | None
    files: list[discord.File] = field(default_factory=list)

    def send_kwargs(self, *, ephemeral: bool) -> dict[str, Any]:
        """Arguments for sending a new message."""
        kwargs: dict[str, Any] = {"embed": self.embed, "ephemeral": ephemeral}
        if self.view is not None:
            kwargs["view"] = self.view
        if self.files:
            kwargs["files"] = self.files
        return kwargs

    def edit_kwargs(self) -> dict[str, Any]:
        """Arguments for replacing an existing message (buttons removed when none)."""
        kwargs: dict[str, Any] = {"embed": self.embed, "view": self.view}
        if self.files:
            kwargs["attachments"] = self.files
        return kwargs


def media_file(name: str, media_dir: Path | None) -> discord.File | None:
    """A question's picture ``name`` from ``media_dir`` as an attachment, if it is there.

    A missing folder or file leaves the question without its picture (logged), never
    without the question.
    """
    if not name or media_dir is None:
        return None
    if Path(name).name != name:  # the content model allows plain names only; never a path
        log.warning("picture name %r is not a plain file name; sent without it", name)
        return None
    try:
        data = (media_dir / name).read_bytes()
    except OSError as error:
        log.warning("picture %s could not be read (%s); sent without it", name, error)
        return None
    return discord.File(io.BytesIO(data), filename=name)


def render(reply: Reply, *, media_dir: Path | None = None) -> DiscordMessage:
    """Everything Discord needs to show ``reply``.

    A question's picture (``reply.media``, a file name) is attached from ``media_dir``, the
    bot's media folder (``Settings.media_path``); without a folder it is left out.
    """
    files = []
    if reply.image is not None:
        files.append(
            discord.File(
                io.BytesIO(reply.image.data),
                filename=reply.image.filename,
                description=clip(reply.image.description, 1024) or None,
            )
        )
    picture = media_file(reply.media, media_dir)
    if picture is not None:
        files.append(picture)
    embed = build_embed(reply, picture=picture.filename if picture is not None else "")
    return DiscordMessage(embed=embed, view=build_view(reply), files=files)
