"""Several shard processes on one database: each schedules only its own servers' quizzes."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.app import discord_bot, open_services
from bot.core.learners import Learner
from bot.core.sharding import shard_of
from bot.exts.dailyquiz import DailyQuizCog
from bot.settings import Settings

SHARDS = 2
#: Two servers that land on different shards.
GUILDS = (175928847299117063, 175928847299117063 + (1 << 22))


def test_the_two_servers_sit_on_different_shards() -> None:
    assert {shard_of(g, SHARDS) for g in GUILDS} == {0, 1}


@pytest.mark.parametrize(
    ("count", "ids", "message"), [(None, [0], "needs SHARD_COUNT"), (2, [3], "outside 0..1")]
)
def test_impossible_shard_settings_are_refused(
    tmp_path: Path, count: int | None, ids: list[int], message: str
) -> None:
    # Checked with every other setting when the process starts, before a bot is built.
    with pytest.raises(ValueError, match=message):
        Settings(
            database_url=f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}",
            shard_count=count,
            shard_ids=ids,
        )


async def test_each_process_schedules_only_its_shards(tmp_path: Path) -> None:
    base = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'shared.db'}",
        training_workers=0,
        sync_commands=False,
        shard_count=SHARDS,
    )
    services = await open_services(base)
    try:
        service = services.server_settings
        for guild_id in GUILDS:
            admin = Learner("discord", "1", "Admin", guild_id=guild_id)
            await service.configure_daily(admin, channel_id=42, time_text="09:00", timezone="UTC")
        scheduled: dict[int, set[int]] = {}
        for shard in range(SHARDS):
            bot = discord_bot(base.model_copy(update={"shard_ids": [shard]}), services=services)
            cog = DailyQuizCog(bot)
            await cog.cog_load()
            try:
                for guild_id in GUILDS:
                    await cog.reschedule_guild(guild_id)
                scheduled[shard] = {g for g in GUILDS if cog.has_job(f"daily:post:{g}")}
            finally:
                await cog.cog_unload()
        assert scheduled == {
            shard_of(GUILDS[0], SHARDS): {GUILDS[0]},
            shard_of(GUILDS[1], SHARDS): {GUILDS[1]},
        }
    finally:
        await services.close()
