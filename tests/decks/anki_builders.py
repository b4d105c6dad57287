"""Writers of Anki packages for tests and benchmarks: real layouts, synthetic decks, hostile zips.

* :func:`write_legacy_package`: a schema-11 ``collection.anki2`` (or ``.anki21``) package made
  with genanki, as genanki and Anki before 2.1.50 write them: JSON ``media`` list, plain
  media members, optionally with ``revlog`` rows added.
* :func:`write_anki21b_package`: the layout current Anki exports: ``meta`` (protobuf
  ``PackageMetadata`` version 3), a zstd-compressed schema-18 ``collection.anki21b``, the
  dummy ``collection.anki2`` that asks to update Anki, zstd media members ``"0"``, ``"1"``, …
  and a zstd protobuf ``media`` list (``MediaEntries``). Notes carry their review history.
* :func:`synthetic_deck`: ``n`` notes of every stock note type plus images, for benchmarks.
* hostile archives: :func:`write_zip`, :func:`write_zip_bomb`, :func:`write_encrypted_zip`,
  :func:`patch_declared_size`, :func:`write_zstd_bomb`, :func:`use_zip64_end`; and to change
  a package after the fact, :func:`rewrite_members` and :func:`edit_legacy_collection`.

Note types, notes and reviews are described by small frozen values (:class:`NoteTypeSpec`,
:class:`NoteSpec`, :class:`ReviewSpec`); :func:`card_ords` says which cards Anki makes.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import random
import re
import sqlite3
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import genanki
import zstandard

# -- what a package holds --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NoteTypeSpec:
    """A note type: its id, name, field names, templates (name, front, back) and kind."""

    id: int
    name: str
    fields: tuple[str, ...]
    templates: tuple[tuple[str, str, str], ...]
    is_cloze: bool = False


@dataclass(frozen=True, slots=True)
class ReviewSpec:
    """One answer of a note's card ``card_ord``: Anki's revlog columns in plain units."""

    at: datetime
    ease: int
    kind: int = 1
    interval: int = 1
    duration_ms: int = 6000
    card_ord: int = 0


@dataclass(frozen=True, slots=True)
class NoteSpec:
    """One note: its type, field values, tags, deck (``Parent::Child``) and reviews."""

    notetype: NoteTypeSpec
    fields: tuple[str, ...]
    tags: tuple[str, ...] = ()
    deck: str = "Default"
    reviews: tuple[ReviewSpec, ...] = ()


_ANSWER = "{{FrontSide}}\n\n<hr id=answer>\n\n"
BASIC = NoteTypeSpec(
    1_700_000_000_101,
    "Basic",
    ("Front", "Back"),
    (("Card 1", "{{Front}}", _ANSWER + "{{Back}}"),),
)
BASIC_REVERSED = NoteTypeSpec(
    1_700_000_000_102,
    "Basic (and reversed card)",
    ("Front", "Back"),
    (
        ("Card 1", "{{Front}}", _ANSWER + "{{Back}}"),
        ("Card 2", "{{Back}}", _ANSWER + "{{Front}}"),
    ),
)
BASIC_OPTIONAL_REVERSED = NoteTypeSpec(
    1_700_000_000_103,
    "Basic (optional reversed card)",
    ("Front", "Back", "Add Reverse"),
    (
        ("Card 1", "{{Front}}", _ANSWER + "{{Back}}"),
        ("Card 2", "{{#Add Reverse}}{{Back}}{{/Add Reverse}}", _ANSWER + "{{Front}}"),
    ),
)
BASIC_TYPING = NoteTypeSpec(
    1_700_000_000_104,
    "Basic (type in the answer)",
    ("Front", "Back"),
    (
        (
            "Card 1",
            "{{Front}}\n\n{{type:Back}}",
            "{{Front}}\n\n<hr id=answer>\n\n{{type:Back}}",
        ),
    ),
)
CLOZE = NoteTypeSpec(
    1_700_000_000_105,
    "Cloze",
    ("Text", "Back Extra"),
    (("Cloze", "{{cloze:Text}}", "{{cloze:Text}}<br>\n{{Back Extra}}"),),
    is_cloze=True,
)
CUSTOM = NoteTypeSpec(
    1_700_000_000_106,
    "Vocabulary (custom)",
    ("Word", "Meaning", "Example"),
    (
        ("Recognise", "{{Word}}", _ANSWER + "{{Meaning}}<br>{{Example}}"),
        ("Recall", "{{Meaning}}", _ANSWER + "{{Word}}"),
    ),
)
STOCK_NOTE_TYPES = (BASIC, BASIC_REVERSED, BASIC_OPTIONAL_REVERSED, BASIC_TYPING, CLOZE, CUSTOM)
#: The text of the note in the dummy ``collection.anki2`` of new packages (English).
DUMMY_NOTE_TEXT = (
    "Please update to the latest Anki version, then import the .colpkg/.apkg file again."
)

_SECTION = re.compile(r"\{\{#([^}]+)\}\}")
_REFERENCE = re.compile(r"\{\{(?!#|/|\^)(?:[^}:]*:)?([^}]+)\}\}")
_CLOZE_NUMBER = re.compile(r"\{\{c(\d+)::")


def card_ords(note: NoteSpec) -> tuple[int, ...]:
    """The template ordinals (cloze numbers − 1) Anki makes cards for, for the stock types."""
    values = dict(zip(note.notetype.fields, note.fields, strict=True))
    if note.notetype.is_cloze:
        numbers = {int(n) for value in note.fields for n in _CLOZE_NUMBER.findall(value)}
        return tuple(sorted(n - 1 for n in numbers if n > 0))
    ords: list[int] = []
    for ordinal, (_name, front, _back) in enumerate(note.notetype.templates):
        sections = _SECTION.findall(front)
        refs = [name for name in _REFERENCE.findall(front) if name in values]
        if all(values.get(name) for name in sections) and any(values[name] for name in refs):
            ords.append(ordinal)
    return tuple(ords)


def sample_notes() -> list[NoteSpec]:
    """One or more notes of every stock note type, in sub-decks, with tags and media refs.

    The first note shows ``img_0.png`` and plays ``[sound:hello.mp3]``; the cloze note has
    two deletions; the optional-reversed type appears with and without its reverse card.
    """
    at = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)
    return [
        NoteSpec(
            BASIC,
            ('What is this? <img src="img_0.png">', "A cell [sound:hello.mp3]"),
            ("biology", "cells"),
            "Science::Biology",
            (
                ReviewSpec(at, 3, kind=0, interval=-600, duration_ms=8200),
                ReviewSpec(at + timedelta(days=1), 1, kind=1, interval=1, duration_ms=12000),
            ),
        ),
        NoteSpec(BASIC_REVERSED, ("chien", "dog"), ("french",), "Languages::French"),
        NoteSpec(BASIC_OPTIONAL_REVERSED, ("gato", "cat", "y"), ("spanish",), "Languages"),
        NoteSpec(BASIC_OPTIONAL_REVERSED, ("perro", "dog", ""), ("spanish",), "Languages"),
        NoteSpec(BASIC_TYPING, ("Capital of France?", "Paris"), ("geo",), "Science::Geo"),
        NoteSpec(
            CLOZE,
            ("{{c1::Mitochondria}} are the {{c2::powerhouse}} of the cell.", "Biology 101"),
            ("biology",),
            "Science::Biology",
            (ReviewSpec(at, 4, kind=0, interval=3, duration_ms=3000, card_ord=1),),
        ),
        NoteSpec(CUSTOM, ("Haus", "house", "Das Haus ist alt."), ("german", "nouns"), "Default"),
    ]


# -- media -----------------------------------------------------------------------------------


def make_png(seed: int, side: int = 32) -> bytes:
    """A real ``side``×``side`` RGB PNG of random pixels (so it hardly compresses)."""
    rng = random.Random(seed)
    rows = b"".join(b"\x00" + rng.randbytes(side * 3) for _ in range(side))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def image_like(extension: str, size: int = 64) -> bytes:
    """Bytes that start like a ``jpg``/``gif``/``webp`` file (enough for type sniffing)."""
    heads = {
        "jpg": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00",
        "gif": b"GIF89a\x01\x00\x01\x00",
        "webp": b"RIFF\x00\x00\x00\x00WEBPVP8 ",
    }
    head = heads[extension]
    return head + bytes(max(0, size - len(head)))


def sample_media() -> dict[str, bytes]:
    """The media :func:`sample_notes` uses: one PNG and a (fake) sound."""
    return {"img_0.png": make_png(0), "hello.mp3": b"ID3\x03\x00fake mp3 data"}


# -- protobuf and zstd ----------------------------------------------------------------------


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def proto_varint(number: int, value: int) -> bytes:
    """A protobuf varint field."""
    return _varint(number << 3) + _varint(value)


def proto_bytes(number: int, value: bytes | str) -> bytes:
    """A protobuf length-delimited field (text is UTF-8)."""
    data = value.encode("utf-8") if isinstance(value, str) else value
    return _varint(number << 3 | 2) + _varint(len(data)) + data


def zstd(data: bytes) -> bytes:
    """``data`` as one zstd frame, as Anki writes it."""
    return zstandard.ZstdCompressor(level=3).compress(data)


def _zstd_file_into(archive: zipfile.ZipFile, member: str, source: Path) -> None:
    """Stream ``source`` zstd-compressed into a stored member, as Anki's ``zstd_copy``."""
    info = zipfile.ZipInfo(member, date_time=(2025, 1, 1, 0, 0, 0))
    compressor = zstandard.ZstdCompressor(level=3)
    with (
        archive.open(info, "w", force_zip64=True) as target,
        source.open("rb") as handle,
        compressor.stream_writer(target, closefd=False) as writer,
    ):
        while chunk := handle.read(1 << 20):
            writer.write(chunk)


