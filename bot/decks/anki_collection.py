"""Reading the SQLite collection inside an Anki package into :mod:`bot.core.anki_model`.

:func:`read_collection_file` opens the unpacked file read-only (``mode=ro&immutable=1``,
``trusted_schema`` off, Anki's ``unicase`` collation registered), checks it
(``PRAGMA quick_check``, the tables an Anki collection has, the counts against
:class:`~bot.decks.safe_zip.PackageLimits`) and reads every note, card and review:

* schema 18 (``collection.anki21b``): note types in ``notetypes``/``fields``/``templates``
  with protobuf ``config`` blobs (``Notetype.Config.kind`` 1 is cloze, the template's
  ``q_format``/``a_format`` are fields 1 and 2), decks in ``decks`` with ``\\x1f`` between
  parent and child (turned into ``Parent::Child``);
* schema 11 (``collection.anki21``, ``collection.anki2``): note types and decks as JSON in
  the ``col`` row (``models``, ``decks``).

Notes, cards and ``revlog`` have the same columns in both. Anything unreadable is a one-line
:class:`bot.errors.BadInput`; single damaged rows are skipped with a remark instead.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import time
from collections import defaultdict
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.core.anki_model import (
    AnkiCard,
    AnkiCollection,
    AnkiNote,
    AnkiNoteType,
    AnkiReview,
    AnkiTemplate,
)
from bot.decks.safe_zip import AGAIN, PackageLimits
from bot.errors import BadInput
from bot.log import get_logger

log = get_logger(__name__)

#: The most time SQLite may spend on one collection (50,000 notes take a few seconds).
SQLITE_BUDGET_S = 120.0
#: SQLite virtual-machine steps between two looks at the clock.
SQLITE_CHECK_EVERY = 100_000

# -- a minimal protobuf reader -------------------------------------------------------------


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data):
            raise ValueError("truncated protobuf varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift >= 64:
            raise ValueError("protobuf varint too long")


def proto_fields(data: bytes) -> Iterator[tuple[int, int | bytes]]:
    """(field number, value) of a protobuf message: varints as ints, the rest as bytes."""
    if not isinstance(data, bytes):
        raise ValueError("protobuf data is not a blob")
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        value: int | bytes
        if wire == 0:
            value, pos = _varint(data, pos)
        elif wire in (1, 5):
            end = pos + (8 if wire == 1 else 4)
            value, pos = data[pos:end], end
        elif wire == 2:
            length, pos = _varint(data, pos)
            end = pos + length
            value, pos = data[pos:end], end
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
        if pos > len(data):
            raise ValueError("truncated protobuf field")
        yield number, value


def proto_int(data: bytes, number: int) -> int:
    """Varint field ``number`` of a protobuf message (the last one wins), or 0."""
    found = 0
    for field_number, value in proto_fields(data):
        if field_number == number and isinstance(value, int):
            found = value
    return found


def proto_text(data: bytes, number: int) -> str:
    """Length-delimited field ``number`` as UTF-8 text (the last one wins), or ``""``."""
    found = b""
    for field_number, value in proto_fields(data):
        if field_number == number and isinstance(value, bytes):
            found = value
    return found.decode("utf-8")


_INT_ONLY = {int}


def _int(value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise ValueError(f"expected an integer, got {type(value).__name__}")


def _text(value: object) -> str:
    if isinstance(value, str):
        return value
    raise ValueError(f"expected text, got {type(value).__name__}")


def _unicase(left: str, right: str) -> int:
    """Anki's ``unicase`` collation: compare ignoring case."""
    a, b = left.casefold(), right.casefold()
    return (a > b) - (a < b)


def _lenient_text(raw: bytes) -> str:
    return raw.decode("utf-8", "replace")


def read_collection_file(db_path: Path, limits: PackageLimits) -> AnkiCollection:
    """Every note, card and review of the SQLite collection at ``db_path``; BadInput if unusable."""
    uri = f"{db_path.as_uri()}?mode=ro&immutable=1"
    deadline = time.monotonic() + SQLITE_BUDGET_S
    try:
        with contextlib.closing(sqlite3.connect(uri, uri=True)) as conn:
            conn.text_factory = _lenient_text
            conn.create_collation("unicase", _unicase)
            conn.execute("PRAGMA trusted_schema = OFF")
            # A non-zero answer interrupts the statement (OperationalError "interrupted").
            conn.set_progress_handler(lambda: int(time.monotonic() > deadline), SQLITE_CHECK_EVERY)
            return _read_tables(conn, limits)
    except sqlite3.Error as error:
        raise BadInput(
            f"The collection inside the package is damaged ({error}); {AGAIN}."
        ) from error
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError) as error:
        log.warning("unreadable Anki collection: %r", error)
        raise BadInput(
            f"The collection inside the package is damaged (its note types or decks cannot "
            f"be read); {AGAIN}."
        ) from error


