"""``/train`` end to end: real discord.py, the fake Discord and a real TensorFlow worker."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from bot.app import discord_bot
from bot.exts.client import TutorBot
from bot.settings import Settings
from tests.exts.conftest import ACK_DEADLINE_S
from tests.fakediscord import FakeDiscord, MessageRecord, running_client
from tests.fakediscord.fixtures import ALICE_ID, BOB_ID

pytestmark = pytest.mark.slow

DEFERRED_CHANNEL_MESSAGE = 5


@pytest_asyncio.fixture
async def lab_bot(fake_discord: FakeDiscord, bot_settings: Settings) -> AsyncIterator[TutorBot]:
    """A bot with one warm training worker and no cooldown."""
    fake_discord.ack_deadline_s = ACK_DEADLINE_S
    settings = bot_settings.model_copy(update={"training_workers": 1, "training_cooldown_s": 0})
    bot = discord_bot(settings)
    async with running_client(bot, fake_discord):
        await fake_discord.wait_for_commands("train")
        yield bot


def fields(message: MessageRecord) -> dict[str, str]:
    return {f["name"]: f["value"] for f in message.embeds[0].get("fields", [])}


async def final_edit(fake: FakeDiscord, handle: object) -> MessageRecord:
    """The edit of the deferred reply that carries the result embed."""

    def probe() -> MessageRecord | None:
        for message in fake.messages_for(handle):  # type: ignore[arg-type]
            if message.embeds:
                return message
        return None

    return await fake.wait_for(probe, timeout=90)


async def test_train_defers_then_shows_losses_and_a_curve(
    fake_discord: FakeDiscord, lab_bot: TutorBot
) -> None:
    handle = await fake_discord.send_slash_command("train", user_id=ALICE_ID)
    result = await final_edit(fake_discord, handle)
    assert [c.type for c in fake_discord.callbacks_for(handle)] == [DEFERRED_CHANNEL_MESSAGE]
    assert all(c.elapsed_s < ACK_DEADLINE_S for c in fake_discord.callbacks)
    shown = fields(result)
    assert float(shown["Loss after"]) < float(shown["Loss before"])
    assert "Weights before" in shown and "Weights after" in shown

    handle = await fake_discord.send_slash_command(
        "train",
        user_id=BOB_ID,
        options={"preset": "house-prices", "optimizer": "adam", "steps": 200, "seed": 3},
    )
    curve = await final_edit(fake_discord, handle)
    assert curve.attachments and curve.attachments[0].data.startswith(b"\x89PNG")
    assert curve.embeds[0]["image"]["url"].endswith("loss_curve.png")
    # The bot process itself never imported TensorFlow.
    assert "tensorflow" not in sys.modules


async def test_no_apply_and_bad_options(fake_discord: FakeDiscord, lab_bot: TutorBot) -> None:
    handle = await fake_discord.send_slash_command(
        "train", user_id=ALICE_ID, options={"preset": "no-apply"}
    )
    result = await final_edit(fake_discord, handle)
    shown = fields(result)
    assert shown["Loss before"] == shown["Loss after"]
    assert "(unchanged)" in shown["Weights after"]
    assert "apply_gradients was never called" in result.embeds[0]["description"]

    handle = await fake_discord.send_slash_command(
        "train", user_id=ALICE_ID, options={"learning_rate": 50.0}
    )
    refused = await fake_discord.wait_for_response(handle)
    assert isinstance(refused, MessageRecord)
    assert refused.ephemeral and "0.00001 to 10" in refused.content


async def test_after_idling_the_lab_warms_up_and_still_answers(
    fake_discord: FakeDiscord, bot_settings: Settings
) -> None:
    fake_discord.ack_deadline_s = ACK_DEADLINE_S
    settings = bot_settings.model_copy(
        update={"training_workers": 1, "training_cooldown_s": 0, "training_idle_s": 1.0}
    )
    bot = discord_bot(settings)
    async with running_client(bot, fake_discord):
        await fake_discord.wait_for_commands("train")
        lab = bot.services.lab
        assert lab is not None
        first = await fake_discord.send_slash_command("train", user_id=ALICE_ID)
        await final_edit(fake_discord, first)
        deadline = time.monotonic() + 60
        while lab.started:  # the worker stops after a second without a job
            assert time.monotonic() < deadline, "the idle worker was not stopped"
            await asyncio.sleep(0.1)

        handle = await fake_discord.send_slash_command("train", user_id=BOB_ID)
        result = await final_edit(fake_discord, handle)
        contents = [m.content for m in fake_discord.messages_for(handle)]
        assert any(c.startswith("Warming up the lab — about ") for c in contents), contents
        shown = fields(result)
        assert shown["Warm-up"].endswith("s (the lab started first)")
        assert float(shown["Loss after"]) < float(shown["Loss before"])
        assert [c.type for c in fake_discord.callbacks_for(handle)] == [DEFERRED_CHANNEL_MESSAGE]