# -- legacy packages (genanki) ---------------------------------------------------------------


def _genanki_model(spec: NoteTypeSpec) -> genanki.Model:
    return genanki.Model(
        spec.id,
        spec.name,
        fields=[{"name": name} for name in spec.fields],
        templates=[{"name": n, "qfmt": q, "afmt": a} for n, q, a in spec.templates],
        model_type=genanki.Model.CLOZE if spec.is_cloze else genanki.Model.FRONT_BACK,
    )


def _deck_names(notes: Iterable[NoteSpec]) -> list[str]:
    """Every deck the notes use and their parents, parents first."""
    names: set[str] = set()
    for note in notes:
        parts = note.deck.split("::")
        names.update("::".join(parts[: i + 1]) for i in range(len(parts)))
    return sorted(names)


def _write_legacy_collection(db_path: Path, notes: Sequence[NoteSpec], timestamp: float) -> None:
    models = {spec.id: _genanki_model(spec) for spec in {note.notetype for note in notes}}
    decks = {
        name: genanki.Deck(1 if name == "Default" else 2_000_000 + index, name)
        for index, name in enumerate(_deck_names(notes))
    }
    for index, note in enumerate(notes):
        decks[note.deck].add_note(
            genanki.Note(
                model=models[note.notetype.id],
                fields=list(note.fields),
                tags=list(note.tags),
                guid=f"guid-{index:06d}",
            )
        )
    package = genanki.Package(list(decks.values()))
    with sqlite3.connect(db_path) as conn:
        package.write_to_db(conn.cursor(), timestamp, itertools.count(int(timestamp * 1000)))
        used: set[int] = set()
        for index, note in enumerate(notes):
            for review in note.reviews:
                row = conn.execute(
                    "SELECT cards.id FROM cards JOIN notes ON notes.id = cards.nid "
                    "WHERE notes.guid = ? AND cards.ord = ?",
                    (f"guid-{index:06d}", review.card_ord),
                ).fetchone()
                conn.execute(
                    "INSERT INTO revlog VALUES (?, ?, -1, ?, ?, 0, 2500, ?, ?)",
                    (
                        _unique_ms(review.at, used),
                        row[0],
                        review.ease,
                        review.interval,
                        review.duration_ms,
                        review.kind,
                    ),
                )
    conn.close()


