"""``DATABASE_URL`` as people paste it, turned into what the async engine needs.

``sqlite:///data/x.db``, ``postgresql://…`` and Heroku-style ``postgres://…`` are all
accepted: the async driver (aiosqlite, asyncpg) is chosen behind the scenes, ``~`` in a
SQLite path is expanded, and libpq's ``sslmode``/``connect_timeout`` become asyncpg's
``ssl``/``timeout``. Anything else is refused with one line saying what would work.
"""

from __future__ import annotations

import os

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

SQLITE_DRIVER = "sqlite+aiosqlite"
POSTGRES_DRIVER = "postgresql+asyncpg"
EXAMPLE = "sqlite:///data/tutor.db or postgresql://user:password@host:5432/tutor"

#: libpq query parameters people copy from hosting dashboards, and asyncpg's names.
_PG_RENAMED = {"sslmode": "ssl", "connect_timeout": "timeout"}
_SSL_MODES = {"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}


class DatabaseUrlError(ValueError):
    """A ``DATABASE_URL`` that cannot be used; the message is one friendly line."""


def normalise_database_url(raw: str) -> str:
    """The URL the async engine understands, or :class:`DatabaseUrlError`.

    Idempotent: a normalised URL comes back unchanged.
    """
    text = raw.strip()
    if not text:
        raise DatabaseUrlError(f"it is empty; use e.g. {EXAMPLE}")
    if "://" not in text:
        raise DatabaseUrlError(f"it is not a database URL; use e.g. {EXAMPLE}")
    try:
        url = make_url(text)
    except (ArgumentError, ValueError) as error:
        raise DatabaseUrlError(
            f"it cannot be read as a URL ({error}); use e.g. {EXAMPLE}"
        ) from None
    backend = url.drivername.split("+", 1)[0].lower()
    if backend == "sqlite":
        return _sqlite(url).render_as_string(hide_password=False)
    if backend in {"postgresql", "postgres", "pgsql"}:
        return _postgres(url).render_as_string(hide_password=False)
    raise DatabaseUrlError(
        f"'{backend}' databases are not supported; use SQLite or PostgreSQL, e.g. {EXAMPLE}"
    )


def _sqlite(url: URL) -> URL:
    database = url.database
    if database and database != ":memory:" and not database.startswith("file:"):
        database = os.path.expanduser(database)
    if url.host:
        # sqlite://data/x.db (two slashes) puts the folder in the host part.
        raise DatabaseUrlError(
            f"a SQLite URL needs three slashes before a relative path, e.g. "
            f"sqlite:///{url.host}/{database or 'tutor.db'}"
        )
    return url.set(drivername=SQLITE_DRIVER, database=database)


def _postgres(url: URL) -> URL:
    if not url.host and not url.query.get("host"):
        raise DatabaseUrlError(
            "a PostgreSQL URL needs a host, e.g. postgresql://user:password@localhost:5432/tutor"
        )
    if not url.database:
        raise DatabaseUrlError(
            "a PostgreSQL URL needs a database name at the end, e.g. …@localhost:5432/tutor"
        )
    try:
        _ = url.port
    except ValueError:
        raise DatabaseUrlError("its port is not a number, e.g. …@localhost:5432/tutor") from None
    query = dict(url.query)
    for libpq, asyncpg in _PG_RENAMED.items():
        if libpq in query:
            query.setdefault(asyncpg, query.pop(libpq))
    ssl = query.get("ssl")
    if isinstance(ssl, str) and ssl not in _SSL_MODES | {"true", "false"}:
        raise DatabaseUrlError(
            f"sslmode/ssl '{ssl}' is unknown; use one of {', '.join(sorted(_SSL_MODES))}"
        )
    return url.set(drivername=POSTGRES_DRIVER, query=query)


def describe_url(url: str) -> str:
    """The URL for messages and logs: the SQLite path, or the URL without its password."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        return "DATABASE_URL"
    if parsed.drivername.startswith("sqlite"):
        return parsed.database or ":memory:"
    return parsed.render_as_string(hide_password=True)
