"""The /stats chart (a real PNG of a fixed size), its data, retention, and /stats itself."""

from __future__ import annotations

import struct
from datetime import UTC, date, datetime, timedelta

from bot.core.clock import FakeClock
from bot.core.learners import Learner
from bot.core.scheduling import Grade, SchedulerConfig, SpacedRepetition
from bot.core.stats import AnswerEvent, DayActivity, daily_activity, retention
from bot.services.charts import CHART_SIZE_PX, activity_chart_png
from bot.services.study import StudyServices

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_SIGNATURE and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_chart_is_a_png_of_the_fixed_size() -> None:
    days = [DayActivity(date(2026, 1, 1) + timedelta(days=n), n % 5, n % 3) for n in range(30)]
    assert png_size(activity_chart_png(days)) == CHART_SIZE_PX == (800, 400)


def test_chart_of_idle_days_still_draws() -> None:
    days = [DayActivity(date(2026, 1, 1) + timedelta(days=n)) for n in range(30)]
    assert png_size(activity_chart_png(days, size_px=(400, 200))) == (400, 200)


def test_daily_activity_fills_every_day_of_the_window() -> None:
    answers = [
        (NOW, True),
        (NOW - timedelta(hours=1), False),
        (NOW - timedelta(days=2), True),
        (NOW - timedelta(days=40), True),  # outside the window
    ]
    days = daily_activity(answers, today=NOW.date(), tz_name="UTC")
    assert len(days) == 30 and days[-1].day == NOW.date()
    assert (days[-1].answered, days[-1].correct, days[-1].accuracy_percent) == (2, 1, 50.0)
    assert days[-3].answered == 1 and days[-2].accuracy_percent is None
    assert sum(d.answered for d in days) == 3


def event(item: int, days: float, grade: Grade, guild: int | None = None) -> AnswerEvent:
    return AnswerEvent(
        item_id=item,
        created_at=NOW + timedelta(days=days),
        rating=int(grade),
        correct=grade != Grade.AGAIN,
        guild_id=guild,
    )


def test_retention_counts_only_reviews_of_learned_cards() -> None:
    srs = SpacedRepetition(SchedulerConfig(enable_fuzzing=False))
    events = [
        event(1, 0, Grade.EASY),  # new → learned (not a review)
        event(1, 10, Grade.GOOD),  # review, right
        event(1, 30, Grade.AGAIN),  # review, wrong → relearning
        event(1, 30.01, Grade.GOOD),  # relearning step, not a review
        event(2, 0, Grade.GOOD),  # learning steps only
        event(2, 0.01, Grade.AGAIN),
    ]
    kept = retention(events, since=NOW, srs=srs)
    assert (kept.reviews, kept.correct, kept.percent) == (2, 1, 50)
    # Only answers after `since` count, but earlier ones still decide the card's state.
    later = retention(events, since=NOW + timedelta(days=20), srs=srs)
    assert (later.reviews, later.correct) == (1, 0)
    assert retention([], since=NOW, srs=srs).percent is None


def test_retention_can_count_one_server_only() -> None:
    srs = SpacedRepetition(SchedulerConfig(enable_fuzzing=False))
    events = [event(1, 0, Grade.EASY, 5), event(1, 10, Grade.GOOD, 6), event(1, 40, Grade.GOOD, 5)]
    assert retention(events, since=NOW, srs=srs, guild_id=5).reviews == 1
    assert retention(events, since=NOW, srs=srs).reviews == 2


async def test_stats_reply_has_retention_and_the_chart(
    study: StudyServices, clock: FakeClock, alice: Learner
) -> None:
    empty = await study.stats.stats(alice)
    assert empty.image is None and "no chart" in empty.footer
    card = await study.review.review(alice)
    revealed = await study.actions.act(alice, card.choices[0].action)
    await study.actions.act(alice, revealed.choice_for("easy").action)  # type: ignore[union-attr]
    clock.advance(days=20)
    card = await study.review.review(alice)
    revealed = await study.actions.act(alice, card.choices[0].action)
    await study.actions.act(alice, revealed.choice_for("good").action)  # type: ignore[union-attr]
    reply = await study.stats.stats(alice)
    fields = {f.name: f.value for f in reply.fields}
    assert fields["Answered"] == "2" and fields["Retention (30 days)"] == "100% of 1 review"
    assert reply.image is not None and png_size(reply.image.data) == (800, 400)
    summary = await study.stats.stats_summary(alice)
    assert summary.recent_answers == 2 and summary.retention.reviews == 1