def _unique_ms(at: datetime, used: set[int]) -> int:
    """``at`` in epoch ms, moved on by 1 ms while taken (revlog ids are unique)."""
    value = int(at.timestamp() * 1000)
    while value in used:
        value += 1
    used.add(value)
    return value


def write_legacy_package(
    path: Path,
    notes: Sequence[NoteSpec],
    *,
    media: Mapping[str, bytes] | None = None,
    member: str = "collection.anki2",
    timestamp: float = 1_735_689_600.0,
) -> Path:
    """A genanki-made schema-11 package at ``path``; ``member`` may be ``collection.anki21``.

    Review ids are the review time in ms plus a small counter (so they stay unique).
    """
    with tempfile.TemporaryDirectory(prefix="anki-build-") as work:
        db_path = Path(work) / "collection.sqlite"
        _write_legacy_collection(db_path, notes, timestamp)
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.write(db_path, member)
            items = list((media or {}).items())
            archive.writestr(
                "media", json.dumps({str(i): name for i, (name, _) in enumerate(items)})
            )
            for index, (_name, data) in enumerate(items):
                archive.writestr(str(index), data)
    return path


# -- current packages (anki21b) --------------------------------------------------------------

SCHEMA_18 = """
CREATE TABLE col (id integer PRIMARY KEY, crt integer NOT NULL, mod integer NOT NULL,
  scm integer NOT NULL, ver integer NOT NULL, dty integer NOT NULL, usn integer NOT NULL,
  ls integer NOT NULL, conf text NOT NULL, models text NOT NULL, decks text NOT NULL,
  dconf text NOT NULL, tags text NOT NULL);
CREATE TABLE notes (id integer PRIMARY KEY, guid text NOT NULL, mid integer NOT NULL,
  mod integer NOT NULL, usn integer NOT NULL, tags text NOT NULL, flds text NOT NULL,
  sfld integer NOT NULL, csum integer NOT NULL, flags integer NOT NULL, data text NOT NULL);
CREATE TABLE cards (id integer PRIMARY KEY, nid integer NOT NULL, did integer NOT NULL,
  ord integer NOT NULL, mod integer NOT NULL, usn integer NOT NULL, type integer NOT NULL,
  queue integer NOT NULL, due integer NOT NULL, ivl integer NOT NULL, factor integer NOT NULL,
  reps integer NOT NULL, lapses integer NOT NULL, left integer NOT NULL, odue integer NOT NULL,
  odid integer NOT NULL, flags integer NOT NULL, data text NOT NULL);
CREATE TABLE revlog (id integer PRIMARY KEY, cid integer NOT NULL, usn integer NOT NULL,
  ease integer NOT NULL, ivl integer NOT NULL, lastIvl integer NOT NULL,
  factor integer NOT NULL, time integer NOT NULL, type integer NOT NULL);
CREATE TABLE graves (oid integer NOT NULL, type integer NOT NULL, usn integer NOT NULL,
  PRIMARY KEY (oid, type)) WITHOUT ROWID;
CREATE TABLE deck_config (id integer PRIMARY KEY NOT NULL, name text NOT NULL COLLATE unicase,
  mtime_secs integer NOT NULL, usn integer NOT NULL, config blob NOT NULL);
CREATE TABLE config (KEY text NOT NULL PRIMARY KEY, usn integer NOT NULL,
  mtime_secs integer NOT NULL, val blob NOT NULL) WITHOUT ROWID;
CREATE TABLE fields (ntid integer NOT NULL, ord integer NOT NULL,
  name text NOT NULL COLLATE unicase, config blob NOT NULL, PRIMARY KEY (ntid, ord))
  WITHOUT ROWID;
CREATE UNIQUE INDEX idx_fields_name_ntid ON fields (name, ntid);
CREATE TABLE templates (ntid integer NOT NULL, ord integer NOT NULL,
  name text NOT NULL COLLATE unicase, mtime_secs integer NOT NULL, usn integer NOT NULL,
  config blob NOT NULL, PRIMARY KEY (ntid, ord)) WITHOUT ROWID;
CREATE UNIQUE INDEX idx_templates_name_ntid ON templates (name, ntid);
CREATE TABLE notetypes (id integer NOT NULL PRIMARY KEY, name text NOT NULL COLLATE unicase,
  mtime_secs integer NOT NULL, usn integer NOT NULL, config blob NOT NULL);
CREATE UNIQUE INDEX idx_notetypes_name ON notetypes (name);
CREATE INDEX idx_templates_usn ON templates (usn);
CREATE INDEX idx_notetypes_usn ON notetypes (usn);
CREATE TABLE decks (id integer PRIMARY KEY NOT NULL, name text NOT NULL COLLATE unicase,
  mtime_secs integer NOT NULL, usn integer NOT NULL, common blob NOT NULL,
  kind blob NOT NULL);
CREATE UNIQUE INDEX idx_decks_name ON decks (name);
CREATE INDEX idx_notes_mid ON notes (mid);
CREATE INDEX idx_cards_odid ON cards (odid) WHERE odid != 0;
CREATE INDEX idx_graves_pending ON graves (usn);
CREATE TABLE tags (tag text NOT NULL PRIMARY KEY COLLATE unicase, usn integer NOT NULL,
  collapsed boolean NOT NULL, config blob NULL) WITHOUT ROWID;
CREATE INDEX ix_notes_usn ON notes (usn);
CREATE INDEX ix_cards_usn ON cards (usn);
CREATE INDEX ix_revlog_usn ON revlog (usn);
CREATE INDEX ix_cards_nid ON cards (nid);
CREATE INDEX ix_cards_sched ON cards (did, queue, due);
CREATE INDEX ix_revlog_cid ON revlog (cid);
CREATE INDEX ix_notes_csum ON notes (csum);
"""


