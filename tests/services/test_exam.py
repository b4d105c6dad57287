"""``/exam`` over a temporary database: set, show, clear; the server's exam and a member's
own; servers apart; dates; the plan's numbers; the reminder's countdown line."""

from __future__ import annotations

import math
from datetime import date, timedelta

import pytest
from sqlalchemy import func
from sqlmodel import col, select

from bot.core.clock import FakeClock
from bot.core.exam_plan import plan_exam
from bot.core.learners import Learner
from bot.core.replies import Reply, plural
from bot.core.scheduling import CardState
from bot.errors import BadInput, NotFound
from bot.services.exam import ExamService, countdown, nearest_exam_day, parse_exam_date
from bot.services.reminders import ReminderService
from bot.services.server_settings import ServerSettingsService
from bot.services.study import StudyServices
from bot.services.study_context import user_id_of
from bot.storage.due_queue import save_review_state
from bot.storage.models import Exam, Item
from tests.daily_helpers import utc
from tests.study_helpers import seed_card, shown_item

SERVER_A = 7_000_001
SERVER_B = 7_000_002
DECK = "tensorflow-training-basics"
TODAY = date(2026, 1, 5)  # the fake clock's Monday


def on(server: int | None, external_id: str = "7", name: str = "Sam") -> Learner:
    return Learner("discord", external_id, name, guild_id=server, guild_name=f"S{server}")


def fields(reply: Reply) -> dict[str, str]:
    return {field.name: field.value for field in reply.fields}


@pytest.fixture
def exams(study: StudyServices) -> ExamService:
    return ExamService(study.context)


async def bundled_count(study: StudyServices) -> int:
    async with study.context.db.session() as session:
        statement = select(func.count()).select_from(Item).where(col(Item.guild_id).is_(None))
        return int((await session.exec(statement)).one())


def test_dates_are_read_in_three_ways_and_checked() -> None:
    assert parse_exam_date("2026-12-15", TODAY) == date(2026, 12, 15)
    assert parse_exam_date("15 Jan", TODAY) == date(2026, 1, 15)
    assert parse_exam_date("Jan 15", TODAY) == date(2026, 1, 15)
    assert parse_exam_date("  3 january ", TODAY) == date(2027, 1, 3)  # next occurrence
    assert parse_exam_date("Jan 5", TODAY) == TODAY  # today is allowed
    assert parse_exam_date("15 Jan 2026", TODAY) == date(2026, 1, 15)
    for bad, words in [
        ("yesterday", "couldn't read"),
        ("31 Feb", "couldn't read"),
        ("2026-13-01", "couldn't read"),
        ("", "couldn't read"),
        ("2026-01-04", "has passed"),
        ("2027-02-01", "more than a year"),
    ]:
        with pytest.raises(BadInput, match=words):
            parse_exam_date(bad, TODAY)


def test_countdown_wording() -> None:
    assert countdown(date(2027, 1, 15), date(2027, 1, 3)) == "Exam in 12 days — Fri 15 Jan"
    assert countdown(TODAY, TODAY) == "Exam today — Mon 5 Jan"
    assert countdown(TODAY + timedelta(days=1), TODAY).startswith("Exam tomorrow")


async def test_set_show_clear_with_a_sane_plan(exams: ExamService, study: StudyServices) -> None:
    sam = on(SERVER_A)
    none = await exams.show(sam)
    assert none.title == "No exam set" and "/exam set" in none.text
    reply = await exams.set(sam, "Jan 25", DECK)
    assert "Exam in 20 days — Sun 25 Jan" in reply.title
    total = await bundled_count(study)
    # Cut-off 3 days before: 17 days from today (included).
    per_day = math.ceil(total / 17)
    shown = await exams.show(sam)
    assert shown.private and shown.title == "📅 Exam in 20 days — Sun 25 Jan"
    assert f"Deck {DECK}" in shown.text and "90% recall" in shown.text
    assert f"{per_day} new card" in fields(shown)["New cards"]
    assert f"({total} not seen yet)" in fields(shown)["New cards"]
    assert "Thu 22 Jan" in fields(shown)["New cards"]
    assert fields(shown)["Reviews brought forward"].startswith("None needed")
    assert "Your own exam" in shown.footer
    cleared = await exams.clear(sam)
    assert cleared.title == "Exam cleared"
    assert (await exams.show(sam)).title == "No exam set"
    assert (await exams.clear(sam)).title == "Nothing to clear"


