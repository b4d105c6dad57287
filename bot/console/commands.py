"""The console's commands beyond studying, wired to the services the root built."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from bot.console import questions
from bot.console.app import ConsoleApp, ConsoleCommand, console_learner
from bot.console.exam import HELP_FIELD as EXAM_HELP_FIELD
from bot.console.exam import exam_commands
from bot.console.leaderboard import leaderboard_commands
from bot.console.me import me_commands
from bot.console.privacy import privacy_commands
from bot.core.learners import Learner
from bot.core.replies import Reply, ReplyField, Tone
from bot.errors import BadInput
from bot.services.ask import AskService
from bot.services.container import Services
from bot.services.forecast import ForecastService
from bot.training.jobs import parse_train_options
from bot.training.lab import TrainingLab, parse_option_words

LAB_OFF = "The TensorFlow lab is turned off here (TRAINING_WORKERS=0)."
SETTINGS_HELP_FIELD = ReplyField(
    "Desired retention (console)",
    "/me retention [value|reset] — yours, in every server (70–97, like 85)\n"
    "/settings retention [value] — this console's server; you see the workload, then type yes",
)
ASK_HELP_FIELD = ReplyField(
    "Ask the tutor (console)",
    "/ask <question> — an answer from your decks, e.g. /ask why do we need an optimizer?\n"
    "Then type quiz (ask me that question) or worked (a worked problem on it); "
    "/ask again for a follow-up, like /ask and why does the loss go down?",
)


def train_command(lab: TrainingLab | None, write: Callable[[str], None]) -> ConsoleCommand:
    """``/train [preset] [optimizer] [lr=…] [steps=…] [seed=…]`` in the lab.

    ``write`` shows the start-up notice before the first run (the console's writer).
    """

    async def train(learner: Learner, words: list[str]) -> Reply:
        request = parse_train_options(**parse_option_words(words))  # bad options: no start-up
        if lab is None:
            return Reply(text=LAB_OFF, tone=Tone.WARNING, private=True)
        if not lab.started:
            write("(Starting the TensorFlow lab — the first run takes a few seconds.)\n")
        return await lab.train(learner.external_id, request)

    return train


def ask_command(ask: AskService) -> ConsoleCommand:
    """``/ask <question>``: the tutor answers from the decks; one conversation per profile."""

    async def run(learner: Learner, words: list[str]) -> Reply:
        return await ask.ask(
            learner, " ".join(words), conversation=f"console:{learner.external_id}"
        )

    return run


def forecast_command(forecasts: ForecastService) -> ConsoleCommand:
    """``/forecast``: reviews due per day for the next 30 days (a chart), recall, cards at risk."""

    async def run(learner: Learner, words: list[str]) -> Reply:
        if words:
            raise BadInput("/forecast takes no options. Type /forecast.")
        return await forecasts.forecast(learner)

    return run


def console_app(
    services: Services, *, user: str, data_dir: Path, out: TextIO | None = None
) -> ConsoleApp:
    """The console for the local profile ``user`` (files go under ``data_dir``)."""
    export_dir = data_dir / "exports"
    app = ConsoleApp(
        services.study,
        # A member of the console's local server, so their own /question additions show up.
        console_learner(user),
        out=out,
        image_dir=data_dir / "charts",
        media_dir=services.deck_import.media_dir,
        commands={
            **leaderboard_commands(services.leaderboard),
            **privacy_commands(services.privacy, export_dir=export_dir),
            **me_commands(services.member_settings),
            **exam_commands(services.exam),
            **questions.question_commands(
                services.question_bank,
                imports=services.deck_import,
                exports=services.deck_export,
                deck_names=services.study.decks.decks,
                clock=services.clock,
                export_dir=export_dir,
            ),
        },
        help_fields=[ASK_HELP_FIELD, questions.HELP_FIELD, SETTINGS_HELP_FIELD, EXAM_HELP_FIELD],
    )
    app.commands["/ask"] = ask_command(services.ask)
    app.commands["/train"] = train_command(services.lab, app.write)
    app.commands["/forecast"] = forecast_command(services.forecast)
    for problem in services.library.problems:
        app.write(f"! {problem} (this deck was skipped)\n")
    return app
