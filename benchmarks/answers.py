"""Benchmark: graded answers per second through the button-click code path.

Simulated members each get a question (``PracticeService.quiz``) and answer it with the same call a
Discord button click makes (``ActionService.act(learner, "an:<prompt>:<option>")``): grading,
FSRS update, one attempt row. Many members answer concurrently, as after a daily quiz.
By default into a temporary SQLite file; ``--database-url`` names an empty database
instead (e.g. PostgreSQL).

The bank holds ``--bank`` items (default 100,000) besides the bundled ones: copies of the
bundled items in decks of 500, inserted in one transaction before anything is timed
(``executemany`` on a plain ``sqlite3`` connection, or ``COPY`` on PostgreSQL). Each round's
question comes from a random deck of the bank, so answers land all over it.

Usage: ``.venv/bin/python benchmarks/answers.py [--members 500] [--answers 20]
[--bank 100000]``. The last output line is JSON: ``answers_per_s``, ``p50_ms``, ``p99_ms``,
``sent``, ``stored``, ``lost``, ``bank``, ``lane`` (which answer path ran), ``cpus`` and
``load_avg_1m``.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import random
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func  # noqa: E402
from sqlmodel import select  # noqa: E402

from bot.app import open_services  # noqa: E402
from bot.core.content import item_to_dict  # noqa: E402
from bot.core.learners import Learner  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.storage.answer_store import SqliteAnswerStore  # noqa: E402
from bot.storage.db import Database, sqlite_path  # noqa: E402
from bot.storage.lane import to_sqlite_time  # noqa: E402
from bot.storage.models import Attempt  # noqa: E402

#: Items per deck of the seeded bank.
BANK_DECK = 500
ITEM_COLUMNS = (
    "key",
    "deck",
    "slug",
    "kind",
    "difficulty",
    "guild_id",
    "payload",
    "content_hash",
    "active",
    "created_at",
    "updated_at",
)


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(values)
    rank = max(1, round(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def bank_items(templates: list[dict[str, Any]], count: int, now: object) -> list[tuple[Any, ...]]:
    """``count`` bundled items (``guild_id`` NULL) as ``ITEM_COLUMNS`` tuples: the templates
    again, renamed, in decks; the payload as JSON text and both timestamps ``now``."""
    rows: list[tuple[Any, ...]] = []
    for n in range(count):
        payload = dict(templates[n % len(templates)], id=f"bank-{n}")
        text = json.dumps(payload, ensure_ascii=False)
        rows.append(
            (
                f"bank/{n}",
                f"bank-{n // BANK_DECK:03d}",
                f"bank-{n}",
                payload["kind"],
                str(payload.get("difficulty", "medium")),
                None,
                text,
                hashlib.sha256(text.encode()).hexdigest(),
                True,
                now,
                now,
            )
        )
    return rows


async def seed_bank(db: Database, templates: list[dict[str, Any]], count: int) -> None:
    """Insert the bank in one transaction, the fast way each database offers."""
    now = datetime.now(UTC)
    path = sqlite_path(db.url)
    if path is not None:
        conn = sqlite3.connect(path, isolation_level=None)
        try:
            conn.execute("BEGIN")
            conn.executemany(
                f"INSERT INTO items ({', '.join(ITEM_COLUMNS)}) "
                f"VALUES ({', '.join('?' for _ in ITEM_COLUMNS)})",
                bank_items(templates, count, to_sqlite_time(now)),
            )
            conn.execute("COMMIT")
        finally:
            conn.close()
        return
    async with db.engine.begin() as pg:
        raw = await pg.get_raw_connection()
        driver = raw.driver_connection
        if driver is None:
            raise SystemExit("the PostgreSQL connection is closed")
        await driver.copy_records_to_table(
            "items", records=bank_items(templates, count, now), columns=list(ITEM_COLUMNS)
        )
    # Vacuum and analyze now, not in the background while the answers are timed.
    async with db.engine.connect() as pg:
        autocommit = await pg.execution_options(isolation_level="AUTOCOMMIT")
        await autocommit.exec_driver_sql("VACUUM ANALYZE items")


async def run(
    members: int, answers: int, concurrency: int, bank: int, database_url: str | None = None
) -> dict[str, float | int | str]:
    """Seed the bank, prepare prompts, then time the answers alone (the click path)."""
    with tempfile.TemporaryDirectory() as folder:
        url = database_url or f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        settings = Settings(database_url=url)
        services = await open_services(settings)
        study = services.study
        rng = random.Random(1)
        seeding = time.perf_counter()
        templates = [item_to_dict(content) for _deck, content in services.library.items()]
        await seed_bank(services.db, templates, bank)
        seeded_s = time.perf_counter() - seeding
        decks: list[str | None] = [f"bank-{n:03d}" for n in range(-(-bank // BANK_DECK))]
        decks = decks or [None]
        learners = [
            Learner("discord", str(10_000 + n), f"member{n}", guild_id=1) for n in range(members)
        ]
        # Questions shown to everyone first (not timed): one shared prompt per round.
        tokens: list[tuple[Learner, str]] = []
        for _round in range(answers):
            question = await study.practice.quiz(learners[0], rng.choice(decks), shared=True)
            for learner in learners:
                choice = rng.choice([c for c in question.choices if len(c.key) == 1])
                tokens.append((learner, choice.action))
        latencies: list[float] = []
        semaphore = asyncio.Semaphore(concurrency)

        async def answer(learner: Learner, token: str) -> None:
            async with semaphore:
                started = time.perf_counter()
                await study.actions.act(learner, token)
                latencies.append((time.perf_counter() - started) * 1000)

        started = time.perf_counter()
        await asyncio.gather(*(answer(learner, token) for learner, token in tokens))
        elapsed = time.perf_counter() - started
        lane = "sqlite" if isinstance(study.answers.store, SqliteAnswerStore) else "postgresql"
        async with services.db.session() as session:
            stored = int((await session.exec(select(func.count()).select_from(Attempt))).one())
        await services.close()
    sent = len(tokens)
    return {
        "answers_per_s": round(sent / elapsed, 1),
        "p50_ms": round(percentile(latencies, 50), 2),
        "p99_ms": round(percentile(latencies, 99), 2),
        "sent": sent,
        "stored": stored,
        "lost": sent - stored,
        "members": members,
        "concurrency": concurrency,
        "seconds": round(elapsed, 2),
        "bank": bank,
        "seed_s": round(seeded_s, 1),
        "lane": lane,
        "cpus": os.cpu_count() or 0,
        "load_avg_1m": round(os.getloadavg()[0], 2),
    }


def main() -> None:
    """Parse options, run, print a summary and the JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=500)
    parser.add_argument("--answers", type=int, default=20, help="answers per member")
    parser.add_argument("--concurrency", type=int, default=16, help="answers in flight")
    parser.add_argument(
        "--bank", type=int, default=100_000, help="items seeded besides the bundled ones"
    )
    parser.add_argument(
        "--database-url",
        default=None,
        help="an EMPTY database to use instead of a temporary SQLite file (e.g. PostgreSQL)",
    )
    args = parser.parse_args()
    result = asyncio.run(
        run(args.members, args.answers, args.concurrency, args.bank, args.database_url)
    )
    table = [
        ("bank items (seeded in)", f"{result['bank']} ({result['seed_s']} s)"),
        (
            "answers sent / stored / lost",
            f"{result['sent']} / {result['stored']} / {result['lost']}",
        ),
        ("answers per second", f"{result['answers_per_s']} (target >= 1000)"),
        ("latency p50 / p99 ms", f"{result['p50_ms']} / {result['p99_ms']} (p99 target <= 25)"),
        ("lane, concurrency", f"{result['lane']}, {result['concurrency']}"),
    ]
    for label, value in table:
        sys.stdout.write(f"{label:30} {value}\n")
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
