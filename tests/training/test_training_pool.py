"""The warm pool end to end: real workers, real TensorFlow (one session-scoped pool)."""

from __future__ import annotations

import asyncio
import logging
import math
import re
from typing import Any

import pytest

from bot.errors import Busy
from bot.settings import Settings
from bot.training.errors import (
    TIMEOUT_MESSAGE,
    TrainingBusy,
    TrainingCooldown,
    TrainingOutOfMemory,
    TrainingTimeout,
    TrainingUnavailable,
    WorkerCrashed,
)
from bot.training.jobs import TrainRequest, TrainResult, parse_train_options
from bot.training.pool import PoolConfig, TrainingPool
from bot.training.render import render_train_result

BUSY_PATTERN = r"The lab is busy — try again in \d+ s\."


def _numbers(result: TrainResult) -> dict[str, Any]:
    data = result.to_dict()
    data.pop("elapsed_ms")
    data.pop("worker_rss_mb")
    return data


# -- no workers needed ---------------------------------------------------------------------


async def test_faults_need_an_explicit_test_config() -> None:
    assert PoolConfig().allow_fault_injection is False
    assert not any("fault" in name for name in Settings.model_fields)
    with pytest.raises(RuntimeError):
        await TrainingPool().run(TrainRequest(), member_id="m", fault="crash")


async def test_a_stopped_pool_is_unavailable() -> None:
    with pytest.raises(TrainingUnavailable, match="not running"):
        await TrainingPool().run(TrainRequest(), member_id="m")


# -- the lesson ------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.asyncio(loop_scope="session")
async def test_single_step_drops_the_loss(pool: TrainingPool, member: str) -> None:
    result = await pool.run(parse_train_options(), member_id=member)
    assert len(result.losses) == 2
    assert result.loss_after is not None
    assert result.loss_after < result.loss_before
    assert result.weights_before is not None and result.weights_after is not None
    assert set(result.weights_before) == {"kernel", "bias"}
    assert result.weights_before["bias"] == [0.0]
    assert result.weights_after != result.weights_before
    # One SGD step on MSE: w' = w - lr * dL/dw with dL/dw = -2 (y - (w x + b)) x.
    w, b = result.weights_before["kernel"][0], result.weights_before["bias"][0]
    grad = -2 * (2.0 - (w + b))
    assert result.weights_after["kernel"][0] == pytest.approx(w - 0.1 * grad, rel=1e-5)
    assert result.weights_after["bias"][0] == pytest.approx(b - 0.1 * grad, rel=1e-5)
    assert result.worker_rss_mb is not None and result.worker_rss_mb > 100


@pytest.mark.slow
@pytest.mark.asyncio(loop_scope="session")
async def test_no_apply_leaves_weights_and_loss_alone(pool: TrainingPool, member: str) -> None:
    request = parse_train_options(preset="no-apply", optimizer="adam", steps=3)
    result = await pool.run(request, member_id=member)
    assert result.weights_after == result.weights_before
    assert result.loss_after == result.loss_before
    assert result.losses == [result.loss_before] * 4
    assert "apply_gradients was never called" in result.note
    assert "did not move" in render_train_result(result).text


@pytest.mark.slow
@pytest.mark.asyncio(loop_scope="session")
async def test_same_seed_same_numbers_different_seed_different(pool: TrainingPool) -> None:
    request = parse_train_options(preset="house-prices", optimizer="adam", steps=20, seed=5)
    first = await pool.run(request, member_id="det-1")
    second = await pool.run(request, member_id="det-2")
    assert _numbers(first) == _numbers(second)
    assert first.weights_before is None  # not a tiny model
    other = await pool.run(
        parse_train_options(preset="house-prices", optimizer="adam", steps=20, seed=6),
        member_id="det-3",
    )
    assert other.loss_before != first.loss_before
    tiny_a = await pool.run(parse_train_options(seed=1), member_id="det-4")
    tiny_b = await pool.run(parse_train_options(seed=2), member_id="det-5")
    assert tiny_a.weights_before != tiny_b.weights_before


