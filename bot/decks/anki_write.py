"""Study items written to an Anki package (``.apkg``) with genanki, optionally with a member's
scheduling and review history (``/export-me``).

Importing the same export again updates the notes instead of adding copies: a note's
``guid`` is ``genanki.guid_for`` of the item's stable key (:func:`default_key`, or the
caller's ``key_of``), and the note types and decks have ids derived from their names
(:func:`stable_id`), so every export names them the same. Anki updates a note whose guid
it already has when the package's copy is newer (its default "update notes: if newer").

Note types (one card each):

* **Study Tutor Basic** (Front, Back, Hint, Extra): flashcards; explain prompts with the
  model answer on the back, the key ideas as Extra and the hint behind a "Hint" link.
* **Study Tutor MCQ** (Question, Options, Answer, Explanation, Hint): mcq and practice
  questions; code under the question, options A–F, the answer as "B. text"; a practice
  problem's steps and common mistakes follow its explanation.
* **Study Tutor Cloze** (Text, Back Extra): a typed question with one "[…]" gap (what an
  imported cloze card becomes) goes back out as a cloze note, ``{{c1::answer::hint}}``.
* **Study Tutor Type-in** (Front, Back, Hint, Extra): other typed questions with Anki's
  ``{{type:Back}}`` box; Back is the first accepted answer as plain text (what Anki compares
  the typed answer with), Extra lists the other accepted answers and the explanation.

Text is Discord markdown, written as HTML (:func:`markdown_html`): bold, italics, underline,
strike-through, inline code and code blocks, line breaks; everything else is escaped. An
item's ``image`` is copied from ``media_dir`` into the package and shown under the question.

Scheduling (``scheduling``: a member's cards by item key): such a card leaves the package
as a learning, review or relearning card (``type``/``queue``/``due``/``ivl``/``reps``/
``lapses``, ``factor`` 2500) due when the bot has it due (review cards to the day of Anki's
day count), with its FSRS stability and difficulty in the card's ``data`` (``s``/``d``, as
Anki stores FSRS memory states). ``history`` (answers by item key, as
:class:`~bot.core.anki_model.AnkiReview` values) becomes the ``revlog`` rows of the scheduled
cards (a row's id is the answer's millisecond): Anki's statistics show them and Anki
recomputes FSRS memory states from them; a scheduled card without history is converted by
Anki from its interval if it recomputes. What Anki then shows: with
"Import any learning progress" ticked, the scheduled cards arrive due when the bot had them
due (others are new, in deck order); unticked, every card is new. A card already in the
collection keeps its own scheduling (Anki does not update existing cards) and a revlog row
already there (same millisecond id) is not added twice.
"""

from __future__ import annotations

import hashlib
import html
import itertools
import json
import math
import re
import sqlite3
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import genanki

from bot.core.anki_model import TUTOR_FIELD, AnkiReview
from bot.core.anki_tutor import tutor_data
from bot.core.clock import to_utc
from bot.core.content import (
    AnyItem,
    ChoiceItem,
    Explain,
    Flashcard,
    Practice,
    Typed,
)
from bot.core.markup import CLOZE_HIDDEN
from bot.core.scheduling import CardState
from bot.log import get_logger

log = get_logger(__name__)

#: The key of an item in an export (the guid is derived from it): ``(deck name, item) → key``.
KeyOf = Callable[[str, AnyItem], str]

#: Namespace of the guids, so another app's guid of the same key differs.
GUID_NAMESPACE = "study-tutor-bot"
#: Anki's default ease (250 %) for exported review cards.
DEFAULT_FACTOR = 2500
#: Learning and relearning steps of the bot's FSRS scheduler (the ``fsrs`` defaults).
LEARNING_STEPS = 2
RELEARNING_STEPS = 1
_DAY_SECONDS = 86400
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_LEARNING, _REVIEW, _RELEARNING = 1, 2, 3  # fsrs.State and Anki's card type agree
_QUEUE_LEARNING, _QUEUE_REVIEW = 1, 2


def default_key(deck: str, item: AnyItem) -> str:
    """An item's key when the caller gives none: ``"<deck>/<item id>"``."""
    return f"{deck}/{item.id}"


def stable_id(namespace: str, name: str) -> int:
    """A deterministic id in genanki's range [2³⁰, 2³¹) for a note type or deck ``name``."""
    digest = hashlib.sha256(f"{namespace}:{name}".encode()).digest()
    return (1 << 30) + int.from_bytes(digest[:8], "big") % (1 << 30)


