"""Daily-quiz rules with a fake clock: time zones, DST, missed runs, selection, ranking,
windows, catch-up and reminders — pure functions first, then the service on a database."""

from __future__ import annotations

import logging
import random
from datetime import UTC, date, datetime, time, timedelta

import pytest

from bot.core import daily
from bot.core.clock import FakeClock
from bot.core.daily_service import CATCH_UP_EXPIRED, CLOSED_MESSAGE, DailyPost, DailyService
from bot.core.learners import Learner
from bot.core.tutor import Tutor
from bot.errors import AlreadyAnswered, BadInput, ExpiredAction, NotFound
from bot.storage.db import Database
from bot.storage.models import DailyQuiz

GUILD = 4242
NY = "America/New_York"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


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


# -- the service on a database --------------------------------------------------------------


def member(name: str, number: int) -> Learner:
    return Learner(
        platform="discord",
        external_id=str(number),
        display_name=name,
        guild_id=GUILD,
        guild_name="Study Hall",
    )


ADMIN = member("Alice", 1)
BOB = member("Bob", 2)
CAROL = member("Carol", 3)


@pytest.fixture
def service(db: Database, tutor: Tutor, clock: FakeClock) -> DailyService:
    return DailyService(db, tutor, clock=clock, rng=random.Random(3))


async def configure(service: DailyService, **changes: object) -> None:
    options: dict[str, object] = {
        "channel_id": 77,
        "time_text": "09:00",
        "timezone": "UTC",
        "questions": 1,
        "window_minutes": 30,
    }
    options.update(changes)
    await service.configure_daily(ADMIN, **options)  # type: ignore[arg-type]


async def post(service: DailyService) -> DailyPost:
    outcome = await service.run_schedule(GUILD)
    assert outcome.post is not None
    await service.mark_open(outcome.post.quiz_id, message_id=1000 + outcome.post.quiz_id)
    return outcome.post


def option_token(post: DailyPost, number: int = 0, option: int = 0) -> str:
    return post.questions[number].choices[option].action


async def correct_option(tutor: Tutor, item_id: int) -> int:
    async with tutor.db.session() as session:
        from bot.storage.models import Item

        row = await session.get(Item, item_id)
        assert row is not None
    return "ABCDEF".index(row.payload["answer"])


async def quiz_row(service: DailyService, quiz_id: int) -> DailyQuiz:
    async with service.db.session() as session:
        row = await session.get(DailyQuiz, quiz_id)
        assert row is not None
        return row


async def test_settings_are_validated_before_anything_is_saved(service: DailyService) -> None:
    with pytest.raises(BadInput):
        await configure(service, time_text="9am")
    with pytest.raises(NotFound, match="no deck called"):
        await configure(service, deck="nope")
    assert (await service.schedule(GUILD)) is None
    await configure(service, timezone="europe/paris", deck="tensorflow-training-basics")
    schedule = await service.schedule(GUILD)
    assert schedule is not None and schedule.timezone == "Europe/Paris"
    shown = await service.show_settings(ADMIN)
    assert "on" in shown.text and any(f.value == "tensorflow-training-basics" for f in shown.fields)
    await service.disable_daily(ADMIN)
    assert (await service.schedule(GUILD)) is None


async def test_a_run_posts_once_even_when_checked_again_or_by_a_second_process(
    service: DailyService, db: Database, tutor: Tutor, clock: FakeClock
) -> None:
    await configure(service)
    clock.set(utc(2026, 1, 5, 8, 59))
    assert (await service.run_schedule(GUILD)).post is None  # not yet
    clock.set(utc(2026, 1, 5, 9, 0))
    posted = await service.run_schedule(GUILD)
    assert posted.post is not None and posted.post.local_date == date(2026, 1, 5)
    assert posted.next_run is not None and posted.next_run.at == utc(2026, 1, 6, 9)
    assert (await service.run_schedule(GUILD)).post is None
    other_process = DailyService(Database(db.url), tutor, clock=clock)
    try:
        assert (await other_process.run_schedule(GUILD)).post is None
    finally:
        await other_process.db.close()
    with pytest.raises(BadInput, match="one per day"):
        await service.start_now(ADMIN, channel_id=77)


