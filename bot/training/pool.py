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
* **Load** — at most ``max_queue`` jobs wait for a worker; more raise
  :class:`bot.errors.Busy`. A member may start one job per ``cooldown_s`` seconds
  (:class:`~bot.training.errors.TrainingCooldown` says how long to wait).

Fault injection is for tests only: ``PoolConfig(allow_fault_injection=True)`` (not
reachable from :mod:`bot.settings` or the environment) starts workers with
``TUTOR_TRAINING_FAULTS=1`` and lets :meth:`TrainingPool.run` send ``fault=...``
(``crash``, ``hang``, ``oom``, ``slow``). Otherwise the variable is removed from the
workers' environment and ``run(fault=...)`` raises ``RuntimeError``.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import itertools
import math
import os
import resource
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import bot
from bot.errors import BadInput, Busy
from bot.log import get_logger
from bot.training.errors import (
    BUSY_MESSAGE,
    TrainingCooldown,
    TrainingError,
    TrainingOutOfMemory,
    TrainingTimeout,
    TrainingUnavailable,
    WorkerCrashed,
)
from bot.training.jobs import TrainRequest, TrainResult
from bot.training.protocol import FAULTS, FAULTS_ENV, ProtocolError, encode_frame, read_frame

log = get_logger(__name__)

ProgressCallback = Callable[[int, int], Awaitable[None]]

#: Where ``bot`` lives, so workers can ``-m bot.training.worker`` from any directory.
_IMPORT_ROOT: Final = str(Path(bot.__file__).resolve().parent.parent)
_PR_SET_PDEATHSIG: Final = 1
_SIGKILL: Final = 9
_INTERNAL_MESSAGE: Final = "Training failed unexpectedly. Please try again."


def _load_libc() -> Any:
    """libc, loaded in the parent (``dlopen`` after ``fork`` is not safe)."""
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        return ctypes.CDLL(name, use_errno=True)
    except OSError:
        return None


_LIBC: Final = _load_libc() if sys.platform.startswith("linux") else None


@dataclass(frozen=True, slots=True)
class PoolConfig:
    """How the training pool runs. Only the bot's wiring (or tests) builds one."""

    #: Warm worker processes (each ~560 MB).
    size: int = 1
    #: Wall-clock limit per job; the worker is killed and replaced past it.
    job_timeout_s: float = 30.0
    #: How long a new worker may take to import TensorFlow and answer a ping.
    start_timeout_s: float = 120.0
    #: Jobs allowed to wait for a busy worker; more raise ``Busy``.
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
    #: Tests only: let jobs carry a ``fault`` (see the module docstring).
    allow_fault_injection: bool = False
    #: The interpreter that runs workers.
    python: str = field(default_factory=lambda: sys.executable)

    @property
    def effective_job_cpu_s(self) -> int:
        """The per-job CPU limit handed to workers."""
        return self.job_cpu_s or max(1, math.ceil(self.job_timeout_s * 2))


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


def _child_limits(memory_limit_mb: int | None, cpu_lifetime_s: int) -> Callable[[], None]:
    """The ``preexec_fn`` that limits a worker (runs in the child between fork and exec)."""

    def apply() -> None:
        if memory_limit_mb is not None:
            limit = memory_limit_mb * 1024 * 1024
            resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        _, hard = resource.getrlimit(resource.RLIMIT_CPU)
        if hard == resource.RLIM_INFINITY or hard > cpu_lifetime_s:
            resource.setrlimit(resource.RLIMIT_CPU, (cpu_lifetime_s, cpu_lifetime_s))
        if _LIBC is not None:
            # Die with the bot rather than linger as an orphan.
            _LIBC.prctl(_PR_SET_PDEATHSIG, _SIGKILL, 0, 0, 0)

    return apply


