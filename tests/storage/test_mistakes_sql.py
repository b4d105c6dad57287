"""The mistakes query (``bot.storage.mistakes``) chooses what a plain computation over the
same attempts chooses, in the same order, on SQLite and PostgreSQL; and walks an index."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Connection

from bot.storage import crud
from bot.storage.db import Database
from bot.storage.mistakes import (
    MISTAKE_WINDOW,
    RIGHT_IN_A_ROW,
    Mistake,
    count_mistakes,
    mistakes,
    next_mistake,
)
from bot.storage.models import Attempt, Item

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
GUILDS = (701, 702)


@dataclass(frozen=True, slots=True)
class Row:
    """One stored attempt, as the reference computation sees it."""

    id: int
    user_id: int
    item_id: int
    guild_id: int | None
    correct: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Bank:
    """Items as (id, owner guild, active, tags) and the attempts, in id order."""

    items: dict[int, tuple[int | None, bool, str]]
    attempts: list[Row]
    users: list[int]


def make_item(n: int, *, guild_id: int | None = None, active: bool = True, tags: str = "") -> Item:
    return Item(
        key=f"k{n}",
        deck="deck",
        slug=f"s{n}",
        kind="mcq",
        difficulty="easy",
        guild_id=guild_id,
        payload={"id": f"s{n}"},
        content_hash="x",
        active=active,
        tags=tags,
    )


async def add_attempt(
    db: Database,
    *,
    user_id: int,
    item_id: int,
    guild_id: int | None,
    correct: bool,
    at: datetime,
) -> int:
    """Store one answer (its prompt too: attempts point at prompts); returns its id."""
    async with db.session() as s:
        prompt = await crud.create_prompt(
            s, item_id=item_id, user_id=user_id, guild_id=guild_id, mode="quiz", now=at
        )
        attempt = Attempt(
            user_id=user_id,
            item_id=item_id,
            prompt_id=prompt.id or 0,
            guild_id=guild_id,
            mode="quiz",
            correct=correct,
            rating=3 if correct else 1,
            created_at=at,
        )
        s.add(attempt)
        await s.commit()
        return attempt.id or 0


async def build_bank(db: Database, rng: random.Random, *, items: int, users: int) -> Bank:
    """Random items (bundled, either server's, some retired, some tagged) and answers."""
    async with db.session() as s:
        for guild_id in GUILDS:
            await crud.ensure_guild(s, guild_id=guild_id)
        rows = [
            make_item(
                n,
                guild_id=rng.choice([None, None, *GUILDS]),
                active=rng.random() > 0.1,
                tags=rng.choice(["", " bio ", " bio chem ", " chem "]),
            )
            for n in range(items)
        ]
        s.add_all(rows)
        user_ids: list[int] = []
        for u in range(users):
            user = await crud.get_or_create_user(s, platform="discord", external_id=f"u{u}")
            user_ids.append(user.id or 0)
        await s.commit()
        bank_items = {row.id or 0: (row.guild_id, row.active, row.tags) for row in rows}
    # Answers in time order (ids grow with time, as the answer stores append them), some
    # older than the window; each member sticks to a few items so runs of answers form.
    moments = sorted(
        NOW - timedelta(minutes=rng.randrange(0, 20 * 24 * 60)) for _ in range(users * 40)
    )
    ids = list(bank_items)
    favourites = {user_id: rng.sample(ids, 6) for user_id in user_ids}
    attempts = []
    for at in moments:
        user_id = rng.choice(user_ids)
        item_id = rng.choice(favourites[user_id])
        where = rng.choice([None, *GUILDS])
        correct = rng.random() < 0.6
        attempt_id = await add_attempt(
            db, user_id=user_id, item_id=item_id, guild_id=where, correct=correct, at=at
        )
        attempts.append(Row(attempt_id, user_id, item_id, where, correct, at))
    return Bank(items=bank_items, attempts=attempts, users=user_ids)


def expected(bank: Bank, user_id: int, guild_id: int | None, tag: str | None) -> list[Mistake]:
    """The mistakes to retry, computed plainly from the rules."""
    since = NOW - MISTAKE_WINDOW
    mine = [
        a
        for a in bank.attempts
        if a.user_id == user_id and a.guild_id == guild_id and a.created_at >= since
    ]
    found: list[tuple[int, Mistake]] = []
    for item_id in {a.item_id for a in mine}:
        owner, active, tags = bank.items[item_id]
        if not active or owner not in (None, guild_id):
            continue
        if tag is not None and f" {tag} " not in tags:
            continue
        history = [a for a in mine if a.item_id == item_id]
        wrong = [a for a in history if not a.correct]
        if not wrong:
            continue
        after = [a for a in history if a.id > wrong[-1].id]
        if len(after) >= RIGHT_IN_A_ROW:
            continue
        last_seen = history[-1].id
        found.append((last_seen, Mistake(item_id, len(wrong), len(after))))
    return [mistake for _, mistake in sorted(found, key=lambda pair: (pair[0], pair[1].item_id))]


@pytest.mark.parametrize("seed", [1, 2])
async def test_the_query_agrees_with_a_plain_computation(db: Database, seed: int) -> None:
    bank = await build_bank(db, random.Random(seed), items=30, users=4)
    checked = 0
    async with db.session() as s:
        for user_id in bank.users:
            for guild_id in (None, *GUILDS):
                for tag in (None, "bio"):
                    want = expected(bank, user_id, guild_id, tag)
                    args: dict[str, Any] = {
                        "user_id": user_id,
                        "guild_id": guild_id,
                        "now": NOW,
                        "tag": tag,
                    }
                    assert await mistakes(s, **args) == want
                    assert await count_mistakes(s, **args) == len(want)
                    first = await next_mistake(s, **args)
                    assert (first[1] if first else None) == (want[0] if want else None)
                    checked += len(want)
    assert checked > 5  # the random bank did produce mistakes to compare


async def user_and_item(db: Database, **item: Any) -> tuple[int, int]:
    async with db.session() as s:
        await crud.ensure_guild(s, guild_id=GUILDS[0])
        user = await crud.get_or_create_user(s, platform="discord", external_id="solo")
        row = make_item(1, **item)
        s.add(row)
        await s.commit()
        return user.id or 0, row.id or 0


async def listed(db: Database, user_id: int, guild_id: int | None = GUILDS[0]) -> list[Mistake]:
    async with db.session() as s:
        return await mistakes(s, user_id=user_id, guild_id=guild_id, now=NOW)


async def test_two_right_in_a_row_clear_a_mistake_and_a_new_slip_brings_it_back(
    db: Database,
) -> None:
    user_id, item_id = await user_and_item(db)
    answer: dict[str, Any] = {"user_id": user_id, "item_id": item_id, "guild_id": GUILDS[0]}
    step = timedelta(minutes=1)
    await add_attempt(db, **answer, correct=False, at=NOW - 10 * step)
    assert await listed(db, user_id) == [Mistake(item_id, misses=1, right_since=0)]
    await add_attempt(db, **answer, correct=True, at=NOW - 9 * step)
    assert await listed(db, user_id) == [Mistake(item_id, misses=1, right_since=1)]
    await add_attempt(db, **answer, correct=True, at=NOW - 8 * step)
    assert await listed(db, user_id) == []
    await add_attempt(db, **answer, correct=False, at=NOW - 7 * step)
    assert await listed(db, user_id) == [Mistake(item_id, misses=2, right_since=0)]


async def test_answers_with_the_same_timestamp_still_count_in_order(db: Database) -> None:
    """A fake clock that never moves: the order of the answers is their id order."""
    user_id, item_id = await user_and_item(db)
    answer: dict[str, Any] = {"user_id": user_id, "item_id": item_id, "guild_id": GUILDS[0]}
    for correct in (True, False, True):
        await add_attempt(db, **answer, correct=correct, at=NOW)
    assert await listed(db, user_id) == [Mistake(item_id, misses=1, right_since=1)]
    await add_attempt(db, **answer, correct=True, at=NOW)
    assert await listed(db, user_id) == []


async def test_only_this_servers_recent_answers_to_visible_active_items_count(
    db: Database,
) -> None:
    user_id, item_id = await user_and_item(db, guild_id=GUILDS[0])
    old = NOW - MISTAKE_WINDOW - timedelta(minutes=1)
    await add_attempt(
        db, user_id=user_id, item_id=item_id, guild_id=GUILDS[0], correct=False, at=old
    )
    assert await listed(db, user_id) == []  # older than the window
    await add_attempt(db, user_id=user_id, item_id=item_id, guild_id=None, correct=False, at=NOW)
    assert await listed(db, user_id) == []  # given outside the server
    assert await listed(db, user_id, guild_id=None) == []  # the server's own item
    await add_attempt(
        db, user_id=user_id, item_id=item_id, guild_id=GUILDS[0], correct=False, at=NOW
    )
    assert [m.item_id for m in await listed(db, user_id)] == [item_id]
    async with db.session() as s:
        row = await s.get(Item, item_id)
        assert row is not None
        row.active = False
        s.add(row)
        await s.commit()
    assert await listed(db, user_id) == []  # a retired question is not served


async def test_the_query_walks_the_members_recent_answers_on_an_index(db: Database) -> None:
    """A plan test: the attempts are one range of ``ix_attempts_user_created`` (no scan)."""
    if not db.is_sqlite:
        pytest.skip("EXPLAIN QUERY PLAN is SQLite's")
    bank = await build_bank(db, random.Random(3), items=20, users=3)
    seen: list[tuple[str, Any]] = []

    def listener(_c: Connection, _cur: Any, statement: str, params: Any, *_a: Any) -> None:
        if "attempts" in statement:
            seen.append((statement, params))

    event.listen(db.engine.sync_engine, "before_cursor_execute", listener)
    try:
        async with db.session() as s:
            await mistakes(s, user_id=bank.users[0], guild_id=GUILDS[0], now=NOW, tag="bio")
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", listener)
    [(statement, params)] = seen
    async with db.engine.connect() as conn:
        explained = await conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params)
        rows: list[Any] = list(explained.all())
    plan = "\n".join(str(row[3]) for row in rows)
    assert "ix_attempts_user_created" in plan, plan
    assert "SCAN attempts" not in plan, plan
    assert "SCAN items" not in plan, plan
