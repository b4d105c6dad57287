"""``python -m bot run`` as a real process against the fake Discord: settings point the
unmodified client at it, commands are served, and SIGTERM stops it cleanly."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from bot import PROJECT_ROOT
from tests.fakediscord import FakeDiscord, MessageRecord
from tests.fakediscord.fixtures import ALICE_ID

pytestmark = pytest.mark.slow


async def test_the_bot_process_serves_and_stops_cleanly(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": str(PROJECT_ROOT),
        "DISCORD_TOKEN": "fake-token",
        "DISCORD_API_BASE": fake_discord.api_base,
        "DISCORD_GATEWAY_URL": fake_discord.gateway_url,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'tutor.db'}",
        "TRAINING_WORKERS": "0",
        "LOG_LEVEL": "INFO",
    }
    log_file = tmp_path / "bot.log"
    with log_file.open("wb") as sink:  # a file, so a full pipe can never block the bot
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", env=env, cwd=tmp_path, stdout=sink, stderr=sink
        )
    try:
        await fake_discord.wait_for_commands("review", "help", timeout=60)
        await fake_discord.wait_for_gateway_ready(timeout=30)
        handle = await fake_discord.send_slash_command("help", user_id=ALICE_ID)
        reply = await fake_discord.wait_for_response(handle, timeout=20)
        assert isinstance(reply, MessageRecord)
        assert reply.ephemeral and "how to start" in reply.embeds[0]["title"]
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), timeout=30)
    log = log_file.read_text()
    assert process.returncode == 0, log
    assert "stopped" in log and "Traceback" not in log
    assert "fake-token" not in log  # the token is never logged
