"""The neutral reply model every adapter renders (Discord embeds and buttons, console text).

Core actions return a :class:`Reply`; adapters never decide what to say, only how to show it.
A :class:`Choice` carries an *action token* (see :mod:`bot.core.actions`) that the adapter
hands back to the engine when the member picks it: Discord puts it in a button's
``custom_id``, the console maps the typed key (``B``, ``hint``, ``good``) to it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import StrEnum


class Tone(StrEnum):
    """What kind of message this is; adapters pick colours or prefixes from it."""

    INFO = "info"
    QUESTION = "question"
    SUCCESS = "success"
    FAILURE = "failure"
    WARNING = "warning"
    ERROR = "error"


class ChoiceStyle(StrEnum):
    """How prominent a choice is (maps to Discord button styles)."""

    PRIMARY = "primary"
    SECONDARY = "secondary"
    SUCCESS = "success"
    DANGER = "danger"


@dataclass(frozen=True, slots=True)
class Choice:
    """One thing the member can pick.

    ``key`` is what a console user types (``A``, ``hint``, ``good``); ``action`` is the token
    the engine understands. When ``needs_text`` is set, the adapter first asks for free text
    (a Discord modal, the next console line) labelled ``text_label`` and passes it along;
    ``short_text`` asks for one line (a word, a name or a number) rather than a paragraph.
    """

    key: str
    label: str
    action: str
    style: ChoiceStyle = ChoiceStyle.SECONDARY
    needs_text: bool = False
    text_label: str = ""
    text_placeholder: str = ""
    short_text: bool = False


@dataclass(frozen=True, slots=True)
class ReplyField:
    """A titled block of text (an embed field on Discord, a labelled paragraph in the console)."""

    name: str
    value: str
    inline: bool = False


@dataclass(frozen=True, slots=True)
class Image:
    """An attached picture (PNG bytes)."""

    filename: str
    data: bytes
    description: str = ""


@dataclass(frozen=True, slots=True)
class Reply:
    """What the tutor says back.

    ``code`` is shown as a code block (``code_language`` for highlighting). ``private`` asks
    the adapter to show it only to the member (ephemeral on Discord). ``footer`` is a short
    line such as "Card 3 of 10". ``image`` is a picture made for this reply (a chart);
    ``media`` names a question's picture in the media folder (``<data folder>/media/``, the
    name already checked by the content model), which each adapter looks up itself.
    """

    text: str
    title: str = ""
    tone: Tone = Tone.INFO
    fields: tuple[ReplyField, ...] = ()
    choices: tuple[Choice, ...] = ()
    code: str = ""
    code_language: str = "python"
    image: Image | None = None
    media: str = ""
    footer: str = ""
    private: bool = False

    def with_choices(self, *choices: Choice) -> Reply:
        """Return a copy with ``choices`` appended."""
        return replace(self, choices=self.choices + tuple(choices))

    def choice_for(self, key: str) -> Choice | None:
        """The choice whose key matches ``key`` (case-insensitive), if any."""
        wanted = key.strip().casefold()
        for choice in self.choices:
            if choice.key.casefold() == wanted:
                return choice
        return None


def plural(count: int, noun: str) -> str:
    """``1 answer``, ``2 answers`` (nouns with a plain -s plural)."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def error_reply(message: str) -> Reply:
    """A short private error reply."""
    return Reply(text=message, tone=Tone.ERROR, private=True)


@dataclass(slots=True)
class ReplyBuilder:
    """Small helper for assembling a reply step by step."""

    text: str = ""
    title: str = ""
    tone: Tone = Tone.INFO
    fields: list[ReplyField] = field(default_factory=list)
    choices: list[Choice] = field(default_factory=list)
    code: str = ""
    media: str = ""
    footer: str = ""
    private: bool = False

    def add_field(self, name: str, value: str, *, inline: bool = False) -> None:
        """Append a field (skipped when ``value`` is empty)."""
        if value.strip():
            self.fields.append(ReplyField(name=name, value=value, inline=inline))

    def build(self) -> Reply:
        """Freeze into a :class:`Reply`."""
        return Reply(
            text=self.text,
            title=self.title,
            tone=self.tone,
            fields=tuple(self.fields),
            choices=tuple(self.choices),
            code=self.code,
            media=self.media,
            footer=self.footer,
            private=self.private,
        )


def typed_choices(reply: Reply, command_for: Callable[[Choice], str]) -> Reply:
    """A reply whose buttons become commands to type, listed in the footer.

    For adapters without buttons (the console) and buttons that re-run a command, such as
    the Prev/Next of a paginated list: ``command_for`` gives the command a choice stands for.
    """
    if not reply.choices:
        return reply
    hints = [f"{choice.key} page: {command_for(choice)}" for choice in reply.choices]
    footer = " · ".join([reply.footer, *hints] if reply.footer else hints)
    return replace(reply, choices=(), footer=footer)
