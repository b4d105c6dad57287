"""The training lab as the adapters use it: options in, a :class:`Reply` out.

Owns one :class:`~bot.training.pool.TrainingPool`, started lazily on the first ``/train``
(or up front by the Discord bot), so the console pays TensorFlow's start-up cost only
when a member actually trains.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace

from bot.core.replies import Reply
from bot.errors import BadInput
from bot.log import get_logger
from bot.training.jobs import TrainRequest, parse_train_options
from bot.training.pool import PoolConfig, ProgressCallback, TrainingPool, WarmingCallback
from bot.training.render import render_train_result_async

log = get_logger(__name__)

OPTION_ORDER = ("preset", "optimizer", "learning_rate", "steps", "seed")
OPTION_ALIASES = {"lr": "learning_rate", "learning-rate": "learning_rate", "rate": "learning_rate"}


def parse_option_words(words: list[str]) -> dict[str, str]:
    """``/train house-prices adam lr=0.01 steps=200`` → option names and raw values.

    Words are positional in the order preset, optimizer, learning rate, steps, seed, or
    ``name=value`` (or Discord's ``name:value``) in any order.
    """
    options: dict[str, str] = {}
    position = 0
    for word in words:
        if "=" in word or ":" in word:
            name, _, value = word.partition("=" if "=" in word else ":")
            name = OPTION_ALIASES.get(name.strip().casefold(), name.strip().casefold())
            if name not in OPTION_ORDER:
                raise BadInput(
                    f"Unknown option '{name[:20]}'. Use preset, optimizer, lr, steps or seed."
                )
            options[name] = value.strip()
            continue
        while position < len(OPTION_ORDER) and OPTION_ORDER[position] in options:
            position += 1
        if position >= len(OPTION_ORDER):
            raise BadInput("Too many options. Try: /train single-step sgd 0.1 1 42")
        options[OPTION_ORDER[position]] = word
        position += 1
    return options


class TrainingLab:
    """A lazily started warm-worker pool plus request parsing and rendering."""

    def __init__(self, config: PoolConfig | None = None) -> None:
        self.config = config or PoolConfig()
        self._pool: TrainingPool | None = None
        self._starting = asyncio.Lock()

    @property
    def started(self) -> bool:
        """True while a worker is ready: the pool exists and has not stopped its workers
        after idling. When False, the next ``/train`` waits for TensorFlow to start."""
        return self._pool is not None and self._pool.ready

    async def start(self, *, wait: bool = False) -> TrainingPool:
        """Start the pool (once); ``wait`` also waits for TensorFlow to be imported."""
        async with self._starting:
            if self._pool is None:
                pool = TrainingPool(replace(self.config, warm_start=wait))
                await pool.start()
                self._pool = pool
            return self._pool

    async def stop(self) -> None:
        """Stop every worker."""
        if self._pool is not None:
            await self._pool.stop()
            self._pool = None

    async def train(
        self,
        member_id: str,
        request: TrainRequest,
        *,
        progress: ProgressCallback | None = None,
        warming: WarmingCallback | None = None,
    ) -> Reply:
        """Run one job and render its result; ``warming(seconds)`` is awaited first when
        the job has to wait for a worker to start (see :meth:`TrainingPool.run`)."""
        pool = await self.start()
        result = await pool.run(request, member_id=member_id, progress=progress, warming=warming)
        return await render_train_result_async(result)

    async def train_words(self, member_id: str, words: list[str]) -> Reply:
        """``/train`` from typed words (the console)."""
        request = parse_train_options(**parse_option_words(words))
        return await self.train(member_id, request)
