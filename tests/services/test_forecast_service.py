"""``/forecast`` over a temporary database: due per local day, recall, scope and time zones."""

from __future__ import annotations

import struct
from datetime import timedelta

from sqlmodel import col, select

from bot.core.clock import FakeClock
from bot.core.forecast import NOTHING_TO_FORECAST
from bot.core.learners import Learner
from bot.core.question_drafts import QuestionDraft
from bot.core.replies import Reply
from bot.services.forecast import ForecastService
from bot.services.question_bank import QuestionBankService
from bot.services.server_settings import ServerSettingsService
from bot.services.study import StudyServices
from bot.storage.db import Database
from bot.storage.models import Item, User
from tests.study_helpers import seed_card

SERVER_A = 7_000_001
SERVER_B = 7_000_002


def on(server: int, external_id: str = "7", name: str = "Sam") -> Learner:
    return Learner("discord", external_id, name, guild_id=server, guild_name=f"Server {server}")


def fields(reply: Reply) -> dict[str, str]:
    return {field.name: field.value for field in reply.fields}


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


async def bundled_ids(db: Database, count: int) -> list[int]:
    async with db.session() as session:
        statement = select(Item.id).where(col(Item.guild_id).is_(None)).order_by(col(Item.id))
        found = [i for i in (await session.exec(statement)).all() if i]
    assert len(found) >= count
    return found[:count]


async def test_a_member_without_cards_gets_a_friendly_nudge(
    study: StudyServices, db: Database
) -> None:
    service = ForecastService(study.context)
    reply = await service.forecast(on(SERVER_A))
    assert reply.text == NOTHING_TO_FORECAST
    assert reply.private and reply.image is None
    async with db.session() as session:  # asking creates no member row
        assert (await session.exec(select(User))).all() == []


async def test_due_per_day_recall_and_chart(study: StudyServices, clock: FakeClock) -> None:
    now = clock.now()  # Monday 09:00 UTC
    sam = on(SERVER_A)
    ids = await bundled_ids(study.context.db, 7)
    await seed_card(study, sam, ids[0], due=now - timedelta(days=3))  # overdue: today
    await seed_card(study, sam, ids[1], due=now + timedelta(hours=10))  # 19:00 today
    await seed_card(study, sam, ids[2], due=now + timedelta(days=1))  # tomorrow
    # Reviewed today and strong: safe all week.
    await seed_card(study, sam, ids[3], due=now + timedelta(days=25), stability=30.0, reviewed=now)
    # Due on Thursday, not yet due: its recall slips under 90% this week.
    await seed_card(
        study,
        sam,
        ids[4],
        due=now + timedelta(days=3),
        stability=4.0,
        reviewed=now - timedelta(days=1),
    )
    await seed_card(study, sam, ids[5], due=now + timedelta(days=3, hours=2))  # Thursday too
    await seed_card(study, sam, ids[6], due=now + timedelta(days=45))  # past the window

    reply = await ForecastService(study.context).forecast(sam)
    assert reply.text == "Today 2 · this week 5 · busiest day today (2)"
    figures = fields(reply)
    assert figures["Due today"] == "2"
    assert figures["Next 7 days"] == "5"
    assert figures["Next 30 days"] == "6"
    assert figures["At risk this week"] == "1"
    assert figures["Recall now"].endswith("across 2 cards")
    assert 90 <= int(figures["Recall now"].split("%")[0]) <= 100
    assert "below 90%" in reply.footer
    assert reply.image is not None and reply.image.filename == "forecast.png"
    assert png_size(reply.image.data) == (800, 400)


async def test_another_servers_own_cards_never_count(
    study: StudyServices, db: Database, clock: FakeClock
) -> None:
    now = clock.now()
    bank = QuestionBankService(db, clock=clock)
    added = await bank.add(
        on(SERVER_B, "10", "Bea"),
        QuestionDraft(
            deck="b-only",
            kind="mcq",
            difficulty="easy",
            question="Server B's own question?",
            options="Yes\nNo",
            answer="Yes",
            explanation="Only server B knows.",
        ),
    )
    b_item = int(added.title.split("#")[1].split()[0])
    [bundled] = await bundled_ids(db, 1)
    await seed_card(study, on(SERVER_B), b_item, due=now - timedelta(hours=1))
    service = ForecastService(study.context)

    in_a = await service.forecast(on(SERVER_A))
    assert in_a.text == NOTHING_TO_FORECAST  # B's card is invisible in A
    in_b = await service.forecast(on(SERVER_B))
    assert fields(in_b)["Due today"] == "1"

    await seed_card(study, on(SERVER_A), bundled, due=now + timedelta(days=2))
    in_a = await service.forecast(on(SERVER_A))
    assert fields(in_a)["Due today"] == "0" and fields(in_a)["Next 7 days"] == "1"
    in_b = await service.forecast(on(SERVER_B))  # bundled cards show everywhere
    assert fields(in_b)["Due today"] == "1" and fields(in_b)["Next 7 days"] == "2"


async def test_days_follow_the_servers_time_zone(
    study: StudyServices, db: Database, clock: FakeClock
) -> None:
    now = clock.now()  # 09:00 UTC = 18:00 in Tokyo
    tokyo = on(SERVER_A)
    utc = on(SERVER_B)
    [item] = await bundled_ids(db, 1)
    # 16:00 UTC: later today in UTC, but 01:00 tomorrow in Tokyo.
    await seed_card(study, tokyo, item, due=now + timedelta(hours=7))
    await ServerSettingsService(db, clock=clock).set_timezone(tokyo, "Asia/Tokyo")
    service = ForecastService(study.context)

    in_tokyo = await service.forecast(tokyo)
    assert in_tokyo.text.startswith("Today 0 · this week 1 · busiest day Tue 6 Jan (1)")
    in_utc = await service.forecast(utc)
    assert in_utc.text.startswith("Today 1 · this week 1 · busiest day today (1)")
