"""End to end: /forecast on the fake Discord — private, with a chart, scoped to the server."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import col, select

from bot.core.forecast import NOTHING_TO_FORECAST
from bot.core.learners import Learner
from bot.exts.client import TutorBot
from bot.storage.models import ReviewState, User
from tests.exts.conftest import ACK_DEADLINE_S
from tests.exts.test_community_e2e import answer, png_size
from tests.fakediscord import FakeDiscord, MessageRecord
from tests.fakediscord.fixtures import ALICE_ID, BOB_ID, GUILD_ID

pytestmark = pytest.mark.slow


def embed(message: MessageRecord) -> dict[str, Any]:
    assert message.embeds, f"no embed in {message.payload}"
    return message.embeds[0]


def fields(message: MessageRecord) -> dict[str, str]:
    return {f["name"]: f["value"] for f in embed(message).get("fields", [])}


async def test_forecast_is_private_with_a_chart(
    fake_discord: FakeDiscord, tutor_bot: TutorBot
) -> None:
    alice = Learner("discord", str(ALICE_ID), "Alice", guild_id=GUILD_ID, guild_name="Study Hall")
    await answer(tutor_bot.study, alice, right=True)
    await answer(tutor_bot.study, alice, right=False)
    # The quiz picks at random, so the two answers may share one card.
    async with tutor_bot.study.context.db.session() as session:
        cards = (
            await session.exec(
                select(ReviewState)
                .join(User, col(User.id) == col(ReviewState.user_id))
                .where(User.external_id == str(ALICE_ID))
            )
        ).all()
    assert 1 <= len(cards) <= 2

    handle = await fake_discord.send_slash_command("forecast", user_id=ALICE_ID)
    mine = await fake_discord.wait_for_message(handle)
    assert mine.ephemeral
    shown = fields(mine)
    assert {"Due today", "Next 7 days", "Next 30 days", "Recall now", "At risk this week"} <= set(
        shown
    )
    assert shown["Next 30 days"] == str(len(cards))  # every card comes back within days
    assert embed(mine)["description"].startswith("Today ")
    assert "At risk:" in embed(mine)["footer"]["text"]
    [chart] = mine.attachments
    assert chart.filename == "forecast.png" and png_size(chart.data) == (800, 400)
    assert embed(mine)["image"]["url"] == "attachment://forecast.png"

    handle = await fake_discord.send_slash_command("forecast", user_id=BOB_ID)
    empty = await fake_discord.wait_for_message(handle)
    assert empty.ephemeral and embed(empty)["description"] == NOTHING_TO_FORECAST
    assert not empty.attachments
    assert all(c.ok and c.elapsed_s < ACK_DEADLINE_S for c in fake_discord.callbacks)
