"""Member statistics: streaks, accuracy and per-deck mastery (pure functions)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta


def current_streak(active_days: Iterable[date], today: date) -> int:
    """Days in a row with at least one answer, ending today (or yesterday, if not yet today).

    A streak is not broken until a whole day passes without study.
    """
    days = set(active_days)
    cursor = today if today in days else today - timedelta(days=1)
    streak = 0
    while cursor in days:
        streak += 1
        cursor -= timedelta(days=1)
    return streak


@dataclass(frozen=True, slots=True)
class DeckMastery:
    """How much of a deck a member has mastered."""

    deck: str
    mastered: int
    seen: int
    total: int

    @property
    def percent(self) -> int:
        """Mastered items as a whole-number percentage of the deck."""
        return round(100 * self.mastered / self.total) if self.total else 0


@dataclass(frozen=True, slots=True)
class StatsSummary:
    """Everything ``/stats`` shows."""

    answered: int
    correct: int
    streak_days: int
    due_now: int
    new_available: int
    decks: tuple[DeckMastery, ...] = field(default_factory=tuple)

    @property
    def accuracy_percent(self) -> int:
        """Correct answers as a whole-number percentage (0 when nothing is answered)."""
        return round(100 * self.correct / self.answered) if self.answered else 0
