"""Worker process plumbing shared by the pool and the worker (no TensorFlow here).

* **Environment** — a worker gets an allow-list of the bot's environment
  (:func:`worker_environment`): what an interpreter, a locale and TensorFlow need, never
  the bot's secrets (``DISCORD_TOKEN``, ``DATABASE_URL``, …).
* **Logs** — a worker's stderr is a pipe that the pool reads (:func:`forward_stderr`).
  The worker's own log records travel as one line each: :data:`LOG_MARKER` + JSON
  (:func:`format_record`), and are re-logged in the bot at their level. Anything else on
  that pipe — TensorFlow's C++ and absl lines, oneDNN notices, Python warnings — goes to
  the bot's log at DEBUG (INFO for absl errors), so it never reaches a terminal or a member.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
from collections.abc import Mapping
from typing import Final, TextIO

from bot.log import get_logger

log = get_logger(__name__)

#: Prefix of a worker's log-record lines on its stderr.
LOG_MARKER: Final = "@@tutor-log "
#: Where the worker's non-record stderr lines (TensorFlow, absl, warnings) are logged.
STDERR_LOGGER: Final = "bot.training.worker.stderr"
#: Lines longer than this are cut (a runaway library cannot grow the bot's memory).
MAX_LINE_BYTES: Final = 16 * 1024

#: Variables copied from the bot's environment when set: the interpreter, the locale,
#: temporary files, the bot's log level, CPU/GPU selection and coverage measurement.
ALLOWED_NAMES: Final = frozenset(
    {
        "PATH",
        "HOME",
        "USER",
        "LOGNAME",
        "LANG",
        "LANGUAGE",
        "TZ",
        "TMPDIR",
        "TEMP",
        "TMP",
        "VIRTUAL_ENV",
        "PYTHONHOME",
        "PYTHONDONTWRITEBYTECODE",
        "PYTHONPYCACHEPREFIX",
        "PYTHONUTF8",
        "PYTHONIOENCODING",
        "PYTHONHASHSEED",
        "LD_LIBRARY_PATH",
        "LOG_LEVEL",
        "CUDA_VISIBLE_DEVICES",
        "TF_ENABLE_ONEDNN_OPTS",
        "COVERAGE_PROCESS_START",
        "COVERAGE_PROCESS_CONFIG",
        "COVERAGE_RCFILE",
    }
)
#: Prefixes of variables copied as well (the locale categories).
ALLOWED_PREFIXES: Final = ("LC_",)
#: Set in every worker: TensorFlow quiet at the source and single-threaded.
FORCED: Final[Mapping[str, str]] = {
    "TF_CPP_MIN_LOG_LEVEL": "2",
    "GRPC_VERBOSITY": "ERROR",
    "KERAS_BACKEND": "tensorflow",
    "OMP_NUM_THREADS": "1",
    "TF_NUM_INTEROP_THREADS": "1",
    "TF_NUM_INTRAOP_THREADS": "1",
    "PYTHONUNBUFFERED": "1",
}

_ABSL_SEVERE = re.compile(r"^[EF]\d{4} ")


def worker_environment(
    parent: Mapping[str, str], *, import_root: str, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The environment of a worker: the allowed part of ``parent``, :data:`FORCED`, a
    ``PYTHONPATH`` that starts with ``import_root`` (where ``bot`` lives), then ``extra``."""
    env = {
        name: value
        for name, value in parent.items()
        if name in ALLOWED_NAMES or name.startswith(ALLOWED_PREFIXES)
    }
    env.update(FORCED)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (import_root, parent.get("PYTHONPATH", "")) if p)
    env.update(extra or {})
    return env


def format_record(record: logging.LogRecord, message: str) -> str:
    """One stderr line for a worker's log record (``message`` is the formatted text)."""
    body = {"level": record.levelno, "name": record.name, "message": message}
    return LOG_MARKER + json.dumps(body, ensure_ascii=True)


class RecordLineHandler(logging.StreamHandler[TextIO]):
    """The worker's log handler: each record as one :func:`format_record` line."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__(stream)
        self.setFormatter(logging.Formatter("%(message)s"))

    def format(self, record: logging.LogRecord) -> str:
        """The record as one marked JSON line (tracebacks stay inside the JSON)."""
        return format_record(record, super().format(record))


def log_worker_line(line: str, worker: str) -> None:
    """Log one line of a worker's stderr in the bot (see the module docstring).

    Records of the bot's own loggers keep their level; records of other libraries
    (TensorFlow's ``tensorflow``/``absl`` loggers) and plain lines go to DEBUG, or INFO
    when they report an error.
    """
    text = line.rstrip()
    if not text:
        return
    if text.startswith(LOG_MARKER):
        try:
            body = json.loads(text[len(LOG_MARKER) :])
            level = int(body["level"])
            name = str(body["name"])
            message = str(body["message"])
        except (ValueError, KeyError, TypeError):
            logging.getLogger(STDERR_LOGGER).debug("[%s] %s", worker, text)
            return
        if name != "bot" and not name.startswith("bot."):
            level = logging.INFO if level >= logging.ERROR else logging.DEBUG
            name = f"{STDERR_LOGGER}.{name}"
        logging.getLogger(name).log(level, "[%s] %s", worker, message)
        return
    level = logging.INFO if _ABSL_SEVERE.match(text) else logging.DEBUG
    logging.getLogger(STDERR_LOGGER).log(level, "[%s] %s", worker, text)


async def forward_stderr(stream: asyncio.StreamReader, worker: str) -> None:
    """Log every line of a worker's stderr (:func:`log_worker_line`) until it closes."""
    pending = b""
    try:
        while True:
            chunk = await stream.read(65536)
            if not chunk:
                break
            pending += chunk
            *lines, pending = pending.split(b"\n")
            if len(pending) > MAX_LINE_BYTES:
                lines.append(pending[:MAX_LINE_BYTES])
                pending = b""
            for raw in lines:
                log_worker_line(raw[:MAX_LINE_BYTES].decode("utf-8", "replace"), worker)
    except (ConnectionError, OSError) as error:
        log.debug("reading %s's stderr stopped: %s", worker, error)
    if pending:
        log_worker_line(pending[:MAX_LINE_BYTES].decode("utf-8", "replace"), worker)