def note_guid(key: str) -> str:
    """The Anki note guid of the item with ``key`` (the same in every export)."""
    return str(genanki.guid_for(GUID_NAMESPACE, key))


# --------------------------------------------------------------------------- markdown

_CODE = re.compile(
    r"(?<!\\)(?:```(?:[A-Za-z0-9_+.-]*\n)?(?P<block>.*?)```"
    r"|``(?P<double>.+?)``|`(?P<inline>[^`]+)`)",
    re.DOTALL,
)
_ESCAPED = re.compile(r"\\([\\*_~`|])")
_SPANS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\*\*\*(?!\s)(.+?)(?<!\s)\*\*\*", re.DOTALL), r"<b><i>\1</i></b>"),
    (re.compile(r"\*\*(?!\s)(.+?)(?<!\s)\*\*", re.DOTALL), r"<b>\1</b>"),
    (re.compile(r"__(?!\s)(.+?)(?<!\s)__", re.DOTALL), r"<u>\1</u>"),
    (re.compile(r"~~(?!\s)(.+?)(?<!\s)~~", re.DOTALL), r"<s>\1</s>"),
    (re.compile(r"\*(?![\s*])(.+?)(?<![\s*])\*", re.DOTALL), r"<i>\1</i>"),
    (re.compile(r"(?<![^\W_])_(?![\s_])(.+?)(?<![\s_])_(?![^\W_])", re.DOTALL), r"<i>\1</i>"),
)
#: Private-use characters that stand for backslash-escaped markdown characters meanwhile.
_PLACEHOLDER = 0xE000


def markdown_html(text: str) -> str:
    r"""Discord markdown as Anki field HTML.

    ``**bold**``, ``*italic*``/``_italic_``, ``__underline__``, ``~~strike~~``, ``***both***``,
    ``\`code\``` and fenced code blocks become HTML; ``\*`` is a literal star; line breaks
    become ``<br>``; every other character is escaped (``<b>`` typed by a member stays text).
    """
    parts: list[str] = []
    position = 0
    for match in _CODE.finditer(text):
        parts.append(_inline_html(text[position : match.start()]))
        block = match.group("block")
        if block is not None:
            parts.append(
                f"<pre><code>{html.escape(block.strip(chr(10)), quote=False)}</code></pre>"
            )
        else:
            code = match.group("double") or match.group("inline")
            parts.append(f"<code>{html.escape(code, quote=False)}</code>")
        position = match.end()
    parts.append(_inline_html(text[position:]))
    return "".join(parts)


def _inline_html(text: str) -> str:
    escaped_chars: list[str] = []

    def hide(match: re.Match[str]) -> str:
        escaped_chars.append(match.group(1))
        return chr(_PLACEHOLDER + len(escaped_chars) - 1)

    out = _ESCAPED.sub(hide, html.escape(text, quote=False))
    for pattern, replacement in _SPANS:
        out = pattern.sub(replacement, out)
    for index, char in enumerate(escaped_chars):
        out = out.replace(chr(_PLACEHOLDER + index), char)
    return out.replace("\r\n", "\n").replace("\n", "<br>")


# --------------------------------------------------------------------------- note types

_CSS = """.card { font-family: arial; font-size: 20px; text-align: left; color: black;
 background-color: white; }
pre { background: #f4f4f4; padding: 6px; white-space: pre-wrap; }
code { font-family: monospace; }
img { max-width: 100%; }
"""
_HINT = "{{#Hint}}<br><br>{{hint:Hint}}{{/Hint}}"


def _model(name: str, fields: Sequence[str], front: str, back: str, *, cloze: bool = False) -> Any:
    """A one-template note type named ``name`` (its id from the name and a version) whose
    last field is the hidden :data:`~bot.core.anki_model.TUTOR_FIELD`."""
    return genanki.Model(
        stable_id("model", f"{name} v2"),
        name,
        fields=[{"name": field_name} for field_name in (*fields, TUTOR_FIELD)],
        templates=[{"name": "Cloze" if cloze else "Card 1", "qfmt": front, "afmt": back}],
        css=_CSS,
        model_type=genanki.Model.CLOZE if cloze else genanki.Model.FRONT_BACK,
    )