def _unicase(left: str, right: str) -> int:
    a, b = left.casefold(), right.casefold()
    return (a > b) - (a < b)


def _write_schema_18(db_path: Path, notes: Sequence[NoteSpec], created: datetime) -> None:
    """A schema-18 collection holding ``notes`` (ids from 1.7e12 ms, cards from 1.8e12)."""
    conn = sqlite3.connect(db_path)
    conn.create_collation("unicase", _unicase)
    with conn:
        conn.executescript(SCHEMA_18)
        crt = int(created.timestamp())
        conn.execute(
            "INSERT INTO col VALUES (1, ?, ?, ?, 18, 0, 0, 0, '', '', '', '', '')",
            (crt, crt * 1000, crt * 1000),
        )
        for spec in {note.notetype for note in notes}:
            config = proto_varint(1, 1) if spec.is_cloze else b""
            config += proto_bytes(3, ".card { font-family: arial; }")
            conn.execute(
                "INSERT INTO notetypes VALUES (?, ?, 0, 0, ?)", (spec.id, spec.name, config)
            )
            for ordinal, name in enumerate(spec.fields):
                conn.execute(
                    "INSERT INTO fields VALUES (?, ?, ?, ?)",
                    (spec.id, ordinal, name, proto_bytes(3, "Arial")),
                )
            for ordinal, (name, front, back) in enumerate(spec.templates):
                config = proto_bytes(1, front) + proto_bytes(2, back)
                conn.execute(
                    "INSERT INTO templates VALUES (?, ?, ?, 0, 0, ?)",
                    (spec.id, ordinal, name, config),
                )
        deck_ids = {"Default": 1}
        for name in _deck_names(notes):
            deck_ids.setdefault(name, 1_500_000_000_000 + len(deck_ids))
        conn.executemany(
            "INSERT INTO decks VALUES (?, ?, 0, 0, x'', x'0a00')",
            [(did, name.replace("::", "\x1f")) for name, did in deck_ids.items()],
        )
        _insert_notes(conn, notes, deck_ids)
    conn.close()