class _Worker:
    """One worker process and its pipes."""

    def __init__(self, process: asyncio.subprocess.Process, number: int) -> None:
        self.process = process
        self.number = number
        self.jobs_done = 0
        self.rss_mb: float | None = None
        #: Set when a replacement is being started (recycling).
        self.replacing = False
        #: Set when it must not take more jobs (its replacement is ready).
        self.retired = False
        #: Whether it sits in the idle queue.
        self.idle = False

    @property
    def pid(self) -> int:
        """The process id."""
        return self.process.pid

    @property
    def alive(self) -> bool:
        """Whether the process is still running."""
        return self.process.returncode is None

    async def send(self, message: dict[str, Any]) -> None:
        """Write one frame to the worker's stdin."""
        stdin = self.process.stdin
        if stdin is None:
            raise ConnectionError("worker stdin is closed")
        stdin.write(encode_frame(message))
        await stdin.drain()

    async def receive(self) -> dict[str, Any]:
        """Read one frame from the worker's stdout."""
        stdout = self.process.stdout
        if stdout is None:
            raise ConnectionError("worker stdout is closed")
        return await read_frame(stdout)

    async def kill(self) -> None:
        """Kill the process at once and reap it."""
        if self.alive:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
        with contextlib.suppress(ProcessLookupError):
            await self.process.wait()

    async def shutdown(self, grace_s: float = 3.0) -> None:
        """Ask the worker to exit; kill it if it does not within ``grace_s``."""
        if self.alive:
            with contextlib.suppress(ConnectionError, RuntimeError, OSError):
                await self.send({"op": "shutdown"})
                stdin = self.process.stdin
                if stdin is not None:
                    stdin.close()
            try:
                await asyncio.wait_for(self.process.wait(), grace_s)
            except TimeoutError:
                log.warning("training worker %s ignored shutdown; killing it", self.pid)
        await self.kill()


