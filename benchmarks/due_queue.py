"""Benchmark: picking a member's next card with 100,000 items and 1,000 members.

Builds a temporary SQLite database with the real migrations and seeds it in one
transaction on a plain ``sqlite3`` connection (items by ``executemany``; cards by
``INSERT … SELECT`` over a JSON list of item ids, so SQLite generates them itself):

* ``--items`` items (default 100,000) with real payloads copied from the bundled decks:
  most bundled, 2 % owned by the benchmark server, 2 % by another server (never visible
  here) and 1 % retired (inactive);
* ``--members`` members (default 1,000) with history: member k has seen the first s_k
  items visible in the server, in deck order (s_k is at most ``--history``, most have far
  fewer), plus 5 % more picked at random (quizzes). 40 % of them have nothing due, so
  their pick is a new card; the others have 5-40 % of their cards due now; one in ten has
  had today's new cards already;
* a whole-bank member with a card for every item, 30 % of them due now.

It times the pick, what :meth:`ReviewService.next_review` asks the database (the most
overdue card; else today's new cards and the next new item), for random members, each
query inside an open session; then the whole :meth:`ReviewService.review` call (member,
pick, a new prompt row, the due count, the reply, committed); and, for diagnosis, the
other due-queue queries on the whole-bank member, including the worst case for a new card
(that member has seen every item). It prints SQLite's ``EXPLAIN QUERY PLAN`` of the
queries, captured from the exact SQL the crud functions send, and a table of results.

The bot never runs ``ANALYZE``, so by default neither does this (``--analyze`` does).

Usage: ``.venv/bin/python benchmarks/due_queue.py [--items 100000] [--members 1000]
[--history 2000] [--runs 1000]``. The last output line is JSON: ``items``, ``members``,
``pick_p50_ms``, ``pick_p95_ms``, ``pick_p99_ms``, ``review_p95_ms``, … .
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sqlite3
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import event  # noqa: E402
from sqlalchemy.engine import Connection  # noqa: E402
from sqlmodel.ext.asyncio.session import AsyncSession  # noqa: E402

from bot.core.clock import FakeClock  # noqa: E402
from bot.core.content import item_to_dict  # noqa: E402
from bot.core.deck_files import load_library  # noqa: E402
from bot.core.learners import Learner  # noqa: E402
from bot.services.study import StudyServices  # noqa: E402
from bot.services.study_context import StudyContext  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.storage import crud, due_queue  # noqa: E402
from bot.storage.answer_store import open_answer_store  # noqa: E402
from bot.storage.db import Database, sqlite_path  # noqa: E402
from bot.storage.lane import to_sqlite_time  # noqa: E402

T = TypeVar("T")

GUILD_ID = 111_111_111_111_111_111
OTHER_GUILD_ID = 222_222_222_222_222_222
TARGET_P95_MS = 5.0
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
TODAY = NOW.replace(hour=0, minute=0)
#: The bot's default cap on new cards a day (``NEW_ITEMS_PER_DAY``).
NEW_PER_DAY = 20
WHOLE_BANK_MEMBER = "10001"
FIRST_MEMBER = 20_000

#: One member's cards, made by SQLite from a JSON list of item ids. ``h`` is a
#: deterministic hash of (item, member) that spreads the due times and the FSRS figures.
CARDS_SQL = """
INSERT INTO review_states (user_id, item_id, state, step, stability, difficulty, due,
    last_review, reps, lapses, first_seen_at)
SELECT :user_id, value, 2, NULL, 1.0 + h % 90, 1.0 + h % 9,
    strftime('%Y-%m-%d %H:%M:%S', due, 'unixepoch') || '.000000',
    strftime('%Y-%m-%d %H:%M:%S', due - 86400 * (1 + h % 60), 'unixepoch') || '.000000',
    1 + h % 20, h % 4,
    strftime('%Y-%m-%d %H:%M:%S', :seen_before - (h / 1000) % 8640000, 'unixepoch')
        || '.000000'
