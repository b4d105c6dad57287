"""The daily quiz on a database with a fake clock: posting once, missed runs, recovery,
answer windows, results, catch-up, repeats and skipping."""

from __future__ import annotations

import logging
from datetime import date

import pytest

from bot.core.clock import FakeClock
from bot.core.daily import DailyPost
from bot.errors import AlreadyAnswered, BadInput, ExpiredAction
from bot.services.daily_quiz import CATCH_UP_EXPIRED, CLOSED_MESSAGE, DailyQuizService
from bot.services.server_settings import ServerSettingsService
from bot.services.study import StudyServices
from bot.storage.db import Database
from bot.storage.models import DailyQuiz, Item
from tests.daily_helpers import (
    ADMIN,
    BOB,
    CAROL,
    GUILD,
    configure,
    daily_quiz_service,
    utc,
)


@pytest.fixture
def settings(db: Database, clock: FakeClock) -> ServerSettingsService:
    return ServerSettingsService(db, clock=clock)


@pytest.fixture
def service(db: Database, study: StudyServices, clock: FakeClock) -> DailyQuizService:
    return daily_quiz_service(db, study, clock)


async def post(service: DailyQuizService) -> DailyPost:
    outcome = await service.run_schedule(GUILD)
    assert outcome.post is not None
    await service.mark_open(outcome.post.quiz_id, message_id=1000 + outcome.post.quiz_id)
    return outcome.post


def option_token(post: DailyPost, number: int = 0, option: int = 0) -> str:
    return post.questions[number].choices[option].action


async def correct_option(study: StudyServices, item_id: int) -> int:
    async with study.context.db.session() as session:
        row = await session.get(Item, item_id)
        assert row is not None
    return "ABCDEF".index(row.payload["answer"])


async def quiz_row(service: DailyQuizService, quiz_id: int) -> DailyQuiz:
    async with service.db.session() as session:
        row = await session.get(DailyQuiz, quiz_id)
        assert row is not None
        return row


async def test_a_run_posts_once_even_when_checked_again_or_by_a_second_process(
    service: DailyQuizService,
    settings: ServerSettingsService,
    db: Database,
    study: StudyServices,
    clock: FakeClock,
) -> None:
    await configure(settings)
    clock.set(utc(2026, 1, 5, 8, 59))
    assert (await service.run_schedule(GUILD)).post is None  # not yet
    clock.set(utc(2026, 1, 5, 9, 0))
    posted = await service.run_schedule(GUILD)
    assert posted.post is not None and posted.post.local_date == date(2026, 1, 5)
    assert posted.next_run is not None and posted.next_run.at == utc(2026, 1, 6, 9)
    assert (await service.run_schedule(GUILD)).post is None
    other_process = daily_quiz_service(Database(db.url), study, clock)
    try:
        assert (await other_process.run_schedule(GUILD)).post is None
    finally:
        await other_process.db.close()
    with pytest.raises(BadInput, match="one per day"):
        await service.start_now(ADMIN, channel_id=77)


async def test_after_a_restart_a_missed_run_is_posted_late_within_grace(
    service: DailyQuizService, settings: ServerSettingsService, clock: FakeClock
) -> None:
    await configure(settings)
    clock.set(utc(2026, 1, 5, 10, 45))  # the bot was down at 09:00
    outcome = await service.run_schedule(GUILD)
    assert outcome.post is not None
    opened = await service.mark_open(outcome.post.quiz_id, 5)
    assert opened is not None and opened.closes_at == utc(2026, 1, 5, 11, 15)


