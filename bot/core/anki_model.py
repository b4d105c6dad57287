"""What an Anki package holds, as plain values: note types, notes, cards and their reviews.

:mod:`bot.decks.anki_read` reads ``.apkg``/``.colpkg`` files (legacy ``collection.anki2``,
``collection.anki21`` and the zstandard ``collection.anki21b``) into these values;
:mod:`bot.core.anki_notes` turns them into study items. Pure values: no I/O here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

#: The field in which the bot's own exports keep each item as JSON (never shown on a card),
#: so importing the package again gives back exactly the same questions; see
#: :func:`bot.core.anki_notes.tutor_item`.
TUTOR_FIELD = "Study Tutor data"


@dataclass(frozen=True, slots=True)
class AnkiTemplate:
    """One card template of a note type: its name and front/back formats (Anki's qfmt/afmt)."""

    name: str
    front: str
    back: str


@dataclass(frozen=True, slots=True)
class AnkiNoteType:
    """A note type ("model"): its name, whether it is a cloze type, fields and templates."""

    id: int
    name: str
    is_cloze: bool
    field_names: tuple[str, ...]
    templates: tuple[AnkiTemplate, ...]


@dataclass(frozen=True, slots=True)
class AnkiReview:
    """One row of Anki's ``revlog``: when, which button (1 Again … 4 Easy) and what kind.

    ``kind``: 0 learning, 1 review, 2 relearning, 3 filtered (cram), 4 manual/rescheduled,
    5 rescheduled by the "set due date" tool. ``ease`` 0 means a manual change, not an answer.
    ``interval`` is Anki's ``ivl`` after the review (days; negative: seconds) and
    ``duration_ms`` the time the answer took (Anki's ``time``).
    """

    at: datetime
    ease: int
    kind: int
    interval: int = 0
    duration_ms: int = 0


@dataclass(frozen=True, slots=True)
class AnkiCard:
    """One card of a note: its template ordinal (cloze number − 1), deck and review history.

    ``queue`` is Anki's queue (−1 suspended, −2/−3 buried, 0 new, 1/3 learning, 2 review).
    The scheduling columns are Anki's, unconverted: ``card_type`` 0 new, 1 learning,
    2 review, 3 relearning; ``due`` a position for new cards, a day number counted from
    :attr:`AnkiCollection.created_at` for review cards and epoch seconds for (re)learning
    cards; ``interval`` in days (negative: seconds); ``ease_factor`` in permille (2500 is
    250 %). A card in a filtered deck has the name of its home deck as ``deck``.
    """

    id: int
    ord: int
    deck: str
    queue: int = 0
    reviews: tuple[AnkiReview, ...] = ()
    card_type: int = 0
    due: int = 0
    interval: int = 0
    ease_factor: int = 0
    reps: int = 0
    lapses: int = 0


@dataclass(frozen=True, slots=True)
class AnkiNote:
    """One note: its stable ``guid``, note type, raw (HTML) field values, tags and cards."""

    id: int
    guid: str
    notetype: AnkiNoteType
    fields: tuple[str, ...]
    tags: tuple[str, ...] = ()
    cards: tuple[AnkiCard, ...] = ()

    def field(self, name: str) -> str:
        """The value of the field called ``name`` (case ignored), or ``""``."""
        wanted = name.casefold()
        for field_name, value in zip(self.notetype.field_names, self.fields, strict=False):
            if field_name.casefold() == wanted:
                return value
        return ""


@dataclass(slots=True)
class AnkiCollection:
    """The notes of a package, the media files it carries (by the name notes use) and notes
    about what was skipped while reading (one line each).

    ``created_at`` is the collection's creation day (Anki's ``col.crt``: review cards' ``due``
    counts days from it); ``package_format`` the collection file that was read
    (``"anki21b"``, ``"anki21"`` or ``"anki2"``).
    """

    notes: list[AnkiNote] = field(default_factory=list)
    media_names: frozenset[str] = frozenset()
    remarks: list[str] = field(default_factory=list)
    created_at: datetime | None = None
    package_format: str = ""
