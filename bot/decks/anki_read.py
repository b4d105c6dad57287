"""Reading an uploaded Anki package (``.apkg``/``.colpkg``) into :mod:`bot.core.anki_model`.

A package is a zip archive (opened with :class:`bot.decks.safe_zip.SafeZip`, which refuses
hostile archives) holding one collection, a SQLite database, in one of three layouts; the
best one present is read:

* ``collection.anki21b`` (Anki 2.1.50+, ``meta`` is a protobuf ``PackageMetadata`` with
  version 3): zstd-compressed, schema 18. The media list ``media`` is a zstd-compressed
  protobuf ``MediaEntries`` (entry *i* is member ``"i"``) and every media member is
  zstd-compressed too. Such packages also carry a dummy ``collection.anki2`` whose one note
  asks to update Anki; it is ignored (and refused when it is all there is).
* ``collection.anki21`` and ``collection.anki2``: schema 11; the media list is a JSON object
  ``{"0": "name.jpg", …}`` naming plain members.

The collection is streamed into a temporary file, read whole into plain values by
:mod:`bot.decks.anki_collection` and deleted before :func:`read_anki_package` returns.
Media files stay in the archive until :meth:`AnkiPackage.extract_media` streams the wanted
images out under content-hash names. Every refusal is a one-line :class:`bot.errors.BadInput`.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from bot.core.anki_model import AnkiCollection
from bot.decks.anki_collection import proto_fields, proto_int, read_collection_file
from bot.decks.safe_zip import (
    DEFAULT_LIMITS,
    MemberTooLarge,
    MiB,
    PackageLimits,
    SafeZip,
    damaged,
)
from bot.errors import BadInput
from bot.log import get_logger

__all__ = [
    "DEFAULT_LIMITS",
    "IMAGE_EXTENSIONS",
    "AnkiPackage",
    "PackageLimits",
    "read_anki_package",
]

log = get_logger(__name__)

#: Collection members, best first: (member, format name, zstd-compressed).
_COLLECTIONS = (
    ("collection.anki21b", "anki21b", True),
    ("collection.anki21", "anki21", False),
    ("collection.anki2", "anki2", False),
)
#: ``PackageMetadata.version`` of the zstd layout; 1 and 2 are the legacy ones.
_LATEST_VERSION = 3
_META_MAX_BYTES = 1024
_MEDIA_MAP_MAX_BYTES = 16 * MiB
#: Media names a note may use that are imported (as images); anything else gets a remark.
IMAGE_EXTENSIONS = frozenset({"png", "jpg", "jpeg", "gif", "webp"})
_TOO_NEW = (
    "This package was made by a newer Anki than the bot can read; export it again with "
    "“Support older Anki versions” ticked."
)
#: Extracted images are readable like any file the bot writes (mkstemp makes them 0600).
_FILE_MODE = 0o644
#: Phrases of the note in the dummy ``collection.anki2`` that new Anki versions add.
_DUMMY_MARKS = (".colpkg/.apkg", "please update to the latest anki version")


# -- the package ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _MediaFile:
    member: str
    size: int | None


def _image_extension(head: bytes) -> str | None:
    """The extension for an image's first bytes (PNG, JPEG, GIF, WebP), or None."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    return None


def _some(names: list[str]) -> str:
    """Up to three of ``names`` for a remark, quoted and cut short (they come from the file)."""
    shown = ", ".join(repr(name[:40]) for name in names[:3])
    return f"{shown}, …" if len(names) > 3 else shown


