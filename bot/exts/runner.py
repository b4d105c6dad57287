"""Running the Discord bot from the command line."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Callable

import discord
import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route

from bot.errors import TutorError
from bot.exts.client import TutorBot
from bot.log import get_logger
from bot.settings import Settings

log = get_logger(__name__)


def point_at_discord(settings: Settings) -> None:
    """Use ``DISCORD_API_BASE`` / ``DISCORD_GATEWAY_URL`` (a proxy or test server) if set."""
    if settings.discord_api_base:
        Route.BASE = settings.discord_api_base.rstrip("/")
    if settings.discord_gateway_url:
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.discord_gateway_url)


async def serve(settings: Settings, make_bot: Callable[[Settings], TutorBot]) -> None:
    """Connect and serve until the process is stopped."""
    if settings.discord_token is None:
        raise TutorError("DISCORD_TOKEN is not set. Put your bot token in the environment or .env.")
    point_at_discord(settings)
    async with make_bot(settings) as bot:
        # `docker stop` and Ctrl-C: close cleanly (queued answers are written first).
        loop = asyncio.get_running_loop()
        closing: list[asyncio.Future[None]] = []

        def stop() -> None:
            if not closing:
                closing.append(asyncio.ensure_future(bot.close()))

        for signal_number in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signal_number, stop)
        log.info("connecting to Discord")
        await bot.start(settings.discord_token.get_secret_value())
        if closing:
            await closing[0]
    log.info("stopped")


def run_discord(settings: Settings, make_bot: Callable[[Settings], TutorBot]) -> int:
    """Run the bot built by ``make_bot``; the exit code, with a one-line reason on failure."""
    try:
        asyncio.run(serve(settings, make_bot))
    except discord.LoginFailure:
        sys.stderr.write("Discord refused the token. Check DISCORD_TOKEN (see README).\n")
        return 1
    except TutorError as error:
        sys.stderr.write(f"{error.message}\n")
        return 1
    except KeyboardInterrupt:
        return 0
    return 0
