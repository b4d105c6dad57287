"""Reading Anki packages: every note type in every layout, reviews, media, and hostile files."""

from __future__ import annotations

import hashlib
import os
import random
import re
import struct
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.core.anki_model import AnkiCollection, AnkiNote
from bot.decks import anki_collection
from bot.decks.anki_collection import proto_fields
from bot.decks.anki_read import DEFAULT_LIMITS, PackageLimits, read_anki_package
from bot.decks.safe_zip import SafeZip
from bot.errors import BadInput
from tests.decks.anki_builders import (
    BASIC,
    DUMMY_NOTE_TEXT,
    NoteSpec,
    card_ords,
    edit_legacy_collection,
    image_like,
    make_png,
    patch_declared_size,
    proto_bytes,
    proto_varint,
    rewrite_members,
    sample_media,
    sample_notes,
    use_zip64_end,
    write_anki21b_package,
    write_encrypted_zip,
    write_legacy_package,
    write_zip,
    write_zip_bomb,
    write_zstd_bomb,
    zstd,
)

Writer = Callable[[Path], Path]
LAYOUTS: dict[str, Writer] = {
    "anki2": lambda d: write_legacy_package(d / "deck.apkg", sample_notes(), media=sample_media()),
    "anki21": lambda d: write_legacy_package(
        d / "deck.apkg", sample_notes(), media=sample_media(), member="collection.anki21"
    ),
    "anki21b": lambda d: write_anki21b_package(
        d / "deck.apkg", sample_notes(), media=sample_media()
    ),
    "colpkg": lambda d: write_anki21b_package(
        d / "collection.colpkg", sample_notes(), media=sample_media()
    ),
}
MiB = 1024 * 1024


def read(path: Path, limits: PackageLimits = DEFAULT_LIMITS) -> AnkiCollection:
    """The collection of the package at ``path`` (the archive closed again)."""
    with read_anki_package(path, limits=limits) as package:
        return package.collection


def by_first_field(collection: AnkiCollection) -> dict[str, AnkiNote]:
    return {note.fields[0]: note for note in collection.notes}


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd")) if Path("/proc/self/fd").exists() else 0


# -- reading --------------------------------------------------------------------------------


@pytest.mark.parametrize("layout", LAYOUTS)
def test_every_note_type_is_read_with_fields_tags_decks_and_cards(
    tmp_path: Path, layout: str
) -> None:
    collection = read(LAYOUTS[layout](tmp_path))

    expected_format = "anki21b" if layout == "colpkg" else layout
    assert collection.package_format == expected_format
    assert collection.media_names == frozenset({"img_0.png", "hello.mp3"})
    assert collection.remarks == []
    notes = by_first_field(collection)
    assert len(collection.notes) == len(sample_notes())
    for spec in sample_notes():
        note = notes[spec.fields[0]]
        kind = spec.notetype
        assert note.notetype.name == kind.name
        assert note.notetype.is_cloze is kind.is_cloze
        assert note.notetype.field_names == kind.fields
        assert [(t.name, t.front, t.back) for t in note.notetype.templates] == list(kind.templates)
        assert note.fields == spec.fields
        assert note.tags == spec.tags
        assert tuple(card.ord for card in note.cards) == card_ords(spec)
        assert {card.deck for card in note.cards} == {spec.deck}
    assert notes["chien"].field("back") == "dog"
    assert [c.ord for c in notes["gato"].cards] == [0, 1]
    assert [c.ord for c in notes["perro"].cards] == [0]


@pytest.mark.parametrize("layout", ["anki2", "anki21b"])
def test_review_history_keeps_times_buttons_and_durations(tmp_path: Path, layout: str) -> None:
    notes = by_first_field(read(LAYOUTS[layout](tmp_path)))
    first = sample_notes()[0]

    reviews = notes[first.fields[0]].cards[0].reviews
    assert [(r.at, r.ease, r.kind, r.interval, r.duration_ms) for r in reviews] == [
        (s.at, s.ease, s.kind, s.interval, s.duration_ms) for s in first.reviews
    ]
    assert reviews[0].at == datetime(2025, 3, 1, 9, 30, tzinfo=UTC)
    cloze = next(note for note in notes.values() if note.notetype.is_cloze)
    assert [len(card.reviews) for card in cloze.cards] == [0, 1]
    assert cloze.cards[1].reviews[0].ease == 4