def _check_tables(conn: sqlite3.Connection, limits: PackageLimits) -> set[str]:
    (check,) = conn.execute("PRAGMA quick_check(1)").fetchone()
    if check != "ok":
        raise BadInput(f"The collection inside the package is damaged ({check}); {AGAIN}.")
    rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
    tables = {str(name) for (name,) in rows}
    missing = sorted({"col", "notes", "cards", "revlog"} - tables)
    if missing:
        raise BadInput(
            f"The package's database is not an Anki collection (no {', '.join(missing)} "
            "table); upload the .apkg or .colpkg file Anki writes with File → Export."
        )
    for table, limit, what in (
        ("notes", limits.max_notes, "notes"),
        ("cards", limits.max_cards, "cards"),
        ("revlog", limits.max_reviews, "reviews"),
    ):
        (count,) = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
        if count > limit:
            extra = " without scheduling information" if table == "revlog" else ""
            raise BadInput(
                f"The package holds {count} {what}; at most {limit} can be imported at once. "
                f"Export a smaller deck{extra}, then upload again."
            )
    return tables


def _read_tables(conn: sqlite3.Connection, limits: PackageLimits) -> AnkiCollection:
    tables = _check_tables(conn, limits)
    collection = AnkiCollection()
    if {"notetypes", "fields", "templates", "decks"} <= tables:
        note_types, decks = _note_types_v18(conn), _decks_v18(conn)
    else:
        note_types, decks = _note_types_and_decks_v11(conn)
    row = conn.execute("SELECT crt FROM col LIMIT 1").fetchone()
    with contextlib.suppress(ValueError, OverflowError, OSError, TypeError):
        collection.created_at = datetime.fromtimestamp(_int(row[0]), tz=UTC) if row else None
    reviews = _reviews(conn, collection.remarks)
    cards = _cards(conn, decks, reviews, collection.remarks)
    collection.notes = _notes(conn, note_types, cards, collection.remarks)
    if not collection.notes:
        raise BadInput(
            "The package holds no notes the bot can read; export a deck that has cards in it."
        )
    return collection


def _note_types_v18(conn: sqlite3.Connection) -> dict[int, AnkiNoteType]:
    field_names: dict[int, list[str]] = defaultdict(list)
    for ntid, name in conn.execute("SELECT ntid, name FROM fields ORDER BY ntid, ord"):
        field_names[_int(ntid)].append(_text(name))
    templates: dict[int, list[AnkiTemplate]] = defaultdict(list)
    query = "SELECT ntid, name, config FROM templates ORDER BY ntid, ord"
    for ntid, name, config in conn.execute(query):
        front, back = proto_text(config, 1), proto_text(config, 2)
        templates[_int(ntid)].append(AnkiTemplate(_text(name), front, back))
    note_types: dict[int, AnkiNoteType] = {}
    for ntid, name, config in conn.execute("SELECT id, name, config FROM notetypes"):
        key = _int(ntid)
        note_types[key] = AnkiNoteType(
            id=key,
            name=_text(name),
            is_cloze=proto_int(config, 1) == 1,
            field_names=tuple(field_names.get(key, ())),
            templates=tuple(templates.get(key, ())),
        )
    return note_types


def _decks_v18(conn: sqlite3.Connection) -> dict[int, str]:
    rows = conn.execute("SELECT id, name FROM decks")
    return {_int(did): _text(name).replace("\x1f", "::") for did, name in rows}


def _note_types_and_decks_v11(
    conn: sqlite3.Connection,
) -> tuple[dict[int, AnkiNoteType], dict[int, str]]:
    row = conn.execute("SELECT models, decks FROM col LIMIT 1").fetchone()
    if row is None:
        raise ValueError("the col table is empty")
    models: dict[str, Any] = json.loads(_text(row[0]))
    decks: dict[str, Any] = json.loads(_text(row[1]))
    note_types: dict[int, AnkiNoteType] = {}
    for key, model in models.items():
        fields = sorted(model["flds"], key=lambda item: int(item["ord"]))
        templates = sorted(model["tmpls"], key=lambda item: int(item["ord"]))
        note_type = AnkiNoteType(
            id=int(key),
            name=str(model["name"]),
            is_cloze=int(model.get("type", 0)) == 1,
            field_names=tuple(str(item["name"]) for item in fields),
            templates=tuple(
                AnkiTemplate(str(item["name"]), str(item["qfmt"]), str(item["afmt"]))
                for item in templates
            ),
        )
        note_types[note_type.id] = note_type
    return note_types, {int(key): str(deck["name"]) for key, deck in decks.items()}


