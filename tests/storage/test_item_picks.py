"""Choosing questions from a big bank without loading it: counting and reaching the n-th
filtered item agree exactly with the plain list, and use the index on SQLite."""

from __future__ import annotations

import random
from typing import Any

import pytest

from bot.storage import crud
from bot.storage.db import Database
from bot.storage.models import Item

GUILDS = (601, 602)
KINDS = ("flashcard", "mcq", "practice", "explain")
LEVELS = ("easy", "medium", "hard")


async def _bank(db: Database, rng: random.Random, size: int) -> None:
    async with db.session() as s:
        for guild_id in GUILDS:
            await crud.ensure_guild(s, guild_id=guild_id)
        s.add_all(
            Item(
                key=f"k{n}",
                deck=f"deck{rng.randrange(3)}",
                slug=f"s{n}",
                kind=rng.choice(KINDS),
                difficulty=rng.choice(LEVELS),
                guild_id=rng.choice([None, None, *GUILDS]),
                payload={"id": f"s{n}"},
                content_hash="x",
                active=rng.random() > 0.1,
            )
            for n in range(size)
        )
        await s.commit()


FILTERS: list[dict[str, Any]] = [
    {},
    {"kinds": ("mcq", "practice")},
    {"kinds": ("mcq",), "deck": "deck1"},
    {"kinds": ("mcq", "practice", "explain"), "difficulty": "hard"},
    {"deck": "deck2", "difficulty": "easy"},
    {"deck": "no-such-deck"},
]


@pytest.mark.parametrize("where", FILTERS, ids=lambda f: ",".join(f) or "all")
@pytest.mark.parametrize("guild_id", [None, GUILDS[0]])
async def test_counting_and_reaching_items_match_the_full_list(
    db: Database, where: dict[str, Any], guild_id: int | None
) -> None:
    await _bank(db, random.Random(11), 240)
    async with db.session() as s:
        expected = await crud.active_items(s, guild_id=guild_id, **where)
        count = await crud.count_active_items(s, guild_id=guild_id, **where)
        assert count == len(expected)
        reached = [
            await crud.nth_active_item(s, index, guild_id=guild_id, **where)
            for index in range(count)
        ]
        assert sorted(item.id or 0 for item in reached if item) == [i.id for i in expected]
        assert await crud.nth_active_item(s, count, guild_id=guild_id, **where) is None
        refs = await crud.active_item_refs(s, guild_id=guild_id, **where)
        assert [(r.id, r.kind, r.difficulty) for r in refs] == [
            (i.id, i.kind, i.difficulty) for i in expected
        ]
        picked = [ref.id for ref in refs[::-3]]
        assert [i.id for i in await crud.items_by_ids(s, picked)] == picked


async def test_the_random_pick_reads_the_index_not_the_bank(db: Database) -> None:
    if not db.is_sqlite:
        pytest.skip("EXPLAIN QUERY PLAN is SQLite's")
    await _bank(db, random.Random(3), 300)
    plans: list[str] = []
    async with db.engine.connect() as connection:
        for sql in (
            "SELECT count(*) FROM items WHERE items.guild_id IS NULL AND items.active = 1 "
            "AND items.kind IN ('mcq', 'practice')",
            "SELECT items.id FROM items WHERE items.guild_id = 601 AND items.active = 1 "
            "AND items.kind IN ('mcq', 'practice') AND items.deck = 'deck1' "
            "ORDER BY items.kind, items.deck, items.difficulty, items.id LIMIT 1 OFFSET 5",
        ):
            rows = await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}")
            plans.append("\n".join(str(row[-1]) for row in rows))
    for plan in plans:
        assert "COVERING INDEX ix_items_pick" in plan, plan
        assert "TEMP B-TREE" not in plan, plan
