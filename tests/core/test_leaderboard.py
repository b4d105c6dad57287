"""Leaderboards: ranking with ties, ordering, pages, periods, tokens and the engine-backed board."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.core.clock import FakeClock
from bot.core.leaderboard import (
    PAGE_SIZE,
    Leaderboards,
    LeaderRow,
    PageRequest,
    Period,
    console_commands,
    find_member,
    leaderboard_reply,
    merge_rows,
    paginate,
    period_start,
    rank_rows,
    typed_page_hints,
)
from bot.core.learners import Learner
from bot.core.replies import Reply
from bot.core.tutor import Tutor
from bot.errors import BadInput, ExpiredAction, NotFound

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
GUILD = 42


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


def test_console_pages_are_commands_to_type() -> None:
    ranked = rank_rows([row(n, 100 - n, 100) for n in range(1, 24)])
    middle = leaderboard_reply(ranked, PageRequest(Period.MONTH, 1, "basics"), viewer_id=None)
    typed = typed_page_hints(middle)
    assert typed.choices == ()
    assert "prev page: /leaderboard month basics 1" in (typed.footer or "")
    assert "next page: /leaderboard month basics 3" in (typed.footer or "")
    single = leaderboard_reply(ranked[:3], PageRequest(Period.ALL, 0), viewer_id=None)
    assert typed_page_hints(single) == single


def test_empty_board_says_how_to_start() -> None:
    reply = leaderboard_reply([], PageRequest(Period.ALL, 0), viewer_id=1)
    assert "/quiz" in reply.text and not reply.choices


# -- through the engine -------------------------------------------------------------------


def member(name: str, guild: int | None = GUILD) -> Learner:
    return Learner("discord", name.casefold(), name, guild_id=guild, guild_name="Study Hall")


async def answer_quiz(tutor: Tutor, learner: Learner, *, right: bool) -> None:
    question = await tutor.quiz(learner)
    item = next(i for i in tutor._items.values() if question.text.startswith(i.content.prompt))
    correct = item.content.correct_index  # type: ignore[union-attr]
    option = correct if right else (correct + 1) % len(item.content.options)  # type: ignore[union-attr]
    await tutor.act(learner, question.choices[option].action)


async def test_board_ranks_members_of_this_server_in_the_period(
    tutor: Tutor, clock: FakeClock
) -> None:
    ana, ben, cas = member("Ana"), member("Ben"), member("Cas")
    elsewhere = member("Dee", guild=7)
    for learner, right, wrong in ((ana, 2, 1), (ben, 3, 0), (cas, 2, 1), (elsewhere, 5, 0)):
        for _ in range(right):
            await answer_quiz(tutor, learner, right=True)
        for _ in range(wrong):
            await answer_quiz(tutor, learner, right=False)
    boards = Leaderboards(tutor.db, clock=clock)
    reply = await boards.show(ana, "week")
    lines = reply.text.splitlines()
    assert [line.split(" — ")[0] for line in lines] == ["**1.** Ben", "**2.** Ana", "**2.** Cas"]
    assert "Dee" not in reply.text
    assert {f.name: f.value for f in reply.fields}["You"].startswith("#2 of 3")
    # A month later the week board is empty, the all-time board is not.
    clock.advance(days=8)
    assert "Nobody" in (await boards.show(ana, "week")).text
    assert "Ben" in (await boards.show(ana, Period.ALL)).text


async def test_deck_filter_checks_the_deck(tutor: Tutor, clock: FakeClock) -> None:
    boards = Leaderboards(tutor.db, clock=clock)
    await answer_quiz(tutor, member("Ana"), right=True)
    reply = await boards.show(member("Ana"), "all", "tensorflow-training-basics")
    assert "Ana" in reply.text and "tensorflow-training-basics" in reply.title
    with pytest.raises(NotFound):
        await boards.show(member("Ana"), "all", "no-such-deck")


async def test_console_leaderboard_ranks_local_profiles(tutor: Tutor, alice: Learner) -> None:
    await answer_quiz(tutor, alice, right=True)
    command = console_commands(tutor)["/leaderboard"]
    reply: Reply = await command(alice, ["all"])
    assert "**1.** Alice" in reply.text
    with pytest.raises(BadInput):
        await command(alice, ["a", "b", "c"])