@pytest.mark.slow
@pytest.mark.asyncio(loop_scope="session")
async def test_house_prices_learns(pool: TrainingPool, member: str) -> None:
    result = await pool.run(parse_train_options(preset="house-prices"), member_id=member)
    assert len(result.losses) == 101
    assert result.loss_after is not None and result.loss_after < result.loss_before / 2
    reply = render_train_result(result)
    assert reply.image is not None and reply.image.data.startswith(b"\x89PNG")


@pytest.mark.slow
@pytest.mark.asyncio(loop_scope="session")
async def test_large_learning_rate_diverges(pool: TrainingPool, member: str) -> None:
    request = parse_train_options(preset="house-prices", optimizer="sgd", learning_rate=10)
    result = await pool.run(request, member_id=member)
    assert result.diverged
    assert result.diverged_at_step is not None and 1 <= result.diverged_at_step < 100
    assert result.loss_after is None
    assert len(result.losses) == result.diverged_at_step
    assert "diverged — try a smaller learning rate" in render_train_result(result).text.lower()


@pytest.mark.slow
@pytest.mark.asyncio(loop_scope="session")
async def test_progress_is_reported(pool: TrainingPool, member: str) -> None:
    seen: list[tuple[int, int]] = []

    async def progress(step: int, total: int) -> None:
        seen.append((step, total))

    request = parse_train_options(preset="house-prices", steps=30)
    await pool.run(request, member_id=member, progress=progress)
    assert seen == [(10, 30), (20, 30), (30, 30)]


# -- limits ----------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.asyncio(loop_scope="session")
async def test_cooldown_says_how_long_to_wait(pool: TrainingPool, member: str) -> None:
    await pool.run(parse_train_options(), member_id=member)
    with pytest.raises(TrainingCooldown, match=r"wait (29|30) seconds") as caught:
        await pool.run(parse_train_options(), member_id=member)
    assert isinstance(caught.value, Busy)


@pytest.mark.slow
@pytest.mark.asyncio(loop_scope="session")
async def test_full_queue_is_busy(pool: TrainingPool) -> None:
    await pool.wait_ready()
    # Both workers busy for a second, one job queued (max_queue=1): the next is refused.
    running = [
        asyncio.create_task(pool.run(TrainRequest(seed=i), member_id=f"q{i}", fault="slow"))
        for i in range(2)
    ]
    await asyncio.sleep(0.3)
    queued = asyncio.create_task(pool.run(TrainRequest(), member_id="q-queued"))
    await asyncio.sleep(0.1)
    with pytest.raises(TrainingBusy, match=BUSY_PATTERN) as refused:
        await pool.run(TrainRequest(), member_id="q-refused")
    # Two slow jobs (about 1 s each, one still to come after the other) on two workers.
    assert 1 <= refused.value.retry_after_s <= 3
    results = await asyncio.gather(*running, queued)
    assert all(r.loss_after is not None for r in results)


@pytest.mark.slow
@pytest.mark.asyncio(loop_scope="session")
async def test_a_burst_in_one_tick_gets_exactly_the_capacity(pool: TrainingPool) -> None:
    await pool.wait_ready()
    assert pool.capacity == 3  # two workers running + max_queue 1 waiting
    job_s = pool.stats()["typical_job_s"]
    outcomes = await asyncio.gather(
        *(pool.run(TrainRequest(seed=i), member_id=f"burst-{i}") for i in range(50)),
        return_exceptions=True,
    )
    done = [o for o in outcomes if isinstance(o, TrainResult)]
    refused = [o for o in outcomes if isinstance(o, TrainingBusy)]
    assert (len(done), len(refused)) == (3, 47), outcomes
    for busy in refused:
        assert re.fullmatch(BUSY_PATTERN, str(busy))
        # The three accepted jobs, each as long as a typical job, on two workers.
        assert busy.retry_after_s == max(1, math.ceil(3 * job_s / 2))
    assert pool.stats()["accepted"] == 0 and pool.stats()["waiting"] == 0
    # The refused members were not charged a cooldown.
    again = await pool.run(TrainRequest(), member_id="burst-49")
    assert again.loss_after is not None


