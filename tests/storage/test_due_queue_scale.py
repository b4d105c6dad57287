"""The due queue at scale: the pick queries walk indexes (no full scans) and still choose
exactly what a plain Python computation over the same rows chooses."""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.storage import crud, due_queue
from bot.storage.db import Database, alembic_config
from bot.storage.models import Item, ReviewState

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
GUILDS = (501, 502)


@dataclass(frozen=True, slots=True)
class Card:
    """What the reference computation needs of a stored card."""

    item_id: int
    due: datetime
    first_seen_at: datetime


@dataclass(frozen=True, slots=True)
class Bank:
    """The rows a test inserted: items as (id, guild, active), cards per member."""

    items: list[tuple[int, int | None, bool]]
    cards: dict[int, list[Card]]


async def build_bank(db: Database, rng: random.Random, *, items: int, members: int) -> Bank:
    """Random items (bundled, either server's, some retired) and random cards per member.

    Members see a prefix of the items in order (as the review queue hands them out) plus
    some at random (quizzes); due times are distinct, so "most overdue" is one card.
    """
    async with db.session() as s:
        for guild_id in GUILDS:
            await crud.ensure_guild(s, guild_id=guild_id)
        rows = []
        for n in range(items):
            owner = rng.choice([None, None, None, *GUILDS])
            rows.append(
                Item(
                    key=f"k{n}",
                    deck=f"deck{n % 3}",
                    slug=f"s{n}",
                    kind="flashcard",
                    difficulty="easy",
                    guild_id=owner,
                    payload={"id": f"s{n}", "kind": "flashcard", "front": "F", "back": "B"},
                    content_hash="x",
                    active=rng.random() > 0.15,
                )
            )
        s.add_all(rows)
        await s.flush()
        bank_items = [(row.id or 0, row.guild_id, row.active) for row in rows]
        cards: dict[int, list[Card]] = {}
        offsets = iter(rng.sample(range(-50_000, 50_000), items * members))
        for m in range(members):
            user = await crud.get_or_create_user(s, platform="discord", external_id=f"u{m}")
            ids = [item_id for item_id, _, _ in bank_items]
            seen = set(ids[: rng.randrange(0, items)]) | set(rng.sample(ids, items // 10))
            mine = []
            for item_id in sorted(seen):
                due = NOW + timedelta(minutes=next(offsets))
                first = NOW - timedelta(hours=rng.randrange(0, 72))
                mine.append(Card(item_id, due, first))
                s.add(
                    ReviewState(user_id=user.id or 0, item_id=item_id, due=due, first_seen_at=first)
                )
            cards[user.id or 0] = mine
        await s.commit()
    return Bank(items=bank_items, cards=cards)


def visible(bank: Bank, guild_id: int | None) -> set[int]:
    """Ids of the active items a member in ``guild_id`` may see."""
    return {
        item_id
        for item_id, owner, active in bank.items
        if active and (owner is None or owner == guild_id)
    }


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_the_queue_chooses_what_a_plain_computation_chooses(db: Database, seed: int) -> None:
    rng = random.Random(seed)
    bank = await build_bank(db, rng, items=150, members=6)
    since = NOW - timedelta(hours=24)
    async with db.session() as s:
        for user_id, cards in bank.cards.items():
            for guild_id in (None, *GUILDS):
                shown = visible(bank, guild_id)
                mine = [card for card in cards if card.item_id in shown]
                unseen = shown - {card.item_id for card in cards}
                due = sorted((c for c in mine if c.due <= NOW), key=lambda c: c.due)
                later = [c.due for c in mine if c.due > NOW]
                args: dict[str, Any] = {"user_id": user_id, "guild_id": guild_id}

                new = await due_queue.next_new_item(s, **args)
                assert (new.id if new else None) == min(unseen, default=None)
                assert await due_queue.count_unseen(s, **args) == len(unseen)
                first_due = await due_queue.next_due_item(s, **args, now=NOW)
                assert (first_due.id if first_due else None) == (due[0].item_id if due else None)
                assert await due_queue.count_due(s, **args, now=NOW) == len(due)
                assert await due_queue.count_due(s, **args, now=NOW, cap=5) == min(5, len(due))
                assert await due_queue.next_due_after(s, **args, now=NOW) == min(
                    later, default=None
                )
            for guild_id in (None, *GUILDS):
                # Retired items still used up the day's budget when they were new.
                scope = {i for i, owner, _ in bank.items if owner in (None, guild_id)}
                fresh = sum(c.first_seen_at >= since and c.item_id in scope for c in cards)
                got = await due_queue.count_new_since(
                    s, user_id=user_id, guild_id=guild_id, since=since
                )
                assert got == fresh


async def test_a_member_who_has_seen_everything_gets_no_new_item(db: Database) -> None:
    bank = await build_bank(db, random.Random(7), items=40, members=1)
    (user_id,) = bank.cards
    async with db.session() as s:
        for item_id in visible(bank, GUILDS[0]) - {c.item_id for c in bank.cards[user_id]}:
            s.add(ReviewState(user_id=user_id, item_id=item_id, due=NOW, first_seen_at=NOW))
        await s.commit()
        assert await due_queue.next_new_item(s, user_id=user_id, guild_id=GUILDS[0]) is None
        assert await due_queue.count_unseen(s, user_id=user_id, guild_id=GUILDS[0]) == 0
        # The other server's own items are still new to them there.
        had = {card.item_id for card in bank.cards[user_id]}
        other = visible(bank, GUILDS[1]) - visible(bank, GUILDS[0]) - had
        found = await due_queue.next_new_item(s, user_id=user_id, guild_id=GUILDS[1])
        assert (found.id if found else None) == min(other, default=None)


@contextmanager
def captured_selects(db: Database) -> Iterator[list[tuple[str, Any]]]:
    """Every SELECT (SQL, parameters) the engine sends while the block runs."""
    seen: list[tuple[str, Any]] = []

    def listener(_c: Connection, _cur: Any, statement: str, params: Any, *_a: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, params))

    event.listen(db.engine.sync_engine, "before_cursor_execute", listener)
    try:
        yield seen
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", listener)


async def plan_of(db: Database, query: Callable[[AsyncSession], Awaitable[object]]) -> str:
    """SQLite's ``EXPLAIN QUERY PLAN`` of what ``query`` sends, one step a line."""
    with captured_selects(db) as seen:
        async with db.session() as s:
            await query(s)
    assert len(seen) == 1
    statement, params = seen[0]
    async with db.engine.connect() as conn:
        explained = await conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params)
        rows: list[Any] = list(explained.all())
    return "\n".join(str(row[3]) for row in rows)


