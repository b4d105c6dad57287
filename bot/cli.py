"""``python -m bot``: the command line.

=====================  ====================================================
``python -m bot``       the Discord bot when DISCORD_TOKEN is set, else the console
``… console``           the offline console (``--user NAME``)
``… run``               the Discord bot
``… content check``     validate decks; ``content export`` prints items as JSON
``… train``             one TensorFlow training run (``--json`` for machines)
``… grade``             grade an answer to an explain item (``--json``)
=====================  ====================================================
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import re
import sys

from bot import app
from bot.log import get_logger, setup_logging
from bot.settings import SettingsProblem, get_settings

log = get_logger(__name__)

USER_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")


def _default_user() -> str:
    try:
        name = getpass.getuser()
    except Exception:  # no passwd entry in some containers
        name = "me"
    return name if USER_NAME.match(name) else "me"


def _not_utf8(args: list[str]) -> str | None:
    """The first argument that was not UTF-8 on the command line (undecodable bytes)."""
    for arg in args:
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            return arg.encode("utf-8", "backslashreplace").decode("ascii", "replace")
    return None


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
    sub.add_parser("grade", help="grade an answer to an explain item", add_help=False)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    bad_arg = _not_utf8(args_list)
    if bad_arg is not None:
        sys.stderr.write(f"The argument {bad_arg} is not UTF-8 text. Retype it and try again.\n")
        return 2
    try:
        settings = get_settings()
    except SettingsProblem as problem:
        sys.stderr.write(f"{problem}\n")
        return 2
    setup_logging(settings.log_level)
    # Sub-commands that parse their own arguments.
    own_parser = {"content": app.run_content, "train": app.run_train, "grade": app.run_grade}
    if args_list and args_list[0] in own_parser:
        return own_parser[args_list[0]](settings, args_list[1:])
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
        return asyncio.run(app.run_console(settings, user))
    if command == "health":
        return asyncio.run(app.check_health(settings))
    if command == "run":
        if settings.discord_token is None:
            sys.stderr.write(
                "DISCORD_TOKEN is not set. Put your bot token in the environment or .env "
                "(see README: 'Run it on Discord').\n"
            )
            return 2
        return app.run_discord(settings)
    return 2
