"""Errors the training lab raises; each message is shown to the member as-is."""

from __future__ import annotations

from bot.errors import Busy, TutorError

TIMEOUT_MESSAGE = "Training took too long and was stopped. Try fewer steps."
CRASH_MESSAGE = "The training worker crashed; it has been restarted. Please try again."
OOM_MESSAGE = "Training used too much memory and was stopped. Try fewer steps."
BUSY_MESSAGE = "The lab is busy — try again in {seconds} s."
UNAVAILABLE_MESSAGE = "The training lab is not running right now. Please try again later."


class TrainingError(TutorError):
    """Base class for training-lab failures a member should see."""


class TrainingTimeout(TrainingError):
    """A job ran past its time limit; the worker was killed and replaced."""

    def __init__(self, message: str = TIMEOUT_MESSAGE) -> None:
        super().__init__(message)


class WorkerCrashed(TrainingError):
    """The worker process died during a job; a new one is being started."""

    def __init__(self, message: str = CRASH_MESSAGE) -> None:
        super().__init__(message)


class TrainingOutOfMemory(TrainingError):
    """A job hit the worker's memory limit; the worker was replaced."""

    def __init__(self, message: str = OOM_MESSAGE) -> None:
        super().__init__(message)


class TrainingUnavailable(TrainingError):
    """The pool is not started (or is stopping)."""

    def __init__(self, message: str = UNAVAILABLE_MESSAGE) -> None:
        super().__init__(message)


class TrainingBusy(Busy):
    """The lab has accepted all the jobs it can; ``retry_after_s`` estimates when it has
    worked through them (from recent job timings)."""

    def __init__(self, retry_after_s: int) -> None:
        self.retry_after_s = retry_after_s
        super().__init__(BUSY_MESSAGE.format(seconds=retry_after_s))


class TrainingCooldown(Busy):
    """The member trained moments ago; ``retry_after_s`` says how long to wait."""

    def __init__(self, retry_after_s: int) -> None:
        self.retry_after_s = retry_after_s
        unit = "second" if retry_after_s == 1 else "seconds"
        super().__init__(
            f"You trained a moment ago. Please wait {retry_after_s} {unit} before training again."
        )