def test_anki21b_cards_carry_scheduling_and_the_collection_its_start(tmp_path: Path) -> None:
    created = datetime(2024, 6, 1, 4, 0, tzinfo=UTC)
    path = write_anki21b_package(tmp_path / "d.apkg", sample_notes(), created=created)

    collection = read(path)

    assert collection.created_at == created
    card = by_first_field(collection)[sample_notes()[0].fields[0]].cards[0]
    assert (card.card_type, card.queue, card.due, card.interval) == (2, 2, 10, 1)
    assert (card.ease_factor, card.reps, card.lapses) == (2500, 2, 1)


def test_the_dummy_collection_of_new_packages_is_ignored(tmp_path: Path) -> None:
    path = write_anki21b_package(tmp_path / "d.apkg", sample_notes(), dummy=True)
    with zipfile.ZipFile(path) as archive:
        assert {"collection.anki2", "collection.anki21b", "meta"} <= set(archive.namelist())

    collection = read(path)

    assert collection.package_format == "anki21b"
    assert all(DUMMY_NOTE_TEXT not in note.fields for note in collection.notes)


def test_anki21b_without_meta_is_read_as_zstd(tmp_path: Path) -> None:
    path = write_anki21b_package(
        tmp_path / "d.apkg", sample_notes(), media=sample_media(), meta_version=None, dummy=False
    )
    with read_anki_package(path) as package:
        assert package.collection.package_format == "anki21b"
        assert set(package.extract_media(["img_0.png"], tmp_path / "m")) == {"img_0.png"}


def test_a_card_in_a_filtered_deck_belongs_to_its_home_deck(tmp_path: Path) -> None:
    path = write_legacy_package(tmp_path / "d.apkg", sample_notes())
    edit_legacy_collection(path, "UPDATE cards SET odid = did, did = 999")

    collection = read(path)

    assert {c.deck for c in by_first_field(collection)["chien"].cards} == {"Languages::French"}


def test_damaged_rows_are_skipped_with_remarks(tmp_path: Path) -> None:
    path = write_legacy_package(tmp_path / "d.apkg", sample_notes())
    edit_legacy_collection(
        path,
        """
        UPDATE notes SET mid = 42 WHERE guid = 'guid-000001';
        UPDATE notes SET flds = 'only one field' WHERE guid = 'guid-000002';
        UPDATE notes SET guid = x'00ff' WHERE guid = 'guid-000003';
        UPDATE cards SET ord = 'x' WHERE id = (SELECT max(id) FROM cards);
        UPDATE cards SET did = 31337 WHERE id = (SELECT min(id) FROM cards);
        UPDATE revlog SET id = 99999999999999999 WHERE id = (SELECT min(id) FROM revlog);
        UPDATE revlog SET cid = 'x' WHERE ease = 4;
        """,
    )

    collection = read(path)

    assert len(collection.notes) == len(sample_notes()) - 2
    assert collection.remarks == [
        "Skipped 2 review(s) with an impossible date or value.",
        "Skipped 1 damaged card(s).",
        "1 card(s) were in a deck missing from the package: put in Default.",
        "Skipped 1 damaged note(s).",
        "Skipped 1 note(s) whose note type is missing from the package.",
        "1 note(s) had more or fewer fields than their note type: fixed.",
    ]
    padded = by_first_field(collection)["only one field"]
    assert padded.fields == ("only one field", "", "")


# -- media ----------------------------------------------------------------------------------