# -- faults (each replaces a worker) ---------------------------------------------------------


@pytest.mark.slow
@pytest.mark.asyncio(loop_scope="session")
async def test_hung_job_times_out_and_worker_is_replaced(pool: TrainingPool) -> None:
    await pool.wait_ready()
    before = set(pool.worker_pids())
    with pytest.raises(TrainingTimeout, match=re.escape(TIMEOUT_MESSAGE)):
        await pool.run(TrainRequest(), member_id="hang", fault="hang")
    after = set(pool.worker_pids())
    assert len(before - after) == 1  # the hung worker is gone
    result = await pool.run(TrainRequest(), member_id="after-hang")
    assert result.loss_after is not None


@pytest.mark.slow
@pytest.mark.asyncio(loop_scope="session")
async def test_crash_is_reported_and_recovered(
    pool: TrainingPool, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    with pytest.raises(WorkerCrashed, match="crashed; it has been restarted"):
        await pool.run(TrainRequest(), member_id="crash", fault="crash")
    # The worker's own warning reached the bot's log through its stderr pipe.
    for _ in range(100):
        forwarded = [r for r in caplog.records if "injecting fault 'crash'" in r.getMessage()]
        if forwarded:
            break
        await asyncio.sleep(0.05)
    assert [(r.name, r.levelno) for r in forwarded] == [("bot.training.worker", logging.WARNING)]
    assert forwarded[0].getMessage().startswith("[training worker ")
    # The member may retry at once (no cooldown after a crash) and it works.
    result = await pool.run(TrainRequest(), member_id="crash")
    assert result.loss_after is not None


@pytest.mark.slow
@pytest.mark.asyncio(loop_scope="session")
async def test_memory_limit_stops_the_job(pool: TrainingPool) -> None:
    before = set(pool.worker_pids())
    with pytest.raises(TrainingOutOfMemory, match="too much memory"):
        await pool.run(TrainRequest(), member_id="oom", fault="oom")
    assert len(before - set(pool.worker_pids())) == 1
    await pool.wait_ready()
    result = await pool.run(TrainRequest(), member_id="after-oom")
    assert result.loss_after is not None


async def test_a_lab_that_failed_to_start_tries_again_later(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With idle workers stopped, "no worker" is normal: a failed start must not be final."""
    from bot.training import pool as pool_module
    from bot.training.handle import WorkerHandle

    real_sleep = asyncio.sleep
    starts: list[str] = []

    async def no_wait(_seconds: float) -> None:
        await real_sleep(0)

    async def broken_spawn(self: TrainingPool, *, warm: str) -> WorkerHandle:
        starts.append(warm)
        raise OSError("no TensorFlow here")

    monkeypatch.setattr(asyncio, "sleep", no_wait)
    monkeypatch.setattr(TrainingPool, "_spawn", broken_spawn)
    pool = TrainingPool(PoolConfig(size=1, warm_start=False, cooldown_s=0, queue_timeout_s=0.5))
    await pool.start()
    try:
        with pytest.raises(TrainingUnavailable):
            await pool.run(TrainRequest(), member_id="m")
        tried = len(starts)
        assert tried >= 3
        # Right after the failure the lab says so at once, without starting again.
        with pytest.raises(TrainingUnavailable):
            await pool.run(TrainRequest(), member_id="m")
        assert len(starts) == tried
        # Later, the next /train starts a worker again.
        monkeypatch.setattr(pool_module, "FAILED_START_RETRY_S", 0.0)
        with pytest.raises(TrainingUnavailable):
            await pool.run(TrainRequest(), member_id="m")
        assert len(starts) > tried
    finally:
        await pool.stop()
