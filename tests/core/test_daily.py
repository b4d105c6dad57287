"""Daily-quiz rules with a fake clock: time zones, DST, missed runs, selection, ranking,
windows, catch-up, reminders and the quiz's wording — pure functions, no database (the
services are tested in ``tests/services``)."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

import pytest

from bot.core import daily, daily_replies
from bot.core.replies import Choice, Reply
from bot.errors import BadInput

NY = "America/New_York"


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# -- settings input -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [("08:30", time(8, 30)), ("7:05", time(7, 5)), (" 23:59 ", time(23, 59)), ("0:00", time(0))],
)
def test_parse_hhmm_accepts_24_hour_times(text: str, expected: time) -> None:
    assert daily.parse_hhmm(text) == expected
    assert daily.format_hhmm(expected) == daily.format_hhmm(daily.parse_hhmm(text))


@pytest.mark.parametrize("text", ["24:00", "12:60", "7pm", "", "8", "08:3", "noon"])
def test_parse_hhmm_rejects_anything_else_with_an_example(text: str) -> None:
    with pytest.raises(BadInput, match="HH:MM, for example 08:30"):
        daily.parse_hhmm(text)


def test_time_zones_are_iana_names_matched_without_case() -> None:
    assert daily.parse_timezone("europe/berlin") == "Europe/Berlin"
    assert daily.parse_timezone("UTC") == "UTC"
    with pytest.raises(BadInput, match="IANA name such as Europe/Berlin"):
        daily.parse_timezone("Mars/Olympus")
    with pytest.raises(BadInput):
        daily.parse_timezone("")


def test_time_zone_choices_filter_iana_names_for_autocomplete() -> None:
    assert daily.timezone_choices("berlin") == ["Europe/Berlin"]
    assert daily.timezone_choices("new york") == ["America/New_York"]
    assert len(daily.timezone_choices("")) == daily.MAX_TIMEZONE_CHOICES == 25
    everything_american = daily.timezone_choices("america/")
    assert len(everything_american) == 25 and all("America/" in n for n in everything_american)
    assert daily.timezone_choices("Mars/Olympus") == []


def test_new_cards_per_day_is_between_0_and_1000() -> None:
    assert daily.validate_new_per_day(0) == 0 and daily.validate_new_per_day(1000) == 1000
    for bad in (-1, 1001):
        with pytest.raises(BadInput, match="between 0 and 1000"):
            daily.validate_new_per_day(bad)


def test_question_count_and_window_bounds() -> None:
    assert daily.validate_questions(1) == 1 and daily.validate_questions(10) == 10
    assert daily.validate_window(5) == 5 and daily.validate_window(720) == 720
    for bad in (0, 11):
        with pytest.raises(BadInput, match="between 1 and 10"):
            daily.validate_questions(bad)
    for bad in (4, 721):
        with pytest.raises(BadInput, match="5–720 minutes"):
            daily.validate_window(bad)


# -- time zones and DST ---------------------------------------------------------------------


def test_a_run_is_at_local_time_in_winter_and_summer() -> None:
    at = time(8, 0)
    assert daily.run_for_date(date(2026, 1, 5), at, "Europe/Berlin").at == utc(2026, 1, 5, 7)
    assert daily.run_for_date(date(2026, 7, 6), at, "Europe/Berlin").at == utc(2026, 7, 6, 6)
    # Auckland's 08:00 on the 6th is still the 5th in UTC.
    run = daily.run_for_date(date(2026, 1, 6), at, "Pacific/Auckland")
    assert run.at == utc(2026, 1, 5, 19) and run.local_date == date(2026, 1, 6)


def test_spring_forward_runs_once_after_the_gap() -> None:
    # 2026-03-08: New York clocks jump from 02:00 EST to 03:00 EDT, so 02:30 doesn't exist.
    at = time(2, 30)
    before = daily.run_for_date(date(2026, 3, 7), at, NY)
    gap_day = daily.run_for_date(date(2026, 3, 8), at, NY)
    after = daily.run_for_date(date(2026, 3, 9), at, NY)
    assert before.at == utc(2026, 3, 7, 7, 30)  # 02:30 EST
    assert gap_day.at == utc(2026, 3, 8, 7, 30)  # 03:30 EDT, the same day
    assert after.at == utc(2026, 3, 9, 6, 30)  # 02:30 EDT
    assert daily.next_run_after(before.at, at, NY) == gap_day
    assert daily.next_run_after(gap_day.at, at, NY) == after


def test_fall_back_runs_once_at_the_first_occurrence() -> None:
    # 2026-11-01: 01:30 happens twice in New York (EDT, then EST).
    at = time(1, 30)
    first = daily.run_for_date(date(2026, 11, 1), at, NY)
    assert first.at == utc(2026, 11, 1, 5, 30)
    # The repeated 01:30 EST (06:30 UTC) is not a second run for the same date.
    following = daily.next_run_after(first.at, at, NY)
    assert following.local_date == date(2026, 11, 2)
    assert following.at == utc(2026, 11, 2, 6, 30)
    assert daily.next_run_after(utc(2026, 11, 1, 6, 45), at, NY) == following


def test_next_run_is_today_until_the_time_passes() -> None:
    at = time(9, 0)
    assert daily.next_run_after(utc(2026, 1, 5, 8, 59), at, "UTC").local_date == date(2026, 1, 5)
    assert daily.next_run_after(utc(2026, 1, 5, 9, 0), at, "UTC").local_date == date(2026, 1, 6)


# -- missed runs ----------------------------------------------------------------------------


def test_plan_posts_on_time_and_late_within_grace_and_skips_after() -> None:
    at, grace = time(9, 0), timedelta(hours=2)
    on_time = daily.plan_run(utc(2026, 1, 5, 9, 0), at, "UTC", grace)
    assert on_time.post_now == daily.ScheduledRun(date(2026, 1, 5), utc(2026, 1, 5, 9))
    late = daily.plan_run(utc(2026, 1, 5, 10, 59), at, "UTC", grace)
    assert late.post_now is not None and late.post_now.local_date == date(2026, 1, 5)
    too_late = daily.plan_run(utc(2026, 1, 5, 11, 1), at, "UTC", grace)
    assert too_late.post_now is None and too_late.missed is not None
    assert too_late.next_run.at == utc(2026, 1, 6, 9)
    assert daily.missed_run_decision(utc(2026, 1, 5, 11), utc(2026, 1, 5, 9), grace) == "post"


# -- selection ------------------------------------------------------------------------------


def test_selection_prefers_items_due_for_the_most_members() -> None:
    members = [
        daily.MemberSchedule(due=frozenset({2}), seen=frozenset({1, 2, 3, 4})),
        daily.MemberSchedule(due=frozenset({2, 3}), seen=frozenset({1, 2, 3, 4})),
        daily.MemberSchedule(due=frozenset(), seen=frozenset({1, 2, 3})),  # never saw 4
    ]
    assert daily.item_scores([1, 2, 3, 4], members) == {1: 0, 2: 2, 3: 1, 4: 1}
    assert daily.select_daily_items([1, 2, 3, 4], members, {}, 1) == [2]
    assert daily.select_daily_items([1, 2, 3, 4], members, {}, 3) == [2, 3, 4]


def test_selection_avoids_recent_items_and_falls_back_to_the_oldest() -> None:
    members = [daily.MemberSchedule(due=frozenset({1, 2}), seen=frozenset({1, 2, 3}))]
    recent = {1: date(2026, 1, 4), 2: date(2026, 1, 1)}
    assert daily.select_daily_items([1, 2, 3], members, recent, 1) == [3]
    # Too small a bank: the item asked longest ago comes back first.
    assert daily.select_daily_items([1, 2, 3], members, recent, 3) == [3, 2, 1]
    assert daily.select_daily_items([], members, recent, 2) == []


def test_selection_breaks_ties_with_the_rng() -> None:
    picks = {
        tuple(daily.select_daily_items(list(range(10)), [], {}, 1, random.Random(seed)))
        for seed in range(20)
    }
    assert len(picks) > 1


# -- ranking, windows, catch-up -------------------------------------------------------------


def score(name: str, correct: int, answered: int = 3) -> daily.MemberScore:
    return daily.MemberScore(
        user_id=hash(name) % 1000, name=name, correct=correct, answered=answered
    )


def test_ranking_shares_places_between_ties() -> None:
    placings = daily.rank_scores(
        [score("dan", 1), score("Bob", 3), score("alice", 3), score("Cy", 2), score("Eve", 0)]
    )
    assert [(p.place, p.correct, [m.name for m in p.members]) for p in placings] == [
        (1, 3, ["alice", "Bob"]),
        (3, 2, ["Cy"]),
    ]
    # Everyone tied at the last place listed stays in.
    four_way = daily.rank_scores([score(n, 1) for n in "ABCD"])
    assert len(four_way) == 1 and len(four_way[0].members) == 4
    assert daily.rank_scores([score("Eve", 0)]) == []


def test_extra_time_doubles_the_window_and_delays_results() -> None:
    posted, window = utc(2026, 1, 5, 9), timedelta(minutes=30)
    assert daily.answer_deadline(posted, window, extra_time=False) == utc(2026, 1, 5, 9, 30)
    assert daily.answer_deadline(posted, window, extra_time=True) == utc(2026, 1, 5, 10)
    assert daily.results_time(posted, window, extra_time_members=True) == utc(2026, 1, 5, 10)


def test_catch_up_lasts_until_local_midnight() -> None:
    quiz_day = date(2026, 1, 5)
    assert daily.catch_up_open(utc(2026, 1, 5, 22, 59), quiz_day, "Europe/Berlin")
    assert not daily.catch_up_open(utc(2026, 1, 5, 23, 0), quiz_day, "Europe/Berlin")


def test_reminder_is_due_once_per_local_day_after_its_time() -> None:
    at = time(18, 0)
    assert daily.reminder_due(utc(2026, 1, 5, 16, 59), at, "Europe/Berlin", None) is None
    assert daily.reminder_due(utc(2026, 1, 5, 17, 0), at, "Europe/Berlin", None) == date(2026, 1, 5)
    assert daily.reminder_due(utc(2026, 1, 5, 20), at, "Europe/Berlin", "2026-01-05") is None
    assert daily.reminder_due(utc(2026, 1, 6, 17), at, "Europe/Berlin", "2026-01-05") is not None


def test_tokens_round_trip_and_reject_garbage() -> None:
    assert daily.parse_answer_token(daily.answer_token(1, 22, 3)) == (1, 22, 3)
    assert daily.parse_catch_up_token(daily.catch_up_token(9)) == 9
    for bad in ("dq:1:2", "dq:a:2:3", "dc:", "an:1:2:3", "dq:1:2:3:4"):
        assert daily.parse_answer_token(bad) is None
        assert daily.parse_catch_up_token(bad) is None


# -- wording --------------------------------------------------------------------------------


def test_a_shared_question_becomes_a_timed_daily_post_without_hints() -> None:
    shown = Reply(
        text="What does fit() do?",
        title="Question · tensorflow-training-basics",
        choices=(
            Choice("A", "A", "an:12:0"),
            Choice("B", "B", "an:12:1"),
            Choice("h", "Hint", "hi:12"),
        ),
    )
    post, prompt_id = daily_replies.daily_question(shown, 5, 2, 3, timedelta(minutes=30))
    assert prompt_id == 12
    assert post.title == "🗓️ Daily quiz · question 2 of 3"
    assert [c.action for c in post.choices] == ["dq:5:12:0", "dq:5:12:1"]
    assert post.footer == (
        "tensorflow-training-basics · You have 30 minutes · one answer each · "
        "your feedback is private"
    )
    single, _ = daily_replies.daily_question(shown, 5, 1, 1, timedelta(seconds=2.5))
    assert single.title == "🗓️ Daily quiz" and "You have 2 seconds" in single.footer


def test_catch_up_questions_count_what_is_left() -> None:
    shown = Reply(text="Q", footer="Pick one.")
    first = daily_replies.catch_up_question(shown, total=3, remaining=3)
    assert first.private and first.title == "Daily quiz catch-up · question 1 of 3"
    assert first.footer == "Pick one. Then press Catch up again for the next one."
    last = daily_replies.catch_up_question(shown, total=1, remaining=1)
    assert last.title == "Daily quiz catch-up" and last.footer == "Pick one."


def test_runs_are_described_in_the_servers_local_time() -> None:
    run = daily.run_for_date(date(2026, 7, 6), time(8, 0), "Europe/Berlin")
    assert daily_replies.describe_run(run, "Europe/Berlin") == "Mon 06 Jul, 08:00 (Europe/Berlin)"
