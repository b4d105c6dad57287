"""End to end: /exam on the fake Discord — private, server-wide exams for moderators only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.exts.client import TutorBot
from bot.services.exam import countdown
from bot.settings import Settings
from tests.dbquery import query
from tests.exts.conftest import ACK_DEADLINE_S
from tests.fakediscord import FakeDiscord, MessageRecord
from tests.fakediscord.fixtures import ALICE_ID, BOB_ID

pytestmark = pytest.mark.slow


async def exam(fake: FakeDiscord, sub: str, user_id: int, **options: Any) -> MessageRecord:
    handle = await fake.send_slash_command(
        "exam", user_id=user_id, subcommand=sub, options=options or None
    )
    reply = await fake.wait_for_message(handle)
    assert reply.ephemeral
    return reply


def title(message: MessageRecord) -> str:
    assert message.embeds, f"no embed in {message.payload}"
    return str(message.embeds[0].get("title", ""))


def exams_stored(settings: Settings) -> int:
    return int(query(settings.database_url, "SELECT count(*) FROM exams")[0][0])


async def test_exam_set_show_clear_and_moderators_only_for_the_server(
    fake_discord: FakeDiscord, tutor_bot: TutorBot, bot_settings: Settings
) -> None:
    await fake_discord.wait_for_commands("exam")
    today = datetime.now(UTC).date()  # the bot runs on the real clock, in UTC here
    own_day, server_day = today + timedelta(days=20), today + timedelta(days=55)
    refused = await exam(fake_discord, "set", BOB_ID, date=server_day.isoformat(), server=True)
    assert refused.content.startswith("Only moderators can")
    assert exams_stored(bot_settings) == 0

    mine = await exam(fake_discord, "set", BOB_ID, date=own_day.isoformat())
    assert countdown(own_day, today) in title(mine)
    server = await exam(fake_discord, "set", ALICE_ID, date=server_day.isoformat(), server=True)
    assert title(server) == "📅 Server exam set"

    shown = await exam(fake_discord, "show", BOB_ID)
    assert title(shown) == f"📅 {countdown(own_day, today)}"  # his own wins
    assert "55 days" in title(await exam(fake_discord, "show", ALICE_ID))  # the server's

    refused = await exam(fake_discord, "clear", BOB_ID, server=True)
    assert refused.content.startswith("Only moderators can")
    assert title(await exam(fake_discord, "clear", BOB_ID)) == "Exam cleared"
    assert "55 days" in title(await exam(fake_discord, "show", BOB_ID))
    assert title(await exam(fake_discord, "clear", ALICE_ID, server=True)) == "Exam cleared"
    assert exams_stored(bot_settings) == 0
    assert all(c.ok and c.elapsed_s < ACK_DEADLINE_S for c in fake_discord.callbacks)