async def test_unknown_deck_and_server_wide_in_dms_are_refused(exams: ExamService) -> None:
    with pytest.raises(NotFound, match="no deck called"):
        await exams.set(on(SERVER_A), "Jan 25", "nope")
    with pytest.raises(BadInput, match="needs a server"):
        await exams.set(on(None), "Jan 25", server_wide=True)
    with pytest.raises(BadInput, match="needs a server"):
        await exams.clear(on(None), server_wide=True)
    dm = await exams.set(on(None), "Jan 25")  # a personal exam in DMs is fine
    assert "Exam in 20 days" in dm.title
    assert "Exam in 20 days" in (await exams.show(on(None))).title
    assert (await exams.show(on(SERVER_A))).title == "No exam set"


async def test_server_exam_own_exam_and_servers_apart(exams: ExamService) -> None:
    moderator, sam, kim = on(SERVER_A, "1", "Mo"), on(SERVER_A, "7"), on(SERVER_A, "8", "Kim")
    reply = await exams.set(moderator, "2026-03-01", server_wide=True)
    assert reply.title == "📅 Server exam set" and "for everyone here" in reply.text
    shared = await exams.show(kim)
    assert shared.title.startswith("📅 Exam in 55 days") and "whole server" in shared.footer
    await exams.set(sam, "2026-02-01")
    assert (await exams.show(sam)).title.startswith("📅 Exam in 27 days")  # own wins
    assert (await exams.show(kim)).title.startswith("📅 Exam in 55 days")
    assert (await exams.show(on(SERVER_B, "8", "Kim"))).title == "No exam set"
    await exams.clear(sam)
    assert (await exams.show(sam)).title.startswith("📅 Exam in 55 days")
    assert (await exams.clear(moderator, server_wide=True)).title == "Exam cleared"
    assert (await exams.show(kim)).title == "No exam set"
    async with exams.context.db.session() as session:
        assert (await session.exec(select(func.count()).select_from(Exam))).one() == 0


async def test_reviews_are_brought_forward_and_a_passed_exam_says_so(
    exams: ExamService, study: StudyServices, clock: FakeClock
) -> None:
    sam = on(SERVER_A)
    await exams.set(sam, "2026-01-25")
    ctx = study.context
    now = clock.now()
    async with ctx.db.session() as session:
        user_id = user_id_of(await ctx.member(session, sam))
        first = (
            await session.exec(select(Item.id).where(col(Item.guild_id).is_(None)).limit(1))
        ).one()
        assert first is not None
        card = CardState(
            due=now + timedelta(days=25),
            state=2,
            step=None,
            stability=10.0,
            difficulty=5.0,
            last_review=now,
        )
        await save_review_state(session, user_id=user_id, item_id=first, state=card, now=now)
        await session.commit()
    shown = await exams.show(sam)
    expected = plan_exam(TODAY, date(2026, 1, 25), {first: card}, 0, target=0.9)
    [(day, count)] = expected.pulled_per_day()
    assert count == 1 and TODAY < day < date(2026, 1, 25)
    label = f"{day:%a} {day.day} {day:%b}: 1"
    assert fields(shown)["Reviews brought forward"] == f"1 card in all — {label}."
    clock.advance(days=30)
    passed = await exams.show(sam)
    assert passed.title == "Exam was on Sun 25 Jan" and "has passed" in passed.text


