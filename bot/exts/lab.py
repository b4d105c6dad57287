"""``/train``: run a real TensorFlow training lesson on the warm worker pool."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.errors import TutorError
from bot.exts.client import learner_for
from bot.exts.error_handler import report_error
from bot.exts.render import render
from bot.log import get_logger
from bot.training.jobs import (
    MAX_LEARNING_RATE,
    MAX_SEED,
    MAX_STEPS,
    MIN_LEARNING_RATE,
    MIN_SEED,
    MIN_STEPS,
    parse_train_options,
)
from bot.training.lab import TrainingLab
from bot.training.render import warming_up_text

if TYPE_CHECKING:
    from bot.exts.client import TutorBot

log = get_logger(__name__)

Preset = Literal["single-step", "no-apply", "house-prices"]
Optimizer = Literal["sgd", "adam", "rmsprop"]
#: Edit the "step 120/500" progress line at most this often (Discord rate-limits edits).
PROGRESS_EVERY_S = 1.0


class LabCog(commands.Cog, name="Lab"):
    """The TensorFlow lab. The worker pool starts with the cog, in the background."""

    def __init__(self, bot: TutorBot, lab: TrainingLab) -> None:
        self.bot = bot
        self.lab = lab

    async def cog_load(self) -> None:
        """Start the warm workers without holding up the bot's start-up."""
        await self.lab.start(wait=False)

    async def cog_unload(self) -> None:
        """Stop the workers."""
        await self.lab.stop()  # the services stop it too; stopping twice is harmless

    @app_commands.command(name="train")
    @app_commands.allowed_contexts(guilds=True, dms=True, private_channels=True)
    @app_commands.describe(
        preset="single-step and no-apply are the lesson's examples; house-prices trains longer",
        optimizer="sgd, adam or rmsprop",
        learning_rate="from 0.00001 to 10",
        steps="from 1 to 500",
        seed="same seed, same numbers",
    )
    async def train(
        self,
        interaction: discord.Interaction[Any],
        preset: Preset = "single-step",
        optimizer: Optimizer | None = None,
        learning_rate: app_commands.Range[float, MIN_LEARNING_RATE, MAX_LEARNING_RATE]
        | None = None,
        steps: app_commands.Range[int, MIN_STEPS, MAX_STEPS] | None = None,
        seed: app_commands.Range[int, MIN_SEED, MAX_SEED] | None = None,
    ) -> None:
        """Run a real TensorFlow training step and see the loss before and after."""
        try:
            request = parse_train_options(
                preset=preset,
                optimizer=optimizer,
                learning_rate=learning_rate,
                steps=steps,
                seed=seed,
            )
        except TutorError as error:
            await report_error(interaction, error)
            return
        # Training can take a while: acknowledge at once, then edit in progress and result.
        await interaction.response.defer(thinking=True)
        last_edit = 0.0

        async def show(content: str) -> None:
            try:
                await interaction.edit_original_response(content=content)
            except discord.HTTPException as error:
                log.debug("progress edit failed: %s", error)

        async def progress(step: int, total: int) -> None:
            nonlocal last_edit
            now = time.monotonic()
            if now - last_edit < PROGRESS_EVERY_S:
                return
            last_edit = now
            await show(f"Training… step {step}/{total}")

        async def warming(seconds: int) -> None:
            nonlocal last_edit
            last_edit = time.monotonic()
            await show(warming_up_text(seconds))

        try:
            member = learner_for(interaction).external_id
            reply = await self.lab.train(member, request, progress=progress, warming=warming)
            message = render(reply)
            await interaction.edit_original_response(content=None, **message.edit_kwargs())
        except Exception as error:
            await report_error(interaction, error)


async def setup(bot: TutorBot) -> None:
    """Load the lab unless it is turned off (``TRAINING_WORKERS=0``)."""
    lab = bot.services.lab
    if lab is not None:
        await bot.add_cog(LabCog(bot, lab))
