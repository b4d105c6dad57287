"""Start-up faults: the real discord.py client against a dead port or the fake Discord.

Faults that can pass (unreachable, HTTP 5xx, a refused gateway connection) are retried with
a growing wait and then reported in one line; a refused token is reported at once. Never a
traceback. In-process tests shrink the retry policy; ``python -m bot run`` uses its default.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot import PROJECT_ROOT
from bot.app import discord_bot
from bot.exts.client import TutorBot
from bot.exts.runner import (
    DEFAULT_ATTEMPTS,
    StartupFailed,
    backoff_delay,
    run_discord,
    serve,
)
from bot.settings import Settings
from tests.fakediscord import FakeDiscord, apply_discord_py_urls

pytestmark = pytest.mark.slow

ATTEMPTS = 3
BASE_DELAY_S = 0.01
"""A retry policy small enough for tests."""


class Bots:
    """``make_bot`` for the runner that keeps every bot it built (one per try)."""

    def __init__(self) -> None:
        self.built: list[TutorBot] = []

    def __call__(self, settings: Settings) -> TutorBot:
        bot = discord_bot(settings)
        bot._connection.guild_ready_timeout = 0.05
        self.built.append(bot)
        return bot


@pytest.fixture
def discord_urls() -> Iterator[None]:
    """Restore discord.py's URLs, which the runner sets from the settings."""
    old_base, old_gateway = apply_discord_py_urls("http://unset.invalid", "ws://unset.invalid")
    try:
        yield
    finally:
        apply_discord_py_urls(old_base, str(old_gateway))