IMAGES = {
    "a.png": make_png(1),
    "copy of a.png": make_png(1),
    "photo.JPG": image_like("jpg", 900),
    "anim.gif": image_like("gif", 300),
    "pic.webp": image_like("webp", 500),
    "jpeg inside.png": image_like("jpg", 200),
}
OTHERS = {
    "drawing.svg": b"<svg xmlns='http://www.w3.org/2000/svg'/>",
    "hello.mp3": b"ID3 sound",
    "fake.png": b"<html>not a picture</html>",
}
MEDIA_WRITERS: dict[str, Callable[[Path, dict[str, bytes]], Path]] = {
    "anki2": lambda d, media: write_legacy_package(d / "m.apkg", sample_notes(), media=media),
    "anki21b": lambda d, media: write_anki21b_package(d / "m.apkg", sample_notes(), media=media),
}


@pytest.mark.parametrize("layout", MEDIA_WRITERS)
def test_images_are_extracted_under_content_hash_names(tmp_path: Path, layout: str) -> None:
    path = MEDIA_WRITERS[layout](tmp_path, {**IMAGES, **OTHERS})
    dest = tmp_path / "media"

    with read_anki_package(path) as package:
        stored = package.extract_media([*IMAGES, *OTHERS, "missing.png", "a.png"], dest)
        remarks = package.collection.remarks

    extensions = {"a.png": "png", "copy of a.png": "png", "photo.JPG": "jpg"}
    extensions |= {"anim.gif": "gif", "pic.webp": "webp", "jpeg inside.png": "jpg"}
    assert stored == {
        name: f"{hashlib.sha256(data).hexdigest()[:32]}.{extensions[name]}"
        for name, data in IMAGES.items()
    }
    assert stored["a.png"] == stored["copy of a.png"]
    for name, stored_name in stored.items():
        assert (dest / stored_name).read_bytes() == IMAGES[name]
        assert (dest / stored_name).stat().st_size == len(IMAGES[name])
    assert sorted(p.name for p in dest.iterdir()) == sorted(set(stored.values()))
    assert remarks == [
        "Skipped 2 media file(s) that are not PNG, JPEG, GIF or WebP images: 'drawing.svg', "
        "'hello.mp3'.",
        "Skipped 1 file(s) named like images that are not PNG, JPEG, GIF or WebP: 'fake.png'.",
        "Skipped 1 media file(s) missing from the package: 'missing.png'.",
    ]


@pytest.mark.parametrize("layout", MEDIA_WRITERS)
def test_images_over_the_size_limit_are_skipped(tmp_path: Path, layout: str) -> None:
    big, small = make_png(2, side=100), make_png(3, side=8)
    path = MEDIA_WRITERS[layout](tmp_path, {"big.png": big, "small.png": small})
    limits = replace(DEFAULT_LIMITS, max_media_file_bytes=len(big) - 1)

    with read_anki_package(path, limits=limits) as package:
        stored = package.extract_media(["big.png", "small.png"], tmp_path / "media")
        remarks = package.collection.remarks

    assert list(stored) == ["small.png"]
    assert remarks == [f"Skipped 1 image(s) over {(len(big) - 1) // 1024} KB: 'big.png'."]
    assert len(list((tmp_path / "media").iterdir())) == 1


