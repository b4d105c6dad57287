"""The bot's own items inside Anki notes, so an exported package imports back exactly.

:mod:`bot.decks.anki_write` keeps each item as JSON in the hidden field
:data:`~bot.core.anki_model.TUTOR_FIELD` with a digest of the fields Anki shows. When such a
package is imported again, :func:`tutor_item` gives back that item, unless someone edited
the note in Anki since (then the digest differs and the note is read from its fields like
any other note). Pure: no I/O.
"""

from __future__ import annotations

import hashlib
import html
import json
from collections.abc import Sequence

from bot.core.anki_model import TUTOR_FIELD, AnkiNote
from bot.core.content import AnyItem, item_to_dict, parse_item
from bot.errors import BadInput


def fields_digest(fields: Sequence[str]) -> str:
    """A short digest of a note's shown fields (to notice an edit made in Anki)."""
    return hashlib.sha1("\x1f".join(fields).encode()).hexdigest()[:16]


def tutor_data(item: AnyItem, shown: Sequence[str]) -> str:
    """The hidden field's value for ``item`` whose note shows the fields ``shown``."""
    data = {"item": item_to_dict(item), "fields": fields_digest(shown)}
    return html.escape(json.dumps(data, ensure_ascii=False, separators=(",", ":")), quote=False)


def tutor_item(note: AnkiNote) -> AnyItem | None:
    """The item the bot exported as ``note``, if the note still shows what was exported."""
    names = note.notetype.field_names
    if TUTOR_FIELD not in names:
        return None
    index = names.index(TUTOR_FIELD)
    if index >= len(note.fields):
        return None
    shown = [value for position, value in enumerate(note.fields) if position != index]
    try:
        data = json.loads(html.unescape(note.fields[index]))
    except ValueError:
        return None
    if not isinstance(data, dict) or data.get("fields") != fields_digest(shown):
        return None
    raw = data.get("item")
    if not isinstance(raw, dict):
        return None
    try:
        return parse_item(raw)
    except BadInput:
        return None
