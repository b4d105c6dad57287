"""The one place errors become replies.

Domain errors (:class:`~bot.errors.TutorError`) are shown as their short message; anything
else is logged with an incident id and the member sees "something went wrong (id …)".
Failing to deliver the error itself (an expired interaction) is logged, never raised.
"""

from __future__ import annotations

import uuid
from typing import Any

import discord
from discord import app_commands

from bot.errors import TutorError
from bot.log import get_logger

log = get_logger(__name__)


def unwrap(error: BaseException) -> BaseException:
    """The exception behind discord.py's wrappers (command invoke, transformer errors)."""
    seen = 0
    while seen < 5:
        inner = getattr(error, "original", None) or getattr(error, "__cause__", None)
        if isinstance(error, app_commands.CommandInvokeError | app_commands.TransformerError):
            if inner is None:
                break
            error = inner
            seen += 1
            continue
        break
    return error


def friendly_message(error: BaseException) -> str:
    """What the member reads for ``error`` (logging unexpected ones with an id)."""
    error = unwrap(error)
    if isinstance(error, TutorError):
        return error.message
    if isinstance(error, app_commands.CommandOnCooldown):
        return f"Slow down a little — try again in {error.retry_after:.0f} seconds."
    if isinstance(error, app_commands.MissingPermissions | app_commands.CheckFailure):
        return "You don't have permission to do that here."
    if isinstance(error, app_commands.TransformerError):
        return "That option isn't valid. Check the command's options and try again."
    incident = uuid.uuid4().hex[:8]
    log.error("unexpected error %s", incident, exc_info=error)
    return f"Something went wrong (id {incident}). Please try again in a moment."


async def send_private(interaction: discord.Interaction[Any], text: str) -> None:
    """A short private message, however far the interaction got (failures are logged)."""
    try:
        if interaction.response.is_done():
            await interaction.followup.send(text[:2000], ephemeral=True)
        else:
            await interaction.response.send_message(text[:2000], ephemeral=True)
    except discord.HTTPException as failure:
        log.warning("could not deliver a private message: %s", failure)


async def report_error(interaction: discord.Interaction[Any], error: BaseException) -> None:
    """Tell the member what went wrong, privately, however far the interaction got."""
    await send_private(interaction, friendly_message(error))


async def on_app_command_error(
    interaction: discord.Interaction[Any], error: app_commands.AppCommandError
) -> None:
    """``CommandTree.on_error`` hook."""
    await report_error(interaction, error)
