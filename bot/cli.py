"""``python -m bot``: the command line.

=====================  ====================================================
``python -m bot``       the Discord bot when DISCORD_TOKEN is set, else the console
``… console``           the offline console (``--user NAME``)
``… run``               the Discord bot
``… content check``     validate decks; ``content export`` prints items as JSON
``… train``             one TensorFlow training run (``--json`` for machines)
=====================  ====================================================
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import re
import sys
import uuid

from pydantic import ValidationError

from bot.core.replies import Reply
from bot.core.sharding import validate_shards
from bot.log import get_logger, setup_logging
from bot.settings import get_settings

log = get_logger(__name__)

USER_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")


def _default_user() -> str:
    try:
        name = getpass.getuser()
    except Exception:  # no passwd entry in some containers
        name = "me"
    return name if USER_NAME.match(name) else "me"


def describe_settings_error(error: Exception) -> str:
    """One line naming the bad setting(s) and what is allowed."""
    if isinstance(error, ValidationError):
        parts = []
        for problem in error.errors():
            name = ".".join(str(p) for p in problem["loc"]).upper() or "settings"
            parts.append(f"{name}: {problem['msg']}")
        return "Bad setting — " + "; ".join(parts) + ". Fix the environment or .env."
    return f"Bad setting — {error} Fix the environment or .env."


def build_parser() -> argparse.ArgumentParser:
    """The top-level argument parser (sub-commands parse their own rest)."""
    parser = argparse.ArgumentParser(
        prog="python -m bot",
        description="Study tutor: the Discord bot, or the offline console without a token.",
    )
    sub = parser.add_subparsers(dest="command")
    console = sub.add_parser("console", help="study in the terminal (no Discord needed)")
    console.add_argument("--user", default=None, help="your local profile name (default: login)")
    sub.add_parser("run", help="connect to Discord (needs DISCORD_TOKEN)")
    sub.add_parser("health", help="exit 0 if the database opens and every deck is valid")
    sub.add_parser("content", help="check or export decks", add_help=False)
    sub.add_parser("train", help="run one TensorFlow training job", add_help=False)
    return parser


async def run_console(user: str) -> int:
    """Open the engine and run the console on stdin/stdout."""
    from bot.app import open_engine
    from bot.console import questions
    from bot.console.app import ConsoleApp, console_learner
    from bot.core import leaderboard, privacy
    from bot.core.learners import Learner
    from bot.errors import TutorError
    from bot.training.jobs import parse_train_options
    from bot.training.lab import TrainingLab, parse_option_words
    from bot.training.pool import PoolConfig

    settings = get_settings()
    try:
        engine = await open_engine(settings)
    except TutorError as error:
        sys.stderr.write(f"{error.message}\n")
        return 1
    # One member at a terminal: no cooldown; the worker starts on the first /train.
    lab = TrainingLab(PoolConfig(cooldown_s=0, warm_start=False))

    async def train(learner: Learner, words: list[str]) -> Reply:
        request = parse_train_options(**parse_option_words(words))  # bad options: no start-up
        if not lab.started:
            sys.stdout.write("(Starting the TensorFlow lab — the first run takes a few seconds.)\n")
            sys.stdout.flush()
        return await lab.train(learner.external_id, request)

    try:
        for problem in engine.library.problems:
            sys.stdout.write(f"! {problem} (this deck was skipped)\n")
        # A member of the console's local server, so their own /question additions show up.
        learner = console_learner(user)
        export_dir = settings.database_dir / "exports"
        app = ConsoleApp(
            engine.tutor,
            learner,
            image_dir=settings.database_dir / "charts",
            commands={
                "/train": train,
                **leaderboard.console_commands(engine.tutor),
                **privacy.console_commands(engine.tutor, export_dir=export_dir),
                **questions.console_commands(engine.tutor, export_dir=export_dir),
            },
            help_fields=[questions.HELP_FIELD],
        )
        return await app.run()
    except TutorError as error:
        sys.stderr.write(f"{error.message}\n")
        return 1
    except Exception:
        incident = uuid.uuid4().hex[:8]
        log.exception("console stopped by an unexpected error %s", incident)
        sys.stderr.write(f"Something went wrong (id {incident}). Your saved answers are safe.\n")
        return 1
    finally:
        await lab.stop()
        await engine.close()


async def check_health() -> int:
    """Open the database and load the decks; one line on the outcome (container health)."""
    from bot.core.content import load_library
    from bot.errors import TutorError
    from bot.storage.db import Database

    settings = get_settings()
    database = Database(settings.database_url)
    try:
        library = load_library(settings.content_dir)
        await database.connect()
    except TutorError as error:
        sys.stderr.write(f"unhealthy: {error.message}\n")
        return 1
    finally:
        await database.close()
    if library.problems:
        sys.stderr.write(f"unhealthy: {library.problems[0]}\n")
        return 1
    sys.stdout.write(f"ok: {len(library.decks)} decks, database reachable\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    try:
        settings = get_settings()
        validate_shards(settings.shard_count, settings.shard_ids)
    except (ValidationError, ValueError) as error:
        sys.stderr.write(f"{describe_settings_error(error)}\n")
        return 2
    setup_logging(settings.log_level)
    if args_list[:1] == ["content"]:
        from bot.content_cli import main as content_main

        return content_main(args_list[1:])
    if args_list[:1] == ["train"]:
        from bot.training.cli import main as train_main

        return train_main(args_list[1:])
    args = build_parser().parse_args(args_list)
    command = args.command
    if command is None:
        if settings.discord_token is None:
            sys.stderr.write(
                "No DISCORD_TOKEN set — starting the offline console. "
                "Set DISCORD_TOKEN to run the Discord bot.\n"
            )
            command = "console"
        else:
            command = "run"
    if command == "console":
        user = getattr(args, "user", None) or os.environ.get("TUTOR_USER") or _default_user()
        if not USER_NAME.match(user):
            sys.stderr.write("--user must be 1–32 letters, digits, dots, dashes or underscores.\n")
            return 2
        return asyncio.run(run_console(user))
    if command == "health":
        return asyncio.run(check_health())
    if command == "run":
        if settings.discord_token is None:
            sys.stderr.write(
                "DISCORD_TOKEN is not set. Put your bot token in the environment or .env "
                "(see README: 'Run it on Discord').\n"
            )
            return 2
        from bot.exts.runner import run_discord

        return run_discord(settings)
    return 2
