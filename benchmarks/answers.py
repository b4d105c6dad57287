"""Benchmark: graded answers per second through the button-click code path.

Simulated members each get a question (``PracticeService.quiz``) and answer it with the same call a
Discord button click makes (``ActionService.act(learner, "an:<prompt>:<option>")``): grading,
FSRS update, one attempt row. Many members answer concurrently, as after a daily quiz.
By default into a temporary SQLite file; ``--database-url`` names an empty database
instead (e.g. PostgreSQL).

Usage: ``.venv/bin/python benchmarks/answers.py [--members 200] [--answers 10]``.
The last output line is JSON: ``answers_per_s``, ``p50_ms``, ``p99_ms``, ``sent``,
``stored``, ``lost``, ``lane`` (which answer path ran), ``cpus`` and ``load_avg_1m``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func  # noqa: E402
from sqlmodel import select  # noqa: E402

from bot.app import open_services  # noqa: E402
from bot.core.learners import Learner  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.storage.answer_store import SqliteAnswerStore  # noqa: E402
from bot.storage.models import Attempt  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(values)
    rank = max(1, round(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


async def run(
    members: int, answers: int, concurrency: int, database_url: str | None = None
) -> dict[str, float | int | str]:
    """Prepare prompts, then time the answers alone (the click path)."""
    with tempfile.TemporaryDirectory() as folder:
        url = database_url or f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        settings = Settings(database_url=url)
        services = await open_services(settings)
        study = services.study
        rng = random.Random(1)
        learners = [
            Learner("discord", str(10_000 + n), f"member{n}", guild_id=1) for n in range(members)
        ]
        # Questions shown to everyone first (not timed): one shared prompt per round.
        tokens: list[tuple[Learner, str]] = []
        for _round in range(answers):
            question = await study.practice.quiz(learners[0], shared=True)
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
        "--database-url",
        default=None,
        help="an EMPTY database to use instead of a temporary SQLite file (e.g. PostgreSQL)",
    )
    args = parser.parse_args()
    result = asyncio.run(run(args.members, args.answers, args.concurrency, args.database_url))
    sys.stdout.write(
        f"{result['sent']} answers in {result['seconds']} s: {result['answers_per_s']}/s, "
        f"p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms, lost {result['lost']}\n"
    )
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