_EXTRA = "{{#Extra}}<br><br>{{Extra}}{{/Extra}}"
BASIC_MODEL = _model(
    "Study Tutor Basic",
    ("Front", "Back", "Hint", "Extra"),
    "{{Front}}" + _HINT,
    "{{Front}}<hr id=answer>{{Back}}" + _EXTRA,
)
MCQ_MODEL = _model(
    "Study Tutor MCQ",
    ("Question", "Options", "Answer", "Explanation", "Hint"),
    "{{Question}}<br>{{Options}}" + _HINT,
    "{{Question}}<br>{{Options}}<hr id=answer><b>{{Answer}}</b>"
    "{{#Explanation}}<br><br>{{Explanation}}{{/Explanation}}",
)
TYPE_IN_MODEL = _model(
    "Study Tutor Type-in",
    ("Front", "Back", "Hint", "Extra"),
    "{{Front}}" + _HINT + "<br><br>{{type:Back}}",
    "{{Front}}<hr id=answer>{{type:Back}}" + _EXTRA,
)
CLOZE_MODEL = _model(
    "Study Tutor Cloze",
    ("Text", "Back Extra"),
    "{{cloze:Text}}",
    "{{cloze:Text}}{{#Back Extra}}<br><br>{{Back Extra}}{{/Back Extra}}",
    cloze=True,
)


# --------------------------------------------------------------------------- fields


def note_fields(item: AnyItem, image_html: str = "") -> tuple[Any, list[str]]:
    """The note type (a ``genanki.Model``) and field values (HTML) of ``item``.

    ``image_html`` (an ``<img>`` tag, or ``""``) goes under the question. The last field
    (:data:`~bot.core.anki_model.TUTOR_FIELD`) holds the item as JSON, never shown on a card.
    """
    model, fields = _shown_fields(item, image_html)
    return model, [*fields, tutor_data(item, fields)]


def _shown_fields(item: AnyItem, image_html: str) -> tuple[Any, list[str]]:
    below = f"<br>{image_html}" if image_html else ""
    if isinstance(item, Flashcard):
        return BASIC_MODEL, [markdown_html(item.front) + below, markdown_html(item.back), "", ""]
    if isinstance(item, Explain):
        ideas = ", ".join(html.escape(concept.name, quote=False) for concept in item.concepts)
        return BASIC_MODEL, [
            markdown_html(item.prompt) + below,
            markdown_html(item.model_answer),
            markdown_html(item.hint),
            f"<b>Key ideas:</b> {ideas}",
        ]
    if isinstance(item, Typed):
        cloze = _cloze_fields(item, below)
        if cloze is not None:
            return CLOZE_MODEL, cloze
        extra = []
        if len(item.answers) > 1:
            others = "; ".join(html.escape(answer, quote=False) for answer in item.answers[1:])
            extra.append(f"<b>Also accepted:</b> {others}")
        if item.explanation:
            extra.append(markdown_html(item.explanation))
        return TYPE_IN_MODEL, [
            markdown_html(item.question) + below,
            html.escape(item.answers[0], quote=False),
            markdown_html(item.hint) if item.hint else "",
            "<br><br>".join(extra),
        ]
    return MCQ_MODEL, _choice_fields(item, below)


def _cloze_fields(item: Typed, below: str) -> list[str] | None:
    """A typed question that came from a cloze card (one "[…]" gap) as an Anki cloze note:
    the gap becomes ``{{c1::answer::hint}}``; None when the question is not such a gap."""
    answer = html.escape(item.answers[0], quote=False)
    hint = item.hint or ""
    unsafe = ("::", "}}", "{{")
    if item.question.count(CLOZE_HIDDEN) != 1 or any(
        mark in text for mark in unsafe for text in (answer, hint)
    ):
        return None
    gap = f"{{{{c1::{answer}{'::' + html.escape(hint, quote=False) if hint else ''}}}}}"
    text = markdown_html(item.question)
    if text.count(CLOZE_HIDDEN) != 1:
        return None
    extra = []
    if len(item.answers) > 1:
        others = "; ".join(html.escape(other, quote=False) for other in item.answers[1:])
        extra.append(f"<b>Also accepted:</b> {others}")
    if item.explanation:
        extra.append(markdown_html(item.explanation))
    return [text.replace(CLOZE_HIDDEN, gap) + below, "<br><br>".join(extra)]


