"""What the runner makes of each start-up fault: the message, and whether to try again."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import aiohttp
import discord
import pytest

from bot.exts.client import GatewayConnectError
from bot.exts.runner import classify


def http_error(status: int, text: str = "") -> discord.HTTPException:
    response: Any = SimpleNamespace(status=status, reason="Reason")
    if status >= 500:
        return discord.DiscordServerError(response, text)
    return discord.HTTPException(response, text)


def closed(code: int) -> discord.ConnectionClosed:
    socket: Any = SimpleNamespace(close_code=code)
    return discord.ConnectionClosed(socket, shard_id=0, code=code)


@pytest.mark.parametrize(
    ("error", "start", "retry"),
    [
        (discord.LoginFailure("Improper token"), "Discord refused the token.", False),
        (closed(4004), "Discord refused the token.", False),
        (discord.PrivilegedIntentsRequired(0), "Discord refused the bot's intents.", False),
        (http_error(502), "Discord answered with a server error (HTTP 502)", True),
        (http_error(403, "Missing Access"), "Discord refused to log in (HTTP 403: Missing", False),
        (GatewayConnectError(0, "503"), "Could not connect to Discord's gateway", True),
        (closed(1006), "Could not connect to Discord's gateway", True),
        (ConnectionRefusedError(111, "refused"), "Could not reach Discord", True),
        (TimeoutError(), "Could not reach Discord", True),
        (aiohttp.ServerDisconnectedError(), "Could not reach Discord", True),
    ],
)
def test_each_fault_has_its_message_and_retry_rule(
    error: BaseException, start: str, retry: bool
) -> None:
    fault = classify(error)
    assert fault is not None and fault.retry is retry
    message = fault.message(4)
    assert message.startswith(start), message
    assert ("(tried 4 times)" in message) is retry
    assert "\n" not in message and message.endswith(".")


def test_unknown_errors_are_not_guessed_at() -> None:
    assert classify(ValueError("a bug")) is None
