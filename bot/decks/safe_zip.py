"""Reading an untrusted zip archive (an uploaded Anki package) without trusting its headers.

:class:`SafeZip` opens the archive only after checking its size and the size of its central
directory, then refuses the whole archive if any member is encrypted, has a name that
points outside it (``../x``, ``/x``, ``C:x``, backslashes), appears twice, or looks like a zip
bomb (too many members, too much declared data, a compression ratio above the limit).
Members are then streamed in chunks, optionally through a zstandard decoder, while the bytes
actually produced are counted against a per-member limit and a budget for the whole archive,
so a header that lies or a zstd frame that expands without end is stopped all the same.

Every refusal is a :class:`bot.errors.BadInput` with a one-line message that says what to do.
"""

from __future__ import annotations

import re
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, fields
from pathlib import Path
from typing import IO, BinaryIO

import zstandard

from bot.errors import BadInput
from bot.log import get_logger

log = get_logger(__name__)

MiB = 1024 * 1024
#: Bytes read from the archive (or the zstd decoder) at a time.
CHUNK = 256 * 1024
#: The compression ratio is only checked for members larger than this: small files of
#: repeated text legitimately compress very well.
RATIO_FLOOR_BYTES = 1 * MiB
#: The largest zstd window accepted: Anki compresses at level 3 (a 2 MiB window); a hostile
#: frame must not make the decoder allocate more than this.
MAX_ZSTD_WINDOW = 64 * MiB
#: Central-directory bytes allowed per permitted member (a real entry takes about 60).
CENTRAL_DIRECTORY_BYTES_PER_MEMBER = 256
_EOCD = b"PK\x05\x06"
_EOCD_SIZE = 22
_ZIP64_LOCATOR = b"PK\x06\x07"
_ZIP64_EOCD = b"PK\x06\x06"
_DRIVE = re.compile(r"^[A-Za-z]:")
_READABLE_METHODS = frozenset({zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED})
#: The advice that ends most refusals.
AGAIN = "export it from Anki again and upload the new file"


@dataclass(frozen=True, slots=True)
class PackageLimits:
    """How much an uploaded Anki package may hold; the service and benchmarks pass their own.

    * ``max_upload_bytes``: the package file itself;
    * ``max_total_bytes``: everything unpacked from the archive, checked twice: the sizes its
      headers declare, and the bytes actually streamed (zip and zstd output together);
    * ``max_ratio``: uncompressed / compressed size of one member (members over 1 MiB);
    * ``max_members``: files in the archive (media files are one each);
    * ``max_collection_bytes``: the unpacked SQLite collection;
    * ``max_notes``, ``max_cards``, ``max_reviews``: rows of the collection;
    * ``max_media_file_bytes``, ``max_media_files``: one extracted image, and how many are
      extracted (beyond either, images are skipped with a remark, not refused).
    """

    max_upload_bytes: int = 100 * MiB
    max_total_bytes: int = 500 * MiB
    max_ratio: int = 200
    max_members: int = 20_000
    max_collection_bytes: int = 300 * MiB
    max_notes: int = 50_000
    max_cards: int = 200_000
    max_reviews: int = 1_000_000
    max_media_file_bytes: int = 5 * MiB
    max_media_files: int = 2_000

    def __post_init__(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"PackageLimits.{item.name} must be a positive int: {value!r}")


DEFAULT_LIMITS = PackageLimits()


class MemberTooLarge(BadInput):
    """One member unpacks to more than its own limit (the archive as a whole may be fine)."""


def megabytes(size: int) -> str:
    """``size`` bytes as a short figure in MB for messages (``"4.2"``, ``"500"``)."""
    value = size / MiB
    return f"{value:.1f}" if value < 10 else f"{value:.0f}"


def damaged(reason: str) -> BadInput:
    """The error for an archive that cannot be read, naming why."""
    return BadInput(f"The package is damaged ({reason}); {AGAIN}.")


def unsafe_member_name(name: str) -> bool:
    """Whether a member name could point outside the archive if it were extracted."""
    if not name or name.startswith("/") or "\\" in name or "\x00" in name:
        return True
    return bool(_DRIVE.match(name)) or ".." in name.split("/")


def _central_directory_size(handle: BinaryIO, file_size: int) -> int:
    """The size the end-of-central-directory record declares (zip64 too), or BadInput."""
    tail_size = min(file_size, _EOCD_SIZE + 0xFFFF)
    tail_start = file_size - tail_size
    handle.seek(tail_start)
    tail = handle.read(tail_size)
    at = tail.rfind(_EOCD)
    if at < 0 or len(tail) - at < _EOCD_SIZE:
        raise BadInput(
            "This is not an Anki package (.apkg or .colpkg): it is not a zip archive. "
            "In Anki use File → Export and upload the file it writes."
        )
    entries, size = struct.unpack("<HI", tail[at + 10 : at + 16])
    if entries != 0xFFFF and size != 0xFFFFFFFF:
        return int(size)
    locator_at = tail_start + at - 20
    if locator_at < 0:
        raise damaged("its zip64 directory is missing")
    handle.seek(locator_at)
    locator = handle.read(20)
    if locator[:4] != _ZIP64_LOCATOR:
        raise damaged("its zip64 directory is missing")
    (record_at,) = struct.unpack("<Q", locator[8:16])
    handle.seek(record_at)
    record = handle.read(56)
    if len(record) < 56 or record[:4] != _ZIP64_EOCD:
        raise damaged("its zip64 directory is missing")
    (size64,) = struct.unpack("<Q", record[40:48])
    return int(size64)