def _insert_notes(
    conn: sqlite3.Connection, notes: Sequence[NoteSpec], decks: dict[str, int]
) -> None:
    card_id = itertools.count(1_800_000_000_000)
    note_rows: list[tuple[object, ...]] = []
    card_rows: list[tuple[object, ...]] = []
    review_rows: list[tuple[object, ...]] = []
    used_review_ids: set[int] = set()
    for index, note in enumerate(notes):
        note_id = 1_700_000_000_000 + index
        tags = f" {' '.join(note.tags)} " if note.tags else ""
        note_rows.append(
            (
                note_id,
                f"g{index:07d}",
                note.notetype.id,
                tags,
                "\x1f".join(note.fields),
                note.fields[0],
            )
        )
        for ordinal in card_ords(note):
            cid = next(card_id)
            answers = [r for r in note.reviews if r.card_ord == ordinal]
            reviewed = bool(answers)
            card_rows.append(
                (
                    cid,
                    note_id,
                    decks[note.deck],
                    ordinal,
                    2 if reviewed else 0,  # type: review or new
                    2 if reviewed else 0,  # queue
                    10 if reviewed else index,  # due: day 10 or the new position
                    answers[-1].interval if reviewed else 0,
                    2500 if reviewed else 0,
                    len(answers),
                    sum(r.ease == 1 for r in answers),
                )
            )
            for review in answers:
                review_id = _unique_ms(review.at, used_review_ids)
                review_rows.append(
                    (review_id, cid, review.ease, review.interval, review.duration_ms, review.kind)
                )
    conn.executemany("INSERT INTO notes VALUES (?, ?, ?, 0, 0, ?, ?, ?, 0, 0, '')", note_rows)
    conn.executemany(
        "INSERT INTO cards VALUES (?, ?, ?, ?, 0, 0, ?, ?, ?, ?, ?, ?, ?, 0, 0, 0, 0, '')",
        card_rows,
    )
    conn.executemany("INSERT INTO revlog VALUES (?, ?, 0, ?, ?, 0, 2500, ?, ?)", review_rows)


