"""The PostgreSQL answer lane: plain asyncpg, one transaction per answer.

The URL and error tests run everywhere; the rest need a PostgreSQL server
(``TEST_DATABASE_URL``) and are skipped without one.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func
from sqlmodel import select

from bot import PROJECT_ROOT
from bot.core.clock import FakeClock
from bot.core.learners import Learner
from bot.core.replies import Reply
from bot.errors import AlreadyAnswered, ExpiredAction, NotYourQuestion, StorageError
from bot.services.study import StudyServices
from bot.storage import pg_answer_sql
from bot.storage.answer_rows import StaleRead, is_asyncpg_url
from bot.storage.answer_store import PgAnswerStore, SqliteAnswerStore, open_answer_store
from bot.storage.db import Database
from bot.storage.models import Attempt, Prompt, ReviewState, User
from bot.storage.pg_lane import DEFAULT_POOL_SIZE, PgLane, asyncpg_connect_args
from tests.conftest import TEST_DATABASE_URL

DECK = "tensorflow-training-basics"

needs_postgres = pytest.mark.skipif(
    not TEST_DATABASE_URL, reason="needs PostgreSQL (set TEST_DATABASE_URL)"
)


# -- the URL, everywhere ----------------------------------------------------------------------


def test_the_sqlalchemy_url_becomes_asyncpg_arguments() -> None:
    url = (
        "postgresql+asyncpg://tu%40tor:p%40ss%2Fw%3Ard@db.example:6543/study"
        "?ssl=require&command_timeout=5&prepared_statement_cache_size=0"
    )
    assert asyncpg_connect_args(url) == {
        "user": "tu@tor",
        "password": "p@ss/w:rd",
        "host": "db.example",
        "port": 6543,
        "database": "study",
        "ssl": "require",
        "command_timeout": "5",
        "statement_cache_size": 0,
    }


def test_a_url_without_host_or_port_leaves_them_to_asyncpg() -> None:
    args = asyncpg_connect_args("postgresql+asyncpg://tutor@/tutor?host=/var/run/postgresql")
    assert args == {"user": "tutor", "database": "tutor", "host": "/var/run/postgresql"}


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql+asyncpg://u:p@localhost/db", True),
        ("postgresql+psycopg://u:p@localhost/db", False),
        ("postgresql://u:p@localhost/db", False),
        ("sqlite+aiosqlite:///data/tutor.db", False),
    ],
)
def test_only_asyncpg_urls_take_the_lane(url: str, expected: bool) -> None:
    assert is_asyncpg_url(url) is expected
    if not expected:
        with pytest.raises(ValueError):
            asyncpg_connect_args(url)


async def test_an_unreachable_server_is_a_friendly_storage_error() -> None:
    lane = PgLane("postgresql+asyncpg://tutor:secret@127.0.0.1:9/tutor")

    async def job(_conn: Any) -> None:
        raise AssertionError("never runs")

    with pytest.raises(StorageError) as refused:
        await lane.run(job)
    assert str(refused.value).startswith("Nothing answers at 127.0.0.1:9")
    assert "secret" not in str(refused.value)
    await lane.close()


def test_the_services_pick_the_answer_store_of_their_database(study: StudyServices) -> None:
    store = study.answers.store
    if TEST_DATABASE_URL:
        assert isinstance(store, PgAnswerStore)
    else:
        assert isinstance(store, SqliteAnswerStore)


@pytest.mark.parametrize(("connections", "size"), [(None, DEFAULT_POOL_SIZE), (1, 1), (24, 24)])
async def test_the_store_sizes_the_lanes_pool_without_connecting(
    connections: int | None, size: int
) -> None:
    store = open_answer_store(
        "postgresql+asyncpg://tutor:secret@127.0.0.1:9/tutor",  # nothing listens
        connections=connections,
    )
    assert isinstance(store, PgAnswerStore)
    assert store.lane.size == size
    assert store.lane._pool is None  # opened by the first answer
    await store.close()


def test_a_lane_needs_a_connection() -> None:
    with pytest.raises(ValueError, match="at least one connection"):
        PgLane("postgresql+asyncpg://tutor@localhost/tutor", size=0)


# -- against PostgreSQL -------------------------------------------------------------------------


def choice(reply: Reply, key: str) -> str:
    found = reply.choice_for(key)
    assert found is not None, f"no {key!r} in {[c.key for c in reply.choices]}"
    return found.action


def prompt_of(reply: Reply) -> int:
    return int(reply.choices[0].action.split(":")[1])


async def rows(db: Database, model: type[Any]) -> list[Any]:
    async with db.session() as s:
        return list((await s.exec(select(model))).all())


async def item_of(db: Database, reply: Reply) -> int:
    async with db.session() as s:
        prompt = await s.get(Prompt, prompt_of(reply))
        assert prompt is not None
        return prompt.item_id


async def count(db: Database, model: type[Any]) -> int:
    async with db.session() as s:
        return int((await s.exec(select(func.count()).select_from(model))).one())


@needs_postgres
async def test_rows_read_back_through_the_models_as_written(
    study: StudyServices, db: Database, clock: FakeClock
) -> None:
    store = study.answers.store
    assert isinstance(store, PgAnswerStore)
    # Microseconds and a non-UTC zone: both must survive the trip.
    clock.set(datetime(2026, 3, 29, 3, 30, 15, 123456, tzinfo=ZoneInfo("Europe/Berlin")))
    member = Learner("discord", "1001", "Ann Lane", guild_id=77, guild_name="Study")
    question = await study.practice.quiz(member, DECK, shared=True)
    clock.advance(seconds=12.5)

    reply = await study.actions.act(member, choice(question, "B"))
    assert store.lane.commits == 1
    assert reply.title in {"✅ Correct", "❌ Not quite"}

    [user] = [u for u in await rows(db, User) if u.external_id == "1001"]
    assert user.display_name == "Ann Lane"
    assert user.extra_time is False and user.remind_enabled is False
    [attempt] = await rows(db, Attempt)
    assert attempt.user_id == user.id and attempt.mode == "quiz" and attempt.rating in {1, 3}
    assert attempt.created_at == clock.now() and attempt.created_at.tzinfo == UTC
    assert attempt.created_at.microsecond == 623456
    assert attempt.duration_ms == 12500 and attempt.guild_id == 77
    assert type(attempt.correct) is bool and type(attempt.score) is float
    [card] = await rows(db, ReviewState)
    assert card.user_id == user.id and card.item_id == attempt.item_id
    assert card.reps == 1 and card.lapses == 0 and card.stability is not None
    assert card.first_seen_at == clock.now() and card.due.tzinfo == UTC
    assert card.last_review == clock.now() and card.due > clock.now()


@needs_postgres
async def test_a_second_review_updates_the_card_and_keeps_first_seen(
    study: StudyServices, db: Database, clock: FakeClock, alice: Learner
) -> None:
    first_seen = clock.now()
    question = await study.practice.quiz(alice, DECK)
    await study.actions.act(alice, choice(question, "A"))
    clock.advance(days=3)
    [card] = await rows(db, ReviewState)
    again = await study.practice.present_item(alice, card.item_id, "quiz")
    await study.actions.act(alice, choice(again, "A"))
    [card] = await rows(db, ReviewState)
    assert (card.reps, card.first_seen_at, card.last_review) == (2, first_seen, clock.now())
    assert await count(db, Attempt) == 2


@needs_postgres
async def test_concurrent_double_clicks_are_stored_once_and_told_the_first_answer(
    study: StudyServices, db: Database
) -> None:
    # New members: their three clicks also race to create the member's row.
    members = [Learner("discord", str(5000 + n), f"m{n}", guild_id=9) for n in range(40)]
    question = await study.practice.quiz(members[0], DECK, shared=True)
    clicks = [(m, "ABCD"[n % 4]) for n, m in enumerate(members) for _ in range(3)]
    results = await asyncio.gather(
        *(study.actions.act(m, choice(question, key)) for m, key in clicks), return_exceptions=True
    )
    refused = [r for r in results if isinstance(r, AlreadyAnswered)]
    assert [r for r in results if isinstance(r, BaseException) and r not in refused] == []
    assert len(refused) == 2 * len(members)
    assert all("You already answered this one: " in str(r) for r in refused)
    attempts = await rows(db, Attempt)
    assert len(attempts) == len(members)
    assert {c.reps for c in await rows(db, ReviewState)} == {1}
    assert await count(db, User) == len(members)


@needs_postgres
async def test_a_failure_mid_answer_leaves_nothing_behind(
    study: StudyServices, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    asker = Learner("discord", "1", "Asker", guild_id=5)
    newcomer = Learner("discord", "2", "New", guild_id=5)
    question = await study.practice.quiz(asker, DECK, shared=True)
    real_write = pg_answer_sql.write_answer

    async def write_then_fail(conn: Any, **kwargs: Any) -> Any:
        await real_write(conn, **kwargs)  # the attempt and the card are written…
        raise RuntimeError("connection lost")  # …then the answer fails before COMMIT

    monkeypatch.setattr(pg_answer_sql, "write_answer", write_then_fail)
    users_before = await count(db, User)
    with pytest.raises(RuntimeError):
        await study.actions.act(newcomer, choice(question, "A"))
    assert await count(db, Attempt) == 0
    assert await count(db, ReviewState) == 0
    assert await count(db, User) == users_before  # the new member's row went too

    monkeypatch.setattr(pg_answer_sql, "write_answer", real_write)
    answered = await study.actions.act(newcomer, choice(question, "A"))
    assert "Correct" in answered.title or "Not quite" in answered.title
    assert await count(db, Attempt) == 1


@needs_postgres
async def test_refused_answers_write_nothing(
    study: StudyServices, db: Database, alice: Learner, bob: Learner
) -> None:
    mine = await study.practice.quiz(alice, DECK)
    users = await count(db, User)
    with pytest.raises(NotYourQuestion):
        await study.actions.act(Learner("local", "carol", "Carol"), choice(mine, "A"))
    with pytest.raises(ExpiredAction):
        await study.actions.act(bob, f"an:{prompt_of(mine) + 1000}:0")
    assert await count(db, Attempt) == 0
    assert await count(db, User) == users  # neither Carol nor (unseen) Bob was created


@needs_postgres
async def test_two_answers_to_one_card_at_once_both_count(
    study: StudyServices, db: Database, alice: Learner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both read the card before either writes; the second is decided again, not lost."""
    item_id = await item_of(db, await study.practice.quiz(alice, DECK))
    one = await study.practice.present_item(alice, item_id, "quiz")
    two = await study.practice.present_item(alice, item_id, "quiz")
    real_facts = pg_answer_sql.answer_facts
    both_read = asyncio.Barrier(2)
    calls = 0

    async def facts_then_wait(conn: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        found = await real_facts(conn, **kwargs)
        if calls <= 2:
            await asyncio.wait_for(both_read.wait(), 10)
        return found

    monkeypatch.setattr(pg_answer_sql, "answer_facts", facts_then_wait)
    await asyncio.gather(
        study.actions.act(alice, choice(one, "A")), study.actions.act(alice, choice(two, "B"))
    )
    store = study.answers.store
    assert isinstance(store, PgAnswerStore) and store.lane.retries == 1
    [card] = await rows(db, ReviewState)
    assert card.reps == 2
    assert await count(db, Attempt) == 2


@needs_postgres
async def test_a_conflict_that_keeps_coming_back_is_reported(study: StudyServices) -> None:
    store = study.answers.store
    assert isinstance(store, PgAnswerStore)

    async def always_stale(_conn: Any) -> None:
        raise StaleRead("test")

    with pytest.raises(StorageError, match="could not be saved"):
        await store.lane.run(always_stale)


def test_a_sqlite_bot_never_imports_the_postgresql_driver(tmp_path: Path) -> None:
    """The lane's driver is loaded only for a PostgreSQL URL (a few MB saved otherwise)."""
    code = (
        "import asyncio, sys\n"
        "from bot.app import open_services\n"
        "from bot.settings import Settings\n"
        "import bot.exts.client, bot.console.app\n"
        "async def main():\n"
        f"    url = 'sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}'\n"
        "    services = await open_services(Settings(database_url=url))\n"
        "    await services.close()\n"
        "asyncio.run(main())\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'asyncpg'))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=PROJECT_ROOT,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"
