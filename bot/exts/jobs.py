"""Timed jobs for cogs: an APScheduler on the bot's loop that lets running jobs finish.

APScheduler's asyncio executor cancels jobs that are still running when it shuts down, and
logs each as a failure with a traceback. A bot stopping (``docker stop``) while a daily quiz
is being posted should instead let that job finish — its result is in the database, and
anything not started is rebuilt from the database at the next start.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.log import get_logger

log = get_logger(__name__)

JobFunction = Callable[..., Awaitable[None]]
#: How long stopping waits for running jobs.
STOP_GRACE_S = 10.0


class CogScheduler:
    """One cog's timed jobs (one-off at a time, or every N seconds)."""

    def __init__(self) -> None:
        self._scheduler: AsyncIOScheduler | None = None
        self._running: set[asyncio.Task[Any]] = set()

    def start(self) -> None:
        """Start on the running loop."""
        self._scheduler = AsyncIOScheduler(event_loop=asyncio.get_running_loop(), timezone=UTC)
        self._scheduler.start()

    async def stop(self, grace_s: float = STOP_GRACE_S) -> None:
        """Stop scheduling, letting jobs that already started finish (up to ``grace_s``)."""
        scheduler, self._scheduler = self._scheduler, None
        if scheduler is not None and scheduler.running:
            scheduler.pause()
            if self._running:
                _done, late = await asyncio.wait(set(self._running), timeout=grace_s)
                if late:
                    log.warning("%d job(s) still running at shutdown were stopped", len(late))
            scheduler.shutdown(wait=False)

    async def _tracked(self, func: JobFunction, *args: Any) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._running.add(task)
        try:
            await func(*args)
        finally:
            if task is not None:
                self._running.discard(task)

    def at(self, job_id: str, func: JobFunction, when: datetime, *args: Any) -> None:
        """Run ``func(*args)`` once at ``when`` (replacing a job with the same id)."""
        if self._scheduler is None:
            return
        self._scheduler.add_job(
            self._tracked,
            DateTrigger(run_date=when, timezone=UTC),
            args=[func, *args],
            id=job_id,
            replace_existing=True,
            # Whether a late run still makes sense is the job's own decision.
            misfire_grace_time=None,
            coalesce=True,
        )

    def every(self, job_id: str, func: JobFunction, interval: timedelta) -> None:
        """Run ``func()`` every ``interval`` (one at a time)."""
        if self._scheduler is None:
            return
        self._scheduler.add_job(
            self._tracked,
            IntervalTrigger(seconds=interval.total_seconds(), timezone=UTC),
            args=[func],
            id=job_id,
            replace_existing=True,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=None,
        )

    def remove(self, job_id: str) -> None:
        """Drop a job (no error when it does not exist)."""
        if self._scheduler is not None:
            with contextlib.suppress(JobLookupError):
                self._scheduler.remove_job(job_id)

    def has(self, job_id: str) -> bool:
        """Whether a job is scheduled."""
        return self._scheduler is not None and self._scheduler.get_job(job_id) is not None

    def now(self) -> datetime:
        """The current time (UTC), for jobs that should run at once."""
        return datetime.now(UTC)