class AnkiPackage:
    """An opened package: its :attr:`collection`, read whole, and media extracted on demand.

    Use it as a context manager, or call :meth:`close`, to release the archive. Not
    thread-safe.
    """

    def __init__(
        self,
        archive: SafeZip,
        collection: AnkiCollection,
        media: Mapping[str, _MediaFile],
        *,
        zstd_media: bool,
    ) -> None:
        """Wrap an open archive; made by :func:`read_anki_package`."""
        self.collection = collection
        self._archive = archive
        self._media = dict(media)
        self._zstd_media = zstd_media
        self._closed = False

    def extract_media(self, names: Iterable[str], dest: Path) -> dict[str, str]:
        """Stream the images called ``names`` (as notes use them) into folder ``dest``.

        Each is stored as ``<first 32 hex digits of its SHA-256>.<png|jpg|gif|webp>`` (the
        extension from its content), so equal files share one name. Returns Anki name →
        stored name for the images kept. Names that are missing, not images (sounds, SVG,
        anything but PNG/JPEG/GIF/WebP), over ``max_media_file_bytes`` or past the first
        ``max_media_files`` are skipped with a line in ``collection.remarks``. If the archive
        turns out damaged or too big (BadInput), the files this call wrote are removed.
        """
        if self._closed:
            raise ValueError("the Anki package is closed")
        dest.mkdir(parents=True, exist_ok=True)
        limit = self._archive.limits.max_media_files
        stored: dict[str, str] = {}
        created: list[Path] = []
        skipped: dict[str, list[str]] = defaultdict(list)
        try:
            for name in dict.fromkeys(names):
                reason = self._skip_reason(name, len(stored) >= limit)
                if reason is None:
                    reason, stored_name = self._extract_one(name, dest, created)
                    if stored_name is not None:
                        stored[name] = stored_name
                if reason is not None:
                    skipped[reason].append(name)
        except BaseException:
            for path in created:
                path.unlink(missing_ok=True)
            raise
        for reason, which in skipped.items():
            self.collection.remarks.append(f"Skipped {len(which)} {reason}: {_some(which)}.")
        log.info(
            "extracted %d media files, skipped %d", len(stored), sum(map(len, skipped.values()))
        )
        return stored

    def _skip_reason(self, name: str, full: bool) -> str | None:
        entry = self._media.get(name)
        limits = self._archive.limits
        if entry is None:
            return "media file(s) missing from the package"
        if name.rpartition(".")[2].lower() not in IMAGE_EXTENSIONS:
            return "media file(s) that are not PNG, JPEG, GIF or WebP images"
        if entry.size is not None and entry.size > limits.max_media_file_bytes:
            return f"image(s) over {limits.max_media_file_bytes // 1024} KB"
        if full:
            return f"image(s) past the first {limits.max_media_files}"
        return None

    def _extract_one(
        self, name: str, dest: Path, created: list[Path]
    ) -> tuple[str | None, str | None]:
        """(skip reason, None) or (None, stored name) for one image."""
        limits = self._archive.limits
        hasher = hashlib.sha256()
        head = b""
        handle, temp_name = tempfile.mkstemp(prefix=".anki-media-", suffix=".part", dir=dest)
        temp = Path(temp_name)
        try:
            with os.fdopen(handle, "wb") as out:
                for chunk in self._archive.stream(
                    self._media[name].member,
                    zstd=self._zstd_media,
                    max_bytes=limits.max_media_file_bytes,
                    what=f"the media file {name[:80]!r}",
                ):
                    if len(head) < 16:
                        head += chunk[:16]
                    hasher.update(chunk)
                    out.write(chunk)
            extension = _image_extension(head)
            if extension is None:
                return "file(s) named like images that are not PNG, JPEG, GIF or WebP", None
            final = dest / f"{hasher.hexdigest()[:32]}.{extension}"
            if not final.exists():
                temp.chmod(_FILE_MODE)
                os.replace(temp, final)
                created.append(final)
            return None, final.name
        except MemberTooLarge:
            return f"image(s) over {limits.max_media_file_bytes // 1024} KB", None
        finally:
            temp.unlink(missing_ok=True)

    def close(self) -> None:
        """Release the archive (the collection stays readable)."""
        self._closed = True
        self._archive.close()

    def __enter__(self) -> AnkiPackage:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def read_anki_package(
    path: Path, *, limits: PackageLimits = DEFAULT_LIMITS, temp_dir: Path | None = None
) -> AnkiPackage:
    """Open the package at ``path`` and read its collection; BadInput if it is unusable.

    ``temp_dir`` is where the collection is unpacked for SQLite (default: the system's
    temporary folder); nothing is left there when this returns or raises. The returned
    package keeps the archive open for :meth:`AnkiPackage.extract_media`: close it.
    """
    archive = SafeZip(path, limits)
    try:
        version = _package_version(archive)
        member, package_format, zstd = _choose_collection(archive, version)
        with tempfile.TemporaryDirectory(prefix="anki-read-", dir=temp_dir) as work:
            db_path = Path(work) / "collection.sqlite"
            with db_path.open("wb") as out:
                archive.copy_to(
                    member,
                    out,
                    zstd=zstd,
                    max_bytes=limits.max_collection_bytes,
                    what="the collection",
                )
            collection = read_collection_file(db_path, limits)
        if package_format == "anki2" and _is_dummy(collection):
            raise BadInput(_TOO_NEW)
        media_zstd = version == _LATEST_VERSION if version is not None else zstd
        media = _read_media_map(archive, zstd=media_zstd, remarks=collection.remarks)
    except BaseException:
        archive.close()
        raise
    collection.media_names = frozenset(media)
    collection.package_format = package_format
    log.info(
        "read an Anki package (%s): %d notes, %d media files, %d remarks",
        package_format,
        len(collection.notes),
        len(media),
        len(collection.remarks),
    )
    return AnkiPackage(archive, collection, media, zstd_media=media_zstd)