def write_anki21b_package(
    path: Path,
    notes: Sequence[NoteSpec],
    *,
    media: Mapping[str, bytes] | None = None,
    created: datetime = datetime(2025, 1, 1, 4, 0, tzinfo=UTC),
    meta_version: int | None = 3,
    dummy: bool = True,
) -> Path:
    """A package laid out as current Anki exports it, at ``path`` (``.apkg`` or ``.colpkg``).

    ``meta_version=None`` leaves ``meta`` out; ``dummy=False`` leaves out the dummy
    ``collection.anki2``. Every member is stored (zip method 0), as Anki writes them.
    """
    with tempfile.TemporaryDirectory(prefix="anki-build-") as work:
        db_path = Path(work) / "collection.anki21b"
        _write_schema_18(db_path, notes, created)
        with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
            if meta_version is not None:
                archive.writestr("meta", proto_varint(1, meta_version))
            _zstd_file_into(archive, "collection.anki21b", db_path)
            if dummy:
                dummy_path = Path(work) / "collection.anki2"
                dummy_note = NoteSpec(BASIC, (DUMMY_NOTE_TEXT, ""))
                _write_legacy_collection(dummy_path, [dummy_note], created.timestamp())
                archive.write(dummy_path, "collection.anki2")
            entries = b""
            for index, (name, data) in enumerate((media or {}).items()):
                archive.writestr(str(index), zstd(data))
                entry = proto_bytes(1, name) + proto_varint(2, len(data))
                entry += proto_bytes(3, hashlib.sha1(data).digest())
                entries += proto_bytes(1, entry)
            archive.writestr("media", zstd(entries))
    return path


