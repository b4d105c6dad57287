"""Shared fixtures for the training-lab tests: ONE warm worker pool for the whole session.

Starting a worker imports TensorFlow (~5 s), so every test that needs one shares this pool
(two workers: a replacement after an injected crash starts in the background while the
other worker keeps answering). Fault injection is enabled here — and only here.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from bot.training.pool import PoolConfig, TrainingPool

#: Small enough that the ``hang`` fault test is quick, large enough for real jobs.
JOB_TIMEOUT_S = 4.0


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def pool() -> AsyncIterator[TrainingPool]:
    """A started pool of two warm workers with fault injection and a 30 s cooldown."""
    config = PoolConfig(
        size=2,
        job_timeout_s=JOB_TIMEOUT_S,
        max_queue=1,
        queue_timeout_s=60.0,
        cooldown_s=30.0,
        memory_limit_mb=1280,
        progress_every=10,
        warm_start=True,
        allow_fault_injection=True,
    )
    training_pool = TrainingPool(config)
    await training_pool.start()
    yield training_pool
    await training_pool.stop()


@pytest.fixture
def member() -> str:
    """A fresh member id (each test has its own cooldown)."""
    return f"member-{uuid.uuid4().hex[:8]}"
