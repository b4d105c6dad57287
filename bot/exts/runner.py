"""Running the Discord bot from the command line.

Start-up faults end the process with one line on stderr, never a traceback. Faults that
can pass (Discord unreachable, a 5xx answer, a failed gateway connection) are retried a few
times with exponential backoff first; a refused token is not.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass

import aiohttp
import discord
import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route

from bot.errors import TutorError
from bot.exts.client import GatewayConnectError, TutorBot
from bot.log import get_logger
from bot.settings import Settings

log = get_logger(__name__)

#: How many times ``run`` tries to start before it gives up on a fault that can pass.
DEFAULT_ATTEMPTS = 4
#: The wait before the second try; it doubles before each further one (1, 2, 4 s).
DEFAULT_BASE_DELAY_S = 1.0
#: The longest wait between two tries.
MAX_DELAY_S = 30.0
#: Gateway close code for a token Discord does not accept.
AUTHENTICATION_FAILED = 4004

NO_TOKEN = "DISCORD_TOKEN is not set. Put your bot token in the environment or .env."


class StartupFailed(TutorError):
    """The bot could not connect to Discord; the message says why and what to do."""


@dataclass(frozen=True)
class Fault:
    """What went wrong while connecting, and what the owner can do about it."""

    what: str
    advice: str
    retry: bool

    def message(self, attempts: int) -> str:
        """The one line shown when the bot gives up (after ``attempts`` tries)."""
        tries = f" (tried {attempts} times)" if self.retry and attempts > 1 else ""
        return " ".join(f"{self.what}{tries}. {self.advice}".split())


def classify(error: BaseException) -> Fault | None:
    """The :class:`Fault` behind a start-up ``error``; ``None`` for one we do not know."""
    status = "https://discordstatus.com"
    if isinstance(error, discord.LoginFailure) or (
        isinstance(error, discord.ConnectionClosed) and error.code == AUTHENTICATION_FAILED
    ):
        return Fault("Discord refused the token", "Check DISCORD_TOKEN (see README).", False)
    if isinstance(error, discord.PrivilegedIntentsRequired):
        return Fault(
            "Discord refused the bot's intents",
            "The bot needs no privileged intents; check the bot's settings in the "
            "Discord developer portal.",
            False,
        )
    if isinstance(error, discord.DiscordServerError):
        return Fault(
            f"Discord answered with a server error (HTTP {error.status})",
            f"Discord may be having problems: check {status} and start the bot again later.",
            True,
        )
    if isinstance(error, discord.HTTPException):
        return Fault(
            f"Discord refused to log in (HTTP {error.status}: {error.text or 'no details'})",
            "Check DISCORD_TOKEN and the bot's settings in the Discord developer portal.",
            False,
        )
    if isinstance(error, GatewayConnectError | discord.ConnectionClosed):
        return Fault(
            "Could not connect to Discord's gateway",
            f"Check the network (a firewall may block websockets) and {status}.",
            True,
        )
    if isinstance(error, aiohttp.ClientConnectorDNSError):
        return Fault(
            "Could not look up Discord's address (DNS)",
            "Check the network and DNS settings (and DISCORD_API_BASE if you set it).",
            True,
        )
    if isinstance(error, OSError | TimeoutError | aiohttp.ClientError):
        return Fault(
            "Could not reach Discord",
            "Check the network connection (and DISCORD_API_BASE if you set it).",
            True,
        )
    return None


def backoff_delay(attempt: int, base_delay_s: float) -> float:
    """The wait after failed try number ``attempt`` (1, 2, …): doubling, at most 30 s."""
    return min(base_delay_s * 2.0 ** (attempt - 1), MAX_DELAY_S)


def point_at_discord(settings: Settings) -> None:
    """Use ``DISCORD_API_BASE`` / ``DISCORD_GATEWAY_URL`` (a proxy or test server) if set."""
    if settings.discord_api_base:
        Route.BASE = settings.discord_api_base.rstrip("/")
    if settings.discord_gateway_url:
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.discord_gateway_url)


class _Stopper:
    """``docker stop`` and Ctrl-C: close the running bot cleanly, or skip further tries."""

    def __init__(self) -> None:
        self.requested = asyncio.Event()
        self.bot: TutorBot | None = None
        self._closing: asyncio.Future[None] | None = None

    def attach(self, bot: TutorBot) -> bool:
        """Remember the bot this try runs; False if a stop came first (do not start it)."""
        self.bot = bot
        return not self.requested.is_set()

    def stop(self) -> None:
        """Signal handler: remember the request and close the bot if one is running."""
        if self.requested.is_set():
            return
        self.requested.set()
        if self.bot is not None:
            # Queued answers are written first (TutorBot.close closes the services).
            self._closing = asyncio.ensure_future(self.bot.close())

    async def closed(self) -> None:
        """Wait until a close started by :meth:`stop` is done."""
        if self._closing is not None:
            await self._closing

    async def sleep(self, delay_s: float) -> None:
        """Wait ``delay_s``, or less if a stop is requested meanwhile."""
        try:
            await asyncio.wait_for(self.requested.wait(), timeout=delay_s)
        except TimeoutError:
            return


async def _serve_once(
    settings: Settings, make_bot: Callable[[Settings], TutorBot], stopper: _Stopper, token: str
) -> None:
    """One try: build a bot, connect and serve until it closes."""
    async with make_bot(settings) as bot:
        try:
            if not stopper.attach(bot):
                return
            log.info("connecting to Discord")
            await bot.start(token)
            await stopper.closed()
        finally:
            stopper.bot = None


async def serve(
    settings: Settings,
    make_bot: Callable[[Settings], TutorBot],
    *,
    attempts: int = DEFAULT_ATTEMPTS,
    base_delay_s: float = DEFAULT_BASE_DELAY_S,
) -> None:
    """Connect and serve until the process is stopped.

    A fault that can pass is retried, ``attempts`` tries in all, waiting ``base_delay_s``
    and then twice as long each time; every try builds a fresh bot with ``make_bot``.
    Raises :class:`StartupFailed` (one-line message) when the bot cannot connect.
    """
    if settings.discord_token is None:
        raise TutorError(NO_TOKEN)
    token = settings.discord_token.get_secret_value()
    point_at_discord(settings)
    loop = asyncio.get_running_loop()
    stopper = _Stopper()
    signals = (signal.SIGTERM, signal.SIGINT)
    for signal_number in signals:
        loop.add_signal_handler(signal_number, stopper.stop)
    try:
        await _serve_with_retries(settings, make_bot, stopper, token, attempts, base_delay_s)
    finally:
        for signal_number in signals:
            loop.remove_signal_handler(signal_number)
    log.info("stopped")


async def _serve_with_retries(
    settings: Settings,
    make_bot: Callable[[Settings], TutorBot],
    stopper: _Stopper,
    token: str,
    attempts: int,
    base_delay_s: float,
) -> None:
    """The loop of :func:`serve`: try, and on a fault that can pass wait and try again."""
    attempt = 1
    while True:
        try:
            await _serve_once(settings, make_bot, stopper, token)
            return
        except Exception as error:
            if stopper.requested.is_set():
                log.info("stopped while connecting (%s)", error)
                return
            fault = classify(error)
            if fault is None:
                raise
            if not fault.retry or attempt >= attempts:
                raise StartupFailed(fault.message(attempt)) from error
            delay = backoff_delay(attempt, base_delay_s)
            log.info(
                "%s (%s); trying again in %.1f s (try %d of %d)",
                fault.what,
                error,
                delay,
                attempt + 1,
                attempts,
            )
        await stopper.sleep(delay)
        if stopper.requested.is_set():
            return
        attempt += 1


def run_discord(
    settings: Settings,
    make_bot: Callable[[Settings], TutorBot],
    *,
    attempts: int = DEFAULT_ATTEMPTS,
    base_delay_s: float = DEFAULT_BASE_DELAY_S,
) -> int:
    """Run the bot built by ``make_bot``; the exit code, with a one-line reason on failure."""
    try:
        asyncio.run(serve(settings, make_bot, attempts=attempts, base_delay_s=base_delay_s))
    except TutorError as error:
        sys.stderr.write(f"{error.message}\n")
        return 2  # could not start (settings, database, Discord)
    except KeyboardInterrupt:
        return 0
    return 0
