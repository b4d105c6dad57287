"""Run a plain SQL statement against a test's database, whatever it is (SQLite or
PostgreSQL), from sync or async test code."""

from __future__ import annotations

import asyncio
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine


def _sqlite_file(url: str) -> str | None:
    parsed = make_url(url)
    return parsed.database if parsed.drivername.startswith("sqlite") else None


async def _run_async(url: str, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            result = await conn.execute(text(sql), params)
            return [tuple(row) for row in result.all()] if result.returns_rows else []
    finally:
        await engine.dispose()


def query(url: str, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    """Rows of ``sql`` (named ``:params``); statements that change data are committed."""
    path = _sqlite_file(url)
    if path is not None:
        with sqlite3.connect(path) as conn:
            return conn.execute(sql, params).fetchall()
    # Async drivers need a loop of their own: run one in a worker thread.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, _run_async(url, sql, params)).result()
