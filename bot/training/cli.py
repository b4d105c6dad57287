"""``python -m bot train``: run one training job from the command line (no TensorFlow here).

It starts a pool of one worker (which imports TensorFlow, a few seconds), runs the job and
prints the result as text, or as one JSON object with ``--json``. Bad options print one
line on stderr and exit with status 2. TensorFlow's own output goes to the log (shown with
``LOG_LEVEL=DEBUG``), never to the terminal. When the reader of the output goes away
early (``… | head -c 10``), the command ends quietly with status 141, as if killed by
``SIGPIPE``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from dataclasses import replace
from typing import TextIO

from bot.errors import BadInput, TutorError
from bot.log import get_logger, setup_logging
from bot.training.jobs import OPTIMIZERS, PRESETS, TrainRequest, TrainResult, parse_train_options
from bot.training.pool import PoolConfig, TrainingPool
from bot.training.render import render_train_result

log = get_logger(__name__)

#: Exit status when the reader of the output went away (128 + SIGPIPE, as shells report).
EXIT_BROKEN_PIPE = 141


class _ArgumentError(Exception):
    """argparse found a problem (message is shown on one line)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise _ArgumentError(message)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m bot train",
        description="Run one TensorFlow training lesson and show what changed.",
    )
    parser.add_argument("--preset", help=f"one of: {', '.join(PRESETS)} (default single-step)")
    parser.add_argument("--optimizer", help=f"one of: {', '.join(OPTIMIZERS)} (default sgd)")
    parser.add_argument(
        "--learning-rate",
        "--lr",
        dest="learning_rate",
        help="0.00001 to 10 (default 0.1 for SGD, 0.01 otherwise)",
    )
    parser.add_argument("--steps", help="1 to 500 (default 1; 100 for house-prices)")
    parser.add_argument("--seed", help="0 to 2147483647 (default 42)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--timeout", type=float, default=None, help=argparse.SUPPRESS)
    return parser


def format_text(result: TrainResult) -> str:
    """The result as a few lines of plain text."""
    reply = render_train_result(result, with_image=False)
    lines = [reply.title, reply.text]
    lines += [f"  {field.name}: {field.value}" for field in reply.fields]
    if reply.footer:
        lines.append(f"  ({reply.footer})")
    return "\n".join(lines)


def _write(stream: TextIO, text: str) -> bool:
    """Write and flush ``text``; False (and ``stream`` pointed at /dev/null, so the exit
    flush stays quiet) when its reader has gone away."""
    try:
        stream.write(text)
        stream.flush()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, stream.fileno())
        finally:
            os.close(devnull)
        return False
    return True


async def _run(request: TrainRequest, config: PoolConfig) -> TrainResult:
    async with TrainingPool(config) as pool:
        return await pool.run(request, member_id="cli")


def main(argv: list[str], *, config: PoolConfig | None = None) -> int:
    """Run ``python -m bot train [options]``; ``argv`` are the options (a leading ``train``
    is tolerated). ``config`` holds the ``TRAINING_*`` limits (memory, timeout); the job
    runs on one worker of its own. Returns the exit status: 0 done, 1 training failed, 2
    bad options."""
    args_in = list(argv)
    if args_in and args_in[0] == "train":
        args_in = args_in[1:]
    try:
        args = _parser().parse_args(args_in)
        request = parse_train_options(
            preset=args.preset,
            optimizer=args.optimizer,
            learning_rate=args.learning_rate,
            steps=args.steps,
            seed=args.seed,
        )
    except (_ArgumentError, BadInput) as exc:
        _write(sys.stderr, f"error: {exc}\n")
        return 2
    setup_logging()
    try:
        base = config or PoolConfig()
        timeout_s = args.timeout if args.timeout is not None else base.job_timeout_s
        one_job = replace(
            base,
            size=1,
            warm_start=False,
            cooldown_s=0,
            progress_every=0,
            job_timeout_s=timeout_s,
        )
        result = asyncio.run(_run(request, one_job))
    except TutorError as exc:
        _write(sys.stderr, f"error: {exc}\n")
        return 1
    text = json.dumps(result.to_dict()) if args.json else format_text(result)
    return 0 if _write(sys.stdout, text + "\n") else EXIT_BROKEN_PIPE


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
