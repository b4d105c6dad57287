"""Logging set-up, done once per process.

Every module gets its logger with ``log = get_logger(__name__)``.
"""

from __future__ import annotations

import logging
import os
import sys

_CONFIGURED = False


def get_logger(name: str) -> logging.Logger:
    """Return the logger for ``name`` (normally the module's ``__name__``)."""
    return logging.getLogger(name)


def setup_logging(level: str | None = None, *, stream: object = None) -> None:
    """Configure the root logger once: level from ``LOG_LEVEL`` (default WARNING), to stderr.

    The console adapter writes its conversation to stdout, so logs go to stderr and stay
    out of the way of the member's view.
    """
    global _CONFIGURED
    if _CONFIGURED:
        return
    chosen = (level or os.environ.get("LOG_LEVEL") or "WARNING").upper()
    handler = logging.StreamHandler(stream or sys.stderr)  # type: ignore[arg-type]
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(chosen if chosen in logging.getLevelNamesMapping() else "WARNING")
    # discord.py and SQLAlchemy are chatty at INFO.
    logging.getLogger("discord").setLevel(max(root.level, logging.WARNING))
    logging.getLogger("sqlalchemy").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    _CONFIGURED = True
