"""One training worker process as the pool sees it: its start-up limits and pipes.

No TensorFlow here (the bot process imports this module). The process itself is
:mod:`bot.training.worker`; the pool that starts and schedules these is
:mod:`bot.training.pool`.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import resource
import sys
from collections.abc import Callable
from typing import Any, Final

from bot.log import get_logger
from bot.training.protocol import encode_frame, read_frame

log = get_logger(__name__)

_PR_SET_PDEATHSIG: Final = 1
_SIGKILL: Final = 9


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


def child_limits(memory_limit_mb: int | None, cpu_lifetime_s: int) -> Callable[[], None]:
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


class WorkerHandle:
    """One worker process as the pool sees it: its pipes and bookkeeping."""

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
        #: Whether it answered its first ping (TensorFlow imported).
        self.ready = False
        #: Stops it after ``idle_s`` seconds in the idle queue.
        self.idle_timer: asyncio.TimerHandle | None = None

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
