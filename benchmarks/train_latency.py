"""Benchmark: a ``single-step`` /train job, cold process vs warm pool.

* cold — a fresh ``python -m bot.training.worker --once`` per request (interpreter start,
  ``import tensorflow``, build, one step, exit), timed from spawn to exit;
* warm — the same job through :class:`bot.training.pool.TrainingPool` (one warm worker),
  timed around ``await pool.run(...)`` (pipe round trip included).

Usage: ``.venv/bin/python benchmarks/train_latency.py [--cold-runs 3] [--warm-runs 30]``.
The last output line is JSON: ``cold_p50_s``, ``warm_p50_s``, ``warm_p95_s``, ``ratio``
(cold p50 / warm p50), ``worker_rss_mb`` and a few more details.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: The warm p50 a /train must stay under.
TARGET_WARM_P50_MS = 25.0
sys.path.insert(0, str(ROOT))

from bot.training.jobs import TrainRequest  # noqa: E402
from bot.training.pool import PoolConfig, TrainingPool  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(values)
    rank = max(1, round(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def cold_runs(n: int) -> tuple[list[float], float | None]:
    """Time ``n`` fresh worker processes running one single-step job each."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), TF_CPP_MIN_LOG_LEVEL="3")
    times: list[float] = []
    rss: float | None = None
    for i in range(n):
        started = time.perf_counter()
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "bot.training.worker",
                "--once",
                "--request",
                json.dumps({"preset": "single-step", "seed": i}),
            ],
            capture_output=True,
            check=True,
            env=env,
            cwd=ROOT,
        )
        times.append(time.perf_counter() - started)
        rss = json.loads(done.stdout.decode().strip().splitlines()[-1])["worker_rss_mb"]
        print(f"cold run {i + 1}: {times[-1]:.2f} s", flush=True)
    return times, rss


async def warm_runs(n: int) -> tuple[list[float], list[float], float | None, float]:
    """Time ``n`` single-step jobs through a warm pool of one worker."""
    config = PoolConfig(size=1, cooldown_s=0, warm_start=True, max_queue=4)
    started = time.perf_counter()
    async with TrainingPool(config) as pool:
        start_s = time.perf_counter() - started
        print(f"pool ready in {start_s:.2f} s", flush=True)
        times: list[float] = []
        inside: list[float] = []
        rss: float | None = None
        for i in range(n):
            request = TrainRequest(
                preset="single-step", optimizer="sgd", learning_rate=0.1, steps=1, seed=i
            )
            t0 = time.perf_counter()
            result = await pool.run(request, member_id="bench")
            times.append(time.perf_counter() - t0)
            inside.append(result.elapsed_ms)
            rss = result.worker_rss_mb
    return times, inside, rss, start_s


def main() -> int:
    """Run both measurements and print the summary."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--cold-runs", type=int, default=3)
    parser.add_argument("--warm-runs", type=int, default=30)
    args = parser.parse_args()

    cold, cold_rss = cold_runs(args.cold_runs)
    warm, inside, rss, start_s = asyncio.run(warm_runs(args.warm_runs))
    cold_p50 = statistics.median(cold)
    warm_p50 = statistics.median(warm)
    warm_p95 = percentile(warm, 95)
    print(f"cold: p50 {cold_p50:.2f} s over {len(cold)} runs (RSS {cold_rss} MB)")
    print(
        f"warm: p50 {warm_p50 * 1000:.1f} ms, p95 {warm_p95 * 1000:.1f} ms over {len(warm)} "
        f"runs (in-worker p50 {statistics.median(inside):.1f} ms)"
    )
    print(f"warm is {cold_p50 / warm_p50:.0f}x faster than a process per request")
    verdict = "meets" if warm_p50 * 1000 <= TARGET_WARM_P50_MS else "misses"
    print(f"target: warm p50 <= {TARGET_WARM_P50_MS:.0f} ms -> {verdict}")
    summary = {
        "cold_p50_s": round(cold_p50, 3),
        "warm_p50_s": round(warm_p50, 4),
        "warm_p95_s": round(warm_p95, 4),
        "ratio": round(cold_p50 / warm_p50, 1),
        "worker_rss_mb": rss,
        "cold_runs": len(cold),
        "warm_runs": len(warm),
        "warm_in_worker_p50_ms": round(statistics.median(inside), 2),
        "pool_start_s": round(start_s, 2),
        "cpus": os.cpu_count(),
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
