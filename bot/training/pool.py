"""A pool of warm training workers, managed from the bot's event loop (no TensorFlow here).

Importing TensorFlow takes ~5 s and ~540 MB, so the bot keeps ``size`` worker processes
(``python -m bot.training.worker``) alive with TensorFlow already imported and hands them
jobs over pipes (see :mod:`bot.training.protocol`). A warm single step is answered in a
few milliseconds; the event loop only ever awaits pipe I/O.

Isolation and limits, per worker process:

* **Time** — each job has a wall-clock timeout (``job_timeout_s``); past it the worker is
  killed and replaced and the member sees :class:`~bot.training.errors.TrainingTimeout`.
  The worker also arms a per-job soft ``RLIMIT_CPU`` (CPU used so far + ``job_cpu_s``)
  and turns ``SIGXCPU`` into a clean error; ``preexec_fn`` sets a hard lifetime
  ``RLIMIT_CPU`` cap that a worker within its ``recycle_after`` jobs never reaches.
* **Memory** — ``RLIMIT_AS`` is unusable with TensorFlow (it reserves far more address
  space than it touches, so imports and thread creation fail). Instead ``preexec_fn`` sets
  ``RLIMIT_DATA`` (since Linux 4.7 it covers heap *and* private anonymous mmaps — what
  tensors and Python objects use) to ``memory_limit_mb``. An allocation past it fails with
  ``MemoryError``; the worker reports it and exits, and the member sees
  :class:`~bot.training.errors.TrainingOutOfMemory`. If a native allocation aborts the
  process instead, the member sees the crash message. In addition the pool recycles a
  worker whose resident memory (reported after each job from ``/proc/self/status``)
  grows past 80 % of the limit. A warm worker uses ~560 MB RSS, ~310 MB of it data.
* **Crashes** — a worker that dies mid-job is replaced in the background; the member sees
  :class:`~bot.training.errors.WorkerCrashed`. Workers are recycled after
  ``recycle_after`` jobs: the replacement starts first, so there is no cold gap.
* **Load** — the pool accepts at most ``size + max_queue`` jobs at once: ``size`` run
  (one per worker; while workers start, those jobs wait for them) and ``max_queue`` wait.
  The count is taken before the first ``await`` of :meth:`TrainingPool.run`, so even a
  burst in one event-loop tick gets exactly that many in; the rest get
  :class:`~bot.training.errors.TrainingBusy` (a :class:`bot.errors.Busy`) with an estimate
  of when the lab will have worked through its jobs, from recent job timings. A member
  may start one job per ``cooldown_s`` seconds
  (:class:`~bot.training.errors.TrainingCooldown` says how long to wait).
* **Idle** — a worker without a job for ``idle_s`` seconds is stopped (0 = never), so an
  idle bot holds no TensorFlow memory. The next job starts one again; it waits for the
  start-up, its ``warming`` callback is told so, and its result carries ``warm_up_s``.
* **Environment and logs** — a worker gets only an allow-list of the bot's environment
  (no tokens or database URLs) and its stderr is read by the pool and logged, so
  TensorFlow's own output never reaches the terminal (:mod:`bot.training.process`).

Fault injection is for tests only: ``PoolConfig(allow_fault_injection=True)`` (not
reachable from :mod:`bot.settings` or the environment) starts workers with
``TUTOR_TRAINING_FAULTS=1`` and lets :meth:`TrainingPool.run` send ``fault=...``
(``crash``, ``hang``, ``oom``, ``slow``). Otherwise the variable is removed from the
workers' environment and ``run(fault=...)`` raises ``RuntimeError``.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import os
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final

import bot
from bot.errors import BadInput
from bot.log import get_logger
from bot.training.errors import (
    TrainingBusy,
    TrainingError,
    TrainingOutOfMemory,
    TrainingTimeout,
    TrainingUnavailable,
    WorkerCrashed,
)
from bot.training.handle import WorkerHandle, child_limits
from bot.training.jobs import TrainRequest, TrainResult
from bot.training.process import forward_stderr, worker_environment
from bot.training.protocol import FAULTS, FAULTS_ENV, ProtocolError
from bot.training.timing import Cooldowns, JobTimings

log = get_logger(__name__)

ProgressCallback = Callable[[int, int], Awaitable[None]]
#: Told that a job waits for a worker to start, with the estimated seconds until it can run.
WarmingCallback = Callable[[int], Awaitable[None]]

#: Where ``bot`` lives, so workers can ``-m bot.training.worker`` from any directory.
_IMPORT_ROOT: Final = str(Path(bot.__file__).resolve().parent.parent)
_INTERNAL_MESSAGE: Final = "Training failed unexpectedly. Please try again."


@dataclass(frozen=True, slots=True)
class PoolConfig:
    """How the training pool runs. Only the bot's wiring (or tests) builds one."""

    #: Warm worker processes (each ~560 MB).
    size: int = 1
    #: Wall-clock limit per job; the worker is killed and replaced past it.
    job_timeout_s: float = 30.0
    #: How long a new worker may take to import TensorFlow and answer a ping.
    start_timeout_s: float = 120.0
    #: Jobs allowed to wait beyond the ``size`` running ones; more raise ``TrainingBusy``.
    max_queue: int = 8
    #: How long a queued job waits for a worker before giving up with ``Busy``.
    queue_timeout_s: float = 60.0
    #: Seconds between two jobs of the same member (0 = no cooldown).
    cooldown_s: float = 10.0
    #: Replace a worker after this many jobs (0 = never).
    recycle_after: int = 500
    #: ``RLIMIT_DATA`` of each worker in MB (``None`` = no limit).
    memory_limit_mb: int | None = 2048
    #: Per-job CPU-time limit in seconds inside the worker (0 = twice ``job_timeout_s``).
    job_cpu_s: int = 0
    #: The worker reports progress every this many steps (0 = never).
    progress_every: int = 25
    #: ``start()`` waits until every worker imported TensorFlow and traced every preset;
    #: otherwise workers start in the background and trace on first use.
    warm_start: bool = True
    #: Stop a worker after this many seconds without a job (0 = never); the next job
    #: starts one again (the member sees a warming-up notice).
    idle_s: float = 600.0
    #: Tests only: let jobs carry a ``fault`` (see the module docstring).
    allow_fault_injection: bool = False
    #: The interpreter that runs workers.
    python: str = field(default_factory=lambda: sys.executable)

    @property
    def effective_job_cpu_s(self) -> int:
        """The per-job CPU limit handed to workers."""
        return self.job_cpu_s or max(1, math.ceil(self.job_timeout_s * 2))