FROM (
    SELECT value, h, CASE WHEN h % 1000 < :due_per_mille
        THEN :now - 60 - (h / 1000) % 2592000
        ELSE :now + 60 + (h / 1000) % 31536000 END AS due
    FROM (SELECT value, (value * 2654435761 + :user_id * 40503) % 1000000007 AS h
          FROM json_each(:item_ids))
)
"""
#: Marks cards as first seen today (members who have had today's new cards).
SEEN_TODAY_SQL = (
    "UPDATE review_states SET first_seen_at = :today "
    "WHERE user_id = :user_id AND item_id IN (SELECT value FROM json_each(:item_ids))"
)


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(values)
    rank = max(1, round(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def summary_ms(values: Sequence[float]) -> dict[str, float]:
    """Count and p50/p95/p99 of ``values`` (milliseconds), rounded for printing."""
    if not values:
        return {"n": 0, "p50": 0.0, "p95": 0.0, "p99": 0.0}
    return {
        "n": len(values),
        "p50": round(percentile(values, 50), 3),
        "p95": round(percentile(values, 95), 3),
        "p99": round(percentile(values, 99), 3),
    }


@dataclass(frozen=True, slots=True)
class Member:
    """A seeded member: row id, Discord id, and what their pick should be."""

    user_id: int
    external_id: str
    cards: int
    due_now: bool
    capped: bool


@dataclass(frozen=True, slots=True)
class Population:
    """What was seeded."""

    items: int
    visible: int
    cards: int
    whole_bank: Member
    members: list[Member]


def _item_rows(count: int) -> list[tuple[Any, ...]]:
    """``count`` item rows whose payloads are real, valid items from the bundled decks."""
    library = load_library(Settings().content_dir)
    templates = [item_to_dict(content) for _deck, content in library.items()]
    if not templates:
        raise SystemExit("no bundled items to copy: is content/ empty?")
    now = to_sqlite_time(NOW)
    rows: list[tuple[Any, ...]] = []
    for n in range(count):
        payload = dict(templates[n % len(templates)], id=f"bench-{n}")
        owner = GUILD_ID if n % 50 == 7 else OTHER_GUILD_ID if n % 50 == 13 else None
        key = f"bench/{n}" if owner is None else f"g{owner}/bench-{n}"
        rows.append(
            (
                key,
                f"bench-deck-{n // 500:03d}",
                f"bench-{n}",
                payload["kind"],
                str(payload.get("difficulty", "medium")),
                owner,
                json.dumps(payload, ensure_ascii=False),
                crud.payload_hash(payload),
                0 if n % 97 == 5 else 1,
                now,
                now,
            )
        )
    return rows


def _add_cards(
    conn: sqlite3.Connection, user_id: int, item_ids: Sequence[int], due_per_mille: int
) -> None:
    """One card per item for the member, ``due_per_mille`` of them due now."""
    conn.execute(
        CARDS_SQL,
        {
            "user_id": user_id,
            "item_ids": json.dumps(list(item_ids)),
            "due_per_mille": due_per_mille,
            "now": int(NOW.timestamp()),
            "seen_before": int((TODAY - timedelta(days=1)).timestamp()),
        },
    )


def seed(path: Path, items: int, members: int, history: int, seed_value: int) -> Population:
    """Fill the migrated database at ``path`` in one transaction."""
    rng = random.Random(seed_value)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA cache_size = -200000")
        conn.execute("BEGIN")
        now = to_sqlite_time(NOW)
        conn.executemany(
            "INSERT INTO guilds (id, name, created_at, daily_enabled, daily_questions, "
            "daily_window_minutes) VALUES (?, ?, ?, 0, 1, 60)",
            [(GUILD_ID, "Bench", now), (OTHER_GUILD_ID, "Other", now)],
        )
        conn.executemany(
            "INSERT INTO items (key, deck, slug, kind, difficulty, guild_id, payload, "
            "content_hash, active, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            _item_rows(items),
        )
        every = [int(row[0]) for row in conn.execute("SELECT id FROM items ORDER BY id")]
        visible = [
            int(row[0])
            for row in conn.execute(
                "SELECT id FROM items WHERE active = 1 AND (guild_id IS NULL OR guild_id = ?) "
                "ORDER BY id",
                (GUILD_ID,),
            )
        ]
        externals = [WHOLE_BANK_MEMBER, *(str(FIRST_MEMBER + k) for k in range(members))]
        conn.executemany(
            "INSERT INTO users (platform, external_id, display_name, created_at, extra_time, "
            "remind_enabled) VALUES ('discord', ?, ?, ?, 0, 0)",
            [(external, f"member{external}", now) for external in externals],
        )
        ids = dict(conn.execute("SELECT external_id, id FROM users").fetchall())
        whole = Member(int(ids[WHOLE_BANK_MEMBER]), WHOLE_BANK_MEMBER, len(every), True, False)
        _add_cards(conn, whole.user_id, every, 300)
        seeded: list[Member] = []
        cards = len(every)
        for external in externals[1:]:
            user_id = int(ids[external])
            seen = min(len(visible), int(history * rng.random() ** 2))
            extra = rng.sample(visible[seen:], min(seen // 20, len(visible) - seen))
            due_per_mille = 0 if rng.random() < 0.4 else rng.randint(50, 400)
            _add_cards(conn, user_id, [*visible[:seen], *extra], due_per_mille)
            capped = seen >= NEW_PER_DAY and rng.random() < 0.1
            if capped:
                conn.execute(
                    SEEN_TODAY_SQL,
                    {
                        "user_id": user_id,
                        "today": to_sqlite_time(NOW - timedelta(hours=1)),
                        "item_ids": json.dumps(visible[seen - NEW_PER_DAY : seen]),
                    },
                )
            cards += seen + len(extra)
            seeded.append(Member(user_id, external, seen + len(extra), due_per_mille > 0, capped))
        conn.execute("COMMIT")
    finally:
        conn.close()
    return Population(len(every), len(visible), cards, whole, seeded)


@contextmanager
def capture_sql(db: Database) -> Iterator[list[tuple[str, Any]]]:
    """Collect every (SQL, parameters) the engine sends while the block runs."""
    seen: list[tuple[str, Any]] = []

    def listener(
        _conn: Connection, _cursor: Any, statement: str, parameters: Any, *_args: Any
    ) -> None:
        seen.append((statement, parameters))

    event.listen(db.engine.sync_engine, "before_cursor_execute", listener)
    try:
        yield seen
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", listener)


async def query_plan(db: Database, query: Callable[[AsyncSession], Awaitable[Any]]) -> list[str]:
    """``EXPLAIN QUERY PLAN`` of the SELECT(s) that ``query`` sends, as indented lines."""
    with capture_sql(db) as seen:
        async with db.session() as session:
            await query(session)
    lines: list[str] = []
    async with db.engine.connect() as conn:
        for statement, parameters in seen:
            if not statement.lstrip().upper().startswith("SELECT"):
                continue
            explained = await conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
            depth: dict[int, int] = {0: 0}
            rows: list[Any] = list(explained.all())
            for row in rows:
                node, parent, detail = int(row[0]), int(row[1]), str(row[3])
                depth[node] = depth.get(parent, 0) + 1
                lines.append("  " * depth[node] + detail)
    return lines


async def time_in_session(
    db: Database, runs: int, query: Callable[[AsyncSession], Awaitable[Any]]
) -> list[float]:
    """Time ``query(session)`` alone: each run gets a fresh session whose connection is open."""

    async def once() -> float:
        async with db.session() as session:
            await session.connection()
            started = time.perf_counter()
            await query(session)
            return (time.perf_counter() - started) * 1000

    for _ in range(min(5, runs)):
        await once()
    return [await once() for _ in range(runs)]


@dataclass(slots=True)
class PickTimes:
    """Milliseconds of the pick queries, and of the whole pick, for random members."""

    next_due: list[float] = field(default_factory=list)
    new_today: list[float] = field(default_factory=list)
    next_new: list[float] = field(default_factory=list)
    #: The whole pick (all of the above a member needed), by what was picked.
    whole: dict[str, list[float]] = field(default_factory=dict)


async def timed(times: list[float], query: Awaitable[T]) -> T:
    """Await ``query``, appending its wall time (ms) to ``times``."""
    started = time.perf_counter()
    result = await query
    times.append((time.perf_counter() - started) * 1000)
    return result


async def pick(session: AsyncSession, user_id: int, times: PickTimes) -> str:
    """What ``ReviewService.next_review`` asks: the most overdue card, else a new one.

    Returns what was picked: ``due``, ``new``, ``capped`` (today's new cards had) or
    ``none``.
    """
    row = await timed(
        times.next_due,
        due_queue.next_due_item(session, user_id=user_id, guild_id=GUILD_ID, now=NOW),
    )
    if row is not None:
        return "due"
    new_today = await timed(
        times.new_today,
        due_queue.count_new_since(session, user_id=user_id, guild_id=GUILD_ID, since=TODAY),
    )
    if new_today >= NEW_PER_DAY:
        return "capped"
    row = await timed(
        times.next_new, due_queue.next_new_item(session, user_id=user_id, guild_id=GUILD_ID)
    )
    return "new" if row is not None else "none"


async def time_picks(
    db: Database, members: Sequence[Member], runs: int, rng: random.Random
) -> PickTimes:
    """Picks for ``runs`` random members, each in a fresh session whose connection is open."""
    for member in [rng.choice(members) for _ in range(min(5, runs))]:  # warm-up
        async with db.session() as session:
            await pick(session, member.user_id, PickTimes())
    times = PickTimes(whole={"due": [], "new": [], "capped": [], "none": []})
    for member in [rng.choice(members) for _ in range(runs)]:
        async with db.session() as session:
            await session.connection()
            started = time.perf_counter()
            kind = await pick(session, member.user_id, times)
            times.whole[kind].append((time.perf_counter() - started) * 1000)
    return times


async def time_reviews(study: StudyServices, members: Sequence[Member], runs: int) -> list[float]:
    """The whole ``/review`` call (member lookup, pick, prompt row, due count), committed."""
    learners = [
        Learner("discord", member.external_id, f"member{member.external_id}", guild_id=GUILD_ID)
        for member in members
    ]
    for learner in learners[:5]:
        await study.review.review(learner)
    times: list[float] = []
    for n in range(runs):
        started = time.perf_counter()
        await study.review.review(learners[n % len(learners)])
        times.append((time.perf_counter() - started) * 1000)
    return times


async def time_quizzes(study: StudyServices, members: Sequence[Member], runs: int) -> list[float]:
    """The whole ``/quiz`` call on the whole bank (no deck): count, one row, prompt row."""
    learners = [
        Learner("discord", member.external_id, f"member{member.external_id}", guild_id=GUILD_ID)
        for member in members
    ]
    times: list[float] = []
    for n in range(runs):
        started = time.perf_counter()
        await study.practice.ask(learners[n % len(learners)], "quiz")
        times.append((time.perf_counter() - started) * 1000)
    return times


async def run(args: argparse.Namespace) -> dict[str, Any]:
    """Build the database, time the picks and the review call, collect the plans."""
    with tempfile.TemporaryDirectory() as folder:
        db = Database(f"sqlite+aiosqlite:///{Path(folder) / 'due.db'}")
        study: StudyServices | None = None
        try:
            await db.connect()
            path = sqlite_path(db.url)
            if path is None:
                raise SystemExit("the benchmark needs a SQLite file")
            started = time.perf_counter()
            population = seed(path, args.items, args.members, args.history, args.seed)
            if args.analyze:
                async with db.engine.begin() as conn:
                    await conn.exec_driver_sql("ANALYZE")
            seconds = time.perf_counter() - started
            print(
                f"seeded {population.items} items ({population.visible} visible), "
                f"{len(population.members) + 1} members, {population.cards} cards "
                f"in {seconds:.1f} s",
                flush=True,
            )
            rng = random.Random(args.seed)
            picks = await time_picks(db, population.members, args.runs, rng)
            context = StudyContext(db, clock=FakeClock(NOW), rng=random.Random(args.seed))
            study = StudyServices.build(context, store=open_answer_store(db.url))
            sample = rng.sample(population.members, min(len(population.members), 200))
            review = await time_reviews(study, sample, max(50, args.runs // 3))
            quiz = await time_quizzes(study, sample, max(50, args.runs // 3))
            whole = population.whole_bank.user_id
            by_cards = sorted(population.members, key=lambda m: m.cards)
            typical = by_cards[len(by_cards) // 2]
            diagnostics: dict[str, Callable[[AsyncSession], Awaitable[Any]]] = {
                "next_due_item (whole bank, 30% due)": lambda s: due_queue.next_due_item(
                    s, user_id=whole, guild_id=GUILD_ID, now=NOW
                ),
                "count_due cap 100 (whole bank)": lambda s: due_queue.count_due(
                    s, user_id=whole, guild_id=GUILD_ID, now=NOW, cap=100
                ),
                "count_new_since (whole bank)": lambda s: due_queue.count_new_since(
                    s, user_id=whole, guild_id=GUILD_ID, since=TODAY
                ),
                "next_due_after (whole bank)": lambda s: due_queue.next_due_after(
                    s, user_id=whole, guild_id=GUILD_ID, now=NOW
                ),
                "count_unseen (median member)": lambda s: due_queue.count_unseen(
                    s, user_id=typical.user_id, guild_id=GUILD_ID
                ),
                "next_new_item (whole bank: all seen)": lambda s: due_queue.next_new_item(
                    s, user_id=whole, guild_id=GUILD_ID
                ),
                "count_unseen (whole bank)": lambda s: due_queue.count_unseen(
                    s, user_id=whole, guild_id=GUILD_ID
                ),
                "count_due uncapped (whole bank)": lambda s: due_queue.count_due(
                    s, user_id=whole, guild_id=GUILD_ID, now=NOW
                ),
            }
            timings = {
                name: await time_in_session(db, args.diagnostic_runs, query)
                for name, query in diagnostics.items()
            }
            newcomer = next(m for m in population.members if not m.due_now and not m.capped)
            plans = {
                "next_due_item": await query_plan(
                    db,
                    lambda s: due_queue.next_due_item(s, user_id=whole, guild_id=GUILD_ID, now=NOW),
                ),
                "count_new_since": await query_plan(
                    db,
                    lambda s: due_queue.count_new_since(
                        s, user_id=whole, guild_id=GUILD_ID, since=TODAY
                    ),
                ),
                "next_new_item": await query_plan(
                    db,
                    lambda s: due_queue.next_new_item(
                        s, user_id=newcomer.user_id, guild_id=GUILD_ID
                    ),
                ),
                "count_due (capped)": await query_plan(
                    db,
                    lambda s: due_queue.count_due(
                        s, user_id=whole, guild_id=GUILD_ID, now=NOW, cap=100
                    ),
                ),
                "count_unseen": await query_plan(
                    db, lambda s: due_queue.count_unseen(s, user_id=whole, guild_id=GUILD_ID)
                ),
            }
        finally:
            if study is not None:
                await study.close()
            await db.close()
    return {
        "population": population,
        "picks": picks,
        "review": review,
        "quiz": quiz,
        "timings": timings,
        "plans": plans,
        "typical_cards": typical.cards,
    }


def main() -> None:
    """Parse options, run, print the plans, the results table and the JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--members", type=int, default=1_000)
    parser.add_argument(
        "--history", type=int, default=2_000, help="most cards a member has seen in order"
    )
    parser.add_argument("--runs", type=int, default=1_000, help="timed picks")
    parser.add_argument("--diagnostic-runs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--analyze", action="store_true", help="run ANALYZE after seeding")
    args = parser.parse_args()
    result = asyncio.run(run(args))
    population: Population = result["population"]
    for name, lines in result["plans"].items():
        print(f"EXPLAIN QUERY PLAN {name}:")
        for line in lines:
            print(f"  {line}")
    picks: PickTimes = result["picks"]
    whole = [t for times in picks.whole.values() for t in times]
    rows: list[tuple[str, dict[str, float]]] = [
        ("pick query: next_due_item", summary_ms(picks.next_due)),
        ("pick query: next_new_item (nothing due)", summary_ms(picks.next_new)),
        ("  count_new_since (nothing due)", summary_ms(picks.new_today)),
        ("whole pick, random members", summary_ms(whole)),
        ("  picked a due card", summary_ms(picks.whole["due"])),
        ("  picked a new card", summary_ms(picks.whole["new"])),
        ("  today's new cards already had", summary_ms(picks.whole["capped"])),
        ("ReviewService.review (whole call)", summary_ms(result["review"])),
        ("PracticeService.ask /quiz, no deck (whole call)", summary_ms(result["quiz"])),
    ]
    rows += [(name, summary_ms(times)) for name, times in result["timings"].items()]
    print(f"{'ms':44} {'n':>5} {'p50':>8} {'p95':>8} {'p99':>8}")
    for label, s in rows:
        print(f"{label:44} {s['n']:5d} {s['p50']:8.2f} {s['p95']:8.2f} {s['p99']:8.2f}")
    due_q, new_q = summary_ms(picks.next_due), summary_ms(picks.next_new)
    overall = summary_ms(whole)
    worst = max(due_q["p95"], new_q["p95"])
    verdict = "meets" if worst <= TARGET_P95_MS else "misses"
    print(f"target: pick query p95 <= {TARGET_P95_MS} ms -> {verdict} ({worst:.2f} ms)")
    review = summary_ms(result["review"])
    summary = {
        "items": population.items,
        "members": len(population.members) + 1,
        "cards": population.cards,
        "next_due_p95_ms": due_q["p95"],
        "next_new_p95_ms": new_q["p95"],
        "pick_p50_ms": overall["p50"],
        "pick_p95_ms": overall["p95"],
        "pick_p99_ms": overall["p99"],
        "review_p50_ms": review["p50"],
        "review_p95_ms": review["p95"],
        "quiz_p95_ms": summary_ms(result["quiz"])["p95"],
        "all_seen_next_new_p95_ms": summary_ms(
            result["timings"]["next_new_item (whole bank: all seen)"]
        )["p95"],
        "runs": len(whole),
        "cpus": os.cpu_count(),
        "load_avg_1m": round(os.getloadavg()[0], 2),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