def test_a_media_list_that_understates_a_size_is_caught_while_streaming(tmp_path: Path) -> None:
    big = make_png(4, side=100)
    path = write_anki21b_package(tmp_path / "m.apkg", sample_notes(), media={"big.png": big})
    lie = proto_bytes(1, proto_bytes(1, "big.png") + proto_varint(2, 10))
    rewrite_members(path, add={"media": zstd(lie)})
    limits = replace(DEFAULT_LIMITS, max_media_file_bytes=len(big) // 2)

    with read_anki_package(path, limits=limits) as package:
        assert package.extract_media(["big.png"], tmp_path / "media") == {}
        assert "over" in package.collection.remarks[0]
    assert list((tmp_path / "media").iterdir()) == []


def test_only_the_first_max_media_files_images_are_kept(tmp_path: Path) -> None:
    media = {f"i{n}.png": make_png(10 + n) for n in range(3)}
    path = write_anki21b_package(tmp_path / "m.apkg", sample_notes(), media=media)

    with read_anki_package(path, limits=replace(DEFAULT_LIMITS, max_media_files=2)) as package:
        stored = package.extract_media(media, tmp_path / "media")
        assert package.collection.remarks == ["Skipped 1 image(s) past the first 2: 'i2.png'."]
    assert list(stored) == ["i0.png", "i1.png"]


def test_media_beyond_the_archive_budget_refuses_and_removes_what_was_written(
    tmp_path: Path,
) -> None:
    # zstd shrinks these to almost nothing, so the declared sizes pass; streaming does not.
    media = {f"z{n}.png": b"\x89PNG\r\n\x1a\n" + bytes(n + 3 * MiB // 2) for n in range(3)}
    path = write_anki21b_package(tmp_path / "m.apkg", sample_notes(), media=media)
    limits = replace(DEFAULT_LIMITS, max_total_bytes=3 * MiB)
    dest = tmp_path / "media"
    dest.mkdir()
    (dest / "earlier.png").write_bytes(b"kept")

    with (
        read_anki_package(path, limits=limits) as package,
        pytest.raises(BadInput, match=r"unpacks to more than 3\.0 MB"),
    ):
        package.extract_media(media, dest)

    assert [p.name for p in dest.iterdir()] == ["earlier.png"]


def test_unsafe_and_absent_media_names_are_left_out(tmp_path: Path) -> None:
    path = write_zip(
        tmp_path / "m.apkg",
        {
            "collection.anki2": _legacy_collection_bytes(tmp_path),
            "media": b'{"0": "../evil.png", "1": "ok.png", "2": "gone.png"}',
            "0": make_png(1),
            "1": make_png(2),
        },
    )

    with read_anki_package(path) as package:
        assert package.collection.media_names == frozenset({"ok.png"})
        assert package.collection.remarks == [
            "Skipped 1 media file(s) with unsafe names: '../evil.png'.",
            "Skipped 1 listed media file(s) not in the archive.",
        ]
        package.close()
        with pytest.raises(ValueError, match="closed"):
            package.extract_media(["ok.png"], tmp_path / "media")


def _legacy_collection_bytes(tmp_path: Path) -> bytes:
    path = write_legacy_package(tmp_path / "source.apkg", sample_notes())
    with zipfile.ZipFile(path) as archive:
        return archive.read("collection.anki2")


# -- hostile and broken files ---------------------------------------------------------------


def _not_a_zip(d: Path) -> Path:
    path = d / "x.apkg"
    path.write_bytes(random.Random(1).randbytes(5000))
    return path


def _corrupt_data(d: Path) -> Path:
    path = write_legacy_package(d / "x.apkg", sample_notes())
    data = bytearray(path.read_bytes())
    start = data.find(b"collection.anki2") + len("collection.anki2")
    for offset in range(start + 200, start + 400):
        data[offset] ^= 0x5A
    path.write_bytes(bytes(data))
    return path


def _truncated_sqlite(d: Path) -> Path:
    whole = _legacy_collection_bytes(d)
    return write_zip(d / "x.apkg", {"collection.anki2": whole[: len(whole) // 2]})


def _not_anki_sqlite(d: Path) -> Path:
    path = write_legacy_package(d / "x.apkg", sample_notes())
    return edit_legacy_collection(path, "DROP TABLE notes; CREATE VIEW notes AS SELECT 1 AS id")


def _only_dummy(d: Path) -> Path:
    return write_legacy_package(d / "x.apkg", [NoteSpec(BASIC, (DUMMY_NOTE_TEXT, ""))])


def _v3_without_anki21b(d: Path) -> Path:
    path = write_anki21b_package(d / "x.apkg", sample_notes())
    return rewrite_members(path, drop=["collection.anki21b"])


def _duplicate_member(d: Path) -> Path:
    path = write_legacy_package(d / "x.apkg", sample_notes())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        with zipfile.ZipFile(path, "a") as archive:
            archive.writestr("collection.anki2", b"second copy")
    return path


def _lying_header(d: Path) -> Path:
    path = write_zip_bomb(d / "x.apkg", 4 * MiB)
    return patch_declared_size(path, "collection.anki2", 1000)


def _many_members(count: int) -> Writer:
    return lambda d: write_zip(d / "x.apkg", {f"{n}": b"x" for n in range(count)})


def _bad_central_directory(d: Path) -> Path:
    path = write_legacy_package(d / "x.apkg", sample_notes())
    path.write_bytes(path.read_bytes().replace(b"PK\x01\x02", b"PK\x01\x09"))
    return path


def _bare_zip64_end(d: Path) -> Path:
    path = d / "x.apkg"
    path.write_bytes(b"PK\x05\x06" + struct.pack("<HHHHIIH", 0, 0, 0xFFFF, 0xFFFF, 0, 0, 0))
    return path


SMALL = replace(DEFAULT_LIMITS, max_members=5, max_total_bytes=1 * MiB)
HOSTILE: dict[str, tuple[Writer, PackageLimits, str]] = {
    "not a zip": (_not_a_zip, DEFAULT_LIMITS, "not a zip archive"),
    "corrupt data": (_corrupt_data, DEFAULT_LIMITS, "package is damaged"),
    "empty": (lambda d: write_zip(d / "x.apkg", {}), DEFAULT_LIMITS, "archive is empty"),
    "no collection": (
        lambda d: write_zip(d / "x.apkg", {"readme.txt": b"hi"}),
        DEFAULT_LIMITS,
        "holds no Anki collection",
    ),
    "bad central directory": (_bad_central_directory, DEFAULT_LIMITS, "package is damaged"),
    "bare zip64 end": (_bare_zip64_end, DEFAULT_LIMITS, "zip64 directory is missing"),
    "encrypted": (lambda d: write_encrypted_zip(d / "x.apkg"), DEFAULT_LIMITS, "encrypted"),
    "dot-dot": (
        lambda d: write_zip(d / "x.apkg", {"../evil": b"x"}),
        DEFAULT_LIMITS,
        "points outside",
    ),
    "nested dot-dot": (
        lambda d: write_zip(d / "x.apkg", {"media/../../evil": b"x"}),
        DEFAULT_LIMITS,
        "points outside",
    ),
    "absolute": (
        lambda d: write_zip(d / "x.apkg", {"/etc/evil": b"x"}),
        DEFAULT_LIMITS,
        "points outside",
    ),
    "backslash": (
        lambda d: write_zip(d / "x.apkg", {"..\\evil": b"x"}),
        DEFAULT_LIMITS,
        "points outside",
    ),
    "drive": (
        lambda d: write_zip(d / "x.apkg", {"C:/evil": b"x"}),
        DEFAULT_LIMITS,
        "points outside",
    ),
    "duplicate": (_duplicate_member, DEFAULT_LIMITS, "appears twice"),
    "upload too big": (
        LAYOUTS["anki21b"],
        replace(DEFAULT_LIMITS, max_upload_bytes=1000),
        "MB can be imported",
    ),
    "too many members": (_many_members(6), SMALL, "holds 6 files; at most 5"),
    "huge central directory": (_many_members(300), SMALL, "too many files; at most 5"),
    "ratio bomb": (lambda d: write_zip_bomb(d / "x.apkg", 4 * MiB), DEFAULT_LIMITS, "zip bomb"),
    "declared too big": (
        lambda d: write_zip(d / "x.apkg", {"collection.anki2": random.Random(2).randbytes(MiB)}),
        replace(DEFAULT_LIMITS, max_total_bytes=MiB // 2),
        "unpacks to more than 0.5 MB",
    ),
    "lying header": (_lying_header, DEFAULT_LIMITS, "package is damaged"),
    "zstd bomb": (
        lambda d: write_zstd_bomb(d / "x.apkg", 64 * MiB),
        replace(DEFAULT_LIMITS, max_collection_bytes=8 * MiB),
        "The collection unpacks to more than 8.0 MB",
    ),
    "zstd garbage": (
        lambda d: write_zip(d / "x.apkg", {"collection.anki21b": b"\x28\xb5\x2f\xfd junk"}),
        DEFAULT_LIMITS,
        "collection cannot be unpacked",
    ),
    "sqlite garbage": (
        lambda d: write_zip(d / "x.apkg", {"collection.anki2": b"SQLite format 3\x00" * 300}),
        DEFAULT_LIMITS,
        "collection inside the package is damaged",
    ),
    "truncated sqlite": (
        _truncated_sqlite,
        DEFAULT_LIMITS,
        "collection inside the package is damaged",
    ),
    "not an Anki database": (_not_anki_sqlite, DEFAULT_LIMITS, "not an Anki collection"),
    "broken note types": (
        lambda d: edit_legacy_collection(
            write_legacy_package(d / "x.apkg", sample_notes()), "UPDATE col SET models = '['"
        ),
        DEFAULT_LIMITS,
        "note types or decks cannot be read",
    ),
    "empty col table": (
        lambda d: edit_legacy_collection(
            write_legacy_package(d / "x.apkg", sample_notes()), "DELETE FROM col"
        ),
        DEFAULT_LIMITS,
        "note types or decks cannot be read",
    ),
    "no notes": (
        lambda d: write_anki21b_package(d / "x.apkg", []),
        DEFAULT_LIMITS,
        "holds no notes",
    ),
    "too many notes": (
        LAYOUTS["anki21b"],
        replace(DEFAULT_LIMITS, max_notes=3),
        "holds 7 notes; at most 3",
    ),
    "too many reviews": (
        LAYOUTS["anki21b"],
        replace(DEFAULT_LIMITS, max_reviews=1),
        "without scheduling information",
    ),
    "only the dummy": (_only_dummy, DEFAULT_LIMITS, "newer Anki"),
    "meta too new": (
        lambda d: write_anki21b_package(d / "x.apkg", sample_notes(), meta_version=4),
        DEFAULT_LIMITS,
        "newer Anki",
    ),
    "meta unknown": (
        lambda d: rewrite_members(LAYOUTS["anki21b"](d), add={"meta": b""}),
        DEFAULT_LIMITS,
        "newer Anki",
    ),
    "meta garbage": (
        lambda d: rewrite_members(LAYOUTS["anki21b"](d), add={"meta": b"\x0f\xff"}),
        DEFAULT_LIMITS,
        "meta file is not valid",
    ),
    "v3 without anki21b": (_v3_without_anki21b, DEFAULT_LIMITS, "collection.anki21b is missing"),
    "media list garbage": (
        lambda d: rewrite_members(LAYOUTS["anki21b"](d), add={"media": zstd(b"\x0a\x99")}),
        DEFAULT_LIMITS,
        "media list is not valid",
    ),
    "legacy media list not an object": (
        lambda d: rewrite_members(LAYOUTS["anki2"](d), add={"media": b"[1, 2]"}),
        DEFAULT_LIMITS,
        "media list is not valid",
    ),
}


@pytest.mark.parametrize("case", HOSTILE)
def test_hostile_or_broken_packages_are_refused_cleanly(tmp_path: Path, case: str) -> None:
    writer, limits, message = HOSTILE[case]
    build = tmp_path / "build"
    build.mkdir()
    path = writer(build)
    work = tmp_path / "work"
    work.mkdir()
    fds = open_fds()

    with pytest.raises(BadInput, match=re.escape(message)) as caught:
        read_anki_package(path, limits=limits, temp_dir=work)

    text = str(caught.value)
    assert "\n" not in text and len(text) < 300
    assert any(word in text for word in ("export", "Export", "upload")), text
    assert list(work.iterdir()) == []
    assert open_fds() == fds


def test_a_missing_file_or_a_folder_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="cannot be read"):
        read_anki_package(tmp_path / "nothing.apkg")
    with pytest.raises(BadInput, match="cannot be read"):
        read_anki_package(tmp_path)


def test_a_zip64_end_record_is_understood(tmp_path: Path) -> None:
    path = use_zip64_end(LAYOUTS["anki21b"](tmp_path))

    assert len(read(path).notes) == len(sample_notes())


def test_a_zip64_end_record_claiming_a_huge_directory_is_refused(tmp_path: Path) -> None:
    path = use_zip64_end(LAYOUTS["anki21b"](tmp_path), claimed_directory_size=10**9)

    with pytest.raises(BadInput, match="too many files"):
        read_anki_package(path)


def test_a_zip64_end_record_without_its_locator_is_refused(tmp_path: Path) -> None:
    path = use_zip64_end(LAYOUTS["anki21b"](tmp_path), locator=False)

    with pytest.raises(BadInput, match="zip64 directory is missing"):
        read_anki_package(path)


def test_sqlite_work_is_bounded_in_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(anki_collection, "SQLITE_BUDGET_S", -1.0)
    monkeypatch.setattr(anki_collection, "SQLITE_CHECK_EVERY", 1)

    with pytest.raises(BadInput, match="interrupted"):
        read_anki_package(LAYOUTS["anki21b"](tmp_path))


def test_a_good_package_leaves_no_temporary_files(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    with read_anki_package(LAYOUTS["anki21b"](tmp_path), temp_dir=work) as package:
        assert package.collection.notes
        assert list(work.iterdir()) == []


def test_limits_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_notes"):
        PackageLimits(max_notes=0)


# -- the pieces -----------------------------------------------------------------------------


def test_the_protobuf_reader_reads_every_wire_type_and_refuses_broken_data() -> None:
    message = (
        proto_varint(1, 300)
        + bytes([2 << 3 | 1]) + (7).to_bytes(8, "little")
        + bytes([3 << 3 | 5]) + (9).to_bytes(4, "little")
        + proto_bytes(4, "text")
    )  # fmt: skip

    assert list(proto_fields(message)) == [
        (1, 300),
        (2, (7).to_bytes(8, "little")),
        (3, (9).to_bytes(4, "little")),
        (4, b"text"),
    ]


@pytest.mark.parametrize(
    "data",
    [
        bytes([1 << 3 | 3]),  # a group: no longer used by protobuf
        b"\x08\x80",  # a varint cut short
        b"\x08" + b"\xff" * 10 + b"\x01",  # a varint over 64 bits
        proto_bytes(1, "text")[:-1],  # a string cut short
        bytes([1 << 3 | 1]) + b"\x00",  # a fixed64 cut short
    ],
    ids=["group", "short varint", "long varint", "short string", "short fixed64"],
)
def test_the_protobuf_reader_refuses_broken_data(data: bytes) -> None:
    with pytest.raises(ValueError, match="protobuf"):
        list(proto_fields(data))


def test_media_entries_may_name_their_member_and_carry_unknown_fields(tmp_path: Path) -> None:
    png = make_png(5)
    path = write_anki21b_package(tmp_path / "m.apkg", sample_notes())
    entry = proto_bytes(1, "moved.png") + proto_varint(2, len(png)) + proto_varint(255, 7)
    media = zstd(proto_varint(2, 1) + proto_bytes(1, entry) + proto_bytes(9, b"future"))
    rewrite_members(path, add={"media": media, "7": zstd(png)})

    with read_anki_package(path) as package:
        stored = package.extract_media(["moved.png"], tmp_path / "out")
    assert (tmp_path / "out" / stored["moved.png"]).read_bytes() == png


def test_a_package_without_a_media_list_has_no_media(tmp_path: Path) -> None:
    path = rewrite_members(LAYOUTS["anki21b"](tmp_path), drop=["media"])

    assert read(path).media_names == frozenset()


def test_safe_zip_refuses_unknown_members_and_compression_methods(tmp_path: Path) -> None:
    path = write_zip(tmp_path / "x.zip", {"a": b"x" * 100}, compression=zipfile.ZIP_BZIP2)

    with SafeZip(path) as archive:
        assert archive.names == frozenset({"a"})
        with pytest.raises(BadInput, match="the thing is missing"):
            archive.read_bytes("b", zstd=False, max_bytes=10, what="the thing")
        with pytest.raises(BadInput, match="compression method the bot cannot read"):
            archive.read_bytes("a", zstd=False, max_bytes=1000, what="the thing")
