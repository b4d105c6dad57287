"""The console's commands beyond studying, wired to the services the root built."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

from bot.console import questions
from bot.console.app import ConsoleApp, ConsoleCommand, console_learner
from bot.console.leaderboard import leaderboard_commands
from bot.console.privacy import privacy_commands
from bot.core.learners import Learner
from bot.core.replies import Reply, Tone
from bot.services.container import Services
from bot.training.jobs import parse_train_options
from bot.training.lab import TrainingLab, parse_option_words

LAB_OFF = "The TensorFlow lab is turned off here (TRAINING_WORKERS=0)."


def train_command(lab: TrainingLab | None, out: TextIO) -> ConsoleCommand:
    """``/train [preset] [optimizer] [lr=…] [steps=…] [seed=…]`` in the lab."""

    async def train(learner: Learner, words: list[str]) -> Reply:
        request = parse_train_options(**parse_option_words(words))  # bad options: no start-up
        if lab is None:
            return Reply(text=LAB_OFF, tone=Tone.WARNING, private=True)
        if not lab.started:
            out.write("(Starting the TensorFlow lab — the first run takes a few seconds.)\n")
            out.flush()
        return await lab.train(learner.external_id, request)

    return train


def console_app(
    services: Services, *, user: str, data_dir: Path, out: TextIO | None = None
) -> ConsoleApp:
    """The console for the local profile ``user`` (files go under ``data_dir``)."""
    stream = out or sys.stdout
    for problem in services.library.problems:
        stream.write(f"! {problem} (this deck was skipped)\n")
    export_dir = data_dir / "exports"
    return ConsoleApp(
        services.study,
        # A member of the console's local server, so their own /question additions show up.
        console_learner(user),
        out=stream,
        image_dir=data_dir / "charts",
        commands={
            "/train": train_command(services.lab, stream),
            **leaderboard_commands(services.leaderboard),
            **privacy_commands(services.privacy, export_dir=export_dir),
            **questions.question_commands(
                services.question_bank,
                deck_names=services.study.decks.decks,
                clock=services.clock,
                export_dir=export_dir,
            ),
        },
        help_fields=[questions.HELP_FIELD],
    )