def test_the_nearest_exam_counts_own_over_the_servers() -> None:
    exams = [
        Exam(guild_id=1, user_id=None, exam_on=date(2026, 2, 1)),
        Exam(guild_id=1, user_id=5, exam_on=date(2026, 3, 1)),
        Exam(guild_id=2, user_id=None, exam_on=date(2026, 4, 1)),
        Exam(guild_id=None, user_id=5, exam_on=date(2025, 12, 1)),
    ]
    assert nearest_exam_day(exams, TODAY) == date(2026, 3, 1)
    assert nearest_exam_day(exams[2:], date(2026, 5, 1)) is None


async def test_the_daily_reminder_mentions_the_countdown(
    exams: ExamService, study: StudyServices, clock: FakeClock
) -> None:
    sam = on(SERVER_A)
    reminders = ReminderService(study.context.db, clock=clock)
    await reminders.set_reminder(sam, True, time_text="18:00", timezone="UTC")
    card = await study.review.review(sam)
    revealed = await study.actions.act(sam, card.choices[0].action)
    await study.actions.act(sam, revealed.choice_for("good").action)  # type: ignore[union-attr]
    [plain] = await reminders.due_reminders(utc(2026, 1, 20, 18, 5))
    assert "Exam" not in plain.reply.text
    await exams.set(sam, "2026-01-25")
    [notice] = await reminders.due_reminders(utc(2026, 1, 21, 18, 5))
    assert "Exam in 4 days — Sun 25 Jan" in notice.reply.text


async def bundled_ids(study: StudyServices) -> list[int]:
    async with study.context.db.session() as session:
        statement = select(Item.id).where(col(Item.guild_id).is_(None)).order_by(col(Item.id))
        return [i for i in (await session.exec(statement)).all() if i is not None]


async def test_review_raises_the_new_card_cap_to_the_plans(
    exams: ExamService, study: StudyServices, clock: FakeClock
) -> None:
    settings = ServerSettingsService(study.context.db, clock=clock)
    sam, kim = on(SERVER_A), on(SERVER_A, "8", "Kim")
    await settings.set_new_per_day(on(SERVER_A, "1", "Mo"), 1)
    ids = await bundled_ids(study)
    later = clock.now() + timedelta(days=6)
    for learner in (sam, kim):
        await seed_card(study, learner, ids[0], due=later)  # today's one new card
    assert "caught up" in (await study.review.review(kim)).title  # no exam: the cap holds
    await exams.set(sam, "2026-01-09")  # cut-off tomorrow: 2 days for every card
    quota = math.ceil(len(ids) / 2)
    assert quota > 1
    shown = await study.review.review(sam)
    assert shown.footer.startswith("New · exam plan")
    assert f"Today: {plural(quota - 1, 'new card')}" in (await exams.show(sam)).text
    for item_id in ids[1:quota]:
        await seed_card(study, sam, item_id, due=later)
    assert "caught up" in (await study.review.review(sam)).title  # today's quota is done
    assert "Today: 0 new cards" in (await exams.show(sam)).text


async def test_review_serves_the_reviews_the_plan_brings_forward(
    exams: ExamService, study: StudyServices, clock: FakeClock
) -> None:
    sam = on(SERVER_A)
    now = clock.now()
    ids = await bundled_ids(study)
    await seed_card(
        study,
        sam,
        ids[3],
        due=now + timedelta(days=10),
        stability=3.0,
        reviewed=now - timedelta(days=3),
    )
    await exams.set(sam, "2026-01-07")
    pulled = await study.review.review(sam)
    assert pulled.footer.startswith("Review · brought forward for your exam")
    assert (await shown_item(study, pulled)).id == ids[3]
    assert "1 review brought forward" in (await exams.show(sam)).text
    # Reviewed today (as answering does): not served again today.
    await seed_card(study, sam, ids[3], due=now + timedelta(days=10), stability=3.0, reviewed=now)
    after = await study.review.review(sam)
    assert not after.footer.startswith("Review · brought forward")
    await exams.clear(sam)
