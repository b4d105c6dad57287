"""Streaks and summary arithmetic."""

from __future__ import annotations

from datetime import date, timedelta

from bot.core.stats import DeckMastery, StatsSummary, current_streak

TODAY = date(2026, 3, 10)


def days_back(*offsets: int) -> set[date]:
    return {TODAY - timedelta(days=o) for o in offsets}


def test_streak_counts_consecutive_days_ending_today() -> None:
    assert current_streak(days_back(0, 1, 2, 4), TODAY) == 3


def test_streak_survives_until_today_is_over() -> None:
    assert current_streak(days_back(1, 2), TODAY) == 2


def test_streak_breaks_after_a_missed_day() -> None:
    assert current_streak(days_back(2, 3), TODAY) == 0
    assert current_streak(set(), TODAY) == 0


def test_percentages_handle_zero() -> None:
    assert StatsSummary(0, 0, 0, 0, 0).accuracy_percent == 0
    assert StatsSummary(4, 3, 1, 0, 0).accuracy_percent == 75
    assert DeckMastery("d", mastered=1, seen=2, total=3).percent == 33
    assert DeckMastery("d", 0, 0, 0).percent == 0
