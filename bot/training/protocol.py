"""The worker wire protocol: frames of a 4-byte big-endian length followed by UTF-8 JSON.

Messages from the pool to a worker (``op``):

* ``{"op": "ping", "id": n}`` -> ``{"op": "pong", "id": n, "pid": .., "worker_rss_mb": ..,
  "jobs_done": ..}``
* ``{"op": "train", "id": n, "request": {...}, "progress_every": 25}`` -> zero or more
  ``{"op": "progress", "id": n, "step": k, "total": steps}`` then
  ``{"op": "result", "id": n, "result": {...}}`` or
  ``{"op": "error", "id": n, "kind": "bad_input" | "oom" | "cpu" | "internal",
  "message": ..}``. A ``"fault"`` field is honoured only by workers started with
  ``TUTOR_TRAINING_FAULTS=1`` (tests; see :mod:`bot.training.pool`).
* ``{"op": "shutdown"}`` (or end of input): the worker exits.

No TensorFlow here: both the bot process and the worker import this module.
"""

from __future__ import annotations

import asyncio
import json
import struct
from typing import Any, BinaryIO, Final

#: Frames larger than this are refused (a result is a few KB).
MAX_FRAME_BYTES: Final = 8 * 1024 * 1024
#: Set to ``"1"`` in a worker's environment to let it honour ``fault`` fields (tests only).
FAULTS_ENV: Final = "TUTOR_TRAINING_FAULTS"
#: Fault names a test may inject.
FAULTS: Final[tuple[str, ...]] = ("crash", "hang", "oom", "slow")

_HEADER = struct.Struct(">I")


class ProtocolError(Exception):
    """A malformed or oversized frame."""


def encode_frame(message: dict[str, Any]) -> bytes:
    """Serialise ``message`` as one frame (length prefix + compact JSON)."""
    body = json.dumps(message, separators=(",", ":"), allow_nan=False).encode("utf-8")
    if len(body) > MAX_FRAME_BYTES:
        raise ProtocolError(f"frame too large: {len(body)} bytes")
    return _HEADER.pack(len(body)) + body


def _decode_body(body: bytes) -> dict[str, Any]:
    try:
        message = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ProtocolError(f"bad frame: {exc}") from exc
    if not isinstance(message, dict):
        raise ProtocolError("frame is not a JSON object")
    return message


def _check_length(length: int) -> None:
    if length > MAX_FRAME_BYTES:
        raise ProtocolError(f"frame too large: {length} bytes")


def read_frame_sync(stream: BinaryIO) -> dict[str, Any] | None:
    """Read one frame from a blocking binary stream; ``None`` at a clean end of input."""
    header = _read_exactly(stream, _HEADER.size)
    if header is None:
        return None
    (length,) = _HEADER.unpack(header)
    _check_length(length)
    body = _read_exactly(stream, length)
    if body is None:
        raise ProtocolError("input ended inside a frame")
    return _decode_body(body)


def _read_exactly(stream: BinaryIO, size: int) -> bytes | None:
    chunks: list[bytes] = []
    remaining = size
    while remaining:
        chunk = stream.read(remaining)
        if not chunk:
            if remaining == size:
                return None
            raise ProtocolError("input ended inside a frame")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def write_frame_sync(stream: BinaryIO, message: dict[str, Any]) -> None:
    """Write one frame to a blocking binary stream and flush it."""
    stream.write(encode_frame(message))
    stream.flush()


async def read_frame(reader: asyncio.StreamReader) -> dict[str, Any]:
    """Read one frame; raises ``asyncio.IncompleteReadError`` when the peer is gone."""
    header = await reader.readexactly(_HEADER.size)
    (length,) = _HEADER.unpack(header)
    _check_length(length)
    return _decode_body(await reader.readexactly(length))