#: After workers failed to start, /train is off this long before the next try (seconds).
FAILED_START_RETRY_S = 60.0


class TrainingPool:
    """Warm TensorFlow worker processes that answer ``/train`` jobs.

    Use ``await pool.start()`` once, ``await pool.run(request, member_id=...)`` per job
    and ``await pool.stop()`` at shutdown (or ``async with TrainingPool(...)``).
    """

    def __init__(self, config: PoolConfig | None = None) -> None:
        self.config = config or PoolConfig()
        if self.config.size < 1:
            raise ValueError("PoolConfig.size must be at least 1")
        if self.config.max_queue < 0 or self.config.idle_s < 0:
            raise ValueError("PoolConfig.max_queue and idle_s must not be negative")
        self._cooldowns = Cooldowns(self.config.cooldown_s)
        self._idle: asyncio.Queue[WorkerHandle] = asyncio.Queue()
        self._workers: set[WorkerHandle] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        #: Workers being shut down, and the tasks logging workers' stderr.
        self._closing: set[asyncio.Task[None]] = set()
        self._forwarders: set[asyncio.Task[None]] = set()
        self._numbers = itertools.count(1)
        self._job_ids = itertools.count(1)
        #: Jobs accepted and not finished (running or waiting), and those still waiting.
        self._admitted = 0
        self._waiting = 0
        #: Workers being started, and since when (None when none is).
        self._starting = 0
        self._starting_since: float | None = None
        #: Running jobs by id: when each started.
        self._running: dict[int, float] = {}
        self._timings = JobTimings()
        self._started = False
        self._stopping = False
        self._failed_spawns = 0
        #: When starting a worker last failed three times (monotonic seconds).
        self._failed_at = 0.0
        self.jobs_done = 0

    # -- lifecycle -------------------------------------------------------------------------

    async def __aenter__(self) -> TrainingPool:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def start(self) -> None:
        """Start the workers; with ``warm_start`` wait until all are ready."""
        if self._started:
            return
        self._started = True
        self._stopping = False
        if self.config.warm_start:
            self._begin_start(self.config.size)
            try:
                workers = await asyncio.gather(
                    *(self._spawn(warm="all") for _ in range(self.config.size))
                )
            finally:
                self._end_start(self.config.size)
            for worker in workers:
                self._put_idle(worker)
        else:
            for _ in range(self.config.size):
                self._spawn_in_background()

    async def stop(self) -> None:
        """Stop every worker (jobs in flight fail) and background task."""
        self._stopping = True
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for worker in self._workers:
            self._disarm(worker)
        await asyncio.gather(
            *(worker.shutdown() for worker in list(self._workers)),
            *self._closing,
            return_exceptions=True,
        )
        self._workers.clear()
        while not self._idle.empty():
            self._idle.get_nowait()
        if self._forwarders:  # the workers are gone: their stderr ends at once
            _, late = await asyncio.wait(set(self._forwarders), timeout=2.0)
            for task in late:
                task.cancel()
        self._started = False

    def stats(self) -> dict[str, Any]:
        """Health numbers: live workers, their pids and RSS, idle, starting, accepted and
        waiting jobs, jobs done and the typical job length in seconds."""
        return {
            "workers": len(self._workers),
            "pids": sorted(w.pid for w in self._workers),
            "rss_mb": [w.rss_mb for w in self._workers],
            "idle": self._idle.qsize(),
            "starting": self._starting,
            "accepted": self._admitted,
            "waiting": self._waiting,
            "jobs_done": self.jobs_done,
            "typical_job_s": self._timings.expected_job_s,
        }

    @property
    def capacity(self) -> int:
        """How many jobs the pool accepts at once: ``size`` running plus ``max_queue``."""
        return self.config.size + self.config.max_queue

    @property
    def ready(self) -> bool:
        """Whether a started worker is ready, so a job need not wait for TensorFlow."""
        return any(w.ready and w.alive and not w.retired for w in self._workers)

    def worker_pids(self) -> list[int]:
        """Process ids of the live workers."""
        return sorted(w.pid for w in self._workers if w.alive)

    async def wait_ready(self, timeout_s: float | None = None) -> None:
        """Wait until ``size`` workers are idle and ready, starting any that were stopped
        for idling (tests, warm-up)."""
        deadline = time.monotonic() + (timeout_s or self.config.start_timeout_s)
        self._ensure_workers(self.config.size)
        while (
            sum(1 for w in self._workers if w.alive and not w.retired) < self.config.size
            or self._idle.qsize() < self.config.size
        ):
            if time.monotonic() > deadline:
                raise TimeoutError("training workers did not become ready")
            await asyncio.sleep(0.05)

    # -- spawning --------------------------------------------------------------------------

    async def _spawn(self, *, warm: str) -> WorkerHandle:
        """Start one worker and wait for its first pong."""
        config = self.config
        env = worker_environment(
            os.environ,
            import_root=_IMPORT_ROOT,
            extra={FAULTS_ENV: "1"} if config.allow_fault_injection else None,
        )
        started = time.monotonic()
        cpu_per_job = config.effective_job_cpu_s
        lifetime = 600 + cpu_per_job * max(config.recycle_after, 1000)
        process = await asyncio.create_subprocess_exec(
            config.python,
            "-m",
            "bot.training.worker",
            "--warm",
            warm,
            "--job-cpu-s",
            str(cpu_per_job),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
            preexec_fn=child_limits(config.memory_limit_mb, lifetime),
            start_new_session=True,
        )
        worker = WorkerHandle(process, next(self._numbers))
        self._forward_stderr(worker)
        self._workers.add(worker)
        try:
            async with asyncio.timeout(config.start_timeout_s):
                ping_id = next(self._job_ids)
                await worker.send({"op": "ping", "id": ping_id})
                pong = await worker.receive()
            if pong.get("op") != "pong":
                raise ProtocolError(f"unexpected first frame {pong.get('op')!r}")
        except BaseException:
            self._workers.discard(worker)
            await worker.kill()
            raise
        worker.rss_mb = pong.get("worker_rss_mb")
        worker.ready = True
        self._timings.note_start(time.monotonic() - started)
        log.info(
            "training worker %s ready (pid %s, %s MB)", worker.number, worker.pid, worker.rss_mb
        )
        return worker

    def _forward_stderr(self, worker: WorkerHandle) -> None:
        """Log the worker's stderr in the bot (see :mod:`bot.training.process`)."""
        stderr = worker.process.stderr
        if stderr is None:
            return
        name = f"training worker {worker.number}"
        task = asyncio.get_running_loop().create_task(forward_stderr(stderr, name))
        self._forwarders.add(task)
        task.add_done_callback(self._forwarders.discard)

    def _begin_start(self, count: int = 1) -> None:
        if self._starting == 0:
            self._starting_since = time.monotonic()
        self._starting += count

    def _end_start(self, count: int = 1) -> None:
        self._starting = max(0, self._starting - count)
        if self._starting == 0:
            self._starting_since = None

    def _ensure_workers(self, wanted: int | None = None) -> None:
        """Start workers until ``wanted`` (default: one per accepted job, at most ``size``)
        are ready or starting; after idling there may be none."""
        if self._stopping or not self._started:
            return
        if wanted is None:
            wanted = min(self.config.size, self._admitted)
        have = self._starting + sum(
            1 for w in self._workers if w.ready and w.alive and not w.retired
        )
        for _ in range(wanted - have):
            # Start-up on demand traces only the default lesson: the member is waiting.
            self._spawn_in_background(warm="default")

    def _spawn_in_background(
        self, replacing: WorkerHandle | None = None, *, warm: str | None = None
    ) -> None:
        """Start a worker in a task; it joins the idle queue when ready."""
        if self._stopping:
            return
        self._begin_start()
        task = asyncio.get_running_loop().create_task(self._spawn_with_retries(replacing, warm))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        task.add_done_callback(lambda _: self._end_start())

    async def _spawn_with_retries(self, replacing: WorkerHandle | None, warm: str | None) -> None:
        delay = 1.0
        warm = warm or ("all" if self.config.warm_start else "default")
        for attempt in range(1, 4):
            try:
                worker = await self._spawn(warm=warm)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("starting a training worker failed (attempt %d)", attempt)
                await asyncio.sleep(delay)
                delay *= 2
                continue
            self._failed_spawns = 0
            if replacing is not None:
                replacing.retired = True
                if replacing in self._workers and replacing.idle:
                    self._workers.discard(replacing)
                    self._take_from_idle(replacing)
                    self._shutdown_in_background(replacing)
            self._put_idle(worker)
            return
        self._failed_spawns += 1
        self._failed_at = time.monotonic()
        log.error("could not start a training worker; the lab is degraded")

    def _put_idle(self, worker: WorkerHandle) -> None:
        worker.idle = True
        self._idle.put_nowait(worker)
        self._arm_idle_timer(worker)

    def _arm_idle_timer(self, worker: WorkerHandle) -> None:
        if self.config.idle_s > 0 and not self._stopping:
            loop = asyncio.get_running_loop()
            worker.idle_timer = loop.call_later(self.config.idle_s, self._reap, worker)

    def _disarm(self, worker: WorkerHandle) -> None:
        if worker.idle_timer is not None:
            worker.idle_timer.cancel()
            worker.idle_timer = None

    def _take_from_idle(self, worker: WorkerHandle) -> None:
        """Remove ``worker`` from the idle queue (keeping the others' order)."""
        self._disarm(worker)
        worker.idle = False
        others: list[WorkerHandle] = []
        while not self._idle.empty():
            other = self._idle.get_nowait()
            if other is not worker:
                others.append(other)
        for other in others:
            self._idle.put_nowait(other)

    def _reap(self, worker: WorkerHandle) -> None:
        """Stop a worker that sat idle for ``idle_s`` seconds (timer callback)."""
        worker.idle_timer = None
        if not worker.idle or self._stopping or worker not in self._workers:
            return
        if self._waiting:  # a job is about to take it: look again later
            self._arm_idle_timer(worker)
            return
        self._take_from_idle(worker)
        worker.retired = True
        self._workers.discard(worker)
        log.info(
            "training worker %s (pid %s) idle for %.0f s; stopping it until the next job",
            worker.number,
            worker.pid,
            self.config.idle_s,
        )
        self._shutdown_in_background(worker)

    def _shutdown_in_background(self, worker: WorkerHandle) -> None:
        """Shut ``worker`` down in a task that :meth:`stop` waits for (never cancels)."""
        task = asyncio.get_running_loop().create_task(worker.shutdown())
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def _retire_now(self, worker: WorkerHandle) -> None:
        """Kill a worker that failed and start its replacement."""
        self._workers.discard(worker)
        await worker.kill()
        log.warning(
            "training worker %s (pid %s) killed, exit code %s; starting a new one",
            worker.number,
            worker.pid,
            worker.process.returncode,
        )
        self._spawn_in_background()

    def _release(self, worker: WorkerHandle) -> None:
        """Return a healthy worker after a job, recycling it when it is due."""
        config = self.config
        if worker.retired or not worker.alive:
            self._workers.discard(worker)
            self._shutdown_in_background(worker)
            if not worker.alive and not worker.retired:
                self._spawn_in_background()
            return
        too_big = (
            config.memory_limit_mb is not None
            and worker.rss_mb is not None
            and worker.rss_mb > 0.8 * config.memory_limit_mb
        )
        due = config.recycle_after > 0 and worker.jobs_done >= config.recycle_after
        if (too_big or due) and not worker.replacing and not self._stopping:
            log.info(
                "recycling training worker %s (%d jobs, %s MB)",
                worker.number,
                worker.jobs_done,
                worker.rss_mb,
            )
            worker.replacing = True
            self._spawn_in_background(replacing=worker)
        self._put_idle(worker)

    def _busy(self) -> TrainingBusy:
        """The refusal for a job past :attr:`capacity`, with an honest wait estimate."""
        now = time.monotonic()
        starting_for: float | None = None
        if not self.ready:
            starting_for = 0.0 if self._starting_since is None else now - self._starting_since
        return TrainingBusy(
            self._timings.retry_after_s(
                running_for_s=[now - began for began in self._running.values()],
                waiting=self._waiting,
                workers=self.config.size,
                starting_for_s=starting_for,
            )
        )

    def _warm_up_estimate(self) -> int:
        """Whole seconds until a worker being started should be ready (at least 1)."""
        since = self._starting_since
        elapsed = 0.0 if since is None else time.monotonic() - since
        return max(1, math.ceil(self._timings.expected_start_s - elapsed))

    async def _acquire(self) -> WorkerHandle:
        """Wait for an idle, live worker (bounded by ``queue_timeout_s``)."""
        deadline = time.monotonic() + self.config.queue_timeout_s
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise self._busy()
            try:
                worker = await asyncio.wait_for(self._idle.get(), remaining)
            except TimeoutError:
                if not self._workers and not self._tasks:
                    raise TrainingUnavailable() from None
                raise self._busy() from None
            worker.idle = False
            self._disarm(worker)
            if worker.retired:
                self._workers.discard(worker)
                self._shutdown_in_background(worker)
                continue
            if not worker.alive:
                log.warning(
                    "training worker %s died while idle (exit code %s)",
                    worker.number,
                    worker.process.returncode,
                )
                self._workers.discard(worker)
                self._spawn_in_background()
                continue
            return worker

    # -- jobs ------------------------------------------------------------------------------

    async def run(
        self,
        request: TrainRequest,
        *,
        member_id: str,
        progress: ProgressCallback | None = None,
        warming: WarmingCallback | None = None,
        fault: str | None = None,
    ) -> TrainResult:
        """Run ``request`` on a warm worker and return its result.

        Raises :class:`TrainingBusy` (the pool holds :attr:`capacity` jobs already) or
        :class:`TrainingCooldown` (both :class:`bot.errors.Busy`), :class:`TrainingTimeout`,
        :class:`WorkerCrashed`, :class:`TrainingOutOfMemory` or
        :class:`TrainingUnavailable`; all carry a message for the member.
        ``progress(step, total)`` is awaited for the worker's progress reports (every
        ``progress_every`` steps); its errors are logged and ignored, and its time counts
        against the job's timeout. When no worker is ready (stopped after idling, or still
        starting) one is started, ``warming(seconds)`` is awaited with the estimated wait
        and the result's ``warm_up_s`` says how long the job waited. ``fault`` is for
        tests only.
        """
        if fault is not None and (not self.config.allow_fault_injection or fault not in FAULTS):
            raise RuntimeError("fault injection is not enabled for this pool")
        if not self._started or self._stopping:
            raise TrainingUnavailable()
        if (
            self._failed_spawns
            and not self._workers
            and not self._tasks
            and time.monotonic() - self._failed_at < FAILED_START_RETRY_S
        ):
            # Starting a worker failed lately: don't make every member wait for it again;
            # after a while the next /train tries once more.
            raise TrainingUnavailable()
        self._cooldowns.check(member_id)
        # Checked and counted before any await: a burst cannot slip past the bound.
        if self._admitted >= self.capacity:
            raise self._busy()
        self._cooldowns.note(member_id)
        self._admitted += 1
        try:
            return await self._run_accepted(request, member_id, progress, warming, fault)
        finally:
            self._admitted -= 1

    async def _run_accepted(
        self,
        request: TrainRequest,
        member_id: str,
        progress: ProgressCallback | None,
        warming: WarmingCallback | None,
        fault: str | None,
    ) -> TrainResult:
        accepted_at = time.monotonic()
        cold = not self.ready
        self._waiting += 1
        try:
            self._ensure_workers()
            if cold and warming is not None:
                await self._tell(warming, self._warm_up_estimate())
            worker = await self._acquire()
        except BaseException:
            self._cooldowns.forget(member_id)
            raise
        finally:
            self._waiting -= 1
        try:
            result = await self._run_on(worker, request, progress, fault)
        except (WorkerCrashed, TrainingUnavailable):
            self._cooldowns.forget(member_id)
            raise
        self.jobs_done += 1
        if cold:
            result = replace(result, warm_up_s=round(time.monotonic() - accepted_at, 2))
        return result

    @staticmethod
    async def _tell(warming: WarmingCallback, seconds: int) -> None:
        try:
            await warming(seconds)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("training warming-up callback failed")

    async def _run_on(  # noqa: C901  (the job's failure modes, one after another)
        self,
        worker: WorkerHandle,
        request: TrainRequest,
        progress: ProgressCallback | None,
        fault: str | None,
    ) -> TrainResult:
        job_id = next(self._job_ids)
        message: dict[str, Any] = {
            "op": "train",
            "id": job_id,
            "request": request.to_dict(),
            "progress_every": self.config.progress_every,
        }
        if fault is not None:
            message["fault"] = fault
        healthy = False
        began = self._running[job_id] = time.monotonic()
        try:
            async with asyncio.timeout(self.config.job_timeout_s):
                await worker.send(message)
                while True:
                    frame = await worker.receive()
                    if frame.get("id") != job_id:
                        log.warning("ignoring a stray frame from worker %s", worker.number)
                        continue
                    op = frame.get("op")
                    if op == "progress":
                        await self._report(progress, frame)
                        continue
                    if op == "result":
                        result = TrainResult.from_dict(frame["result"])
                        worker.jobs_done += 1
                        worker.rss_mb = result.worker_rss_mb
                        healthy = True
                        self._timings.note_job(time.monotonic() - began)
                        return result
                    if op == "error":
                        kind = frame.get("kind")
                        if kind == "bad_input":
                            healthy = True
                            raise BadInput(str(frame.get("message") or "Invalid options."))
                        if kind == "oom":
                            raise TrainingOutOfMemory()
                        if kind == "cpu":
                            raise TrainingTimeout()
                        log.error(
                            "training job failed in worker %s: %s",
                            worker.number,
                            frame.get("message"),
                        )
                        healthy = True
                        raise TrainingError(_INTERNAL_MESSAGE)
                    raise ProtocolError(f"unexpected frame {op!r}")
        except TimeoutError:
            log.warning("training job %s timed out after %.1f s", job_id, self.config.job_timeout_s)
            raise TrainingTimeout() from None
        except (asyncio.IncompleteReadError, ConnectionError, ProtocolError) as exc:
            if self._stopping:
                raise TrainingUnavailable() from exc
            await worker.kill()
            log.error(
                "training worker %s died during job %s (exit code %s)",
                worker.number,
                job_id,
                worker.process.returncode,
            )
            raise WorkerCrashed() from exc
        finally:
            self._running.pop(job_id, None)
            if healthy:
                self._release(worker)
            else:
                # Timeout, crash, memory, cancellation: never reuse a worker in an unknown
                # state; kill it and start a replacement.
                await asyncio.shield(self._retire_now(worker))

    async def _report(self, progress: ProgressCallback | None, frame: dict[str, Any]) -> None:
        if progress is None:
            return
        try:
            await progress(int(frame.get("step", 0)), int(frame.get("total", 0)))
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("training progress callback failed")
