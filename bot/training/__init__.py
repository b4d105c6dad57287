"""The ``/train`` lab: members run small TensorFlow training lessons on warm workers.

Light on purpose: importing this package (or ``jobs``, ``render``, ``pool``, ``cli``)
never imports TensorFlow; only the worker process (:mod:`bot.training.worker`) does.
"""

from __future__ import annotations

from bot.training.errors import (
    TrainingCooldown,
    TrainingError,
    TrainingOutOfMemory,
    TrainingTimeout,
    TrainingUnavailable,
    WorkerCrashed,
)
from bot.training.jobs import (
    OPTIMIZERS,
    PRESETS,
    TrainRequest,
    TrainResult,
    parse_train_options,
)

__all__ = [
    "OPTIMIZERS",
    "PRESETS",
    "TrainRequest",
    "TrainResult",
    "TrainingCooldown",
    "TrainingError",
    "TrainingOutOfMemory",
    "TrainingTimeout",
    "TrainingUnavailable",
    "WorkerCrashed",
    "parse_train_options",
]
