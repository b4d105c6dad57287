"""Server settings on a database: validated before saving, mentions left to the adapter,
and the server's time zone and new cards per day stored for the study services."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from sqlmodel import select

from bot.core.clock import FakeClock
from bot.core.learners import Learner
from bot.core.replies import ReplyField
from bot.errors import BadInput, NotFound
from bot.services.daily_quiz import DailyQuizService
from bot.services.server_settings import CHANNEL, ROLE, ServerSettingsService
from bot.services.study import StudyServices
from bot.storage.db import Database
from bot.storage.guild_settings import study_preferences
from bot.storage.models import AuditEntry
from tests.daily_helpers import ADMIN, BOB, GUILD, configure, daily_quiz_service, utc


@pytest.fixture
def service(db: Database, clock: FakeClock) -> ServerSettingsService:
    return ServerSettingsService(db, clock=clock)


@pytest.fixture
def quiz(db: Database, study: StudyServices, clock: FakeClock) -> DailyQuizService:
    return daily_quiz_service(db, study, clock)


async def preferences(db: Database, guild_id: int | None = GUILD) -> tuple[str | None, int | None]:
    async with db.session() as session:
        return await study_preferences(session, guild_id=guild_id)


def field(fields: Sequence[ReplyField], name: str) -> str:
    return next(f.value for f in fields if f.name == name)


async def test_settings_are_validated_before_anything_is_saved(
    service: ServerSettingsService, quiz: DailyQuizService
) -> None:
    with pytest.raises(BadInput):
        await configure(service, time_text="9am")
    with pytest.raises(NotFound, match="no deck called"):
        await configure(service, deck="nope")
    assert (await quiz.schedule(GUILD)) is None
    await configure(service, timezone="europe/paris", deck="tensorflow-training-basics")
    schedule = await quiz.schedule(GUILD)
    assert schedule is not None and schedule.timezone == "Europe/Paris"
    shown = (await service.show_settings(ADMIN)).reply
    assert "on" in shown.text and any(f.value == "tensorflow-training-basics" for f in shown.fields)
    await service.disable_daily(ADMIN)
    assert (await quiz.schedule(GUILD)) is None


async def test_channels_and_roles_are_placeholders_with_their_ids(
    service: ServerSettingsService, clock: FakeClock
) -> None:
    clock.set(utc(2026, 1, 5, 8))
    saved = await service.configure_daily(ADMIN, channel_id=77, time_text="09:00", timezone="UTC")
    assert saved.channel_id == 77 and saved.role_id is None
    assert f"in {CHANNEL} every day at 09:00 (UTC)" in saved.reply.text
    assert "Next quiz: Mon 05 Jan, 09:00 (UTC)." in saved.reply.text
    assert "<#" not in saved.reply.text

    role = await service.set_moderator_role(ADMIN, 99)
    assert role.role_id == 99 and role.reply.text.startswith(f"Members with {ROLE} can")
    cleared = await service.set_moderator_role(ADMIN, None)
    assert cleared.role_id is None and ROLE not in cleared.reply.text

    await service.set_moderator_role(ADMIN, 99)
    shown = await service.show_settings(BOB)
    assert (shown.channel_id, shown.role_id) == (77, 99)
    assert shown.reply.text == f"Daily quiz is **on**: {CHANNEL} at 09:00."
    assert field(shown.reply.fields, "Daily channel") == CHANNEL
    assert field(shown.reply.fields, "Moderator role") == ROLE
    assert all("<" not in f.value for f in shown.reply.fields)


async def test_time_zone_and_new_cards_per_day_are_stored_for_study(
    service: ServerSettingsService, db: Database
) -> None:
    assert await preferences(db) == (None, None)  # never seen
    assert await preferences(db, None) == (None, None)  # DMs
    shown = (await service.show_settings(ADMIN)).reply
    assert field(shown.fields, "Time zone") == "UTC (default)"
    assert field(shown.fields, "New cards per day") == "20 (default)"
    assert await preferences(db) == (None, None)  # the row exists now, still unset

    reply = await service.set_timezone(ADMIN, "europe/berlin")
    assert reply.private and "Europe/Berlin" in reply.text and reply.footer == ""
    reply = await service.set_new_per_day(ADMIN, 5)
    assert "up to 5 new cards a day" in reply.text
    assert await preferences(db) == ("Europe/Berlin", 5)
    reply = await service.set_new_per_day(ADMIN, 0)
    assert "only review cards they've already seen" in reply.text
    assert await preferences(db) == ("Europe/Berlin", 0)

    shown = (await service.show_settings(BOB)).reply
    assert field(shown.fields, "Time zone") == "Europe/Berlin"
    assert field(shown.fields, "New cards per day") == "0"
    async with db.session() as session:
        actions = (await session.exec(select(AuditEntry.action))).all()
    assert {"settings.timezone", "settings.new_per_day"} <= set(actions)


async def test_bad_time_zones_and_counts_change_nothing(
    service: ServerSettingsService, db: Database
) -> None:
    await service.set_timezone(ADMIN, "Asia/Tokyo")
    with pytest.raises(BadInput, match="such as Europe/Berlin"):
        await service.set_timezone(ADMIN, "Mars/Olympus")
    for bad in (-1, 1001):
        with pytest.raises(BadInput, match="between 0 and 1000"):
            await service.set_new_per_day(ADMIN, bad)
    assert await preferences(db) == ("Asia/Tokyo", None)
    dm = Learner(platform="discord", external_id="1", display_name="Alice")
    with pytest.raises(BadInput, match="only works in a server"):
        await service.set_timezone(dm, "UTC")


async def test_the_daily_quiz_uses_and_sets_the_server_time_zone(
    service: ServerSettingsService, quiz: DailyQuizService, db: Database, clock: FakeClock
) -> None:
    await service.set_timezone(ADMIN, "Asia/Tokyo")
    await service.configure_daily(ADMIN, channel_id=77, time_text="09:00")  # no zone given
    schedule = await quiz.schedule(GUILD)
    assert schedule is not None and schedule.timezone == "Asia/Tokyo"
    await configure(service, timezone="America/New_York")
    assert await preferences(db) == ("America/New_York", None)  # one zone per server
    clock.set(utc(2026, 1, 5, 12))
    reply = await service.set_timezone(ADMIN, "Europe/Berlin")
    assert reply.footer == "Next daily quiz: Tue 06 Jan, 09:00 (Europe/Berlin)."
    shown = (await service.show_settings(ADMIN)).reply
    assert shown.footer == "Next quiz: Tue 06 Jan, 09:00 (Europe/Berlin)"


async def test_the_bots_defaults_show_when_a_server_sets_none(
    db: Database, clock: FakeClock
) -> None:
    service = ServerSettingsService(
        db, clock=clock, default_timezone="Asia/Kolkata", default_new_per_day=7
    )
    shown = (await service.show_settings(ADMIN)).reply
    assert field(shown.fields, "Time zone") == "Asia/Kolkata (default)"
    assert field(shown.fields, "New cards per day") == "7 (default)"
    saved = await service.configure_daily(ADMIN, channel_id=77, time_text="09:00")
    assert "09:00 (Asia/Kolkata)" in saved.reply.text
