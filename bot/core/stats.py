"""Member statistics: streaks, accuracy, retention, daily activity and per-deck mastery.

Pure functions over values the storage layer loads; nothing here touches the database.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from bot.core.clock import local_date
from bot.core.scheduling import CardState, Grade, SpacedRepetition


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
    #: Reviews of learned cards in the last :data:`STATS_WINDOW_DAYS` days (see :func:`retention`).
    retention: Retention = field(default_factory=lambda: Retention(reviews=0, correct=0))
    #: One entry per local day of the last :data:`STATS_WINDOW_DAYS` days, oldest first.
    activity: tuple[DayActivity, ...] = field(default_factory=tuple)
    #: Questions answered wrong lately and not yet right twice in a row since (what
    #: ``/review mistakes`` serves; see :mod:`bot.storage.mistakes`).
    mistakes: int = 0

    @property
    def recent_answers(self) -> int:
        """Answers within the activity window."""
        return sum(day.answered for day in self.activity)

    @property
    def accuracy_percent(self) -> int:
        """Correct answers as a whole-number percentage (0 when nothing is answered)."""
        return round(100 * self.correct / self.answered) if self.answered else 0


#: How far back the retention figure and the activity chart look.
STATS_WINDOW_DAYS = 30


@dataclass(frozen=True, slots=True)
class AnswerEvent:
    """One logged answer, as much as retention and the chart need."""

    item_id: int
    created_at: datetime
    rating: int
    correct: bool
    duration_ms: int = 0
    guild_id: int | None = None


@dataclass(frozen=True, slots=True)
class Retention:
    """How many reviews of already-learned cards there were, and how many were right."""

    reviews: int
    correct: int

    @property
    def percent(self) -> int | None:
        """Correct reviews as a whole-number percentage, or None with no reviews."""
        return round(100 * self.correct / self.reviews) if self.reviews else None


def retention(
    events: Iterable[AnswerEvent],
    *,
    since: datetime,
    srs: SpacedRepetition,
    guild_id: int | None = None,
    serverless: bool = False,
) -> Retention:
    """Retention: the share of reviews of already-learned cards answered correctly.

    A review counts when the member's card for that item was in FSRS's *Review* state
    (graduated from its learning steps, not relearning after a lapse) just before the answer,
    and the answer was given at or after ``since``. The attempt log does not store the card's
    state, so each item's history is replayed through ``srs`` in order; ``events`` must hold
    the member's *whole* history of every item of interest (earlier answers decide the state).
    With ``guild_id`` set, only answers given in that server are counted (``serverless``:
    and those given outside any server); the replay still uses every answer, since a card
    is shared across servers.
    """
    cards: dict[int, CardState] = {}
    reviews = correct = 0
    for event in sorted(events, key=lambda e: (e.item_id, e.created_at)):
        before = cards.get(event.item_id)
        counted = (
            guild_id is None
            or event.guild_id == guild_id
            or (serverless and event.guild_id is None)
        )
        if before is not None and before.is_review and event.created_at >= since and counted:
            reviews += 1
            correct += event.correct
        cards[event.item_id] = srs.review(
            before, Grade(event.rating), event.created_at, event.duration_ms
        )
    return Retention(reviews=reviews, correct=correct)


@dataclass(frozen=True, slots=True)
class DayActivity:
    """Answers on one local calendar day."""

    day: date
    answered: int = 0
    correct: int = 0

    @property
    def accuracy_percent(self) -> float | None:
        """Correct answers as a percentage, or None on a day without answers."""
        return 100 * self.correct / self.answered if self.answered else None


def daily_activity(
    answers: Iterable[tuple[datetime, bool]],
    *,
    today: date,
    tz_name: str,
    days: int = STATS_WINDOW_DAYS,
) -> tuple[DayActivity, ...]:
    """Answers and correct answers per local day, for the ``days`` days ending ``today``.

    Every day of the window is present (zero when the member did not study), oldest first;
    answers outside the window are ignored.
    """
    first = today - timedelta(days=days - 1)
    answered: dict[date, int] = {}
    right: dict[date, int] = {}
    for moment, correct in answers:
        day = local_date(moment, tz_name)
        if first <= day <= today:
            answered[day] = answered.get(day, 0) + 1
            right[day] = right.get(day, 0) + int(correct)
    return tuple(
        DayActivity(day=d, answered=answered.get(d, 0), correct=right.get(d, 0))
        for d in (first + timedelta(days=n) for n in range(days))
    )