async def test_after_a_restart_a_missed_run_is_posted_late_within_grace(
    service: DailyService, clock: FakeClock
) -> None:
    await configure(service)
    clock.set(utc(2026, 1, 5, 10, 45))  # the bot was down at 09:00
    outcome = await service.run_schedule(GUILD)
    assert outcome.post is not None
    opened = await service.mark_open(outcome.post.quiz_id, 5)
    assert opened is not None and opened.closes_at == utc(2026, 1, 5, 11, 15)


async def test_after_a_restart_a_run_missed_beyond_grace_is_skipped(
    service: DailyService, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    await configure(service)
    clock.set(utc(2026, 1, 5, 11, 30))
    with caplog.at_level(logging.WARNING, logger="bot.core.daily_service"):
        outcome = await service.run_schedule(GUILD)
    assert outcome.post is None and outcome.next_run is not None
    assert outcome.next_run.at == utc(2026, 1, 6, 9)
    assert "skipping guild 4242's daily quiz for 2026-01-05" in caplog.text


async def test_open_quizzes_are_recovered_and_interrupted_posts_given_up(
    service: DailyService, clock: FakeClock
) -> None:
    await configure(service)
    clock.set(utc(2026, 1, 5, 9))
    first = await post(service)
    clock.set(utc(2026, 1, 6, 9))
    interrupted = await service.run_schedule(GUILD)  # claimed, never marked open
    assert interrupted.post is not None
    clock.advance(minutes=10)
    recovered = await service.recover()
    assert [q.quiz_id for q in recovered] == [first.quiz_id]
    assert recovered[0].closes_at == utc(2026, 1, 5, 9, 30)
    assert (await quiz_row(service, interrupted.post.quiz_id)).status == "skipped"
    assert await service.recover(owns=lambda guild_id: False) == []


async def test_a_late_post_in_progress_is_not_given_up_by_a_starting_process(
    service: DailyService, clock: FakeClock
) -> None:
    """Found by the two-process test: staleness counts from the claim, not the due time."""
    await configure(service)
    clock.set(utc(2026, 1, 5, 10, 30))  # 90 minutes late, inside the grace period
    late = await service.run_schedule(GUILD)  # claimed, still being posted
    assert late.post is not None
    clock.advance(minutes=1)  # another process for the same shard starts now
    assert await service.recover() == []
    assert (await quiz_row(service, late.post.quiz_id)).status == "posting"
    clock.advance(minutes=10)  # really interrupted this time
    await service.recover()
    assert (await quiz_row(service, late.post.quiz_id)).status == "skipped"


async def test_answers_count_once_inside_the_window_and_extra_time_doubles_it(
    service: DailyService, tutor: Tutor, clock: FakeClock
) -> None:
    await configure(service)
    await service.set_extra_time(CAROL, True)
    clock.set(utc(2026, 1, 5, 9))
    quiz = await post(service)
    right = await correct_option(tutor, (await quiz_row(service, quiz.quiz_id)).item_ids[0])
    opened = await quiz_row(service, quiz.quiz_id)
    assert opened.closes_at == utc(2026, 1, 5, 10)  # Carol's extended window

    reply = await service.answer(ADMIN, option_token(quiz, option=right))
    assert "Correct" in reply.title and reply.private
    with pytest.raises(AlreadyAnswered):
        await service.answer(ADMIN, option_token(quiz, option=(right + 1) % 4))
    clock.set(utc(2026, 1, 5, 9, 31))
    with pytest.raises(ExpiredAction, match=CLOSED_MESSAGE):
        await service.answer(BOB, option_token(quiz, option=right))
    await service.answer(CAROL, option_token(quiz, option=right))  # extra time
    with pytest.raises(ExpiredAction):
        await service.answer(BOB, f"dq:{quiz.quiz_id}:999999:0")  # not this quiz's prompt


async def test_results_rank_ties_and_catch_up_lasts_the_local_day(
    service: DailyService, tutor: Tutor, clock: FakeClock
) -> None:
    await configure(service, questions=2, timezone="Europe/Berlin", time_text="10:00")
    clock.set(utc(2026, 1, 5, 9))  # 10:00 in Berlin
    quiz = await post(service)
    item_ids = (await quiz_row(service, quiz.quiz_id)).item_ids
    answers = [await correct_option(tutor, item) for item in item_ids]
    for who in (ADMIN, BOB):
        for number, right in enumerate(answers):
            await service.answer(who, option_token(quiz, number, right))
    await service.answer(CAROL, option_token(quiz, 0, (answers[0] + 1) % 4))

    clock.set(utc(2026, 1, 5, 9, 30))
    results = await service.close(quiz.quiz_id)
    assert results is not None and results.channel_id == 77
    assert await service.close(quiz.quiz_id) is None  # closed exactly once
    reply = results.reply
    assert reply.text == "3 members answered · 2 got everything right."
    top = next(f.value for f in reply.fields if f.name == "Top scorers")
    assert top == "🥇 Alice, Bob — 2/2"
    assert "✅ 2 of 3 answered correctly" in reply.fields[0].value
    assert [c.label for c in reply.choices] == ["Catch up"]

    catch_up = reply.choices[0].action
    first = await service.catch_up(CAROL, catch_up)
    assert first.private and first.title == "Daily quiz catch-up · question 2 of 2"
    await tutor.act(CAROL, first.choices[0].action)
    done = await service.catch_up(CAROL, catch_up)
    assert "All done" in done.title
    clock.set(utc(2026, 1, 5, 23, 0))  # midnight in Berlin
    with pytest.raises(ExpiredAction, match=CATCH_UP_EXPIRED):
        await service.catch_up(BOB, catch_up)


async def test_daily_questions_are_not_repeated_within_30_days(
    service: DailyService, clock: FakeClock
) -> None:
    await configure(service, questions=3)
    seen: list[list[int]] = []
    for day in range(4):
        clock.set(utc(2026, 1, 5 + day, 9))
        quiz = await post(service)
        seen.append((await quiz_row(service, quiz.quiz_id)).item_ids)
    first_nine = [item for items in seen[:3] for item in items]
    assert len(set(first_nine)) == 9  # ten questions in the bank
    fresh = set(seen[3]) - set(first_nine)
    assert len(fresh) == 1
    # Refilled from the quiz asked longest ago.
    assert set(seen[3]) - fresh <= set(seen[0])


async def test_skip_marks_today_or_closes_the_open_quiz(
    service: DailyService, clock: FakeClock
) -> None:
    await configure(service)
    clock.set(utc(2026, 1, 5, 8))
    reply, results = await service.skip_today(ADMIN)
    assert "won't be posted" in reply.text and results is None
    clock.set(utc(2026, 1, 5, 9))
    assert (await service.run_schedule(GUILD)).post is None
    again, _ = await service.skip_today(ADMIN)
    assert "already skipped" in again.text

    clock.set(utc(2026, 1, 6, 9))
    await post(service)
    closed, results = await service.skip_today(ADMIN)
    assert "closed it now" in closed.text and results is not None


async def test_reminders_go_to_members_with_reviews_due_once_a_day(
    service: DailyService, tutor: Tutor, clock: FakeClock
) -> None:
    reply = await service.set_reminder(BOB, True, time_text="18:00")
    assert "18:00 (UTC)" in reply.text
    with pytest.raises(BadInput):
        await service.set_reminder(BOB, True, timezone="Nowhere/Special")
    await service.set_reminder(CAROL, True, time_text="18:00")
    card = await tutor.review(BOB)
    revealed = await tutor.act(BOB, card.choices[0].action)
    await tutor.act(BOB, revealed.choice_for("good").action)  # type: ignore[union-attr]

    assert await service.due_reminders(utc(2026, 1, 5, 17)) == []  # not 18:00 yet
    later = utc(2026, 1, 30, 18, 5)
    notices = await service.due_reminders(later)
    assert [(n.external_id, n.due) for n in notices] == [("2", 1)]  # Carol has nothing due
    assert "1 review is due" in notices[0].reply.text
    assert await service.due_reminders(later + timedelta(hours=2)) == []
    assert len(await service.due_reminders(later + timedelta(days=1))) == 1
    await service.set_reminder(BOB, False)
    assert await service.due_reminders(later + timedelta(days=2)) == []
