"""Settings read from the environment: ``DATABASE_ANSWER_CONNECTIONS`` is checked, explained
in one line when bad, and reaches the PostgreSQL answer lane.

(Every numeric setting's range is also fuzzed in ``tests/reliability/test_fuzz.py``.)
"""

from __future__ import annotations

import re

import pytest
from pydantic import ValidationError

from bot import PROJECT_ROOT
from bot.app import open_services
from bot.services.decks import DeckService
from bot.settings import Settings, describe_settings_error
from bot.storage.answer_store import PgAnswerStore
from bot.storage.db import Database
from bot.storage.pg_lane import DEFAULT_POOL_SIZE

ANSWER_CONNECTIONS = "DATABASE_ANSWER_CONNECTIONS"
#: Nothing listens on port 9: the engine must not need the server to be built.
UNREACHABLE_PG = "postgresql+asyncpg://tutor:secret@127.0.0.1:9/tutor"


def test_answer_connections_default_to_the_lanes_pool_size(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(ANSWER_CONNECTIONS, raising=False)
    assert Settings(_env_file=None).database_answer_connections == DEFAULT_POOL_SIZE == 8


@pytest.mark.parametrize(("value", "expected"), [("1", 1), ("16", 16), ("64", 64), (" 12 ", 12)])
def test_answer_connections_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, value: str, expected: int
) -> None:
    monkeypatch.setenv(ANSWER_CONNECTIONS, value)
    assert Settings(_env_file=None).database_answer_connections == expected


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("0", "greater than or equal to 1"),
        ("-3", "greater than or equal to 1"),
        ("65", "less than or equal to 64"),
        ("eight", "valid integer"),
        ("", "valid integer"),
    ],
)
def test_bad_answer_connections_are_explained_in_one_line(
    monkeypatch: pytest.MonkeyPatch, value: str, why: str
) -> None:
    monkeypatch.setenv(ANSWER_CONNECTIONS, value)
    with pytest.raises(ValidationError) as refused:
        Settings(_env_file=None)
    line = describe_settings_error(refused.value)
    assert line.startswith(f"Bad setting — {ANSWER_CONNECTIONS}: ")
    assert why in line
    assert "\n" not in line


async def test_open_services_passes_answer_connections_to_the_store(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def no_server(_self: object, *_args: object, **_kwargs: object) -> None:
        return None

    # No PostgreSQL here: skip the migrations and the deck sync; the store's pool opens only
    # with the first answer, so building the services needs no server.
    monkeypatch.setattr(Database, "connect", no_server)
    monkeypatch.setattr(DeckService, "sync_content", no_server)
    settings = Settings(_env_file=None, database_url=UNREACHABLE_PG, database_answer_connections=3)
    services = await open_services(settings)
    try:
        store = services.study.answers.store
        assert isinstance(store, PgAnswerStore) and store.lane.size == 3
    finally:
        await services.close()


def test_env_example_lists_every_setting_with_a_valid_example(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``.env.example`` documents each setting, and its example values are accepted."""
    text = (PROJECT_ROOT / ".env.example").read_text(encoding="utf-8")
    examples = dict(re.findall(r"^# ([A-Z][A-Z0-9_]*)=(.*)$", text, flags=re.MULTILINE))
    assert set(examples) == {name.upper() for name in Settings.model_fields}
    for name, value in examples.items():
        monkeypatch.setenv(name, value)
    settings = Settings(_env_file=None)
    assert settings.database_answer_connections == 8
    assert settings.shard_ids == [0, 1] and settings.shard_count == 4
