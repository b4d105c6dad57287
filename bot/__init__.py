"""Study-tutor bot: spaced repetition, quizzes and a TensorFlow lab for Discord study servers."""

from pathlib import Path

__version__ = "0.1.0"

#: The repository root (holds ``content/`` and ``data/``).
PROJECT_ROOT = Path(__file__).resolve().parent.parent