def _package_version(archive: SafeZip) -> int | None:
    """``PackageMetadata.version`` from ``meta``, or None without one (a legacy package)."""
    if "meta" not in archive.names:
        return None
    data = archive.read_bytes(
        "meta", zstd=False, max_bytes=_META_MAX_BYTES, what="the package description"
    )
    try:
        version = proto_int(data, 1)
    except ValueError as error:
        raise damaged("its meta file is not valid") from error
    if version not in (1, 2, _LATEST_VERSION):
        raise BadInput(_TOO_NEW)
    return version


def _choose_collection(archive: SafeZip, version: int | None) -> tuple[str, str, bool]:
    names = archive.names
    if not names:
        raise BadInput(
            "The archive is empty; upload the .apkg or .colpkg file Anki writes with File → Export."
        )
    if version == _LATEST_VERSION and "collection.anki21b" not in names:
        raise damaged("collection.anki21b is missing")
    for member, package_format, zstd in _COLLECTIONS:
        if member in names:
            return member, package_format, zstd
    raise BadInput(
        "The archive holds no Anki collection (collection.anki21b, .anki21 or .anki2); "
        "upload the .apkg or .colpkg file Anki writes with File → Export."
    )


def _is_dummy(collection: AnkiCollection) -> bool:
    if len(collection.notes) != 1:
        return False
    text = " ".join(collection.notes[0].fields).casefold()
    return any(mark in text for mark in _DUMMY_MARKS)


def _unsafe_media_name(name: str) -> bool:
    return name in ("", ".", "..") or any(char in name for char in "/\\\x00")


def _read_media_map(archive: SafeZip, *, zstd: bool, remarks: list[str]) -> dict[str, _MediaFile]:
    """Media name → member, from the ``media`` list (JSON, or zstd protobuf if ``zstd``)."""
    if "media" not in archive.names:
        return {}
    data = archive.read_bytes(
        "media", zstd=zstd, max_bytes=_MEDIA_MAP_MAX_BYTES, what="the media list"
    )
    try:
        entries = _media_entries(data) if zstd else _legacy_media_entries(data)
    except (ValueError, TypeError, AttributeError, RecursionError) as error:
        raise damaged("its media list is not valid") from error
    media: dict[str, _MediaFile] = {}
    refused: list[str] = []
    absent: list[str] = []
    for name, member, size in entries:
        if _unsafe_media_name(name):
            refused.append(name)
        elif member not in archive.names:
            absent.append(name)
        else:
            media.setdefault(name, _MediaFile(member, size))
    if refused:
        remarks.append(f"Skipped {len(refused)} media file(s) with unsafe names: {_some(refused)}.")
    if absent:
        remarks.append(f"Skipped {len(absent)} listed media file(s) not in the archive.")
    return media


def _media_entries(data: bytes) -> list[tuple[str, str, int | None]]:
    """(name, member, size) of a ``MediaEntries`` message; member = index or legacy name."""
    entries: list[tuple[str, str, int | None]] = []
    for number, value in proto_fields(data):
        if number != 1 or not isinstance(value, bytes):
            continue
        name, member, size = "", str(len(entries)), None
        for inner_number, inner in proto_fields(value):
            if inner_number == 1 and isinstance(inner, bytes):
                name = inner.decode("utf-8")
            elif inner_number == 2 and isinstance(inner, int):
                size = inner
            elif inner_number == 255 and isinstance(inner, int):
                member = str(inner)
        entries.append((name, member, size))
    return entries


def _legacy_media_entries(data: bytes) -> list[tuple[str, str, int | None]]:
    mapping = json.loads(data.decode("utf-8")) if data.strip() else {}
    if not isinstance(mapping, dict):
        raise ValueError("the media list is not an object")
    return [(str(name), str(member), None) for member, name in mapping.items()]


# -- the collection -------------------------------------------------------------------------
