"""Exams table: migration 0010 creates and drops it; set replaces, scopes stay apart."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from alembic import command
from sqlalchemy import text

from bot.core.scheduling import CardState
from bot.storage import crud
from bot.storage import exams as store
from bot.storage.db import Database, alembic_config
from bot.storage.due_queue import save_review_state
from bot.storage.models import Item

NOW = datetime(2026, 1, 5, 9, tzinfo=UTC)
GUILD = 7_000_001
OTHER = 7_000_002


def migrate(connection: Any, revision: str, *, down: bool = False) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    (command.downgrade if down else command.upgrade)(config, revision)


async def test_upgrading_creates_the_table_and_downgrading_drops_it(db: Database) -> None:
    async with db.engine.begin() as connection:
        await connection.run_sync(migrate, "0009", down=True)
        await connection.run_sync(migrate, "head")
        await connection.execute(
            text(
                "INSERT INTO exams (guild_id, user_id, deck, exam_on, created_at, set_by) "
                "VALUES (NULL, 4, NULL, '2027-01-15', '2026-01-05', 4)"
            )
        )
    async with db.session() as session:
        found = await store.find_exam(session, guild_id=None, user_id=4)
        assert found is not None and found.exam_on == date(2027, 1, 15)
    async with db.engine.begin() as connection:
        await connection.run_sync(migrate, "0009", down=True)
        await connection.run_sync(migrate, "head")
    async with db.session() as session:
        assert await store.find_exam(session, guild_id=None, user_id=4) is None


async def test_setting_replaces_and_own_wins_over_the_servers(db: Database) -> None:
    async with db.session() as session:
        await crud.ensure_guild(session, guild_id=GUILD, name="Hall")
        await crud.ensure_guild(session, guild_id=OTHER, name="Other")
        for day in (date(2026, 3, 1), date(2026, 4, 1)):
            await store.replace_exam(
                session, guild_id=GUILD, user_id=None, deck=None, exam_on=day, set_by=1, now=NOW
            )
        await store.replace_exam(
            session,
            guild_id=GUILD,
            user_id=5,
            deck="d",
            exam_on=date(2026, 2, 1),
            set_by=5,
            now=NOW,
        )
        await store.replace_exam(
            session,
            guild_id=OTHER,
            user_id=5,
            deck=None,
            exam_on=date(2026, 5, 1),
            set_by=5,
            now=NOW,
        )
        await session.commit()
    async with db.session() as session:
        server = await store.find_exam(session, guild_id=GUILD, user_id=None)
        assert server is not None and server.exam_on == date(2026, 4, 1)  # replaced, not added
        own = await store.effective_exam(session, guild_id=GUILD, user_id=5)
        assert own is not None and own.deck == "d" and own.user_id == 5
        others = await store.effective_exam(session, guild_id=GUILD, user_id=6)
        assert others is not None and others.user_id is None
        assert await store.effective_exam(session, guild_id=OTHER, user_id=6) is None
        assert await store.effective_exam(session, guild_id=None, user_id=5) is None
        everything = await store.member_exams(session, user_id=5, guild_ids=[GUILD])
        assert sorted(e.exam_on for e in everything) == [
            date(2026, 2, 1),
            date(2026, 4, 1),
            date(2026, 5, 1),
        ]
        assert len(await store.member_exams(session, user_id=6, guild_ids=[])) == 0
        assert await store.delete_exam(session, guild_id=GUILD, user_id=5) == 1
        assert await store.delete_exam(session, guild_id=GUILD, user_id=5) == 0
        await session.commit()
    async with db.session() as session:
        fallback = await store.effective_exam(session, guild_id=GUILD, user_id=5)
        assert fallback is not None and fallback.user_id is None


async def test_cards_and_unseen_in_scope(db: Database) -> None:
    async with db.session() as session:
        await crud.ensure_guild(session, guild_id=GUILD, name="Hall")
        await crud.ensure_guild(session, guild_id=OTHER, name="Other")
        user = await crud.get_or_create_user(session, platform="local", external_id="ann")
        assert user.id is not None
        items = []
        for index, (guild, deck) in enumerate(
            [(None, "a"), (None, "a"), (None, "b"), (GUILD, "a"), (OTHER, "a")]
        ):
            item = Item(
                key=f"k{index}",
                deck=deck,
                slug=f"s{index}",
                kind="flashcard",
                difficulty="easy",
                guild_id=guild,
                payload={},
                content_hash="h",
            )
            session.add(item)
            items.append(item)
        await session.flush()
        state = CardState(
            due=NOW + timedelta(days=3),
            state=2,
            step=None,
            stability=3.0,
            difficulty=5.0,
            last_review=NOW,
        )
        for item in (items[0], items[3], items[4]):
            assert item.id is not None
            await save_review_state(session, user_id=user.id, item_id=item.id, state=state, now=NOW)
        await session.commit()
        uid = user.id
    async with db.session() as session:
        cards = await store.exam_cards(session, user_id=uid, guild_id=GUILD, deck=None)
        assert set(cards) == {items[0].id, items[3].id}  # OTHER's own card never shows here
        assert next(iter(cards.values())).stability == 3.0
        assert await store.count_unseen_in(session, user_id=uid, guild_id=GUILD, deck=None) == 2
        assert await store.count_unseen_in(session, user_id=uid, guild_id=GUILD, deck="a") == 1
        assert await store.count_unseen_in(session, user_id=uid, guild_id=None, deck="b") == 1
        in_b = await store.exam_cards(session, user_id=uid, guild_id=GUILD, deck="b")
        assert in_b == {}
