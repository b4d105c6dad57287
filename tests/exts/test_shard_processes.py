"""Two real ``python -m bot run`` shard processes on one database never post a daily quiz
twice (issue 6).

Both processes talk to the fake Discord, which sends each IDENTIFY only its shard's servers,
and share one database: a SQLite file, or a fresh PostgreSQL database when
``TEST_DATABASE_URL`` is set. Every server's quiz was due two minutes before the processes
start, so each posts it late on start-up — exactly the moment two processes could race.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot import PROJECT_ROOT
from bot.app import open_services
from bot.core import daily
from bot.core.learners import Learner
from bot.core.sharding import shard_of
from bot.settings import Settings
from tests.dbquery import query
from tests.fakediscord import FakeDiscord, MessageRecord
from tests.fakediscord.fixtures import ALICE_ID

pytestmark = pytest.mark.slow

SHARD_COUNT = 2
TOKEN = "fake-shard-process-token"
#: How long before start-up every quiz was due: inside the grace period, so each is posted
#: late. (A starting process gives up another's post only ``STALE_POSTING`` after its claim.)
LATE_BY = timedelta(minutes=2)
#: Generous: two bot processes start at once on a possibly loaded 2-core machine.
STARTUP_TIMEOUT_S = 90.0
#: After every quiz is up, how long to watch for a second post.
DOUBLE_POST_WATCH_S = 3.0
STOP_TIMEOUT_S = 30.0
#: ``docker stop`` waits 10 s before it kills the process.
QUICK_STOP_S = 10.0

POSTED = re.compile(r"daily quiz \d+ posted in guild (\d+)")
REBUILT = re.compile(r"daily quizzes scheduled for (\d+) of (\d+) servers")


@dataclass(frozen=True)
class Server:
    """A study server of the test, with its daily-quiz channel and time zone."""

    guild_id: int
    channel_id: int
    timezone: str

    @property
    def shard(self) -> int:
        """The shard Discord puts this server on."""
        return shard_of(self.guild_id, SHARD_COUNT)


# Consecutive ids step the shard by one, so the servers alternate between shards 0 and 1.
# Zones without daylight saving time, so "two minutes ago" is one unambiguous local time.
SERVERS = tuple(
    Server(175928847299117063 + (i << 22), 910000000000000000 + i, zone)
    for i, zone in enumerate(("UTC", "Asia/Kolkata", "Asia/Tokyo", "America/Bogota"))
)


@dataclass
class BotProcess:
    """One ``python -m bot run`` process and the file its output goes to."""

    name: str
    process: asyncio.subprocess.Process
    log_path: Path

    def log(self) -> str:
        """Everything the process wrote so far."""
        return self.log_path.read_text(errors="replace")

    def posted_guilds(self) -> list[int]:
        """Servers this process posted a daily quiz in, from its log, in order."""
        return [int(guild) for guild in POSTED.findall(self.log())]

    def rebuilt(self) -> tuple[int, int] | None:
        """``(own servers, all servers)`` once the daily-quiz rebuild finished, else None."""
        match = REBUILT.search(self.log())
        return (int(match[1]), int(match[2])) if match else None


def test_the_servers_cover_both_shards() -> None:
    assert Counter(server.shard for server in SERVERS) == {0: 2, 1: 2}


def is_daily_quiz(message: MessageRecord) -> bool:
    """A daily-quiz question the bot created in a channel."""
    return (
        message.kind == "channel"
        and message.action == "create"
        and bool(message.embeds)
        and str(message.embeds[0].get("title", "")).startswith("🗓️ Daily quiz")
    )


def quizzes_per_channel(fake: FakeDiscord) -> Counter[int]:
    """How many daily-quiz messages each channel received."""
    return Counter(m.channel_id for m in fake.messages if is_daily_quiz(m))


def add_servers(fake: FakeDiscord) -> None:
    """Create the test's servers on the fake, each with its quiz channel."""
    for number, server in enumerate(SERVERS, 1):
        fake.add_guild(
            server.guild_id,
            f"Study group {number}",
            owner_id=ALICE_ID,
            owner_name="Alice",
            channels=[(server.channel_id, "daily-quiz")],
        )


