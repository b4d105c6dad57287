"""Leaderboard rules: ranking with ties, ordering, pages, periods, tokens and the reply."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.core.leaderboard import (
    PAGE_SIZE,
    LeaderRow,
    PageRequest,
    Period,
    find_member,
    leaderboard_reply,
    merge_rows,
    paginate,
    period_start,
    rank_rows,
)
from bot.errors import BadInput, ExpiredAction

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def row(user_id: int, correct: int, answered: int, name: str = "") -> LeaderRow:
    return LeaderRow(
        user_id=user_id, name=name or f"m{user_id}", correct=correct, answered=answered
    )


def ranks(rows: list[LeaderRow]) -> list[tuple[int, int]]:
    return [(entry.rank, entry.row.user_id) for entry in rank_rows(rows)]


def test_more_correct_answers_rank_first() -> None:
    assert ranks([row(1, 3, 3), row(2, 9, 20), row(3, 5, 5)]) == [(1, 2), (2, 3), (3, 1)]


def test_equal_correct_answers_are_split_by_accuracy() -> None:
    # Same 6 correct: 6/6 beats 6/8 beats 6/12.
    assert ranks([row(1, 6, 12), row(2, 6, 6), row(3, 6, 8)]) == [(1, 2), (2, 3), (3, 1)]


def test_ties_share_a_rank_and_the_next_rank_skips() -> None:
    rows = [row(1, 5, 5, "Cy"), row(2, 4, 5, "Bo"), row(3, 4, 5, "Al"), row(4, 1, 2, "Di")]
    assert ranks(rows) == [(1, 1), (2, 3), (2, 2), (4, 4)]  # tied Al/Bo listed by name


def test_rows_from_two_scopes_add_up_per_member() -> None:
    merged = merge_rows([row(1, 2, 3, "Al"), row(2, 1, 1), row(1, 1, 2, "Al")])
    assert sorted(merged, key=lambda r: r.user_id) == [row(1, 3, 5, "Al"), row(2, 1, 1)]


def test_three_way_tie_at_the_top() -> None:
    rows = [row(n, 2, 3) for n in (1, 2, 3)] + [row(4, 1, 1)]
    assert [r for r, _ in ranks(rows)] == [1, 1, 1, 4]


def test_zero_correct_members_are_ranked_last() -> None:
    assert ranks([row(1, 0, 4), row(2, 1, 9)]) == [(1, 2), (2, 1)]


def test_pages_of_ten_clamped_to_existing_pages() -> None:
    ranked = rank_rows([row(n, 100 - n, 100) for n in range(1, 24)])
    first, last = paginate(ranked, 0), paginate(ranked, 2)
    assert (first.count, len(first.entries), first.has_previous, first.has_next) == (
        3,
        PAGE_SIZE,
        False,
        True,
    )
    assert len(last.entries) == 3 and last.has_previous and not last.has_next
    assert paginate(ranked, 99).number == 2 and paginate(ranked, -5).number == 0
    assert paginate([], 0).count == 1


def test_periods_are_rolling_windows() -> None:
    assert period_start(Period.WEEK, NOW) == NOW - timedelta(days=7)
    assert period_start(Period.MONTH, NOW) == NOW - timedelta(days=30)
    assert period_start(Period.ALL, NOW) is None
    assert Period.parse("MONTH") is Period.MONTH and Period.parse(None) is Period.WEEK
    with pytest.raises(BadInput):
        Period.parse("year")


def test_tokens_round_trip_and_reject_junk() -> None:
    request = PageRequest(Period.MONTH, 3, "tensorflow-training-basics")
    assert PageRequest.parse(request.token()) == request
    assert PageRequest.parse("lb:all:0:-") == PageRequest(Period.ALL, 0, None)
    for junk in ("lb:year:0:-", "lb:week:x:-", "lb:week", "xx:week:0:-"):
        with pytest.raises(ExpiredAction):
            PageRequest.parse(junk)


def test_reply_shows_the_viewers_rank_even_off_page() -> None:
    ranked = rank_rows([row(n, 100 - n, 100) for n in range(1, 24)])
    reply = leaderboard_reply(ranked, PageRequest(Period.WEEK, 0), viewer_id=17)
    assert reply.private and reply.text.count("\n") == PAGE_SIZE - 1
    assert "m17" not in reply.text
    [you] = [f for f in reply.fields if f.name == "You"]
    assert you.value.startswith("#17 of 23")
    assert [c.key for c in reply.choices] == ["next"]
    assert find_member(ranked, 99) is None
    middle = leaderboard_reply(ranked, PageRequest(Period.WEEK, 1), viewer_id=None)
    assert [c.action for c in middle.choices] == ["lb:week:0:-", "lb:week:2:-"]


def test_empty_board_says_how_to_start() -> None:
    reply = leaderboard_reply([], PageRequest(Period.ALL, 0), viewer_id=1)
    assert "/quiz" in reply.text and not reply.choices
