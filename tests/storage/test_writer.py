"""Group-committed answers: stored once each, in batches, with repeats refused."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import func
from sqlmodel import select

from bot.errors import AlreadyAnswered, StorageError
from bot.storage import crud
from bot.storage.db import Database
from bot.storage.models import Attempt, Item, ReviewState
from bot.storage.writer import AnswerWriter

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


async def make_world(db: Database, members: int) -> tuple[list[int], int, int]:
    async with db.session() as s:
        item = Item(
            key="t/q",
            deck="t",
            slug="q",
            kind="mcq",
            difficulty="easy",
            payload={},
            content_hash="h",
        )
        s.add(item)
        users = [
            await crud.get_or_create_user(s, platform="local", external_id=f"u{n}")
            for n in range(members)
        ]
        await s.flush()
        prompt = await crud.create_prompt(
            s, item_id=item.id or 0, user_id=None, guild_id=None, mode="quiz", now=NOW
        )
        await s.commit()
        return [u.id or 0 for u in users], item.id or 0, prompt.id or 0


def answer(user_id: int, item_id: int, prompt_id: int, reps: int = 1) -> dict[str, object]:
    return {
        "attempt": {
            "user_id": user_id,
            "item_id": item_id,
            "prompt_id": prompt_id,
            "guild_id": None,
            "mode": "quiz",
            "answer": "x",
            "correct": True,
            "score": 1.0,
            "rating": 3,
            "duration_ms": 5,
            "created_at": NOW,
        },
        "state": {
            "user_id": user_id,
            "item_id": item_id,
            "state": 1,
            "step": 1,
            "stability": 2.0,
            "difficulty": 5.0,
            "due": NOW,
            "last_review": NOW,
            "reps": reps,
            "lapses": 0,
            "first_seen_at": NOW,
        },
    }


async def count(db: Database, model: type) -> int:
    async with db.session() as s:
        return int((await s.exec(select(func.count()).select_from(model))).one())


async def test_concurrent_answers_with_double_clicks_are_stored_once(db: Database) -> None:
    users, item_id, prompt_id = await make_world(db, 200)
    writer = AnswerWriter(db)
    submissions = [writer.submit(**answer(u, item_id, prompt_id)) for u in users]
    submissions += [writer.submit(**answer(u, item_id, prompt_id)) for u in users[:50]]
    results = await asyncio.gather(*submissions, return_exceptions=True)
    await writer.close()
    refused = [r for r in results if isinstance(r, AlreadyAnswered)]
    assert len(refused) == 50 and all(r is None or isinstance(r, AlreadyAnswered) for r in results)
    assert await count(db, Attempt) == 200
    assert await count(db, ReviewState) == 200
    assert writer.batches < 100  # grouped, not one commit per answer


async def test_a_second_answer_updates_the_state_and_keeps_first_seen(db: Database) -> None:
    users, item_id, prompt_id = await make_world(db, 1)
    writer = AnswerWriter(db)
    await writer.submit(**answer(users[0], item_id, prompt_id))
    async with db.session() as s:
        other = await crud.create_prompt(
            s, item_id=item_id, user_id=None, guild_id=None, mode="quiz", now=NOW
        )
        await s.commit()
    later = answer(users[0], item_id, other.id or 0, reps=2)
    later["state"]["first_seen_at"] = datetime(2030, 1, 1, tzinfo=UTC)  # type: ignore[index]
    await writer.submit(**later)  # type: ignore[arg-type]
    await writer.close()
    async with db.session() as s:
        state = (await s.exec(select(ReviewState))).one()
    assert state.reps == 2 and state.first_seen_at == NOW


async def test_one_bad_answer_does_not_sink_its_batch(db: Database) -> None:
    users, item_id, prompt_id = await make_world(db, 3)
    writer = AnswerWriter(db)
    good = [writer.submit(**answer(u, item_id, prompt_id)) for u in users]
    bad = writer.submit(**answer(999_999, item_id, prompt_id))  # no such member
    results = await asyncio.gather(*good, bad, return_exceptions=True)
    await writer.close()
    assert results[:3] == [None, None, None]
    assert isinstance(results[3], StorageError)
    assert await count(db, Attempt) == 3


@pytest.mark.parametrize("size", [1, 7])
async def test_close_flushes_everything(db: Database, size: int) -> None:
    users, item_id, prompt_id = await make_world(db, size)
    writer = AnswerWriter(db, max_batch=2)
    await asyncio.gather(*(writer.submit(**answer(u, item_id, prompt_id)) for u in users))
    await writer.close()
    assert await count(db, Attempt) == size
