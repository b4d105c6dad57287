"""Daily-quiz storage: the database allows one quiz per server per local date, even when
two processes race, and every status change or reminder claim happens once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from bot.storage import crud
from bot.storage import daily as store
from bot.storage.db import Database
from bot.storage.models import DailyQuiz

GUILD = 777
NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


async def make_guild(db: Database) -> None:
    async with db.session() as session:
        await crud.ensure_guild(session, guild_id=GUILD, name="Hall")
        await session.commit()


async def claim(db: Database, local_date: str = "2026-01-05") -> DailyQuiz | None:
    async with db.session() as session:
        return await store.claim_daily_quiz(
            session,
            guild_id=GUILD,
            local_date=local_date,
            scheduled_for=NOW,
            channel_id=1,
            now=NOW + timedelta(minutes=3),
        )


async def test_two_processes_racing_claim_one_quiz_per_local_date(db: Database) -> None:
    await make_guild(db)
    other = Database(db.url)  # a second process: its own engine and connections
    try:
        for day in range(1, 9):
            local_date = f"2026-02-{day:02d}"
            first, second = await asyncio.gather(claim(db, local_date), claim(other, local_date))
            assert (first is None) != (second is None), local_date
        async with db.session() as session:
            rows = await store.quizzes_with_status(session, statuses=[store.POSTING])
        assert sorted(r.local_date for r in rows) == [f"2026-02-{d:02d}" for d in range(1, 9)]
    finally:
        await other.close()


async def test_a_claimed_date_stays_claimed_whatever_its_status(db: Database) -> None:
    await make_guild(db)
    quiz = await claim(db)
    assert quiz is not None and quiz.id is not None
    async with db.session() as session:
        assert await store.set_quiz_status(
            session, quiz_id=quiz.id, from_statuses=[store.POSTING], to_status=store.SKIPPED
        )
    assert await claim(db) is None
    assert await claim(db, "2026-01-06") is not None


async def test_status_changes_happen_once(db: Database) -> None:
    await make_guild(db)
    quiz = await claim(db)
    assert quiz is not None and quiz.id is not None
    quiz_id = quiz.id
    async with db.session() as session:
        assert await store.set_quiz_status(
            session,
            quiz_id=quiz_id,
            from_statuses=[store.POSTING],
            to_status=store.OPEN,
            values={"posted_at": NOW, "closes_at": NOW},
        )

    async def close(database: Database) -> bool:
        async with database.session() as session:
            return await store.set_quiz_status(
                session, quiz_id=quiz_id, from_statuses=[store.OPEN], to_status=store.CLOSED
            )

    other = Database(db.url)
    try:
        assert sorted(await asyncio.gather(close(db), close(other))) == [False, True]
        async with other.session() as session:
            assert not await store.release_daily_quiz(session, quiz_id=quiz_id)  # posted
    finally:
        await other.close()
    async with db.session() as session:
        row = await store.get_daily_quiz(session, guild_id=GUILD, local_date="2026-01-05")
    assert row is not None and row.status == store.CLOSED and row.posted_at == NOW


async def test_releasing_an_unposted_claim_frees_the_date(db: Database) -> None:
    await make_guild(db)
    quiz = await claim(db)
    assert quiz is not None and quiz.id is not None
    async with db.session() as session:
        assert await store.release_daily_quiz(session, quiz_id=quiz.id)
    assert await claim(db) is not None


async def test_recent_items_keep_the_latest_date_per_item(db: Database) -> None:
    await make_guild(db)
    for local_date, items in [("2026-01-01", [1, 2]), ("2026-01-03", [2, 3]), ("2025-11-01", [4])]:
        quiz = await claim(db, local_date)
        assert quiz is not None
        async with db.session() as session:
            quiz.item_ids = items
            session.add(quiz)
            await session.commit()
    async with db.session() as session:
        used = await store.recent_daily_items(session, guild_id=GUILD, since_date="2025-12-06")
    assert used == {1: "2026-01-01", 2: "2026-01-03", 3: "2026-01-03"}


async def test_a_reminder_is_claimed_once_per_local_date(db: Database) -> None:
    async with db.session() as session:
        user = await crud.get_or_create_user(session, platform="discord", external_id="5")
        await session.commit()
    assert user.id is not None
    other = Database(db.url)
    try:

        async def claim_reminder(database: Database, day: str) -> bool:
            async with database.session() as session:
                return await store.claim_reminder(session, user_id=user.id or 0, local_date=day)

        both = await asyncio.gather(
            claim_reminder(db, "2026-01-05"), claim_reminder(other, "2026-01-05")
        )
        assert sorted(both) == [False, True]
        assert await claim_reminder(db, "2026-01-06")
    finally:
        await other.close()