def _choice_fields(item: ChoiceItem, below: str) -> list[str]:
    question = markdown_html(item.question)
    if item.code:
        question += f"<pre><code>{html.escape(item.code, quote=False)}</code></pre>"
    options = "".join(f"<li>{markdown_html(option)}</li>" for option in item.options)
    answer = f"{item.answer}. {markdown_html(item.correct_option)}"
    explanation = markdown_html(item.explanation)
    hint = ""
    if isinstance(item, Practice):
        hint = markdown_html(item.hint)
        explanation += "<br><br><b>Steps</b>" + _html_list("ol", item.steps)
        explanation += "<b>Common mistakes</b>" + _html_list("ul", item.mistakes)
    return [question + below, f'<ol type="A">{options}</ol>', answer, explanation, hint]


def _html_list(tag: str, entries: Iterable[str]) -> str:
    return (
        f"<{tag}>" + "".join(f"<li>{markdown_html(entry)}</li>" for entry in entries) + f"</{tag}>"
    )


# --------------------------------------------------------------------------- writing


@dataclass(frozen=True, slots=True)
class ApkgSummary:
    """What :func:`write_apkg` wrote: notes, cards given scheduling, revlog rows, media files
    (by name) and the images items named that were not in ``media_dir`` (left out)."""

    notes: int
    scheduled: int
    reviews: int
    media: tuple[str, ...]
    missing_media: tuple[str, ...]