async def test_the_pick_queries_walk_indexes_instead_of_scanning(db: Database) -> None:
    """A plan test (not a timing test): no full scan of items or review_states, and the
    walks come out of the index already in order (no sort). No ANALYZE, as in the bot."""
    if not db.is_sqlite:
        pytest.skip("EXPLAIN QUERY PLAN is SQLite's")
    bank = await build_bank(db, random.Random(5), items=300, members=3)
    user_id = next(iter(bank.cards))
    guild = GUILDS[0]
    expected: dict[str, tuple[Callable[[AsyncSession], Awaitable[object]], list[str]]] = {
        "next_due_item": (
            lambda s: due_queue.next_due_item(s, user_id=user_id, guild_id=guild, now=NOW),
            ["ix_review_states_user_due_item"],
        ),
        "count_due (capped)": (
            lambda s: due_queue.count_due(s, user_id=user_id, guild_id=guild, now=NOW, cap=100),
            ["ix_review_states_user_due_item"],
        ),
        "count_new_since": (
            lambda s: due_queue.count_new_since(s, user_id=user_id, guild_id=guild, since=NOW),
            ["ix_review_states_user_first_seen"],
        ),
        "next_new_item": (
            lambda s: due_queue.next_new_item(s, user_id=user_id, guild_id=guild),
            ["ix_items_guild_active_id", "sqlite_autoindex_review_states_1"],
        ),
        "next_new_item (no server)": (
            lambda s: due_queue.next_new_item(s, user_id=user_id, guild_id=None),
            ["ix_items_guild_active_id", "sqlite_autoindex_review_states_1"],
        ),
        "count_unseen": (
            lambda s: due_queue.count_unseen(s, user_id=user_id, guild_id=guild),
            ["ix_items_guild_active_id", "sqlite_autoindex_review_states_1"],
        ),
    }
    for name, (query, indexes) in expected.items():
        plan = await plan_of(db, query)
        steps = plan.splitlines()
        scans = [step for step in steps if step.startswith(("SCAN items", "SCAN review_states"))]
        assert not scans, f"{name} scans a whole table:\n{plan}"
        assert not any("TEMP B-TREE" in step for step in steps), f"{name} sorts:\n{plan}"
        for index in indexes:
            assert index in plan, f"{name} does not use {index}:\n{plan}"


async def test_the_index_migration_goes_down_and_up_again(db: Database) -> None:
    from alembic import command

    def down_and_up(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, "0006")
        command.upgrade(config, "head")

    async with db.engine.begin() as conn:
        await conn.run_sync(down_and_up)
    bank = await build_bank(db, random.Random(9), items=20, members=1)
    (user_id,) = bank.cards
    async with db.session() as s:
        found = await due_queue.next_new_item(s, user_id=user_id, guild_id=None)
        unseen = visible(bank, None) - {c.item_id for c in bank.cards[user_id]}
        assert (found.id if found else None) == min(unseen, default=None)
