"""Idle workers are stopped and started again on demand; no worker sees the bot's secrets.

One pool of one real worker for this module, started while the bot's environment holds
secrets, with a short ``idle_s``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from bot.training.jobs import TrainRequest, TrainResult
from bot.training.pool import PoolConfig, TrainingPool
from bot.training.render import render_train_result

pytestmark = pytest.mark.slow

IDLE_S = 2.0
SECRETS = {
    "DISCORD_TOKEN": "discord-secret-value",
    "DATABASE_URL": "postgresql://tutor:pg-secret-value@db/tutor",
    "GITHUB_TOKEN": "github-secret-value",
    "TUTOR_API_SECRET": "api-secret-value",
    "SMTP_PASSWORD": "smtp-secret-value",
}


def _environ(pid: int) -> dict[str, str]:
    """The environment a process was started with (``/proc/<pid>/environ``)."""
    raw = Path(f"/proc/{pid}/environ").read_bytes().decode("utf-8", "replace")
    return dict(item.split("=", 1) for item in raw.split("\0") if "=" in item)


def _assert_no_secrets(pid: int) -> None:
    env = _environ(pid)
    assert "PATH" in env and "PYTHONPATH" in env  # really a worker's environment
    names = [n for n in env if any(w in n.upper() for w in ("TOKEN", "SECRET", "PASSWORD"))]
    assert names == []
    assert "DATABASE_URL" not in env
    leaked = [v for v in SECRETS.values() if any(v in value for value in env.values())]
    assert leaked == []


def _numbers(result: TrainResult) -> dict[str, Any]:
    data = result.to_dict()
    for key in ("elapsed_ms", "worker_rss_mb", "warm_up_s"):
        data.pop(key)
    return data


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def idle_pool() -> AsyncIterator[TrainingPool]:
    """One worker, stopped after ``IDLE_S`` seconds without a job; secrets in the env."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in SECRETS.items():
            patch.setenv(name, value)
        pool = TrainingPool(
            PoolConfig(size=1, idle_s=IDLE_S, cooldown_s=0, warm_start=False, max_queue=2)
        )
        await pool.start()
        try:
            yield pool
        finally:
            await pool.stop()


def _exists(pid: int) -> bool:
    """Whether process ``pid`` exists (a zombie too: it has not been reaped)."""
    return Path(f"/proc/{pid}").exists()


async def _wait_until_stopped(pool: TrainingPool, pid: int) -> None:
    deadline = time.monotonic() + IDLE_S + 30
    while pool.worker_pids() or _exists(pid):
        assert time.monotonic() < deadline, "the idle worker was not stopped"
        await asyncio.sleep(0.1)


@pytest.mark.asyncio(loop_scope="session")
async def test_the_worker_gets_none_of_the_bots_secrets(idle_pool: TrainingPool) -> None:
    await idle_pool.wait_ready()
    (pid,) = idle_pool.worker_pids()
    _assert_no_secrets(pid)


@pytest.mark.asyncio(loop_scope="session")
async def test_an_idle_worker_stops_and_the_next_job_warms_it_up(
    idle_pool: TrainingPool,
) -> None:
    await idle_pool.wait_ready()
    assert idle_pool.ready
    first = await idle_pool.run(TrainRequest(seed=9), member_id="early")
    assert first.warm_up_s is None  # a worker was ready
    (pid,) = idle_pool.worker_pids()

    await _wait_until_stopped(idle_pool, pid)
    assert not idle_pool.ready and idle_pool.stats()["workers"] == 0

    notices: list[int] = []

    async def warming(seconds: int) -> None:
        notices.append(seconds)

    second = await idle_pool.run(TrainRequest(seed=9), member_id="later", warming=warming)
    assert _numbers(second) == _numbers(first)
    assert second.warm_up_s is not None and second.warm_up_s > 0
    assert len(notices) == 1 and notices[0] >= 1
    assert "Warm-up" in {f.name for f in render_train_result(second).fields}
    (new_pid,) = idle_pool.worker_pids()
    assert new_pid != pid
    _assert_no_secrets(new_pid)  # a worker started on demand is no different
