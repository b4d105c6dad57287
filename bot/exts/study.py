"""Slash commands for studying: /review, /quiz, /practice, /explain, /test, /stats, /help."""

from __future__ import annotations

from typing import Any, Literal, TypeVar

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.learners import Learner
from bot.errors import BadInput, NotFound
from bot.exts.client import MAX_AUTOCOMPLETE, TutorBot, deck_autocomplete, learner_for
from bot.log import get_logger

log = get_logger(__name__)

Difficulty = Literal["easy", "medium", "hard"]
ReviewMode = Literal["due", "mistakes"]
TAG_HELP = "Only questions with this tag (e.g. bio::cells)"
T = TypeVar("T")


def everywhere(command: T) -> T:
    """Allow a command in servers, the bot's DMs and group DMs."""
    contexts = app_commands.allowed_contexts(guilds=True, dms=True, private_channels=True)
    return contexts(command)


async def tag_autocomplete(
    interaction: discord.Interaction[Any], current: str
) -> list[app_commands.Choice[str]]:
    """Tags in use here (the most used first) that contain what the member typed so far."""
    client = interaction.client
    if not isinstance(client, TutorBot):
        return []
    tags = await client.study.review.tags(learner_for(interaction))
    typed = current.casefold().strip()
    matches = [tag for tag in tags if typed in tag]
    return [app_commands.Choice(name=t[:100], value=t) for t in matches[:MAX_AUTOCOMPLETE]]


class Study(commands.Cog):
    """The study commands; every one of them is a thin call into the study services."""

    def __init__(self, bot: TutorBot) -> None:
        self.bot = bot

    @everywhere
    @app_commands.command(name="review")
    @app_commands.describe(
        mode="due: your due cards (default); mistakes: retry what you got wrong lately",
        tag=TAG_HELP,
    )
    async def review(
        self,
        interaction: discord.Interaction[Any],
        mode: ReviewMode | None = None,
        tag: str | None = None,
    ) -> None:
        """Review your due flashcards and questions, or retry your mistakes, privately."""
        service = self.bot.study.review
        learner = learner_for(interaction)
        if mode == "mistakes":
            await self.bot.deliver(interaction, service.mistakes(learner, tag))
            return
        await self.bot.deliver(interaction, service.review(learner, tag))

    @everywhere
    @app_commands.command(name="quiz")
    @app_commands.describe(
        deck="Which deck (default: all)", difficulty="easy, medium or hard", tag=TAG_HELP
    )
    async def quiz(
        self,
        interaction: discord.Interaction[Any],
        deck: str | None = None,
        difficulty: Difficulty | None = None,
        tag: str | None = None,
    ) -> None:
        """One multiple-choice question; in a server everyone can answer it once."""
        shared = interaction.guild_id is not None
        work = self.bot.study.practice.quiz(
            learner_for(interaction), deck, difficulty, shared=shared, tag=tag
        )
        await self.bot.deliver(interaction, work, private=not shared)

    @everywhere
    @app_commands.command(name="practice")
    @app_commands.describe(deck="Which deck (default: all)", difficulty="easy, medium or hard")
    async def practice(
        self,
        interaction: discord.Interaction[Any],
        deck: str | None = None,
        difficulty: Difficulty | None = None,
    ) -> None:
        """A worked problem with a hint, then the full solution."""
        work = self.bot.study.practice.practice(learner_for(interaction), deck, difficulty)
        await self.bot.deliver(interaction, work)

    @everywhere
    @app_commands.command(name="explain")
    @app_commands.describe(deck="Which deck (default: all)")
    async def explain(self, interaction: discord.Interaction[Any], deck: str | None = None) -> None:
        """Explain a concept in your own words; see which ideas you covered."""
        await self.bot.deliver(
            interaction, self.bot.study.practice.explain(learner_for(interaction), deck)
        )

    @everywhere
    @app_commands.command(name="test")
    @app_commands.describe(deck="Which deck (default: all)")
    async def test(self, interaction: discord.Interaction[Any], deck: str | None = None) -> None:
        """A private 10-question test across easy, medium and hard."""
        work = self.bot.study.tests.start_test(learner_for(interaction), deck)
        await self.bot.deliver(interaction, work)

    @everywhere
    @app_commands.command(name="stats")
    @app_commands.describe(member="Another member of this server (default: you)")
    async def stats(
        self, interaction: discord.Interaction[Any], member: discord.User | None = None
    ) -> None:
        """Your answers, accuracy, streak, retention and a 30-day chart — only you see it."""
        learner = learner_for(interaction)
        if member is None or member.id == interaction.user.id:
            await self.bot.deliver(interaction, self.bot.study.stats.stats(learner))
            return
        if interaction.guild_id is None:
            raise BadInput("You can look up other members only in a server.")
        if not isinstance(member, discord.Member):
            raise NotFound(f"{member.display_name} isn't a member of this server.")
        if member.bot:
            raise BadInput("Bots don't study — pick a member instead.")
        subject = Learner(
            platform="discord",
            external_id=str(member.id),
            display_name=member.display_name,
            guild_id=learner.guild_id,
            guild_name=learner.guild_name,
        )
        await self.bot.deliver(interaction, self.bot.study.stats.stats(learner, member=subject))

    @everywhere
    @app_commands.command(name="decks")
    async def decks(self, interaction: discord.Interaction[Any]) -> None:
        """The decks you can study here."""
        work = self.bot.study.decks.deck_listing(learner_for(interaction))
        await self.bot.deliver(interaction, work)

    @everywhere
    @app_commands.command(name="help")
    async def help(self, interaction: discord.Interaction[Any]) -> None:
        """What this bot does and how to start."""
        await self.bot.deliver(interaction, _ready(self.bot.study.decks.help()))

    quiz.autocomplete("deck")(deck_autocomplete)
    quiz.autocomplete("tag")(tag_autocomplete)
    review.autocomplete("tag")(tag_autocomplete)
    practice.autocomplete("deck")(deck_autocomplete)
    explain.autocomplete("deck")(deck_autocomplete)
    test.autocomplete("deck")(deck_autocomplete)


async def _ready(value: T) -> T:
    return value


async def setup(bot: TutorBot) -> None:
    """Load the cog (discord.py extension entry point)."""
    await bot.add_cog(Study(bot))