# -- synthetic decks for benchmarks ----------------------------------------------------------


def synthetic_deck(
    notes: int, images: int, *, reviews_every: int = 3, seed: int = 1, image_side: int = 64
) -> tuple[list[NoteSpec], dict[str, bytes]]:
    """``notes`` notes cycling through the stock note types in 20 sub-decks, and ``images``
    PNGs (``image_side`` px square, random pixels), each shown by one note (every
    ``notes // images``-th); every ``reviews_every``-th note has three reviews of its first
    card."""
    start = datetime(2025, 2, 1, 8, 0, tzinfo=UTC)
    media = {f"bench_{i:04d}.png": make_png(seed * 100_000 + i, image_side) for i in range(images)}
    names = list(media)
    step = max(1, notes // images) if images else 0
    specs: list[NoteSpec] = []
    for index in range(notes):
        image = ""
        if step and index % step == 0:
            image = f' <img src="{names[(index // step) % images]}">'
        word = f"term {index}"
        kind = STOCK_NOTE_TYPES[index % len(STOCK_NOTE_TYPES)]
        fields: tuple[str, ...] = {
            BASIC.id: (f"What is {word}?{image}", f"Definition of {word}."),
            BASIC_REVERSED.id: (f"{word}{image}", f"meaning {index}"),
            BASIC_OPTIONAL_REVERSED.id: (
                f"{word}{image}",
                f"meaning {index}",
                "y" if index % 2 else "",
            ),
            BASIC_TYPING.id: (f"Type {word}{image}", word),
            CLOZE.id: (f"{{{{c1::{word}}}}} is {{{{c2::number {index}}}}}.{image}", ""),
            CUSTOM.id: (f"{word}{image}", f"meaning {index}", f"An example with {word}."),
        }[kind.id]
        reviews: tuple[ReviewSpec, ...] = ()
        if reviews_every and index % reviews_every == 0:
            at = start + timedelta(minutes=index)
            reviews = (
                ReviewSpec(at, 3, kind=0, interval=-600),
                ReviewSpec(at + timedelta(days=1), 3, interval=3),
                ReviewSpec(at + timedelta(days=4), 1, interval=1),
            )
        specs.append(
            NoteSpec(kind, fields, (f"tag{index % 7}",), f"Bench::Part {index % 20:02d}", reviews)
        )
    return specs, media


# -- hostile archives ------------------------------------------------------------------------


def write_zip(
    path: Path, members: Mapping[str, bytes], *, compression: int = zipfile.ZIP_DEFLATED
) -> Path:
    """A zip archive holding ``members`` (names are written as given, even hostile ones)."""
    with zipfile.ZipFile(path, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(
                zipfile.ZipInfo(name, date_time=(2025, 1, 1, 0, 0, 0)), data, compression
            )
    return path


def write_zip_bomb(path: Path, size: int, *, member: str = "collection.anki2") -> Path:
    """A zip whose ``member`` is ``size`` zero bytes, deflated (about 1000:1)."""
    chunk = bytes(1 << 20)
    with (
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive,
        archive.open(member, "w", force_zip64=True) as target,
    ):
        for offset in range(0, size, len(chunk)):
            target.write(chunk[: min(len(chunk), size - offset)])
    return path


def write_encrypted_zip(path: Path, member: str = "collection.anki2") -> Path:
    """A zip whose ``member`` has the "encrypted" flag bit set (zipfile cannot write one, so
    the bit is patched into the local and the central header)."""
    write_zip(path, {member: bytes(64)}, compression=zipfile.ZIP_STORED)
    data = bytearray(path.read_bytes())
    local, central = data.find(b"PK\x03\x04"), data.find(b"PK\x01\x02")
    data[local + 6] |= 0x1
    data[central + 8] |= 0x1
    path.write_bytes(bytes(data))
    return path


def patch_declared_size(path: Path, member: str, declared: int) -> Path:
    """Make the central directory claim ``member`` unpacks to ``declared`` bytes (a lie)."""
    data = bytearray(path.read_bytes())
    name = member.encode("utf-8")
    at = data.find(b"PK\x01\x02")
    while at >= 0:
        name_length = struct.unpack("<H", data[at + 28 : at + 30])[0]
        if bytes(data[at + 46 : at + 46 + name_length]) == name:
            data[at + 24 : at + 28] = struct.pack("<I", declared)
            path.write_bytes(bytes(data))
            return path
        at = data.find(b"PK\x01\x02", at + 4)
    raise KeyError(member)


def write_zstd_bomb(path: Path, size: int) -> Path:
    """An anki21b-layout package whose ``collection.anki21b`` is ``size`` zero bytes in zstd."""
    with tempfile.TemporaryDirectory(prefix="anki-build-") as work:
        zeros = Path(work) / "zeros"
        with zeros.open("wb") as handle:
            handle.truncate(size)
        with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
            archive.writestr("meta", proto_varint(1, 3))
            _zstd_file_into(archive, "collection.anki21b", zeros)
    return path


def rewrite_members(
    path: Path, *, drop: Iterable[str] = (), add: Mapping[str, bytes] | None = None
) -> Path:
    """Rewrite the zip at ``path`` without the members ``drop`` and with ``add`` (replacing)."""
    dropped = set(drop) | set(add or {})
    with zipfile.ZipFile(path) as archive:
        kept = {name: archive.read(name) for name in archive.namelist() if name not in dropped}
    return write_zip(path, {**kept, **(add or {})}, compression=zipfile.ZIP_STORED)


def edit_legacy_collection(path: Path, sql: str, *, member: str = "collection.anki2") -> Path:
    """Run the SQL script ``sql`` on the schema-11 collection inside the package at ``path``."""
    with tempfile.TemporaryDirectory(prefix="anki-build-") as work:
        db_path = Path(work) / "collection.sqlite"
        with zipfile.ZipFile(path) as archive:
            db_path.write_bytes(archive.read(member))
        conn = sqlite3.connect(db_path)
        conn.executescript(sql)
        conn.commit()
        conn.close()
        return rewrite_members(path, add={member: db_path.read_bytes()})


def use_zip64_end(
    path: Path, *, claimed_directory_size: int | None = None, locator: bool = True
) -> Path:
    """Rewrite the end of the zip at ``path`` the zip64 way: a zip64 end record and locator,
    and an end record whose counts are 0xFFFF/0xFFFFFFFF. ``claimed_directory_size`` makes
    the zip64 record lie about the central directory; ``locator=False`` leaves it out."""
    data = path.read_bytes()
    end = data[-22:]
    if end[:4] != b"PK\x05\x06":
        raise ValueError("the zip has a comment or no end record")
    entries, size, offset = struct.unpack("<HII", end[10:20])
    at = len(data) - 22
    record = b"PK\x06\x06" + struct.pack(
        "<QHHIIQQQQ",
        44,
        45,
        45,
        0,
        0,
        entries,
        entries,
        size if claimed_directory_size is None else claimed_directory_size,
        offset,
    )
    pointer = b"PK\x06\x07" + struct.pack("<IQI", 0, at, 1)
    new_end = b"PK\x05\x06" + struct.pack(
        "<HHHHIIH", 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0
    )
    path.write_bytes(data[:at] + record + (pointer if locator else b"") + new_end)
    return path
