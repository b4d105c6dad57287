"""Review reminders on a database with a fake clock: once a day, only with reviews due."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.core.clock import FakeClock
from bot.core.learners import Learner
from bot.errors import BadInput
from bot.services.reminders import ReminderService
from bot.services.server_settings import ServerSettingsService
from bot.services.study import StudyServices
from bot.storage.db import Database
from tests.daily_helpers import ADMIN, BOB, CAROL, utc


@pytest.fixture
def service(db: Database, clock: FakeClock) -> ReminderService:
    return ReminderService(db, clock=clock)


async def test_reminders_go_to_members_with_reviews_due_once_a_day(
    service: ReminderService, study: StudyServices, clock: FakeClock
) -> None:
    reply = await service.set_reminder(BOB, True, time_text="18:00")
    assert "18:00 (UTC)" in reply.text
    with pytest.raises(BadInput):
        await service.set_reminder(BOB, True, timezone="Nowhere/Special")
    await service.set_reminder(CAROL, True, time_text="18:00")
    card = await study.review.review(BOB)
    revealed = await study.actions.act(BOB, card.choices[0].action)
    await study.actions.act(BOB, revealed.choice_for("good").action)  # type: ignore[union-attr]

    assert await service.due_reminders(utc(2026, 1, 5, 17)) == []  # not 18:00 yet
    later = utc(2026, 1, 30, 18, 5)
    notices = await service.due_reminders(later)
    assert [(n.external_id, n.due) for n in notices] == [("2", 1)]  # Carol has nothing due
    assert "1 review is due" in notices[0].reply.text
    assert await service.due_reminders(later + timedelta(hours=2)) == []
    assert len(await service.due_reminders(later + timedelta(days=1))) == 1
    await service.set_reminder(BOB, False)
    assert await service.due_reminders(later + timedelta(days=2)) == []


async def test_reminders_follow_the_members_then_the_servers_then_the_bots_time_zone(
    db: Database, clock: FakeClock
) -> None:
    service = ReminderService(db, clock=clock, default_timezone="Europe/Berlin")
    in_dms = Learner(platform="discord", external_id="4", display_name="Dora")
    assert "18:00 (Europe/Berlin)" in (await service.set_reminder(in_dms, True)).text
    await ServerSettingsService(db, clock=clock).set_timezone(ADMIN, "Asia/Tokyo")
    assert "(Asia/Tokyo)" in (await service.set_reminder(BOB, True)).text
    reply = await service.set_reminder(BOB, True, time_text="07:30", timezone="utc")
    assert "07:30 (UTC)" in reply.text
    assert "07:30 (UTC)" in (await service.set_reminder(BOB, True)).text  # kept