async def test_after_a_restart_a_run_missed_beyond_grace_is_skipped(
    service: DailyQuizService,
    settings: ServerSettingsService,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await configure(settings)
    clock.set(utc(2026, 1, 5, 11, 30))
    with caplog.at_level(logging.WARNING, logger="bot.services.daily_quiz"):
        outcome = await service.run_schedule(GUILD)
    assert outcome.post is None and outcome.next_run is not None
    assert outcome.next_run.at == utc(2026, 1, 6, 9)
    assert "skipping guild 4242's daily quiz for 2026-01-05" in caplog.text


async def test_open_quizzes_are_recovered_and_interrupted_posts_given_up(
    service: DailyQuizService, settings: ServerSettingsService, clock: FakeClock
) -> None:
    await configure(settings)
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
    service: DailyQuizService, settings: ServerSettingsService, clock: FakeClock
) -> None:
    """Found by the two-process test: staleness counts from the claim, not the due time."""
    await configure(settings)
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
    service: DailyQuizService,
    settings: ServerSettingsService,
    study: StudyServices,
    clock: FakeClock,
) -> None:
    await configure(settings)
    await settings.set_extra_time(CAROL, True)
    clock.set(utc(2026, 1, 5, 9))
    quiz = await post(service)
    right = await correct_option(study, (await quiz_row(service, quiz.quiz_id)).item_ids[0])
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
    service: DailyQuizService,
    settings: ServerSettingsService,
    study: StudyServices,
    clock: FakeClock,
) -> None:
    await configure(settings, questions=2, timezone="Europe/Berlin", time_text="10:00")
    clock.set(utc(2026, 1, 5, 9))  # 10:00 in Berlin
    quiz = await post(service)
    item_ids = (await quiz_row(service, quiz.quiz_id)).item_ids
    answers = [await correct_option(study, item) for item in item_ids]
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
    assert reply.footer.endswith("until midnight (Europe/Berlin).")

    catch_up = reply.choices[0].action
    first = await service.catch_up(CAROL, catch_up)
    assert first.private and first.title == "Daily quiz catch-up · question 2 of 2"
    await study.actions.act(CAROL, first.choices[0].action)
    done = await service.catch_up(CAROL, catch_up)
    assert "All done" in done.title
    clock.set(utc(2026, 1, 5, 23, 0))  # midnight in Berlin
    with pytest.raises(ExpiredAction, match=CATCH_UP_EXPIRED):
        await service.catch_up(BOB, catch_up)


async def test_daily_questions_are_not_repeated_within_30_days(
    service: DailyQuizService, settings: ServerSettingsService, clock: FakeClock
) -> None:
    await configure(settings, questions=3)
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
    service: DailyQuizService, settings: ServerSettingsService, clock: FakeClock
) -> None:
    await configure(settings)
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


async def test_the_server_time_zone_moves_the_daily_quiz(
    service: DailyQuizService, settings: ServerSettingsService, clock: FakeClock
) -> None:
    await configure(settings)  # 09:00 UTC
    await settings.set_timezone(ADMIN, "Asia/Tokyo")
    schedule = await service.schedule(GUILD)
    assert schedule is not None and schedule.timezone == "Asia/Tokyo"
    clock.set(utc(2026, 1, 5, 0, 0))  # 09:00 in Tokyo
    outcome = await service.run_schedule(GUILD)
    assert outcome.post is not None and outcome.post.local_date == date(2026, 1, 5)
    assert outcome.next_run is not None and outcome.next_run.at == utc(2026, 1, 6, 0)


async def test_a_server_without_a_time_zone_uses_the_bots_default(
    db: Database, study: StudyServices, clock: FakeClock
) -> None:
    tokyo = DailyQuizService(
        db,
        clock=clock,
        presenter=study.practice,
        answers=study.actions,
        default_timezone="asia/tokyo",
    )
    assert tokyo.default_timezone == "Asia/Tokyo"
    clock.set(utc(2026, 1, 5, 16))  # already the 6th in Tokyo
    reply, _ = await tokyo.skip_today(ADMIN)
    assert "(2026-01-06)" in reply.text
    with pytest.raises(BadInput, match="IANA name"):
        DailyQuizService(
            db, clock=clock, presenter=study.practice, answers=study.actions, default_timezone="x"
        )
