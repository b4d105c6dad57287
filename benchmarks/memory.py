"""Benchmark: memory (RSS) of the bot process after start-up and after 10,000 answers, and
its idle footprint with the TensorFlow worker alive and after the worker was stopped.

Two processes, so the measured one holds nothing but the bot:

* this process (the driver) runs the fake Discord (``tests.fakediscord.FakeDiscord``, one
  server with a channel and ``--click-members`` members) and clicks buttons on it;
* a child process (``--child``) runs the real :class:`bot.exts.client.TutorBot` against the
  fake with ``training_workers=1``: Discord layer, scheduler, engine and the warm-worker
  manager. The TensorFlow worker is a grandchild; its RSS is read separately from
  ``/proc/<pid>/status`` (after one ``single-step`` job, so it holds a compiled model).

After READY the child reports its ``VmRSS``. Then answers are pushed in five phases of
2,000: most through the engine's click path (``Tutor.quiz(..., shared=True)`` once per
round, then ``Tutor.act(learner, token)`` for every simulated member, like
``benchmarks/answers.py``), and ``--clicks-per-phase`` through Discord itself: the driver
sends ``/quiz`` in the channel and members click an answer button on the posted message, so
discord.py's interaction, webhook and cache code runs too. RSS is recorded after each phase,
and once more after ``gc.collect()``. With ``--trace`` the child also runs ``tracemalloc``
and prints its top allocation sites (that run's RSS includes tracemalloc's own overhead).

Idle footprint. The bot runs with ``TRAINING_IDLE_S=--idle-s``. Right after start-up it
times ``--warm-runs`` warm ``single-step`` jobs through the pool (as
``benchmarks/train_latency.py`` does: around ``await pool.run(...)``) and records the idle
RSS of the bot and of its worker. After the answers it waits until the idle worker has been
stopped, records the RSS again (bot only: no worker is left), then times the first job
after that (the warm-up on demand).

Usage: ``.venv/bin/python benchmarks/memory.py [--answers 10000] [--clicks-per-phase 100]
[--idle-s 10] [--warm-runs 30]``. The last output line is JSON: ``rss_start_mb``,
``rss_after_10k_mb``, ``rss_growth_last_half_mb`` (RSS after the last phase minus RSS at the
half-way phase), ``worker_rss_mb``, ``tensorflow_in_bot_process``, ``idle_worker_alive_mb``
and ``idle_worker_stopped_mb`` (bot, workers, total), ``warm_train_p50_ms``/``p95_ms``
and ``wake_up_s``, plus the per-phase figures.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import random
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.app import discord_bot

SCRIPT = Path(__file__).resolve()
ROOT = SCRIPT.parent.parent
sys.path.insert(0, str(ROOT))

if TYPE_CHECKING:
    from tests.fakediscord import FakeDiscord

GUILD_ID = 111_111_111_111_111_111
CHANNEL_ID = 222_222_222_222_222_222
OWNER_ID = 333_333_333_333_333_333
APPLICATION_ID = 999_999_999_999_999_999
#: Discord ids of the members who answer through button clicks.
CLICK_MEMBER_BASE = 500_000_000_000_000_000
PHASES = 5
TARGET_RSS_MB = 150.0
#: With the sentence model loaded (issue 14: grading by meaning, the tutor's retrieval).
TARGET_RSS_WITH_MODEL_MB = 200.0
#: A warm single-step /train, timed around ``await pool.run(...)``.
TARGET_WARM_P50_MS = 25.0
#: Lines from the child that carry data for the driver start with this marker.
MARKER = "@@bench "


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100), as ``benchmarks/train_latency.py``."""
    ordered = sorted(values)
    rank = max(1, round(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def rss_mb(pid: int | str = "self") -> float | None:
    """``VmRSS`` of a process in MB, or None when it cannot be read."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return None


# -- the child: the bot process ------------------------------------------------------------


class BotProcess:
    """The measured process: a TutorBot connected to the driver's fake Discord."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.api_base = str(args.api_base)
        self.gateway_url = str(args.gateway_url)
        self.database = Path(args.database)
        self.members = int(args.members)
        self.idle_s = float(args.idle_s)
        self.warm_runs = int(args.warm_runs)
        self.rng = random.Random(1)
        self.answered = 0
        self.bot: Any = None

    def send(self, **message: Any) -> None:
        """One data line for the driver."""
        sys.stdout.write(MARKER + json.dumps(message) + "\n")
        sys.stdout.flush()

    async def start(self) -> dict[str, Any]:
        """Log in, connect, wait for READY and the warm worker; report the start-up RSS."""
        import discord
        from discord.gateway import DiscordWebSocket
        from discord.http import Route
        from yarl import URL

        from bot.settings import Settings
        from bot.training.jobs import TrainRequest

        # What tests.fakediscord.point_discord_py_at does, without importing the fake here.
        Route.BASE = self.api_base
        DiscordWebSocket.DEFAULT_GATEWAY = URL(self.gateway_url)
        settings = Settings(
            discord_token="fake-token",
            database_url=f"sqlite+aiosqlite:///{self.database}",
            training_workers=1,
            training_cooldown_s=0,
            training_idle_s=self.idle_s,
        )
        bot = discord_bot(settings)
        self.bot = bot
        bot._connection.guild_ready_timeout = 0.05
        started = time.perf_counter()
        await bot.login("fake-token")
        self._runner = asyncio.create_task(bot.connect(reconnect=True))
        await asyncio.wait_for(bot.wait_until_ready(), timeout=30)
        ready_s = time.perf_counter() - started
        rss_ready = rss_mb()
        from bot.exts.lab import LabCog

        cog = bot.get_cog("Lab")
        if not isinstance(cog, LabCog):
            raise RuntimeError("the Lab cog is not loaded (training_workers must be > 0)")
        pool = await cog.lab.start()  # the pool the cog started in the background
        await pool.wait_ready(timeout_s=120)
        job = await pool.run(
            TrainRequest(preset="single-step", optimizer="sgd", learning_rate=0.1, steps=1, seed=1),
            member_id="bench",
        )
        self.pool = pool
        times: list[float] = []
        for i in range(self.warm_runs):
            request = TrainRequest(
                preset="single-step", optimizer="sgd", learning_rate=0.1, steps=1, seed=i
            )
            t0 = time.perf_counter()
            await pool.run(request, member_id="bench")
            times.append(time.perf_counter() - t0)
        # The sentence model, loaded as the first explain answer or /ask question loads it,
        # and one explanation graded through it.
        gc.collect()
        rss_before_model = rss_mb()
        from bot.core.content import Explain

        meaning = bot.services.meaning
        await asyncio.to_thread(meaning.warm)
        explain = next(
            item for _, item in bot.services.library.items() if isinstance(item, Explain)
        )
        await asyncio.to_thread(
            meaning.grade, explain, "Training nudges the weights so the error drops."
        )
        gc.collect()
        rss_with_model = rss_mb()
        return {
            "event": "ready",
            "rss_before_model_mb": rss_before_model,
            "rss_with_model_mb": rss_with_model,
            "ready_s": round(ready_s, 2),
            "rss_ready_mb": rss_ready,
            "rss_mb": rss_mb(),
            "worker_pids": pool.worker_pids(),
            "worker_rss_mb": [rss_mb(pid) for pid in pool.worker_pids()],
            "worker_reported_rss_mb": job.worker_rss_mb,
            "warm_p50_ms": round(statistics.median(times) * 1000, 2),
            "warm_p95_ms": round(percentile(times, 95) * 1000, 2),
            "warm_runs": len(times),
            "discord_version": discord.__version__,
            "tensorflow_in_bot_process": "tensorflow" in sys.modules,
        }

    async def idle(self) -> dict[str, Any]:
        """Wait until the pool stopped its idle worker; the RSS then (bot only)."""
        started = time.perf_counter()
        deadline = started + self.idle_s + 120
        while self.pool.worker_pids() or self.pool.stats()["workers"]:
            if time.perf_counter() > deadline:
                raise RuntimeError("the idle training worker was not stopped")
            await asyncio.sleep(0.2)
        gc.collect()
        return {
            "event": "idle",
            "waited_s": round(time.perf_counter() - started, 1),
            "rss_mb": rss_mb(),
            "worker_pids": self.pool.worker_pids(),
        }

    async def wake(self) -> dict[str, Any]:
        """Time the first job after the worker was stopped (it starts one on demand)."""
        from bot.training.jobs import TrainRequest

        notices: list[int] = []

        async def warming(seconds: int) -> None:
            notices.append(seconds)

        started = time.perf_counter()
        result = await self.pool.run(TrainRequest(seed=7), member_id="bench", warming=warming)
        return {
            "event": "wake",
            "wake_up_s": round(time.perf_counter() - started, 2),
            "warm_up_s": result.warm_up_s,
            "estimated_s": notices[0] if notices else None,
            "rss_mb": rss_mb(),
            "worker_rss_mb": [rss_mb(pid) for pid in self.pool.worker_pids()],
        }

    async def engine_answers(self, rounds: int) -> int:
        """``rounds`` shared quiz questions, each answered by every simulated member."""
        from bot.core.learners import Learner

        study = self.bot.study
        learners = [
            Learner("discord", str(10_000 + n), f"member{n}", guild_id=GUILD_ID, guild_name="Bench")
            for n in range(self.members)
        ]
        semaphore = asyncio.Semaphore(16)

        async def answer(learner: Learner, token: str) -> None:
            async with semaphore:
                await study.actions.act(learner, token)

        done = 0
        for _ in range(rounds):
            question = await study.practice.quiz(learners[0], shared=True)
            options = [c.action for c in question.choices if len(c.key) == 1]
            await asyncio.gather(
                *(answer(learner, self.rng.choice(options)) for learner in learners)
            )
            done += len(learners)
        self.answered += done
        return done

    async def serve(self, trace: bool) -> None:
        """Start, then obey the driver's commands (one per stdin line) until ``quit``."""
        if trace:
            tracemalloc.start(10)
        try:
            self.send(**await self.start())
            loop = asyncio.get_running_loop()
            reader = asyncio.StreamReader()
            await loop.connect_read_pipe(
                lambda: asyncio.StreamReaderProtocol(reader), sys.stdin.buffer
            )
            while True:
                words = (await reader.readline()).decode().split()
                if not words or words[0] == "quit":
                    break
                if words[0] == "engine":
                    done = await self.engine_answers(int(words[1]))
                    self.send(event="engine", answers=done, rss_mb=rss_mb())
                elif words[0] == "rss":
                    self.send(event="rss", rss_mb=rss_mb())
                elif words[0] == "idle":
                    self.send(**await self.idle())
                elif words[0] == "wake":
                    self.send(**await self.wake())
                elif words[0] == "gc":
                    collected = gc.collect()
                    self.send(
                        event="gc",
                        collected=collected,
                        stored=await self.stored_answers(),
                        rss_mb=rss_mb(),
                        worker_rss_mb=[rss_mb(pid) for pid in self.pool.worker_pids()],
                        tensorflow_in_bot_process="tensorflow" in sys.modules,
                        holders=self.holders(),
                        top=self.top_allocations() if trace else [],
                    )
        finally:
            if self.bot is not None:
                await self.bot.close()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await asyncio.wait_for(self._runner, timeout=5)

    async def stored_answers(self) -> int:
        """Rows in the attempt log (every answer sent should be there)."""
        from sqlalchemy import func
        from sqlmodel import select

        from bot.storage.models import Attempt

        async with self.bot.services.db.session() as session:
            rows = await session.exec(select(func.count()).select_from(Attempt))
            return int(rows.one())

    def holders(self) -> dict[str, int]:
        """Sizes of the caches most likely to grow with answers."""
        bot = self.bot
        study = bot.study
        connection = bot._connection
        messages = connection._messages
        return {
            "tutor_item_cache": len(study.context.items._items),
            "tutor_known_guilds": len(study.context._known_guilds),
            "discord_cached_messages": len(messages) if messages is not None else 0,
            "discord_max_messages": connection.max_messages or 0,
            "discord_cached_users": len(connection._users),
            "discord_cached_members": sum(len(g._members) for g in bot.guilds),
            "discord_views": len(connection._view_store._views),
            "gc_objects": len(gc.get_objects()),
        }

    @staticmethod
    def top_allocations(limit: int = 15) -> list[str]:
        """tracemalloc's largest live allocation sites (by line)."""
        snapshot = tracemalloc.take_snapshot().filter_traces(
            (tracemalloc.Filter(False, tracemalloc.__file__),)
        )
        return [str(stat) for stat in snapshot.statistics("lineno")[:limit]]


def child_main(args: argparse.Namespace) -> None:
    """Entry point of the measured bot process."""
    bot_process = BotProcess(args)
    asyncio.run(bot_process.serve(args.trace))


# -- the driver: fake Discord and clicks ---------------------------------------------------


class Driver:
    """Runs the fake Discord, the child bot process, and the button clicks."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.child: asyncio.subprocess.Process | None = None

    async def receive(self) -> dict[str, Any]:
        """The child's next data line (other output is passed through)."""
        assert self.child is not None and self.child.stdout is not None
        while True:
            line = (await asyncio.wait_for(self.child.stdout.readline(), timeout=300)).decode()
            if not line:
                raise RuntimeError("the bot process exited early (see its stderr above)")
            if line.startswith(MARKER):
                message: dict[str, Any] = json.loads(line[len(MARKER) :])
                return message
            sys.stdout.write("  child: " + line)

    async def command(self, line: str) -> dict[str, Any]:
        """Send one command to the child and wait for its answer."""
        assert self.child is not None and self.child.stdin is not None
        self.child.stdin.write(line.encode() + b"\n")
        await self.child.stdin.drain()
        return await self.receive()

    async def click_answers(self, fake: FakeDiscord, members: Sequence[int]) -> int:
        """``/quiz`` in the channel, then each member clicks one answer button."""
        handle = await fake.send_slash_command("quiz", user_id=OWNER_ID, channel_id=CHANNEL_ID)
        question = await fake.wait_for_response(handle, timeout=30)
        buttons = [
            str(c["custom_id"])
            for c in question.iter_components()  # type: ignore[union-attr]
            if c.get("type") == 2 and len(str(c.get("label", ""))) == 1
        ]
        if not buttons:
            raise RuntimeError(f"no answer buttons on the quiz message: {question}")
        rng = random.Random(len(members))
        semaphore = asyncio.Semaphore(8)

        async def click(user_id: int) -> None:
            async with semaphore:
                clicked = await fake.click_button(
                    question,  # type: ignore[arg-type]
                    rng.choice(buttons),
                    user_id=user_id,
                )
                await fake.wait_for_response(clicked, timeout=30)

        await asyncio.gather(*(click(user_id) for user_id in members))
        return len(members)

    async def run(self) -> dict[str, Any]:
        """Start the fake and the bot, push the answers in phases, collect the figures."""
        from tests.fakediscord import FakeDiscord

        args = self.args
        per_phase = args.answers // PHASES
        engine_per_phase = per_phase - args.clicks_per_phase
        if engine_per_phase <= 0 or engine_per_phase % args.members:
            raise SystemExit(
                f"answers per phase ({per_phase}) minus clicks ({args.clicks_per_phase}) must be "
                f"a positive multiple of --members ({args.members})"
            )
        rounds = engine_per_phase // args.members
        fake = FakeDiscord(application_id=APPLICATION_ID)
        click_members = [CLICK_MEMBER_BASE + n for n in range(args.clicks_per_phase * PHASES)]
        fake.add_guild(
            GUILD_ID,
            "Bench",
            owner_id=OWNER_ID,
            owner_name="Owner",
            channels=[(CHANNEL_ID, "general")],
            members={uid: f"clicker{n}" for n, uid in enumerate(click_members)},
        )
        await fake.start()
        phases: list[dict[str, Any]] = []
        with tempfile.TemporaryDirectory() as folder:
            command = [
                sys.executable,
                str(SCRIPT),
                "--child",
                "--api-base",
                fake.api_base,
                "--gateway-url",
                fake.gateway_url,
                "--database",
                str(Path(folder) / "memory.db"),
                "--members",
                str(args.members),
                "--idle-s",
                str(args.idle_s),
                "--warm-runs",
                str(args.warm_runs),
            ]
            if args.trace:
                command.append("--trace")
            env = dict(os.environ, PYTHONPATH=str(ROOT), TF_CPP_MIN_LOG_LEVEL="3")
            self.child = await asyncio.create_subprocess_exec(
                *command,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                env=env,
                cwd=ROOT,
            )
            try:
                ready = await self.receive()
                print(
                    f"bot ready in {ready['ready_s']} s: RSS {ready['rss_ready_mb']} MB at READY, "
                    f"{ready['rss_mb']} MB idle with the warm worker up after "
                    f"{ready['warm_runs'] + 1} jobs; worker RSS {ready['worker_rss_mb']} MB",
                    flush=True,
                )
                print(
                    f"sentence model: bot RSS {ready['rss_before_model_mb']} MB before, "
                    f"{ready['rss_with_model_mb']} MB with it loaded (target <= 200 MB)",
                    flush=True,
                )
                print(
                    f"warm /train: p50 {ready['warm_p50_ms']} ms, p95 {ready['warm_p95_ms']} ms "
                    f"over {ready['warm_runs']} runs",
                    flush=True,
                )
                await fake.wait_for_commands("quiz", timeout=30)
                total = 0
                started = time.perf_counter()
                for phase in range(PHASES):
                    engine = await self.command(f"engine {rounds}")
                    chunk = click_members[
                        phase * args.clicks_per_phase : (phase + 1) * args.clicks_per_phase
                    ]
                    clicks = await self.click_answers(fake, chunk)
                    rss = await self.command("rss")
                    total += engine["answers"] + clicks
                    phases.append(
                        {"answers": total, "engine": engine["answers"], "clicks": clicks}
                        | {"rss_mb": rss["rss_mb"]}
                    )
                    print(
                        f"after {total:>6} answers ({engine['answers']} engine + {clicks} clicks): "
                        f"RSS {rss['rss_mb']} MB",
                        flush=True,
                    )
                elapsed = time.perf_counter() - started
                after_gc = await self.command("gc")
                idle = await self.command("idle")
                print(
                    f"idle worker stopped ({idle['waited_s']} s more wait): bot RSS "
                    f"{idle['rss_mb']} MB, workers {idle['worker_pids']}",
                    flush=True,
                )
                wake = await self.command("wake")
                print(
                    f"first /train after that: {wake['wake_up_s']} s (warm-up "
                    f"{wake['warm_up_s']} s, estimated {wake['estimated_s']} s)",
                    flush=True,
                )
                failed = [c for c in fake.callbacks if not c.ok]
                assert self.child.stdin is not None
                self.child.stdin.write(b"quit\n")
                await self.child.stdin.drain()
                await asyncio.wait_for(self.child.wait(), timeout=60)
            finally:
                if self.child.returncode is None:
                    self.child.kill()
                    await self.child.wait()
                await fake.stop()
        return {
            "ready": ready,
            "phases": phases,
            "after_gc": after_gc,
            "idle": idle,
            "wake": wake,
            "seconds": elapsed,
            "failed_callbacks": len(failed),
        }


def main() -> None:
    """Parse options; run as the driver (default) or as the measured bot (``--child``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=10_000)
    parser.add_argument("--members", type=int, default=475, help="members answering via the engine")
    parser.add_argument("--clicks-per-phase", type=int, default=100)
    parser.add_argument("--trace", action="store_true", help="tracemalloc in the bot process")
    parser.add_argument(
        "--idle-s", type=float, default=10.0, help="TRAINING_IDLE_S of the measured bot"
    )
    parser.add_argument("--warm-runs", type=int, default=30, help="warm /train jobs timed")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--api-base", help=argparse.SUPPRESS)
    parser.add_argument("--gateway-url", help=argparse.SUPPRESS)
    parser.add_argument("--database", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_main(args)
        return
    result = asyncio.run(Driver(args).run())
    ready, phases, after_gc = result["ready"], result["phases"], result["after_gc"]
    idle, wake = result["idle"], result["wake"]
    half = phases[len(phases) // 2 - 1] if len(phases) > 1 else phases[0]
    last = phases[-1]
    growth = round(last["rss_mb"] - half["rss_mb"], 1)
    worker = next((mb for mb in ready["worker_rss_mb"] if mb is not None), None)
    alive = {
        "bot": ready["rss_mb"],
        "workers": round(sum(mb or 0.0 for mb in ready["worker_rss_mb"]), 1),
    }
    alive["total"] = round(alive["bot"] + alive["workers"], 1)
    stopped = {"bot": idle["rss_mb"], "workers": 0.0, "total": idle["rss_mb"]}
    print(
        f"idle footprint: {alive['total']} MB with the worker alive (bot {alive['bot']} + "
        f"worker {alive['workers']}), {stopped['total']} MB after it was stopped"
    )
    p50_verdict = "meets" if ready["warm_p50_ms"] <= TARGET_WARM_P50_MS else "misses"
    print(
        f"target: warm /train p50 <= {TARGET_WARM_P50_MS:.0f} ms -> {p50_verdict} "
        f"({ready['warm_p50_ms']} ms)"
    )
    print(
        f"after gc.collect(): RSS {after_gc['rss_mb']} MB ({after_gc['collected']} objects "
        f"collected); growth from {half['answers']} to {last['answers']} answers: {growth} MB"
    )
    print(f"caches in the bot process: {after_gc['holders']}")
    if after_gc["top"]:
        print("tracemalloc top allocation sites (bot process):")
        for line in after_gc["top"]:
            print(f"  {line}")
    print(
        f"{last['answers']} answers in {result['seconds']:.1f} s ({after_gc['stored']} stored); "
        f"failed Discord callbacks: "
        f"{result['failed_callbacks']}; TensorFlow in the bot process: "
        f"{after_gc['tensorflow_in_bot_process']}"
    )
    before = ready["rss_before_model_mb"]
    verdict = "meets" if before <= TARGET_RSS_MB else "misses"
    print(f"target: bot RSS before the sentence model <= {TARGET_RSS_MB:.0f} MB -> {verdict}")
    verdict = "meets" if last["rss_mb"] <= TARGET_RSS_WITH_MODEL_MB else "misses"
    print(
        f"target: bot RSS with the model, after the answers <= {TARGET_RSS_WITH_MODEL_MB:.0f} MB "
        f"and flat -> {verdict}"
    )
    summary = {
        "rss_start_mb": ready["rss_mb"],
        "rss_before_model_mb": ready["rss_before_model_mb"],
        "rss_with_model_mb": ready["rss_with_model_mb"],
        "rss_after_10k_mb": last["rss_mb"],
        "rss_growth_last_half_mb": growth,
        "idle_worker_alive_mb": alive,
        "idle_worker_stopped_mb": stopped,
        "warm_train_p50_ms": ready["warm_p50_ms"],
        "warm_train_p95_ms": ready["warm_p95_ms"],
        "wake_up_s": wake["wake_up_s"],
        "idle_s": args.idle_s,
        "growth_measured_from_answers": half["answers"],
        "worker_rss_mb": worker,
        "tensorflow_in_bot_process": bool(
            ready["tensorflow_in_bot_process"] or after_gc["tensorflow_in_bot_process"]
        ),
        "rss_at_ready_mb": ready["rss_ready_mb"],
        "rss_after_gc_mb": after_gc["rss_mb"],
        "rss_per_phase_mb": [p["rss_mb"] for p in phases],
        "answers": last["answers"],
        "stored": after_gc["stored"],
        "clicks": sum(p["clicks"] for p in phases),
        "traced": bool(after_gc["top"]),
        "cpus": os.cpu_count(),
        "load_avg_1m": round(os.getloadavg()[0], 2),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
