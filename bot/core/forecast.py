"""``/forecast``: reviews due per local day, predicted recall now and the cards at risk.

Pure rules: the local day boundaries of the forecast window (the database counts the cards
due before each one), turning those counts into reviews per day, the recall summary of a
member's cards and the reply. Day 0 is today in the member's time zone and also holds every
overdue card.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.core.clock import local_date, to_utc
from bot.core.replies import Reply, ReplyBuilder, plural
from bot.core.scheduling import CardState, SpacedRepetition

#: How many local days the forecast covers (day 0 is today).
FORECAST_DAYS = 30
#: The at-risk window: cards whose predicted recall falls below the target within it.
AT_RISK_DAYS = 7
#: What a member without any card here sees.
NOTHING_TO_FORECAST = "Nothing to forecast yet — start with /review."


@dataclass(frozen=True, slots=True)
class DueDay:
    """How many reviews come due on one local day (day 0 includes the overdue ones)."""

    day: date
    due: int


@dataclass(frozen=True, slots=True)
class RecallSummary:
    """The predicted recall of a member's studied cards.

    ``average`` is the mean retrievability now (None without studied cards); ``at_risk``
    counts the cards not due yet whose recall falls below the target within the window.
    """

    cards: int
    average: float | None
    at_risk: int

    @property
    def percent(self) -> int | None:
        """``average`` as a whole percentage."""
        return None if self.average is None else round(100 * self.average)


@dataclass(frozen=True, slots=True)
class Forecast:
    """Everything ``/forecast`` shows: ``cards`` is how many cards the member has here."""

    cards: int
    days: tuple[DueDay, ...]
    recall: RecallSummary
    desired_retention: float

    @property
    def today(self) -> int:
        """Reviews due today, overdue ones included."""
        return self.days[0].due if self.days else 0

    @property
    def this_week(self) -> int:
        """Reviews due in the next 7 local days (today included)."""
        return sum(day.due for day in self.days[:7])

    @property
    def total(self) -> int:
        """Reviews due within the whole window."""
        return sum(day.due for day in self.days)


def day_starts(now: datetime, tz_name: str, days: int = FORECAST_DAYS) -> tuple[datetime, ...]:
    """The UTC instants at which local days 0 … ``days`` begin (``days + 1`` of them).

    Each is local midnight in ``tz_name``, so a day across a daylight-saving change is
    23 or 25 hours long, as on the member's calendar.
    """
    tz = ZoneInfo(tz_name)
    today = local_date(now, tz_name)
    starts = []
    for offset in range(days + 1):
        day = today + timedelta(days=offset)
        starts.append(to_utc(datetime(day.year, day.month, day.day, tzinfo=tz)))
    return tuple(starts)


def daily_counts(due_before: Sequence[int]) -> tuple[int, ...]:
    """Reviews per day from the number of cards due before the end of each day.

    ``due_before[i]`` counts every card due before local day ``i + 1`` begins (overdue
    ones too), so day 0 holds the overdue cards.
    """
    counts = []
    previous = 0
    for running in due_before:
        counts.append(max(0, running - previous))
        previous = max(previous, running)
    return tuple(counts)


def bucket_due(
    dues: Iterable[datetime], now: datetime, tz_name: str, days: int = FORECAST_DAYS
) -> tuple[int, ...]:
    """Reviews per local day for these due times (overdue on day 0, later ones dropped).

    The in-memory twin of the database's counts (:func:`daily_counts`), for small sets.
    """
    ends = day_starts(now, tz_name, days)[1:]
    counts = [0] * days
    for due in dues:
        moment = to_utc(due)
        for index, end in enumerate(ends):
            if moment < end:
                counts[index] += 1
                break
    return tuple(counts)


def due_days(counts: Sequence[int], now: datetime, tz_name: str) -> tuple[DueDay, ...]:
    """Label each day's count with its local date (day 0 is today in ``tz_name``)."""
    today = local_date(now, tz_name)
    return tuple(
        DueDay(day=today + timedelta(days=offset), due=count) for offset, count in enumerate(counts)
    )


def recall_summary(
    cards: Iterable[CardState],
    *,
    now: datetime,
    srs: SpacedRepetition,
    horizon: timedelta = timedelta(days=AT_RISK_DAYS),
) -> RecallSummary:
    """The mean predicted recall of the studied ``cards`` now, and how many are at risk.

    A card is at risk when it is not due yet and its predicted recall drops below the
    scheduler's desired retention before ``now + horizon``: it needs a review this week
    before it slips. Cards never reviewed (no memory state) are left out.
    """
    target = srs.config.desired_retention
    later = now + horizon
    count = 0
    total = 0.0
    at_risk = 0
    for card in cards:
        if card.stability is None or card.last_review is None:
            continue
        count += 1
        total += srs.retrievability(card, now)
        if to_utc(card.due) > now and srs.retrievability(card, later) < target:
            at_risk += 1
    return RecallSummary(cards=count, average=total / count if count else None, at_risk=at_risk)


def summary_line(days: Sequence[DueDay]) -> str:
    """``Today 12 · this week 48 · busiest day Thu 8 Jan (15)`` (or ``busiest day today``)."""
    today = days[0].due if days else 0
    week = sum(day.due for day in days[:7])
    parts = [f"Today {today}", f"this week {week}"]
    busiest = max(days, key=lambda day: day.due, default=None)  # the earliest of a tie
    if busiest is not None and busiest.due > 0:
        label = busiest.day.strftime("%a ") + str(busiest.day.day) + busiest.day.strftime(" %b")
        if busiest is days[0]:
            label = "today"
        parts.append(f"busiest day {label} ({busiest.due})")
    return " · ".join(parts)


def forecast_reply(forecast: Forecast, *, name: str) -> Reply:
    """The private ``/forecast`` reply (the chart is attached by the service)."""
    out = ReplyBuilder(title=f"Forecast · {name}", private=True)
    if forecast.cards == 0:
        out.text = NOTHING_TO_FORECAST
        return out.build()
    out.text = summary_line(forecast.days)
    out.add_field("Due today", str(forecast.today), inline=True)
    out.add_field("Next 7 days", str(forecast.this_week), inline=True)
    out.add_field(f"Next {len(forecast.days)} days", str(forecast.total), inline=True)
    recall = forecast.recall
    if recall.percent is None:
        out.add_field("Recall now", "no reviewed cards yet", inline=True)
    else:
        out.add_field(
            "Recall now",
            f"{recall.percent}% across {plural(recall.cards, 'card')}",
            inline=True,
        )
    out.add_field("At risk this week", str(recall.at_risk), inline=True)
    target = round(100 * forecast.desired_retention)
    out.footer = (
        f"At risk: not due yet, but predicted recall drops below {target}% "
        f"within {AT_RISK_DAYS} days."
    )
    return out.build()