def write_apkg(
    path: Path,
    decks: Mapping[str, Sequence[AnyItem]],
    *,
    media_dir: Path,
    title: str,
    now: datetime,
    key_of: KeyOf = default_key,
    scheduling: Mapping[str, CardState] | None = None,
    history: Mapping[str, Sequence[AnkiReview]] | None = None,
) -> ApkgSummary:
    """Write ``decks`` (deck name → items, in order) to the package ``path``.

    Each deck becomes the Anki deck ``"<title>::<deck name>"`` (just the deck name when
    ``title`` is empty); new cards keep the items' order. ``now`` stamps the notes (Anki
    updates a note when the package's copy is newer). ``scheduling`` and ``history`` are a
    member's cards and answers by item key (``key_of``); see the module documentation. The
    file is written next to ``path`` and moved into place, so a failed export leaves no
    half-written package. Raises ``ValueError`` when two items share a key.
    """
    moment = to_utc(now)
    genanki_decks: list[Any] = []
    guids: dict[str, str] = {}
    media: dict[str, Path] = {}
    missing: dict[str, None] = {}
    position = itertools.count(1)
    for deck_name, items in decks.items():
        full_name = f"{title}::{deck_name}" if title else deck_name
        deck = genanki.Deck(stable_id("deck", full_name), full_name)
        for item in items:
            key = key_of(deck_name, item)
            if key in guids:
                raise ValueError(f"two items have the key {key!r}")
            guid = guids[key] = note_guid(key)
            image_html = ""
            if item.image:
                source = media_dir / item.image
                if source.is_file():
                    media[item.image] = source
                    image_html = f'<img src="{html.escape(item.image)}">'
                else:
                    missing[item.image] = None
            model, fields = note_fields(item, image_html)
            note = genanki.Note(
                model=model,
                fields=fields,
                tags=list(item.tags or ()),
                guid=guid,
                due=next(position),
            )
            deck.add_note(note)
        genanki_decks.append(deck)
    if missing:
        log.warning(
            "anki export: %d image(s) not in %s: %s", len(missing), media_dir, list(missing)
        )

    by_guid = {guid: key for key, guid in guids.items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=path.parent) as scratch:
        database = Path(scratch) / "collection.anki2"
        connection = sqlite3.connect(database)
        try:
            cursor = connection.cursor()
            timestamp = moment.timestamp()
            genanki.Package(genanki_decks).write_to_db(
                cursor, timestamp, itertools.count(int(timestamp * 1000))
            )
            scheduled, reviews = _write_scheduling(
                cursor, by_guid, scheduling or {}, history or {}, moment
            )
            connection.commit()
        finally:
            connection.close()
        package = Path(scratch) / "package.apkg"
        names = sorted(media)
        with zipfile.ZipFile(package, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.write(database, "collection.anki2")
            archive.writestr("media", json.dumps({str(i): name for i, name in enumerate(names)}))
            for index, name in enumerate(names):
                archive.write(media[name], str(index))
        package.replace(path)
    return ApkgSummary(
        notes=len(guids),
        scheduled=scheduled,
        reviews=reviews,
        media=tuple(names),
        missing_media=tuple(missing),
    )


def _write_scheduling(
    cursor: sqlite3.Cursor,
    key_by_guid: Mapping[str, str],
    scheduling: Mapping[str, CardState],
    history: Mapping[str, Sequence[AnkiReview]],
    now: datetime,
) -> tuple[int, int]:
    """Give the cards of scheduled items their state and revlog; (cards, revlog rows)."""
    if not scheduling:
        return 0, 0
    (crt,) = cursor.execute("SELECT crt FROM col").fetchone()
    cards = cursor.execute(
        "SELECT cards.id, notes.guid FROM cards JOIN notes ON notes.id = cards.nid"
    ).fetchall()
    mod = int(now.timestamp())
    revlog_ids: dict[int, int] = {}
    scheduled = reviews = 0
    for card_id, guid in cards:
        key = key_by_guid.get(guid)
        state = scheduling.get(key) if key is not None else None
        if state is None or state.reps == 0:
            continue
        cursor.execute(
            "UPDATE cards SET type = ?, queue = ?, due = ?, ivl = ?, factor = ?, reps = ?, "
            "lapses = ?, left = ?, data = ?, mod = ? WHERE id = ?",
            (*card_columns(state, crt), mod, card_id),
        )
        scheduled += 1
        rows = revlog_rows(card_id, history.get(key, ()) if key is not None else (), revlog_ids)
        cursor.executemany("INSERT INTO revlog VALUES (?, ?, -1, ?, ?, ?, ?, ?, ?)", rows)
        reviews += len(rows)
    return scheduled, reviews


def card_columns(state: CardState, crt: int) -> tuple[int, int, int, int, int, int, int, int, str]:
    """Anki's ``type, queue, due, ivl, factor, reps, lapses, left, data`` for a reviewed card.

    Review cards are due on a day counted from the collection's creation ``crt`` (seconds);
    learning and relearning cards at a moment (seconds), in the learning queue. ``ivl`` is
    the days from the last review to the due date (at least 1; a relearning card's is its
    stability in days); ``left`` the learning steps still to go (``today * 1000 + total``).
    """
    due = to_utc(state.due)
    last = to_utc(state.last_review) if state.last_review else due
    interval = max(1, round((due - last).total_seconds() / _DAY_SECONDS))
    data = json.dumps(
        {
            name: round(value, 4)
            for name, value in (("s", state.stability), ("d", state.difficulty))
            if value is not None
        },
        separators=(",", ":"),
    )
    if state.state == _REVIEW:
        due_day = math.floor((due.timestamp() - crt) / _DAY_SECONDS)
        queue, when, kept, left = _QUEUE_REVIEW, due_day, interval, 0
    else:
        steps = RELEARNING_STEPS if state.state == _RELEARNING else LEARNING_STEPS
        remaining = max(1, steps - (state.step or 0))
        queue, when, left = _QUEUE_LEARNING, int(due.timestamp()), remaining * 1000 + remaining
        # A relearning card keeps the interval it will have again: its stability in days.
        kept = max(1, round(state.stability or 1)) if state.state == _RELEARNING else 0
    card_type = state.state if state.state in (_REVIEW, _RELEARNING) else _LEARNING
    return (card_type, queue, when, kept, DEFAULT_FACTOR, state.reps, state.lapses, left, data)


def revlog_rows(
    card_id: int, reviews: Sequence[AnkiReview], taken: dict[int, int]
) -> list[tuple[int, int, int, int, int, int, int, int]]:
    """``revlog`` rows (id, cid, ease, ivl, lastIvl, factor, time, type) for ``reviews``,
    oldest first. A row's id is the answer's millisecond, or the next free one after it when
    another row has it; ``taken`` (filled in here) maps each id used to a free one after it."""
    rows: list[tuple[int, int, int, int, int, int, int, int]] = []
    last_interval = 0
    for review in sorted(reviews, key=lambda r: to_utc(r.at)):
        revlog_id = _claim((to_utc(review.at) - _EPOCH) // timedelta(milliseconds=1), taken)
        factor = DEFAULT_FACTOR if review.ease else 0
        duration = max(0, review.duration_ms)
        row = (revlog_id, card_id, review.ease, review.interval, last_interval, factor, duration)
        rows.append((*row, review.kind))
        last_interval = review.interval
    return rows


def _claim(wanted: int, taken: dict[int, int]) -> int:
    """The first id from ``wanted`` on not in ``taken``, now taken (paths shortened as they
    are walked, so many answers in one millisecond cost little)."""
    walked: list[int] = []
    candidate = wanted
    while candidate in taken:
        walked.append(candidate)
        candidate = taken[candidate]
    taken[candidate] = candidate + 1
    for seen in walked:
        taken[seen] = candidate + 1
    return candidate