async def configure_daily_quizzes(db_url: str, now: datetime) -> dict[int, date]:
    """Migrate the shared database and turn on every server's daily quiz, due ``LATE_BY``
    before ``now`` in the server's zone; returns each server's expected quiz date.

    The run that is due is on the local date of that moment, also just after midnight
    (``plan_run`` looks back across dates), so any wall-clock time works.
    """
    services = await open_services(Settings(database_url=db_url, training_workers=0))
    try:
        service = services.server_settings
        expected = {}
        for number, server in enumerate(SERVERS, 1):
            due = (now - LATE_BY).astimezone(ZoneInfo(server.timezone))
            admin = Learner(
                "discord", str(ALICE_ID), "Alice", server.guild_id, f"Study group {number}"
            )
            await service.configure_daily(
                admin,
                channel_id=server.channel_id,
                time_text=daily.format_hhmm(due.time()),
                timezone=server.timezone,
            )
            expected[server.guild_id] = due.date()
        return expected
    finally:
        await services.close()


async def start_bot(
    name: str, shard_ids: Sequence[int], fake: FakeDiscord, db_url: str, folder: Path
) -> BotProcess:
    """Start ``python -m bot run`` as shards ``shard_ids`` of ``SHARD_COUNT``."""
    env = {
        **os.environ,
        "PYTHONPATH": str(PROJECT_ROOT),
        "DISCORD_TOKEN": TOKEN,
        "DISCORD_API_BASE": fake.api_base,
        "DISCORD_GATEWAY_URL": fake.gateway_url,
        "DATABASE_URL": db_url,
        "SHARD_COUNT": str(SHARD_COUNT),
        "SHARD_IDS": json.dumps(list(shard_ids)),
        "TRAINING_WORKERS": "0",
        "LOG_LEVEL": "INFO",
    }
    log_path = folder / f"{name}.log"
    with log_path.open("wb") as sink:  # a file, so a full pipe can never block the bot
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", env=env, cwd=folder, stdout=sink, stderr=sink
        )
    return BotProcess(name, process, log_path)


async def wait_until(
    condition: Callable[[], bool], bots: Sequence[BotProcess], *, what: str, within_s: float
) -> None:
    """Poll ``condition`` until it holds; fail early, with the logs, if a bot process exits."""
    deadline = time.monotonic() + within_s
    while not condition():
        dead = [bot for bot in bots if bot.process.returncode is not None]
        if dead:
            logs = "\n".join(f"--- {bot.name}\n{bot.log()}" for bot in dead)
            pytest.fail(f"a bot process exited while waiting for {what}:\n{logs}")
        if time.monotonic() > deadline:
            logs = "\n".join(f"--- {bot.name}\n{bot.log()}" for bot in bots)
            pytest.fail(f"timed out after {within_s:.0f}s waiting for {what}:\n{logs}")
        await asyncio.sleep(0.1)


def loads_tensorflow(bot: BotProcess) -> bool:
    """Whether the process has TensorFlow's libraries mapped (Linux; False elsewhere)."""
    maps = Path(f"/proc/{bot.process.pid}/maps")
    try:
        return "tensorflow" in maps.read_text()
    except OSError:
        return False


async def stop(bots: Sequence[BotProcess], *, within_s: float = STOP_TIMEOUT_S) -> None:
    """SIGTERM every bot process still running and wait for all of them to exit.

    A process still running after ``within_s`` is killed and the test fails.
    """
    for bot in bots:
        if bot.process.returncode is None:
            bot.process.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(
            asyncio.gather(*(bot.process.wait() for bot in bots)), timeout=within_s
        )
    except TimeoutError:
        for bot in bots:
            if bot.process.returncode is None:
                bot.process.kill()
                await bot.process.wait()
        logs = "\n".join(f"--- {bot.name}\n{bot.log()[-3000:]}" for bot in bots)
        pytest.fail(f"a bot process did not stop within {within_s:.0f}s of SIGTERM:\n{logs}")


