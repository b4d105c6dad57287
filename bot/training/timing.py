"""Admission bookkeeping, pure (the clock is injectable): per-member cooldowns, how long
jobs and worker start-ups take, and when a busy lab will have room."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from typing import Final

from bot.training.errors import TrainingCooldown

#: Assumed job length before any job has finished (a warm single step takes milliseconds;
#: a 500-step house-prices run about a second).
DEFAULT_JOB_S: Final = 1.0
#: Assumed worker start-up (importing TensorFlow) before any worker has started.
DEFAULT_START_S: Final = 10.0
#: Weight of the newest measurement in the moving averages.
SMOOTHING: Final = 0.2


class JobTimings:
    """Exponential moving averages of job and worker start-up durations."""

    def __init__(self) -> None:
        self.job_s: float | None = None
        self.start_s: float | None = None

    @staticmethod
    def _blend(old: float | None, new: float) -> float:
        return new if old is None else old + SMOOTHING * (new - old)

    def note_job(self, seconds: float) -> None:
        """Record that a job held a worker for ``seconds``."""
        self.job_s = self._blend(self.job_s, max(0.0, seconds))

    def note_start(self, seconds: float) -> None:
        """Record that a worker took ``seconds`` to start and answer its first ping."""
        self.start_s = self._blend(self.start_s, max(0.0, seconds))

    @property
    def expected_job_s(self) -> float:
        """The expected length of the next job."""
        return DEFAULT_JOB_S if self.job_s is None else self.job_s

    @property
    def expected_start_s(self) -> float:
        """The expected start-up time of the next worker."""
        return DEFAULT_START_S if self.start_s is None else self.start_s

    def retry_after_s(
        self,
        *,
        running_for_s: Iterable[float],
        waiting: int,
        workers: int,
        starting_for_s: float | None = None,
    ) -> int:
        """Whole seconds until the lab has worked through the jobs it accepted (at least 1).

        ``running_for_s`` holds how long each running job has run so far, ``waiting`` the
        jobs waiting for a worker, ``workers`` how many run at once; ``starting_for_s`` is
        how long the lab has been starting a worker when none is ready (``None`` when one
        is), so the rest of the start-up is added.
        """
        job = self.expected_job_s
        work = sum(max(0.0, job - elapsed) for elapsed in running_for_s) + waiting * job
        seconds = work / max(1, workers)
        if starting_for_s is not None:
            seconds += max(0.0, self.expected_start_s - starting_for_s)
        return max(1, math.ceil(seconds))


class Cooldowns:
    """Per-member cooldown bookkeeping (pure; the clock is injectable for tests)."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self._last: dict[str, float] = {}

    def check(self, member_id: str) -> None:
        """Raise :class:`TrainingCooldown` if ``member_id`` started a job too recently."""
        if self.seconds <= 0:
            return
        last = self._last.get(member_id)
        if last is None:
            return
        remaining = self.seconds - (self._clock() - last)
        if remaining > 0:
            raise TrainingCooldown(max(1, math.ceil(remaining)))

    def note(self, member_id: str) -> None:
        """Record that ``member_id`` starts a job now (and forget expired entries)."""
        if self.seconds <= 0:
            return
        now = self._clock()
        if len(self._last) > 1024:
            self._last = {m: t for m, t in self._last.items() if now - t < self.seconds}
        self._last[member_id] = now

    def forget(self, member_id: str) -> None:
        """Lift ``member_id``'s cooldown (their job failed through no fault of theirs)."""
        self._last.pop(member_id, None)
