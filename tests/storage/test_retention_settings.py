"""Desired retention columns: migration 0009 adds them empty (and removes them again), and
the read-only lookups return None until a server or member chooses."""

from __future__ import annotations

from typing import Any

from alembic import command
from sqlalchemy import text

from bot.storage import crud
from bot.storage.db import Database, alembic_config
from bot.storage.guild_settings import server_retention
from bot.storage.member_settings import member_retention
from bot.storage.models import Guild


def migrate(connection: Any, revision: str, *, down: bool = False) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    (command.downgrade if down else command.upgrade)(config, revision)


async def test_upgrading_adds_empty_retentions_and_downgrading_removes_them(db: Database) -> None:
    async with db.engine.begin() as connection:
        await connection.run_sync(migrate, "0008", down=True)
        await connection.execute(
            text(
                "INSERT INTO guilds (id, name, created_at, daily_enabled, daily_questions, "
                "daily_window_minutes) VALUES (1, 'old', '2026-01-01', false, 1, 60)"
            )
        )
        await connection.execute(
            text(
                "INSERT INTO users (platform, external_id, display_name, created_at, "
                "extra_time, remind_enabled) "
                "VALUES ('discord', '42', 'Old', '2026-01-01', false, false)"
            )
        )
        await connection.run_sync(migrate, "head")
    async with db.session() as session:
        assert await server_retention(session, guild_id=1) is None
        assert await member_retention(session, platform="discord", external_id="42") is None
    async with db.engine.begin() as connection:
        await connection.execute(text("UPDATE guilds SET desired_retention = 0.85"))
        await connection.execute(text("UPDATE users SET desired_retention = 0.8"))
        await connection.run_sync(migrate, "0008", down=True)
        rows = await connection.execute(text("SELECT id, name FROM guilds"))
        assert [tuple(row) for row in rows] == [(1, "old")]
        users = await connection.execute(text("SELECT external_id FROM users"))
        assert [tuple(row) for row in users] == [("42",)]
        await connection.run_sync(migrate, "head")
    async with db.session() as session:
        assert await server_retention(session, guild_id=1) is None


async def test_retentions_are_none_until_chosen_and_per_server(db: Database) -> None:
    async with db.session() as session:
        assert await server_retention(session, guild_id=None) is None
        assert await server_retention(session, guild_id=7) is None
        assert await member_retention(session, platform="local", external_id="ann") is None
        guild = await crud.ensure_guild(session, guild_id=7, name="Hall")
        await crud.ensure_guild(session, guild_id=8, name="Other")
        user = await crud.get_or_create_user(session, platform="local", external_id="ann")
        guild.desired_retention = 0.85
        user.desired_retention = 0.8
        session.add_all([guild, user])
        await session.commit()
    async with db.session() as session:
        assert await server_retention(session, guild_id=7) == 0.85
        assert await server_retention(session, guild_id=8) is None
        assert await member_retention(session, platform="local", external_id="ann") == 0.8
        assert await member_retention(session, platform="discord", external_id="ann") is None
        assert (await session.get(Guild, 7)) is not None
