"""Turning a :class:`~bot.core.replies.Reply` into terminal text."""

from __future__ import annotations

import textwrap

from bot.core.replies import Reply, Tone

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


def render_reply(reply: Reply, *, width: int = 78) -> str:
    """A reply as terminal text: title rule, body, code, fields, footer and choices."""
    lines: list[str] = []
    if reply.title:
        lines.append(f"── {plain(reply.title)} ──")
    elif reply.tone in TONE_MARKS:
        lines.append(TONE_MARKS[reply.tone].strip())
    if reply.text:
        lines.append(plain(reply.text))
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
