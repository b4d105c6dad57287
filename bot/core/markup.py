"""Anki field markup: HTML into Discord markdown (or plain text), cloze deletions, escaping.

:func:`html_to_markdown` turns the HTML an Anki field holds into text a Discord message shows
the same way: ``<b>`` → ``**bold**``, ``<i>`` → ``*italic*``, ``<u>`` → ``__underline__``,
``<s>`` → ``~~struck~~``, ``<code>`` → ```code```, ``<pre>`` → a code block, lists → ``• ``
and ``1. `` lines, ``<br>``/``<div>``/``<p>`` → line breaks, entities → characters. Other
tags are dropped (their text kept), ``<script>``/``<style>`` with their content. Characters
that Discord would read as markdown (``* _ ` ~ |`` and ``\\``, ``>``/``#`` at a line start)
are escaped in the text, so it shows as written. Pictures (``<img src>``) leave the text
and are listed in :attr:`Converted.images`; Anki's ``[sound:…]`` tags are removed and
counted. :func:`html_to_plain` does the same without markdown (for accepted answers).

Cloze deletions (``{{c1::answer::hint}}``, nested ones too) are Anki's markup inside the
HTML: :func:`cloze_card` gives one card's question (that deletion hidden as ``[…]`` or
``[hint]``) and the deletions' answers, both still HTML.

Pure and fast: plain text skips the HTML parser; 10,000 notes convert well under a second.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from html import unescape

#: How a hidden cloze deletion is shown (with a hint: ``[hint]``).
CLOZE_HIDDEN = "[…]"
_CLOZE_TOKEN = re.compile(r"\{\{c(\d+)::|\}\}")
#: Anki's sound tags, ``[sound:file.mp3]``.
_SOUND = re.compile(r"\[sound:[^\]\r\n]*\]")
#: Characters Discord reads as markdown anywhere in a line (the backslash escapes them).
_ESCAPE_ANYWHERE = str.maketrans({char: "\\" + char for char in "\\*_`~|"})
#: Line starts Discord reads as a quote (``>``), a heading (``#``) or small text (``-#``).
_ESCAPE_LINE_START = re.compile(r"^(>|#|-(?=#))", re.MULTILINE)
_UNESCAPE = re.compile(r"\\([\\*_`~|>#-])")

_BLOCKS = frozenset(
    {"div", "li", "ul", "ol", "tr", "table", "blockquote", "section", "article", "header"}
    | {"footer", "dl", "dt", "dd", "hr", "center"}
)
_PARAGRAPHS = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6"})
#: Discord's marker for each formatting tag (headings are bold lines).
_MARKERS = {
    **dict.fromkeys(("b", "strong", *_PARAGRAPHS - {"p"}), "**"),
    **dict.fromkeys(("i", "em"), "*"),
    **dict.fromkeys(("u", "ins"), "__"),
    **dict.fromkeys(("s", "strike", "del"), "~~"),
}
_SKIPPED = frozenset({"script", "style", "head", "title", "template", "textarea"})
#: One piece of HTML: a comment, a tag (closing ``/``, name, attributes) or text.
_TOKEN = re.compile(
    r"([^<]++)"
    r"|<(/?)([A-Za-z][A-Za-z0-9:-]*+)((?:[^>\"']++|\"[^\"]*+\"|'[^']*+')*+)>"
    r"|<!--.*?(?:-->|\Z)|<[!?][^>]*>?|<",
    re.DOTALL,
)
_ATTRIBUTE = re.compile(r"""([^\s"'>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?""")
_BOLD_STYLE = re.compile(r"font-weight\s*:\s*(bold|[6-9]00)", re.IGNORECASE)
_ITALIC_STYLE = re.compile(r"font-style\s*:\s*italic", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Converted:
    """A field's text, the pictures it showed (``src`` names, in order, once each) and how many
    sound tags were dropped."""

    text: str
    images: tuple[str, ...] = ()
    sounds: int = 0


def escape_markdown(text: str) -> str:
    r"""``text`` with the characters Discord would read as markdown escaped (``a_b`` → ``a\_b``).

    :func:`unescape_markdown` undoes it exactly.
    """
    escaped = text.translate(_ESCAPE_ANYWHERE)
    if ">" in escaped or "#" in escaped:
        escaped = _ESCAPE_LINE_START.sub(r"\\\1", escaped)
    return escaped


def unescape_markdown(text: str) -> str:
    r"""``text`` with the escapes :func:`escape_markdown` adds removed (``a\_b`` → ``a_b``)."""
    return _UNESCAPE.sub(r"\1", text)


def remove_sounds(text: str) -> tuple[str, int]:
    """``text`` without Anki's ``[sound:…]`` tags, and how many there were."""
    return _SOUND.subn("", text)


def _attributes(text: str) -> list[tuple[str, str | None]]:
    """A tag's attributes as (lowercase name, value with entities replaced)."""
    found: list[tuple[str, str | None]] = []
    for match in _ATTRIBUTE.finditer(text):
        value = next((part for part in match.group(2, 3, 4) if part is not None), None)
        found.append((match[1].lower(), None if value is None else unescape(value)))
    return found


class _Converter:
    """Walks the HTML once, writing text, line breaks and markers into :attr:`out`.

    A small tokenizer rather than :class:`html.parser.HTMLParser`: fields are short and
    many, and the parser's per-tag bookkeeping was two thirds of the time.
    """

    def __init__(self, markdown: bool) -> None:
        self.markdown = markdown
        self.out: list[str] = []
        self.images: list[str] = []
        #: Consecutive line breaks at the end of :attr:`out` (-1: nothing written yet).
        self.breaks = -1
        self.space = False
        self.pre = 0
        self.pre_start = False
        self.code = 0
        #: Open formatting tags: (tag, marker or "", index in :attr:`out` once written).
        self.open: list[list[str | int]] = []
        self.pending: list[list[str | int]] = []
        self.active: dict[str, int] = {}
        self.lists: list[list[int]] = []
        self.after_bullet = False

    def feed(self, html: str) -> None:
        """Convert ``html`` (a whole field)."""
        skip_to = 0
        for match in _TOKEN.finditer(html):
            if match.start() < skip_to:
                continue
            text = match[1]
            if text is not None:
                self.handle_data(unescape(text) if "&" in text else text)
                continue
            name = match[3]
            if name is None:
                if match[0] == "<":
                    self.handle_data("<")
                continue  # a comment, <!doctype> or <?xml?>
            tag = name.lower()
            if match[2]:
                self.handle_endtag(tag)
                continue
            if tag in _SKIPPED:
                end = html.lower().find(f"</{tag}", match.end())
                skip_to = len(html) if end < 0 else end
                continue
            raw = match[4]
            self.handle_starttag(tag, _attributes(raw) if tag in ("img", "span") else [])
            if raw.endswith("/") and tag not in ("br", "img", "hr"):
                self.handle_endtag(tag)

    # ------------------------------------------------------------------ writing

    def _write(self, text: str) -> None:
        self.out.append(text)
        self.breaks = 0

    def _line_break(self, *, force: bool, blank: bool = False) -> None:
        """A line break: ``force`` always (``<br>``), else only when not at a line start."""
        if self.breaks < 0:
            return  # nothing before: leading breaks are dropped
        wanted = 2 if blank else 1
        if force:
            if self.breaks < 2 or self.pre:
                self.out.append("\n")
                self.breaks += 1
        else:
            while self.breaks < wanted:
                self.out.append("\n")
                self.breaks += 1
        self.space = False
        self.after_bullet = False

    def _flush_markers(self) -> None:
        for entry in self.pending:
            entry[2] = len(self.out)
            self._write(str(entry[1]))
        self.pending.clear()

    def handle_data(self, data: str) -> None:
        """Text: whitespace collapsed (kept in ``<pre>``), escaped unless in code."""
        if self.pre:
            if self.pre_start:
                data = data.removeprefix("\r").removeprefix("\n")
                self.pre_start = False
            self._write(data.replace("```", "`\u200b``") if self.markdown else data)
            return
        text = " ".join(data.split())
        if not text:
            self.space = self.space or bool(data)
            return
        if data[0].isspace():
            self.space = True
        if self.space and self.breaks == 0 and not self.after_bullet:
            self._write(" ")
        self.after_bullet = False
        self._flush_markers()
        if self.markdown and not self.code:
            at_line_start = self.breaks != 0
            text = text.translate(_ESCAPE_ANYWHERE)
            if at_line_start and (text[0] in ">#" or text.startswith("-#")):
                text = "\\" + text
        self._write(text)
        self.space = data[-1].isspace()

    # ------------------------------------------------------------------ tags

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Open a tag: a break, a marker, a list item or a picture."""
        if tag == "br":
            self._line_break(force=True)
        elif tag == "img":
            self._image(attrs)
        elif tag in ("td", "th"):
            self.space = self.space or self.breaks == 0  # cells side by side
        elif tag == "pre":
            self._open_pre()
        elif tag in _BLOCKS or tag in _PARAGRAPHS:
            self._line_break(force=False, blank=tag in _PARAGRAPHS)
            if tag in ("ul", "ol"):
                self.lists.append([tag == "ol", 0])
            elif tag == "li":
                self._bullet()
        if tag in _MARKERS or tag in ("code", "span"):
            self._open_marker(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        """Close a tag: end its marker, block or list."""
        if tag == "pre":
            self._close_pre()
        if any(entry[0] == tag for entry in self.open):
            while self.open:
                entry = self.open.pop()
                self._close_marker(entry)
                if entry[0] == tag:
                    break
        if tag in ("ul", "ol") and self.lists:
            self.lists.pop()
        if tag in _BLOCKS or tag in _PARAGRAPHS:
            self._line_break(force=False, blank=tag in _PARAGRAPHS)

    def _image(self, attrs: list[tuple[str, str | None]]) -> None:
        source = (dict(attrs).get("src") or "").strip()
        if source and not source.startswith("data:") and source not in self.images:
            self.images.append(source)
        self.space = self.space or self.breaks == 0

    def _bullet(self) -> None:
        depth = max(len(self.lists) - 1, 0)
        numbered = bool(self.lists and self.lists[-1][0])
        if self.lists:
            self.lists[-1][1] += 1
        mark = f"{self.lists[-1][1]}. " if numbered else "• "
        self._write("  " * depth + mark)
        self.after_bullet = True

    def _open_pre(self) -> None:
        self._line_break(force=False)
        self.pre += 1
        self.pre_start = True
        if self.pre == 1 and self.markdown:
            self._write("```\n")
            self.breaks = 1

    def _close_pre(self) -> None:
        if not self.pre:
            return
        self.pre -= 1
        if self.pre == 0 and self.markdown:
            if self.breaks == 0:
                self._write("\n")
            self._write("```")
        self.breaks = 0
        self._line_break(force=False)

    def _marker_for(self, tag: str, attrs: list[tuple[str, str | None]]) -> str:
        if not self.markdown or self.pre or self.code:
            return ""
        if tag == "code":
            return "`"
        if tag == "span":
            style = dict(attrs).get("style") or ""
            if _BOLD_STYLE.search(style):
                return "**"
            return "*" if _ITALIC_STYLE.search(style) else ""
        return _MARKERS[tag]

    def _open_marker(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        marker = self._marker_for(tag, attrs)
        if marker and self.active.get(marker, 0):
            marker = ""  # already bold (or italic...): no second marker
        entry: list[str | int] = [tag, marker, -1]
        if marker:
            self.active[marker] = self.active.get(marker, 0) + 1
            self.pending.append(entry)
            if marker == "`":
                self.code += 1
        self.open.append(entry)

    def _close_marker(self, entry: list[str | int]) -> None:
        marker = str(entry[1])
        if not marker:
            return
        self.active[marker] -= 1
        if marker == "`":
            self.code -= 1
        if any(waiting is entry for waiting in self.pending):
            # Nothing was written inside: no empty markers.
            self.pending = [waiting for waiting in self.pending if waiting is not entry]
            return
        start = int(entry[2])
        if marker == "`" and "`" in "".join(self.out[start + 1 :]):
            self.out[start] = "`` "
            marker = " ``"
        if self.breaks > 0:
            # Before the line breaks that end the text: "**a**" then the break.
            self.out.insert(len(self.out) - self.breaks, marker)
        else:
            self._write(marker)

    def finish(self) -> str:
        """The converted text: open markers closed, surrounding space removed."""
        while self.open:
            self._close_marker(self.open.pop())
        if self.pre:
            self.pre = 1
            self._close_pre()
        return "".join(self.out).strip()


def _fast_text(html: str, markdown: bool) -> str | None:
    """Text without tags or entities converted without the parser (None: use the parser)."""
    if "<" in html or "&" in html:
        return None
    text = " ".join(html.split())
    return escape_markdown(text) if markdown else text


def _convert(html: str, markdown: bool) -> Converted:
    html, sounds = remove_sounds(html)
    fast = _fast_text(html, markdown)
    if fast is not None:
        return Converted(fast, (), sounds)
    converter = _Converter(markdown)
    converter.feed(html)
    text = converter.finish()
    return Converted(text, tuple(converter.images), sounds)


def html_to_markdown(html: str) -> Converted:
    """An Anki field's HTML as Discord markdown, with its pictures and dropped sounds."""
    return _convert(html, True)


def html_to_plain(html: str) -> Converted:
    """An Anki field's HTML as plain text (no markdown, nothing escaped): for answers."""
    return _convert(html, False)


def text_to_html(text: str) -> str:
    """Plain text (an export without HTML) as HTML that converts back to the same text."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return escaped.replace("\r\n", "\n").replace("\n", "<br>")


# --------------------------------------------------------------------------- cloze


@dataclass(slots=True)
class _Cloze:
    """One deletion: its number, content (text and nested deletions) and hint."""

    number: int
    parts: list[str | _Cloze] = field(default_factory=list)
    hint: str | None = None


@lru_cache(maxsize=64)
def _parse_cloze(text: str) -> list[str | _Cloze]:
    """``text`` as text and deletions, the way Anki reads ``{{c1::…::hint}}`` (nesting too).

    A ``}}`` with no open deletion, and a deletion never closed, stay text. The result is
    cached (a note's cards parse the same text) and must not be changed.
    """
    root: list[str | _Cloze] = []
    stack: list[tuple[_Cloze, str]] = []

    def add_text(piece: str) -> None:
        if not piece:
            return
        if not stack:
            root.append(piece)
            return
        cloze = stack[-1][0]
        if cloze.hint is not None:
            cloze.hint += piece
        elif "::" in piece:
            before, cloze.hint = piece.split("::", 1)
            cloze.parts.append(before)
        else:
            cloze.parts.append(piece)

    position = 0
    for match in _CLOZE_TOKEN.finditer(text):
        add_text(text[position : match.start()])
        position = match.end()
        if match[1] is not None:
            stack.append((_Cloze(max(int(match[1]), 1)), match[0]))
        elif stack:
            done, _ = stack.pop()
            (stack[-1][0].parts if stack else root).append(done)
        else:
            add_text(match[0])
    add_text(text[position:])
    while stack:  # never closed: its opening is text again
        cloze, opening = stack.pop()
        parts: list[str | _Cloze] = [opening, *cloze.parts]
        if cloze.hint is not None:
            parts.append("::" + cloze.hint)
        (stack[-1][0].parts if stack else root).extend(parts)
    return root


def _render(parts: Sequence[str | _Cloze], hide: int | None) -> str:
    """The HTML with deletion ``hide`` shown as ``[…]``/``[hint]`` and the others as text."""
    out: list[str] = []
    for part in parts:
        if isinstance(part, str):
            out.append(part)
        elif part.number == hide:
            hint = (part.hint or "").strip()
            out.append(f"[{hint}]" if hint else CLOZE_HIDDEN)
        else:
            out.append(_render(part.parts, hide))
    return "".join(out)


def _deletions(parts: Sequence[str | _Cloze], number: int) -> Iterable[_Cloze]:
    for part in parts:
        if isinstance(part, _Cloze):
            if part.number == number:
                yield part
            yield from _deletions(part.parts, number)


def _numbers(parts: Sequence[str | _Cloze]) -> set[int]:
    found: set[int] = set()
    for part in parts:
        if isinstance(part, _Cloze):
            found.add(part.number)
            found |= _numbers(part.parts)
    return found


def cloze_numbers(text: str) -> list[int]:
    """The cloze numbers ``text`` uses, in order (``{{c2::a}} {{c1::b}}`` → ``[1, 2]``)."""
    return sorted(_numbers(_parse_cloze(text)))


def cloze_card(text: str, number: int) -> tuple[str, list[str]]:
    """Card ``number`` of a cloze field: (question HTML, the answer HTML of each deletion)."""
    parts = _parse_cloze(text)
    answers = [_render(deletion.parts, None) for deletion in _deletions(parts, number)]
    return _render(parts, number), answers
