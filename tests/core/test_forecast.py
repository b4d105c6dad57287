"""The pure rules of ``/forecast``: local day buckets, recall summaries, the reply."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import pairwise

from bot.core.forecast import (
    NOTHING_TO_FORECAST,
    DueDay,
    Forecast,
    RecallSummary,
    bucket_due,
    daily_counts,
    day_starts,
    due_days,
    forecast_reply,
    recall_summary,
    summary_line,
)
from bot.core.scheduling import CardState, SchedulerConfig, SpacedRepetition

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # a Monday
SRS = SpacedRepetition(SchedulerConfig(enable_fuzzing=False))


def review_card(*, due: datetime, stability: float, reviewed: datetime) -> CardState:
    return CardState(
        due=due, state=2, step=None, stability=stability, difficulty=5.0, last_review=reviewed
    )


def test_day_starts_are_local_midnights() -> None:
    starts = day_starts(NOW, "UTC", 3)
    assert starts == tuple(datetime(2026, 1, 5 + d, tzinfo=UTC) for d in range(4))
    # 09:00 UTC is 18:00 in Tokyo; its midnight was 15:00 UTC the day before.
    tokyo = day_starts(NOW, "Asia/Tokyo", 1)
    assert tokyo == (datetime(2026, 1, 4, 15, tzinfo=UTC), datetime(2026, 1, 5, 15, tzinfo=UTC))
    # 23:00 UTC on the 5th is already the 6th there, so the 6th is "today" then.
    late = NOW + timedelta(hours=14)
    assert day_starts(late, "Asia/Tokyo", 1)[0] == datetime(2026, 1, 5, 15, tzinfo=UTC)


def test_a_daylight_saving_day_is_23_hours_long() -> None:
    before = datetime(2026, 3, 28, 12, tzinfo=UTC)
    starts = day_starts(before, "Europe/Berlin", 3)
    lengths = [later - earlier for earlier, later in pairwise(starts)]
    assert lengths == [timedelta(hours=24), timedelta(hours=23), timedelta(hours=24)]


def test_overdue_cards_count_today_and_late_ones_are_dropped() -> None:
    dues = [
        NOW - timedelta(days=10),  # overdue
        NOW + timedelta(hours=14),  # 23:00 today
        NOW + timedelta(hours=15),  # midnight: tomorrow
        NOW + timedelta(days=2),
        NOW + timedelta(days=40),  # beyond the window
    ]
    assert bucket_due(dues, NOW, "UTC", 4) == (2, 1, 1, 0)
    # In New York (UTC-5) "now" is 04:00 on the 5th: 23:00 UTC is still the 5th there.
    assert bucket_due(dues, NOW, "America/New_York", 4) == (3, 0, 1, 0)


def test_daily_counts_from_running_totals() -> None:
    assert daily_counts([3, 3, 7, 8]) == (3, 0, 4, 1)
    assert daily_counts([]) == ()


def test_due_days_label_local_dates() -> None:
    late = NOW + timedelta(hours=14)  # 08:00 on the 6th in Tokyo
    days = due_days([1, 2], late, "Asia/Tokyo")
    assert days == (DueDay(date(2026, 1, 6), 1), DueDay(date(2026, 1, 7), 2))


def test_recall_summary_and_the_at_risk_rule() -> None:
    fresh = review_card(due=NOW + timedelta(days=30), stability=40.0, reviewed=NOW)
    slipping = review_card(
        due=NOW + timedelta(days=3), stability=5.0, reviewed=NOW - timedelta(days=2)
    )
    already_due = review_card(
        due=NOW - timedelta(days=1), stability=2.0, reviewed=NOW - timedelta(days=5)
    )
    unseen = CardState(due=NOW)
    summary = recall_summary([fresh, slipping, already_due, unseen], now=NOW, srs=SRS)
    assert summary.cards == 3
    assert summary.at_risk == 1  # slipping; the due one is not "at risk", it is due
    expected = sum(SRS.retrievability(c, NOW) for c in (fresh, slipping, already_due)) / 3
    assert summary.average is not None and abs(summary.average - expected) < 1e-9
    assert recall_summary([unseen], now=NOW, srs=SRS) == RecallSummary(0, None, 0)


def test_summary_line_names_the_busiest_day() -> None:
    days = due_days([12, 3, 0, 15, 6, 2, 10, 40], NOW, "UTC")
    assert summary_line(days) == "Today 12 · this week 48 · busiest day Mon 12 Jan (40)"
    assert summary_line(due_days([0, 0], NOW, "UTC")) == "Today 0 · this week 0"
    assert summary_line(due_days([5, 1], NOW, "UTC")) == (
        "Today 5 · this week 6 · busiest day today (5)"
    )


def test_reply_with_and_without_cards() -> None:
    empty = Forecast(cards=0, days=(), recall=RecallSummary(0, None, 0), desired_retention=0.9)
    reply = forecast_reply(empty, name="Ada")
    assert reply.text == NOTHING_TO_FORECAST and reply.private and not reply.fields
    full = Forecast(
        cards=20,
        days=due_days([2, 1] + [0] * 28, NOW, "UTC"),
        recall=RecallSummary(cards=5, average=0.874, at_risk=2),
        desired_retention=0.9,
    )
    reply = forecast_reply(full, name="Ada")
    fields = {f.name: f.value for f in reply.fields}
    assert fields == {
        "Due today": "2",
        "Next 7 days": "3",
        "Next 30 days": "3",
        "Recall now": "87% across 5 cards",
        "At risk this week": "2",
    }
    assert "below 90% within 7 days" in reply.footer
    learning = replace_recall(full)
    assert {f.name: f.value for f in forecast_reply(learning, name="Ada").fields}[
        "Recall now"
    ] == "no reviewed cards yet"


def replace_recall(forecast: Forecast) -> Forecast:
    return Forecast(
        cards=forecast.cards,
        days=forecast.days,
        recall=RecallSummary(0, None, 0),
        desired_retention=forecast.desired_retention,
    )
