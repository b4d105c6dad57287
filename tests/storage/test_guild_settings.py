"""A server's own study settings: migration 0006 keeps chosen time zones and clears the
defaults nobody chose, and :func:`study_preferences` reads them back."""

from __future__ import annotations

from typing import Any

from alembic import command
from sqlalchemy import text

from bot.storage import crud
from bot.storage.db import Database, alembic_config
from bot.storage.guild_settings import study_preferences
from bot.storage.models import Guild


def migrate(connection: Any, revision: str, *, down: bool = False) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    (command.downgrade if down else command.upgrade)(config, revision)


async def test_upgrading_keeps_chosen_time_zones_and_clears_untouched_defaults(
    db: Database,
) -> None:
    async with db.engine.begin() as connection:
        await connection.run_sync(migrate, "0005", down=True)
        await connection.execute(
            text(
                "INSERT INTO guilds (id, name, timezone, new_items_per_day, created_at, "
                "daily_enabled, daily_time, daily_questions, daily_window_minutes) VALUES "
                "(1, 'quiz', 'Asia/Tokyo', 20, '2026-01-01', true, '09:00', 1, 60), "
                "(2, 'plain', 'UTC', 20, '2026-01-01', false, NULL, 1, 60)"
            )
        )
        await connection.run_sync(migrate, "head")
    async with db.session() as session:
        assert await study_preferences(session, guild_id=1) == ("Asia/Tokyo", None)
        assert await study_preferences(session, guild_id=2) == (None, None)
    async with db.engine.begin() as connection:
        await connection.run_sync(migrate, "0005", down=True)
        rows = await connection.execute(
            text("SELECT id, timezone, new_items_per_day FROM guilds ORDER BY id")
        )
        assert [tuple(row) for row in rows] == [(1, "Asia/Tokyo", 20), (2, "UTC", 20)]
        await connection.run_sync(migrate, "head")


async def test_study_preferences_are_none_until_set(db: Database) -> None:
    async with db.session() as session:
        assert await study_preferences(session, guild_id=None) == (None, None)
        assert await study_preferences(session, guild_id=7) == (None, None)
        guild = await crud.ensure_guild(session, guild_id=7, name="Hall")
        await session.commit()
        assert await study_preferences(session, guild_id=7) == (None, None)
        guild.timezone, guild.new_items_per_day = "Europe/Berlin", 12
        session.add(guild)
        await session.commit()
    async with db.session() as session:
        assert await study_preferences(session, guild_id=7) == ("Europe/Berlin", 12)
        assert (await session.get(Guild, 7)) is not None