def _all_ints(row: tuple[object, ...]) -> bool:
    """Whether every value of a row is an integer (SQLite columns take any type)."""
    return set(map(type, row)) == _INT_ONLY


def _reviews(conn: sqlite3.Connection, remarks: list[str]) -> dict[int, list[AnkiReview]]:
    by_card: dict[int, list[AnkiReview]] = defaultdict(list)
    bad = 0
    query = "SELECT id, cid, ease, ivl, time, type FROM revlog ORDER BY cid, id"
    for row in conn.execute(query):
        review_id, card_id, ease, interval, duration, kind = row
        try:
            if not _all_ints(row):
                raise ValueError("not an integer")
            at = datetime.fromtimestamp(review_id / 1000, tz=UTC)
        except (ValueError, OverflowError, OSError):
            bad += 1
            continue
        by_card[card_id].append(AnkiReview(at, ease, kind, interval, duration))
    if bad:
        remarks.append(f"Skipped {bad} review(s) with an impossible date or value.")
    return by_card


def _cards(
    conn: sqlite3.Connection,
    decks: Mapping[int, str],
    reviews: Mapping[int, list[AnkiReview]],
    remarks: list[str],
) -> dict[int, list[AnkiCard]]:
    """Cards by note id; a card in a filtered deck belongs to its home deck (``odid``)."""
    by_note: dict[int, list[AnkiCard]] = defaultdict(list)
    bad = homeless = 0
    query = (
        "SELECT id, nid, did, odid, ord, type, queue, due, ivl, factor, reps, lapses "
        "FROM cards ORDER BY nid, ord, id"
    )
    for row in conn.execute(query):
        if not _all_ints(row):
            bad += 1
            continue
        card_id, note_id, did, odid, ordinal, card_type, queue, due, interval, factor = row[:10]
        reps, lapses = row[10:]
        deck = decks.get(odid or did)
        if deck is None:
            homeless += 1
            deck = "Default"
        by_note[note_id].append(
            AnkiCard(
                id=card_id,
                ord=ordinal,
                deck=deck,
                queue=queue,
                reviews=tuple(reviews.get(card_id, ())),
                card_type=card_type,
                due=due,
                interval=interval,
                ease_factor=factor,
                reps=reps,
                lapses=lapses,
            )
        )
    if bad:
        remarks.append(f"Skipped {bad} damaged card(s).")
    if homeless:
        remarks.append(
            f"{homeless} card(s) were in a deck missing from the package: put in Default."
        )
    return by_note


def _notes(
    conn: sqlite3.Connection,
    note_types: Mapping[int, AnkiNoteType],
    cards: Mapping[int, list[AnkiCard]],
    remarks: list[str],
) -> list[AnkiNote]:
    notes: list[AnkiNote] = []
    bad = untyped = padded = 0
    for note_id, guid, mid, tags, flds in conn.execute(
        "SELECT id, guid, mid, tags, flds FROM notes ORDER BY id"
    ):
        try:
            key, note_type = _int(note_id), note_types.get(_int(mid))
            values, guid_text, tag_text = _text(flds).split("\x1f"), _text(guid), _text(tags)
        except ValueError:
            bad += 1
            continue
        if note_type is None:
            untyped += 1
            continue
        wanted = len(note_type.field_names)
        if len(values) != wanted:
            padded += 1
            values = (values + [""] * wanted)[:wanted]
        notes.append(
            AnkiNote(
                id=key,
                guid=guid_text,
                notetype=note_type,
                fields=tuple(values),
                tags=tuple(tag_text.split()),
                cards=tuple(cards.get(key, ())),
            )
        )
    if bad:
        remarks.append(f"Skipped {bad} damaged note(s).")
    if untyped:
        remarks.append(f"Skipped {untyped} note(s) whose note type is missing from the package.")
    if padded:
        remarks.append(f"{padded} note(s) had more or fewer fields than their note type: fixed.")
    return notes