class TrainingPool:
    """Warm TensorFlow worker processes that answer ``/train`` jobs.

    Use ``await pool.start()`` once, ``await pool.run(request, member_id=...)`` per job
    and ``await pool.stop()`` at shutdown (or ``async with TrainingPool(...)``).
    """

    def __init__(self, config: PoolConfig | None = None) -> None:
        self.config = config or PoolConfig()
        if self.config.size < 1:
            raise ValueError("PoolConfig.size must be at least 1")
        self._cooldowns = Cooldowns(self.config.cooldown_s)
        self._idle: asyncio.Queue[_Worker] = asyncio.Queue()
        self._workers: set[_Worker] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._numbers = itertools.count(1)
        self._job_ids = itertools.count(1)
        self._waiting = 0
        self._started = False
        self._stopping = False
        self._failed_spawns = 0
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
            workers = await asyncio.gather(
                *(self._spawn(warm="all") for _ in range(self.config.size))
            )
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
        await asyncio.gather(
            *(worker.shutdown() for worker in list(self._workers)), return_exceptions=True
        )
        self._workers.clear()
        while not self._idle.empty():
            self._idle.get_nowait()
        self._started = False

    def stats(self) -> dict[str, Any]:
        """Health numbers: live workers, their pids and RSS, idle, waiting, jobs done."""
        return {
            "workers": len(self._workers),
            "pids": sorted(w.pid for w in self._workers),
            "rss_mb": [w.rss_mb for w in self._workers],
            "idle": self._idle.qsize(),
            "waiting": self._waiting,
            "jobs_done": self.jobs_done,
        }

    def worker_pids(self) -> list[int]:
        """Process ids of the live workers."""
        return sorted(w.pid for w in self._workers if w.alive)

    async def wait_ready(self, timeout_s: float | None = None) -> None:
        """Wait until ``size`` workers are idle and ready (tests, warm-up)."""
        deadline = time.monotonic() + (timeout_s or self.config.start_timeout_s)
        while (
            sum(1 for w in self._workers if w.alive and not w.retired) < self.config.size
            or self._idle.qsize() < self.config.size
        ):
            if time.monotonic() > deadline:
                raise TimeoutError("training workers did not become ready")
            await asyncio.sleep(0.05)

    # -- spawning --------------------------------------------------------------------------

    async def _spawn(self, *, warm: str) -> _Worker:
        """Start one worker and wait for its first pong."""
        config = self.config
        env = dict(os.environ)
        env.pop(FAULTS_ENV, None)
        if config.allow_fault_injection:
            env[FAULTS_ENV] = "1"
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (_IMPORT_ROOT, env.get("PYTHONPATH", "")) if p
        )
        env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
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
            env=env,
            preexec_fn=_child_limits(config.memory_limit_mb, lifetime),
            start_new_session=True,
        )
        worker = _Worker(process, next(self._numbers))
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
        log.info(
            "training worker %s ready (pid %s, %s MB)", worker.number, worker.pid, worker.rss_mb
        )
        return worker

    def _spawn_in_background(self, replacing: _Worker | None = None) -> None:
        """Start a worker in a task; it joins the idle queue when ready."""
        if self._stopping:
            return
        task = asyncio.get_running_loop().create_task(self._spawn_with_retries(replacing))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _spawn_with_retries(self, replacing: _Worker | None) -> None:
        delay = 1.0
        for attempt in range(1, 4):
            try:
                worker = await self._spawn(warm="all" if self.config.warm_start else "default")
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
                    self._start_task(replacing.shutdown())
            self._put_idle(worker)
            return
        self._failed_spawns += 1
        log.error("could not start a training worker; the lab is degraded")

    def _put_idle(self, worker: _Worker) -> None:
        worker.idle = True
        self._idle.put_nowait(worker)

    def _start_task(self, coro: Awaitable[None]) -> None:
        async def runner() -> None:
            await coro

        task = asyncio.get_running_loop().create_task(runner())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _retire_now(self, worker: _Worker) -> None:
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

    def _release(self, worker: _Worker) -> None:
        """Return a healthy worker after a job, recycling it when it is due."""
        config = self.config
        if worker.retired or not worker.alive:
            self._workers.discard(worker)
            self._start_task(worker.shutdown())
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

    async def _acquire(self) -> _Worker:
        """Wait for an idle, live worker (bounded by ``queue_timeout_s``)."""
        deadline = time.monotonic() + self.config.queue_timeout_s
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise Busy(BUSY_MESSAGE)
            try:
                worker = await asyncio.wait_for(self._idle.get(), remaining)
            except TimeoutError:
                if not self._workers and not self._tasks:
                    raise TrainingUnavailable() from None
                raise Busy(BUSY_MESSAGE) from None
            worker.idle = False
            if worker.retired:
                self._workers.discard(worker)
                self._start_task(worker.shutdown())
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
        fault: str | None = None,
    ) -> TrainResult:
        """Run ``request`` on a warm worker and return its result.

        Raises :class:`bot.errors.Busy` (queue full, or cooldown via
        :class:`TrainingCooldown`), :class:`TrainingTimeout`, :class:`WorkerCrashed`,
        :class:`TrainingOutOfMemory` or :class:`TrainingUnavailable`; all carry a message
        for the member. ``progress(step, total)`` is awaited for the worker's progress
        reports (every ``progress_every`` steps); its errors are logged and ignored, and
        its time counts against the job's timeout. ``fault`` is for tests only.
        """
        if fault is not None and (not self.config.allow_fault_injection or fault not in FAULTS):
            raise RuntimeError("fault injection is not enabled for this pool")
        if not self._started or self._stopping:
            raise TrainingUnavailable()
        if self._failed_spawns and not self._workers and not self._tasks:
            raise TrainingUnavailable()
        self._cooldowns.check(member_id)
        if self._idle.empty() and self._waiting >= self.config.max_queue:
            raise Busy(BUSY_MESSAGE)
        self._cooldowns.note(member_id)
        self._waiting += 1
        try:
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
        return result

    async def _run_on(  # noqa: C901  (the job's failure modes, one after another)
        self,
        worker: _Worker,
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
