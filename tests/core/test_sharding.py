"""Shard ownership follows Discord's rule, so each server belongs to exactly one process."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.sharding import owns_guild, shard_of, validate_shards


def test_shard_of_uses_the_timestamp_bits() -> None:
    assert shard_of(175928847299117063, 4) == (175928847299117063 >> 22) % 4


@given(st.integers(min_value=1, max_value=2**63 - 1), st.integers(min_value=2, max_value=16))
def test_every_guild_has_exactly_one_owner(guild_id: int, count: int) -> None:
    owners = [k for k in range(count) if owns_guild(guild_id, count, [k])]
    assert len(owners) == 1


def test_no_sharding_owns_everything() -> None:
    assert owns_guild(123, None, None) and owns_guild(123, 1, [0])


@pytest.mark.parametrize(
    ("count", "ids", "message"),
    [(None, [0], "needs SHARD_COUNT"), (2, [2], "outside 0..1"), (2, [], "empty")],
)
def test_bad_shard_settings(count: int | None, ids: list[int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        validate_shards(count, ids)