class SafeZip:
    """An untrusted zip archive, checked on opening, whose members are read as counted streams.

    Not thread-safe. Close it (or use it as a context manager) to release the file.
    """

    def __init__(self, path: Path, limits: PackageLimits = DEFAULT_LIMITS) -> None:
        """Open ``path`` and check it against ``limits``; BadInput (nothing kept open) if not."""
        self.limits = limits
        #: Bytes produced so far by every stream of this archive.
        self.streamed = 0
        try:
            size = path.stat().st_size
        except OSError as error:
            raise BadInput("The uploaded file cannot be read; upload it again.") from error
        if size > limits.max_upload_bytes:
            raise BadInput(
                f"The file is {megabytes(size)} MB; Anki packages up to "
                f"{megabytes(limits.max_upload_bytes)} MB can be imported. Export fewer decks "
                "or leave out media, then upload again."
            )
        try:
            with path.open("rb") as handle:
                directory = _central_directory_size(handle, size)
        except OSError as error:
            raise BadInput("The uploaded file cannot be read; upload it again.") from error
        if directory > limits.max_members * CENTRAL_DIRECTORY_BYTES_PER_MEMBER:
            raise self._too_many(None)
        try:
            self._zip = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as error:
            raise damaged(str(error) or type(error).__name__) from error
        try:
            self._members = self._check_members()
        except BaseException:
            self._zip.close()
            raise

    def _too_many(self, count: int | None) -> BadInput:
        held = f"{count} files" if count is not None else "too many files"
        return BadInput(
            f"The package holds {held}; at most {self.limits.max_members} can be imported. "
            "Export fewer decks or leave out media, then upload again."
        )

    def _check_members(self) -> dict[str, zipfile.ZipInfo]:
        infos = self._zip.infolist()
        limits = self.limits
        if len(infos) > limits.max_members:
            raise self._too_many(len(infos))
        members: dict[str, zipfile.ZipInfo] = {}
        declared = 0
        for info in infos:
            name = info.filename
            if unsafe_member_name(name):
                log.warning("refused an archive with the member name %r", name)
                raise BadInput(
                    f"The package contains a file named {name[:80]!r} that points outside the "
                    f"archive, so the bot refuses it; {AGAIN}."
                )
            if name in members:
                raise damaged(f"the file {name[:80]!r} appears twice")
            if info.flag_bits & 0x1:
                raise BadInput(
                    "The package contains encrypted files, which the bot cannot read; "
                    "export it from Anki again without a password."
                )
            declared += info.file_size
            if info.file_size > RATIO_FLOOR_BYTES and info.file_size > limits.max_ratio * max(
                info.compress_size, 1
            ):
                ratio = info.file_size // max(info.compress_size, 1)
                log.warning("refused an archive member %r compressed %d:1", name, ratio)
                raise BadInput(
                    f"The file {name[:80]!r} in the package is compressed {ratio}:1, which looks "
                    f"like a zip bomb, so the bot refuses it; {AGAIN}."
                )
            members[name] = info
        if declared > limits.max_total_bytes:
            raise self._too_big()
        return members

    def _too_big(self) -> BadInput:
        return BadInput(
            f"The package unpacks to more than {megabytes(self.limits.max_total_bytes)} MB; "
            "export fewer decks or leave out media, then upload again."
        )

    @property
    def names(self) -> frozenset[str]:
        """The names of the archive's members."""
        return frozenset(self._members)

    def stream(self, name: str, *, zstd: bool, max_bytes: int, what: str) -> Iterator[bytes]:
        """The bytes of member ``name`` in chunks, zstd-decoded if ``zstd``.

        ``what`` names the member in messages ("the collection"). Raises
        :class:`MemberTooLarge` past ``max_bytes`` of output, BadInput past the archive's
        budget or when the data is damaged.
        """
        info = self._members.get(name)
        if info is None:
            raise damaged(f"{what} is missing")
        if info.compress_type not in _READABLE_METHODS:
            raise BadInput(
                f"The package stores {what} with a compression method the bot cannot read; {AGAIN}."
            )
        produced = 0
        try:
            with self._zip.open(info) as raw:
                source: IO[bytes] = raw
                if zstd:
                    decoder = zstandard.ZstdDecompressor(max_window_size=MAX_ZSTD_WINDOW)
                    source = decoder.stream_reader(raw, read_across_frames=True, closefd=False)
                with source:
                    while chunk := source.read(CHUNK):
                        produced += len(chunk)
                        self.streamed += len(chunk)
                        if produced > max_bytes:
                            raise MemberTooLarge(
                                f"{what[:1].upper()}{what[1:]} unpacks to more than "
                                f"{megabytes(max_bytes)} MB; export fewer decks or leave out "
                                "media, then upload again."
                            )
                        if self.streamed > self.limits.max_total_bytes:
                            raise self._too_big()
                        yield chunk
        except (
            zipfile.BadZipFile,
            zlib.error,
            zstandard.ZstdError,
            EOFError,
            OSError,
            RuntimeError,
            NotImplementedError,
        ) as error:
            raise damaged(f"{what} cannot be unpacked: {error}".rstrip(": ")) from error

    def read_bytes(self, name: str, *, zstd: bool, max_bytes: int, what: str) -> bytes:
        """A small member whole (the media map, ``meta``), with the limits of :meth:`stream`."""
        return b"".join(self.stream(name, zstd=zstd, max_bytes=max_bytes, what=what))

    def copy_to(self, name: str, target: BinaryIO, *, zstd: bool, max_bytes: int, what: str) -> int:
        """Stream member ``name`` into ``target``; returns the number of bytes written."""
        written = 0
        for chunk in self.stream(name, zstd=zstd, max_bytes=max_bytes, what=what):
            target.write(chunk)
            written += len(chunk)
        return written

    def close(self) -> None:
        """Release the archive's file."""
        self._zip.close()

    def __enter__(self) -> SafeZip:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
