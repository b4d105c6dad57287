"""Turning a :class:`~bot.core.replies.Reply` into terminal text, and making text safe to show.

Everything the console writes passes through :func:`safe_text` (see
:meth:`bot.console.app.ConsoleApp.write`): a question, an option or a file name may hold
terminal control sequences (``ESC [2J`` clears the screen) and only ever shows them as text.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from bot.core.replies import Reply, Tone

#: The Unicode bidi embeddings, overrides and isolates (U+202A..U+202E, U+2066..U+2069):
#: they reorder the text that follows, so a line can show something other than it says.
BIDI_CONTROLS = (*range(0x202A, 0x202F), *range(0x2066, 0x206A))


def _safe_table() -> dict[int, str]:
    """What each unsafe character becomes: ``^[``-style for C0 controls and DEL, U+FFFD else."""
    table = {code: f"^{chr(code + 64)}" for code in range(0x20) if chr(code) not in "\t\n"}
    table[0x7F] = "^?"
    replacement = "\ufffd"
    # C1 controls (0x9B is a one-byte ESC [ for some terminals), bidi controls, and lone
    # surrogates (undecodable input bytes), which the terminal's encoder would refuse.
    for code in (*range(0x80, 0xA0), *BIDI_CONTROLS, *range(0xD800, 0xE000)):
        table[code] = replacement
    return table


_SAFE_TABLE = _safe_table()


def safe_text(text: str) -> str:
    """``text`` with every control character shown as text, so a terminal only prints it.

    Line breaks (``\n``, and ``\r\n`` as one) and tabs stay; other C0 controls and DEL
    become caret notation (ESC is ``^[``, a lone carriage return ``^M``); C1 controls, bidi
    overrides and lone surrogates become U+FFFD.
    """
    return text.replace("\r\n", "\n").translate(_SAFE_TABLE)


#: Where a question's picture is said to be when the console was not told its media folder.
DEFAULT_MEDIA_DIR = Path("data") / "media"

TONE_MARKS = {
    Tone.SUCCESS: "✓ ",
    Tone.FAILURE: "✗ ",
    Tone.WARNING: "! ",
    Tone.ERROR: "! ",
}


def plain(text: str) -> str:
    """Drop Markdown emphasis the terminal cannot show."""
    return text.replace("**", "").replace("__", "")


def render_choices(reply: Reply) -> str:
    """The line telling the member what they can type next."""
    if not reply.choices:
        return ""
    typed = [c for c in reply.choices if not c.needs_text]
    keys = ", ".join(c.key for c in typed)
    if any(c.needs_text for c in reply.choices):
        return f"→ Type your answer{' — or ' + keys if keys else ''}"
    if typed and all(len(c.key) == 1 for c in typed):
        return f"→ Type {keys}"
    labelled = ", ".join(
        c.key if c.key.casefold() == c.label.casefold() else f"{c.key} ({c.label})" for c in typed
    )
    return f"→ Type {labelled}"


def render_reply(reply: Reply, *, width: int = 78, media_dir: Path = DEFAULT_MEDIA_DIR) -> str:
    """A reply as terminal text: title rule, body, picture, code, fields, footer and choices.

    A question's picture is one line naming its file in ``media_dir`` (``🖼 data/media/x.png``):
    the terminal cannot show it, the member can open it.
    """
    lines: list[str] = []
    if reply.title:
        lines.append(f"── {plain(reply.title)} ──")
    elif reply.tone in TONE_MARKS:
        lines.append(TONE_MARKS[reply.tone].strip())
    if reply.text:
        lines.append(plain(reply.text))
    if reply.media:
        lines.append(f"🖼 {(media_dir / reply.media).as_posix()}")
    if reply.code:
        lines.append("")
        lines.extend("    " + line for line in reply.code.rstrip().splitlines())
    inline = [f for f in reply.fields if f.inline]
    if inline:
        lines.append("")
        lines.append(" · ".join(f"{plain(f.name)}: {plain(f.value)}" for f in inline))
    for field in reply.fields:
        if field.inline:
            continue
        lines.append("")
        lines.append(f"{plain(field.name)}:")
        for paragraph in plain(field.value).splitlines():
            wrapped = textwrap.wrap(paragraph, width=width - 2) or [""]
            lines.extend("  " + part for part in wrapped)
    if reply.footer:
        lines.append(f"({plain(reply.footer)})")
    choices = render_choices(reply)
    if choices:
        lines.append(choices)
    return "\n".join(lines)
