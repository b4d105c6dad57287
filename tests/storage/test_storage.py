"""Storage on a temporary SQLite file: schema, pragmas, sync, idempotent answers, reopening."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, text
from sqlmodel import col, select

from bot.core import actions
from bot.core.answering import AnswerFacts, AnswerPlan, AnswerRequest, decide_answer
from bot.core.deck_files import DeckLibrary, load_deck_text
from bot.core.learners import Learner
from bot.core.scheduling import CardState, SpacedRepetition
from bot.errors import AlreadyAnswered, StorageError
from bot.services.study_context import ItemCache
from bot.storage import crud, due_queue
from bot.storage.answer_store import open_answer_store
from bot.storage.db import Database
from bot.storage.models import Attempt, Item, ReviewState
from tests.conftest import TEST_DATABASE_URL

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

DECK = """\
deck: mini
title: Mini deck
items:
  - id: card-one
    kind: flashcard
    front: What is a weight?
    back: A number the model learns.
  - id: q-one
    kind: mcq
    question: What does training adjust?
    options: [Weights, Data]
    answer: A
    explanation: Training changes weights.
    difficulty: easy
"""


def library_from(*texts: str) -> DeckLibrary:
    decks, problems = [], []
    for n, body in enumerate(texts):
        deck, found = load_deck_text(body, f"deck{n}.yaml")
        problems.extend(found)
        if deck is not None:
            decks.append(deck)
    return DeckLibrary(decks=decks, problems=problems)


async def test_migrations_create_schema_with_pragmas(db: Database) -> None:
    async with db.engine.connect() as conn:
        tables = set(await conn.run_sync(lambda sync: inspect(sync).get_table_names()))
        assert {"users", "items", "review_states", "attempts", "prompts", "guilds"} <= tables
        assert "alembic_version" in tables
        if not db.is_sqlite:
            return
        assert (await conn.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
        assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar() == 1
        assert (await conn.execute(text("PRAGMA busy_timeout"))).scalar() == 5000


async def test_sync_adds_updates_and_retires_items(db: Database) -> None:
    async with db.session() as s:
        report = await crud.sync_bundled_items(s, library=library_from(DECK))
        await s.commit()
    assert report.added == 2
    edited = DECK.replace("A number the model learns.", "A learned number.")
    edited = edited.split("  - id: q-one")[0]
    async with db.session() as s:
        report = await crud.sync_bundled_items(s, library=library_from(edited))
        await s.commit()
        assert (report.updated, report.deactivated) == (1, 1)
        items = {i.slug: i for i in (await s.exec(select(Item))).all()}
    assert items["card-one"].payload["back"] == "A learned number."
    assert items["q-one"].active is False


async def test_a_broken_deck_file_does_not_retire_other_items(db: Database) -> None:
    async with db.session() as s:
        await crud.sync_bundled_items(s, library=library_from(DECK))
        await s.commit()
    broken = library_from("deck: [unclosed")
    async with db.session() as s:
        report = await crud.sync_bundled_items(s, library=broken)
        await s.commit()
    assert report.deactivated == 0


async def _setup_member(db: Database) -> tuple[int, int, int]:
    async with db.session() as s:
        await crud.sync_bundled_items(s, library=library_from(DECK))
        user = await crud.get_or_create_user(s, platform="local", external_id="ann")
        item = (await s.exec(select(Item).where(Item.slug == "q-one"))).one()
        prompt = await crud.create_prompt(
            s, item_id=item.id or 0, user_id=user.id, guild_id=None, mode="quiz", now=NOW
        )
        await s.commit()
        return user.id or 0, item.id or 0, prompt.id or 0


def _decide(facts: AnswerFacts) -> AnswerPlan:
    """Right answer to the prompt, decided by the real rules."""
    request = AnswerRequest(
        learner=Learner("local", "ann", "Ann"),
        action=actions.Answer(facts.prompt.id if facts.prompt else 0, 0),
        text=None,
        now=NOW,
        window_checked=False,
    )
    return decide_answer(request, facts, item_of=ItemCache().of_prompt, srs=SpacedRepetition())


def _lookup(prompt_id: int) -> dict[str, object]:
    return {
        "platform": "local",
        "external_id": "ann",
        "display_name": "Ann",
        "prompt_id": prompt_id,
        "now": NOW,
    }


async def test_an_answer_is_recorded_exactly_once(db: Database) -> None:
    _user_id, _item_id, prompt_id = await _setup_member(db)
    store = open_answer_store(db.url)
    plan = await store.record(_lookup(prompt_id), _decide)
    assert plan.attempt.correct and plan.outcome.state.reps == 1
    with pytest.raises(AlreadyAnswered, match="already answered"):
        await store.record(_lookup(prompt_id), _decide)
    await store.close()
    async with db.session() as s:
        assert len((await s.exec(select(Attempt))).all()) == 1
        assert len((await s.exec(select(ReviewState))).all()) == 1


async def test_data_survives_reopening_the_database(db_url: str) -> None:
    first = Database(db_url)
    await first.connect()
    user_id, _item_id, prompt_id = await _setup_member(first)
    store = open_answer_store(first.url)
    await store.record(_lookup(prompt_id), _decide)
    await store.close()
    await first.close()
    second = Database(db_url)
    await second.connect()  # migrations are a no-op the second time
    async with second.session() as s:
        assert (await crud.attempt_totals(s, user_id=user_id)) == (1, 1)
    await second.close()


def test_only_sqlite_files_and_postgresql_store_answers() -> None:
    with pytest.raises(StorageError, match="DATABASE_URL must point at"):
        open_answer_store("sqlite+aiosqlite://")
    with pytest.raises(StorageError, match="DATABASE_URL must point at"):
        open_answer_store("mysql+aiomysql://u:p@localhost/db")


async def test_due_queue_orders_by_due_and_respects_server_scope(db: Database) -> None:
    async with db.session() as s:
        await crud.sync_bundled_items(s, library=library_from(DECK))
        await crud.ensure_guild(s, guild_id=42)
        user = await crud.get_or_create_user(s, platform="discord", external_id="7")
        private = Item(
            key="g42/mini/extra",
            deck="mini",
            slug="extra",
            kind="flashcard",
            difficulty="easy",
            guild_id=42,
            content_hash="x",
            payload={"id": "extra", "kind": "flashcard", "front": "F", "back": "B"},
        )
        s.add(private)
        await s.flush()
        items = (await s.exec(select(Item).order_by(col(Item.id)))).all()
        for offset, item in enumerate(items):
            state = CardState(due=NOW - timedelta(hours=offset))
            await due_queue.save_review_state(
                s, user_id=user.id or 0, item_id=item.id or 0, state=state, now=NOW
            )
        await s.commit()
        in_dm = await due_queue.next_due_item(s, user_id=user.id or 0, guild_id=None, now=NOW)
        in_guild = await due_queue.next_due_item(s, user_id=user.id or 0, guild_id=42, now=NOW)
        assert in_dm is not None and in_dm.slug == "q-one"
        assert in_guild is not None and in_guild.slug == "extra"
        assert await due_queue.count_due(s, user_id=user.id or 0, guild_id=None, now=NOW) == 2
        assert await due_queue.count_due(s, user_id=user.id or 0, guild_id=42, now=NOW) == 3
        assert await crud.deck_names(s, guild_id=None) == ["mini"]


async def test_user_creation_is_idempotent(db: Database) -> None:
    async with db.session() as s:
        first = await crud.get_or_create_user(
            s, platform="local", external_id="x", display_name="X"
        )
        again = await crud.get_or_create_user(
            s, platform="local", external_id="x", display_name="Y"
        )
        await s.commit()
    assert first.id == again.id and again.display_name == "Y"


sqlite_only = pytest.mark.skipif(
    bool(TEST_DATABASE_URL), reason="SQLite file handling (TEST_DATABASE_URL points elsewhere)"
)


@sqlite_only
async def test_corrupt_file_gives_a_friendly_error_and_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "tutor.db"
    path.write_bytes(b"this is not a database" * 200)
    before = path.read_bytes()
    database = Database(f"sqlite+aiosqlite:///{path}")
    with pytest.raises(StorageError) as caught:
        await database.connect()
    await database.close()
    assert "damaged" in caught.value.message and "Move it aside" in caught.value.message
    assert path.read_bytes() == before


@sqlite_only
async def test_unwritable_location_gives_a_friendly_error(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    (folder / "tutor.db").mkdir()  # a directory where the file should be
    database = Database(f"sqlite+aiosqlite:///{folder / 'tutor.db'}")
    with pytest.raises(StorageError) as caught:
        await database.connect()
    await database.close()
    assert "database" in caught.value.message


async def test_migrations_match_the_models(db: Database) -> None:
    """Alembic's autogenerate finds nothing to add: the tables come from migrations only."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlmodel import SQLModel

    def diff(connection: Any) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        return list(compare_metadata(context, SQLModel.metadata))

    async with db.engine.connect() as conn:
        assert await conn.run_sync(diff) == []
