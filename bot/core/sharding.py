"""Which process looks after which server when the bot runs as several shards."""

from __future__ import annotations

from collections.abc import Collection


def shard_of(guild_id: int, shard_count: int) -> int:
    """Discord's rule: ``(guild_id >> 22) % shard_count``."""
    if shard_count < 1:
        raise ValueError("shard_count must be at least 1")
    return (guild_id >> 22) % shard_count


def owns_guild(guild_id: int, shard_count: int | None, shard_ids: Collection[int] | None) -> bool:
    """True when this process runs the shard of ``guild_id`` (always, without sharding)."""
    if not shard_count or shard_count == 1:
        return True
    if shard_ids is None:
        return True
    return shard_of(guild_id, shard_count) in shard_ids


def validate_shards(shard_count: int | None, shard_ids: Collection[int] | None) -> None:
    """Raise ``ValueError`` with a friendly message for impossible shard settings."""
    if shard_ids is None:
        return
    if shard_count is None:
        raise ValueError("SHARD_IDS needs SHARD_COUNT too.")
    bad = sorted(i for i in shard_ids if not 0 <= i < shard_count)
    if bad:
        raise ValueError(f"SHARD_IDS {bad} are outside 0..{shard_count - 1} (SHARD_COUNT).")
    if not shard_ids:
        raise ValueError("SHARD_IDS is empty; list the shards this process runs, e.g. [0,1].")