def dead_port() -> int:
    """A local port nothing listens on (connections are refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def settings_for(db_url: str, api_base: str, gateway_url: str, token: str) -> Settings:
    return Settings(
        discord_token=token,
        database_url=db_url,
        discord_api_base=api_base,
        discord_gateway_url=gateway_url,
        training_workers=0,
    )


def logins(fake: FakeDiscord) -> list[int]:
    """Statuses of the login requests (``GET /users/@me``) the fake answered."""
    return [r.status for r in fake.requests if (r.method, r.path) == ("GET", "/users/@me")]


def no_tracebacks(caplog: pytest.LogCaptureFixture) -> bool:
    return not any(record.exc_info for record in caplog.records)


def test_the_wait_doubles_and_is_capped() -> None:
    assert [backoff_delay(n, 1.0) for n in (1, 2, 3)] == [1.0, 2.0, 4.0]
    assert backoff_delay(10, 1.0) == 30.0


@pytest.mark.parametrize("where", ["refused", "dns"])
def test_an_unreachable_discord_is_retried_then_reported_in_one_line(
    db_url: str,
    discord_urls: None,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    where: str,
) -> None:
    host = f"127.0.0.1:{dead_port()}" if where == "refused" else "discord.invalid"
    settings = settings_for(db_url, f"http://{host}/api/v10", f"ws://{host}/ws/", "a-token")
    bots = Bots()
    caplog.set_level(logging.INFO)
    assert run_discord(settings, bots, attempts=ATTEMPTS, base_delay_s=BASE_DELAY_S) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    if where == "refused":
        assert err.startswith("Could not reach Discord (tried 3 times). Check the network"), err
    else:
        assert err.startswith("Could not look up Discord's address (DNS) (tried 3 times)"), err
    assert len(bots.built) == 3
    assert all(bot.is_closed() for bot in bots.built)
    assert sum("trying again" in r.getMessage() for r in caplog.records) == 2
    assert no_tracebacks(caplog)


async def test_a_stop_during_the_wait_ends_at_once_without_a_message(
    db_url: str, discord_urls: None
) -> None:
    host = f"127.0.0.1:{dead_port()}"
    settings = settings_for(db_url, f"http://{host}/api/v10", f"ws://{host}/ws/", "a-token")
    bots = Bots()
    serving = asyncio.create_task(serve(settings, bots, attempts=5, base_delay_s=60.0))
    for _ in range(250):
        if bots.built and bots.built[0].is_closed():
            break
        await asyncio.sleep(0.02)
    assert len(bots.built) == 1 and not serving.done()  # the first try failed: waiting
    signal.raise_signal(signal.SIGTERM)  # docker stop (serve handles it while it runs)
    await asyncio.wait_for(serving, timeout=5)
    assert len(bots.built) == 1


async def run_until_ready(fake: FakeDiscord, settings: Settings, bots: Bots) -> asyncio.Task[None]:
    """Start :func:`serve` with the quick policy; return once the bot is connected."""
    serving = asyncio.create_task(
        serve(settings, bots, attempts=ATTEMPTS, base_delay_s=BASE_DELAY_S)
    )
    ready = asyncio.create_task(fake.wait_for_gateway_ready(timeout=30))
    done, _ = await asyncio.wait({serving, ready}, return_when=asyncio.FIRST_COMPLETED)
    if serving in done:
        ready.cancel()
        serving.result()
        raise AssertionError("serve returned before the bot connected")
    await ready
    for _ in range(250):
        if bots.built[-1].is_ready():
            return serving
        await asyncio.sleep(0.02)
    raise AssertionError("the bot never became ready")


async def test_5xx_at_login_is_retried_until_discord_answers(
    fake_discord: FakeDiscord, db_url: str, discord_urls: None, caplog: pytest.LogCaptureFixture
) -> None:
    settings = settings_for(db_url, fake_discord.api_base, fake_discord.gateway_url, "a-token")
    fake_discord.fail_route("GET", "/users/@me", status=503, times=2)
    bots = Bots()
    serving = await run_until_ready(fake_discord, settings, bots)
    assert logins(fake_discord) == [503, 503, 200]
    assert len(bots.built) == 3
    await bots.built[-1].close()
    await asyncio.wait_for(serving, timeout=10)
    assert no_tracebacks(caplog)


async def test_gateway_failures_are_retried_then_reported(
    fake_discord: FakeDiscord, db_url: str, discord_urls: None, caplog: pytest.LogCaptureFixture
) -> None:
    settings = settings_for(db_url, fake_discord.api_base, fake_discord.gateway_url, "a-token")
    fake_discord.fail_gateway(times=2)
    bots = Bots()
    serving = await run_until_ready(fake_discord, settings, bots)
    assert fake_discord.gateway.refused_count == 2 and len(bots.built) == 3
    await bots.built[-1].close()
    await asyncio.wait_for(serving, timeout=10)

    fake_discord.fail_gateway(times=-1)
    bots = Bots()
    with pytest.raises(StartupFailed) as failed:
        await serve(settings, bots, attempts=ATTEMPTS, base_delay_s=BASE_DELAY_S)
    assert failed.value.message.startswith("Could not connect to Discord's gateway (tried 3")
    assert "discordstatus.com" in failed.value.message
    assert fake_discord.gateway.refused_count == 2 + 3 and len(bots.built) == 3
    assert all(bot.is_closed() for bot in bots.built)
    assert no_tracebacks(caplog)


async def run_bot_process(fake: FakeDiscord, tmp_path: Path) -> tuple[int, str, float]:
    """``python -m bot run`` against the fake: exit code, stderr and seconds taken."""
    env = {
        **os.environ,
        "PYTHONPATH": str(PROJECT_ROOT),
        "DISCORD_TOKEN": "fake-token",
        "DISCORD_API_BASE": fake.api_base,
        "DISCORD_GATEWAY_URL": fake.gateway_url,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'tutor.db'}",
        "TRAINING_WORKERS": "0",
    }
    env.pop("LOG_LEVEL", None)
    started = time.monotonic()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        env=env,
        cwd=tmp_path,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(process.communicate(), timeout=90)
    assert process.returncode is not None
    return process.returncode, err.decode(errors="replace"), time.monotonic() - started


async def test_a_refused_token_is_reported_at_once_by_the_process(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    fake_discord.token = "the-real-token"  # the bot logs in with another one: 401
    code, err, _ = await run_bot_process(fake_discord, tmp_path)
    assert code == 2
    assert err == "Discord refused the token. Check DISCORD_TOKEN (see README).\n"
    assert logins(fake_discord) == [401]  # not retried


async def test_5xx_for_ever_ends_the_process_with_one_line(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    fake_discord.fail_route("GET", "/users/@me", status=503, times=-1)
    code, err, took = await run_bot_process(fake_discord, tmp_path)
    assert code == 2
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith(
        f"Discord answered with a server error (HTTP 503) (tried {DEFAULT_ATTEMPTS} times)."
    )
    assert "discordstatus.com" in err
    assert logins(fake_discord) == [503] * DEFAULT_ATTEMPTS
    waits = sum(backoff_delay(n, 1.0) for n in range(1, DEFAULT_ATTEMPTS))
    assert took >= waits