def assert_stopped_cleanly(bot: BotProcess) -> None:
    """Exit code 0 after "stopped", no traceback, and the token never logged."""
    log = bot.log()
    assert bot.process.returncode == 0, log
    assert "stopped" in log and "Traceback" not in log, log
    assert TOKEN not in log


def identified_shards(fake: FakeDiscord) -> Counter[int]:
    """How many gateway sessions the fake saw IDENTIFY as each shard."""
    return Counter(
        int(session.shard[0])
        for session in fake.gateway.sessions.values()
        if session.shard is not None
    )


@pytest.mark.parametrize(
    "shard_ids",
    [
        pytest.param(([0], [1]), id="one-shard-each"),
        # Misconfigured: both processes claim every shard. The database's one quiz per
        # server per local date still lets only one of them post.
        pytest.param(([0, 1], [0, 1]), id="both-claim-every-shard"),
    ],
)
async def test_two_shard_processes_post_each_daily_quiz_once(
    fake_discord: FakeDiscord, db_url: str, tmp_path: Path, shard_ids: tuple[list[int], list[int]]
) -> None:
    add_servers(fake_discord)
    expected_dates = await configure_daily_quizzes(db_url, datetime.now(UTC))
    channels = {server.channel_id for server in SERVERS}
    claims = Counter(i for ids in shard_ids for i in ids)
    # A process identifies its shards one by one, 5 s apart: wait for the first of each.
    first_shards = Counter(ids[0] for ids in shard_ids)
    bots: list[BotProcess] = []
    try:
        for number, ids in enumerate(shard_ids):
            bots.append(await start_bot(f"bot{number}", ids, fake_discord, db_url, tmp_path))
        await wait_until(
            lambda: (
                all(bot.rebuilt() for bot in bots)
                and set(quizzes_per_channel(fake_discord)) >= channels
                and identified_shards(fake_discord) >= first_shards
            ),
            bots,
            what="both processes to connect, rebuild their schedules and post",
            within_s=STARTUP_TIMEOUT_S,
        )
        await asyncio.sleep(DOUBLE_POST_WATCH_S)
        assert not any(loads_tensorflow(bot) for bot in bots)
        per_channel = quizzes_per_channel(fake_discord)
    finally:
        await stop(bots)

    # Exactly one quiz in every server's channel, and nowhere else.
    assert per_channel == dict.fromkeys(channels, 1)
    # The database holds exactly one run per server, for the local date that was due.
    rows = query(db_url, "SELECT guild_id, local_date, status FROM daily_quizzes")
    assert sorted(rows) == sorted(
        (guild_id, day.isoformat(), "open") for guild_id, day in expected_dates.items()
    )
    # The processes connected to Discord only as the shards they were given.
    assert identified_shards(fake_discord) <= claims
    # Between them they posted every server's quiz once.
    posted = [guild for bot in bots for guild in bot.posted_guilds()]
    assert sorted(posted) == sorted(expected_dates)
    for bot, ids in zip(bots, shard_ids, strict=True):
        # Each process scheduled and posted only the servers on its own shards.
        own = {server.guild_id for server in SERVERS if server.shard in ids}
        assert bot.rebuilt() == (len(own), len(SERVERS))
        assert set(bot.posted_guilds()) <= own
        if all(claims[i] == 1 for i in ids):
            assert set(bot.posted_guilds()) == own  # its shards are its alone
        assert_stopped_cleanly(bot)


async def test_a_process_stopped_while_its_shards_connect_exits_at_once(
    fake_discord: FakeDiscord, db_url: str, tmp_path: Path
) -> None:
    """``docker stop`` during start-up: shard 0 is up, shard 1 waits its 5 s to connect."""
    bot = await start_bot("bot", [0, 1], fake_discord, db_url, tmp_path)
    try:
        await wait_until(
            lambda: identified_shards(fake_discord)[0] > 0,
            [bot],
            what="shard 0 to connect",
            within_s=STARTUP_TIMEOUT_S,
        )
    finally:
        await stop([bot], within_s=QUICK_STOP_S)
    assert_stopped_cleanly(bot)
