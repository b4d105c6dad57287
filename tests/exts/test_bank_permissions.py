"""End to end: question-bank and settings powers come from server-level permissions.

Discord resolves an interaction's permissions for its channel, overwrites included. The
fake does the same, so "Manage Messages" granted by a channel overwrite reaches the bot in
``interaction.permissions``; it must not give powers over the server's question bank.
Alice owns the server; the other members are added by each test.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import discord
import pytest

from bot.core.permissions import ADMIN_ONLY
from bot.errors import PermissionDenied
from bot.exts.checks import cached_standing, ensure_moderator, ensure_server_admin
from bot.exts.client import TutorBot
from bot.settings import Settings
from tests.dbquery import query
from tests.fakediscord import FakeDiscord, InteractionHandle, MessageRecord, ModalRecord
from tests.fakediscord.fixtures import ALICE_ID, CHANNEL_ID, GUILD_ID

pytestmark = pytest.mark.slow

MANAGE_MESSAGES = 1 << 13
MANAGE_GUILD = 1 << 5
CAROL_ID = 555555555555555555
"""Manage Messages only through an overwrite of the "helpers" channel."""
DAVE_ID = 666666666666666666
"""Holds the server's configured moderator role (a role without permissions)."""
ERIN_ID = 777777777777777777
"""Manage Messages on the server, from a role."""
QUESTION = {
    "question": "Which optimizer keeps a running average of gradients?",
    "options": "Adam\nPlain SGD\nNone of them",
    "answer": "Adam",
    "explanation": "Adam tracks first and second moments of the gradients.",
}


async def until(check: Callable[[], bool], what: str) -> None:
    """Wait (up to 5 s) until the bot has seen a change the fake dispatched."""
    for _ in range(250):
        if check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def has_role(bot: TutorBot, role_id: int) -> bool:
    guild = bot.get_guild(GUILD_ID)
    return guild is not None and guild.get_role(role_id) is not None


def sent_permissions(handle: InteractionHandle) -> int:
    """The member permissions the (fake) Discord put in the interaction."""
    return int(handle.payload["member"]["permissions"])


async def question(
    fake: FakeDiscord,
    sub: str,
    user_id: int,
    channel_id: int = CHANNEL_ID,
    **options: Any,
) -> tuple[InteractionHandle, MessageRecord | ModalRecord]:
    """``/question <sub>`` by ``user_id`` in ``channel_id``: the interaction and the reply."""
    handle = await fake.send_slash_command(
        "question", user_id=user_id, channel_id=channel_id, subcommand=sub, options=options
    )
    reply = await fake.wait_for_response(handle, timeout=5)
    assert isinstance(reply, MessageRecord | ModalRecord), reply
    return handle, reply


def denied(reply: object) -> bool:
    return (
        isinstance(reply, MessageRecord)
        and reply.ephemeral
        and reply.content.startswith("Only moderators can")
    )


def bank_size(settings: Settings) -> int:
    return int(
        query(settings.database_url, "SELECT count(*) FROM items WHERE guild_id IS NOT NULL")[0][0]
    )


async def helpers_channel(fake: FakeDiscord, bot: TutorBot) -> int:
    """A second channel, known to the bot."""
    channel = fake.add_channel(GUILD_ID, "helpers")
    await until(lambda: bot.get_channel(channel.id) is not None, "the helpers channel")
    return channel.id


@pytest.mark.parametrize("target", ["member", "role"])
async def test_manage_messages_in_one_channel_gives_no_bank_powers(
    fake_discord: FakeDiscord, tutor_bot: TutorBot, bot_settings: Settings, target: str
) -> None:
    helpers = await helpers_channel(fake_discord, tutor_bot)
    if target == "member":
        fake_discord.add_member(GUILD_ID, CAROL_ID, "Carol")
        overwrite_target = CAROL_ID
    else:
        role = fake_discord.add_role(GUILD_ID, "Channel helpers")  # no server permissions
        fake_discord.add_member(GUILD_ID, CAROL_ID, "Carol", roles=[role.id])
        await until(lambda: has_role(tutor_bot, role.id), "the role")
        overwrite_target = role.id
    fake_discord.set_overwrite(GUILD_ID, helpers, overwrite_target, allow=MANAGE_MESSAGES)

    handle, reply = await question(
        fake_discord, "add", CAROL_ID, helpers, deck="d", difficulty="easy"
    )
    # Discord told the bot Carol may manage messages here; the bot still says no.
    assert sent_permissions(handle) & MANAGE_MESSAGES
    assert denied(reply), reply
    _, reply = await question(fake_discord, "edit", CAROL_ID, helpers, id=1)
    assert denied(reply), reply
    _, reply = await question(fake_discord, "list", CAROL_ID, helpers)
    assert denied(reply), reply

    # A form Alice opened and Carol submits from the helpers channel is refused too.
    _, form = await question(fake_discord, "add", ALICE_ID, deck="optimizers", difficulty="easy")
    assert isinstance(form, ModalRecord)
    submitted = await fake_discord.submit_modal(
        form, QUESTION, user_id=CAROL_ID, channel_id=helpers
    )
    refused = await fake_discord.wait_for_response(submitted, timeout=5)
    assert denied(refused), refused
    assert bank_size(bot_settings) == 0


async def test_server_permission_and_moderator_role_give_bank_powers(
    fake_discord: FakeDiscord, tutor_bot: TutorBot, bot_settings: Settings
) -> None:
    helpers = await helpers_channel(fake_discord, tutor_bot)
    managers = fake_discord.add_role(GUILD_ID, "Managers", permissions=MANAGE_MESSAGES)
    quizmasters = fake_discord.add_role(GUILD_ID, "Quizmasters")
    fake_discord.add_member(GUILD_ID, ERIN_ID, "Erin", roles=[managers.id])
    fake_discord.add_member(GUILD_ID, DAVE_ID, "Dave", roles=[quizmasters.id])
    # In the helpers channel nobody may manage messages; server powers still count there.
    fake_discord.set_overwrite(GUILD_ID, helpers, GUILD_ID, deny=MANAGE_MESSAGES)
    await until(lambda: has_role(tutor_bot, managers.id), "the Managers role")
    await until(lambda: has_role(tutor_bot, quizmasters.id), "the Quizmasters role")

    handle, form = await question(
        fake_discord, "add", ERIN_ID, helpers, deck="opt", difficulty="easy"
    )
    assert not sent_permissions(handle) & MANAGE_MESSAGES
    assert isinstance(form, ModalRecord), form
    submitted = await fake_discord.submit_modal(form, QUESTION, user_id=ERIN_ID)
    saved = await fake_discord.wait_for_response(submitted, timeout=5)
    assert isinstance(saved, MessageRecord) and saved.embeds[0]["title"].startswith("Added #")
    assert bank_size(bot_settings) == 1

    _, reply = await question(fake_discord, "add", DAVE_ID, deck="opt", difficulty="easy")
    assert denied(reply), reply
    query(
        bot_settings.database_url,
        "UPDATE guilds SET moderator_role_id = :role WHERE id = :guild",
        role=quizmasters.id,
        guild=GUILD_ID,
    )
    _, form = await question(fake_discord, "add", DAVE_ID, deck="opt", difficulty="easy")
    assert isinstance(form, ModalRecord), form
    submitted = await fake_discord.submit_modal(
        form, {**QUESTION, "question": "Which optimizer has no momentum?", "answer": "B"}
    )
    saved = await fake_discord.wait_for_response(submitted, timeout=5)
    assert isinstance(saved, MessageRecord) and saved.embeds[0]["title"].startswith("Added #")
    assert bank_size(bot_settings) == 2


async def capture(
    fake: FakeDiscord, bot: TutorBot, user_id: int, channel_id: int = CHANNEL_ID
) -> discord.Interaction[Any]:
    """The interaction discord.py builds for a ``/question list`` by ``user_id``."""
    waiter = asyncio.ensure_future(
        bot.wait_for("interaction", check=lambda i: i.user.id == user_id, timeout=5)
    )
    handle = await fake.send_slash_command(
        "question", user_id=user_id, channel_id=channel_id, subcommand="list"
    )
    interaction: discord.Interaction[Any] = await waiter
    await fake.wait_for_response(handle, timeout=5)
    return interaction


@pytest.mark.parametrize("gone", ["removed", "unavailable"])
async def test_powers_are_checked_when_the_server_is_not_cached(
    fake_discord: FakeDiscord, tutor_bot: TutorBot, gone: str
) -> None:
    helpers = await helpers_channel(fake_discord, tutor_bot)
    managers = fake_discord.add_role(GUILD_ID, "Managers", permissions=MANAGE_MESSAGES)
    fake_discord.add_member(GUILD_ID, ERIN_ID, "Erin", roles=[managers.id])
    fake_discord.add_member(GUILD_ID, CAROL_ID, "Carol")
    fake_discord.set_overwrite(GUILD_ID, helpers, CAROL_ID, allow=MANAGE_MESSAGES | MANAGE_GUILD)
    # The owner counts as an admin even without any role.
    fake_discord.guilds[GUILD_ID].members[ALICE_ID].roles.clear()
    await until(lambda: has_role(tutor_bot, managers.id), "the Managers role")
    # The bot forgets the server (left it) or sees it go unavailable (an outage).
    event = {"id": str(GUILD_ID), "unavailable": gone == "unavailable"}
    await fake_discord.dispatch_event("GUILD_DELETE", event)
    if gone == "removed":
        await until(lambda: tutor_bot.get_guild(GUILD_ID) is None, "the server to go")
    else:
        await until(lambda: tutor_bot.get_guild(GUILD_ID).unavailable, "an outage")  # type: ignore[union-attr]

    _, reply = await question(fake_discord, "list", ERIN_ID)
    assert isinstance(reply, MessageRecord) and "No questions" in reply.embeds[0]["description"]
    _, reply = await question(fake_discord, "list", ALICE_ID)
    assert isinstance(reply, MessageRecord) and "No questions" in reply.embeds[0]["description"]
    handle, reply = await question(fake_discord, "list", CAROL_ID, helpers)
    assert sent_permissions(handle) & MANAGE_MESSAGES and denied(reply), reply
    # The roles were asked of Discord.
    paths = {r.path for r in fake_discord.requests if r.method == "GET"}
    assert {f"/guilds/{GUILD_ID}", f"/guilds/{GUILD_ID}/members/{ERIN_ID}"} <= paths

    alice = await capture(fake_discord, tutor_bot, ALICE_ID)
    await ensure_server_admin(tutor_bot, alice)
    await ensure_moderator(tutor_bot, alice)
    carol = await capture(fake_discord, tutor_bot, CAROL_ID, helpers)
    assert carol.permissions.manage_guild  # from the channel overwrite only
    with pytest.raises(PermissionDenied, match="Only server admins"):
        await ensure_server_admin(tutor_bot, carol)
    # Without a request to Discord an uncached server's roles are unknown.
    assert cached_standing(alice) is None


async def test_settings_need_manage_server_on_the_server(
    fake_discord: FakeDiscord, tutor_bot: TutorBot
) -> None:
    helpers = await helpers_channel(fake_discord, tutor_bot)
    settings_role = fake_discord.add_role(GUILD_ID, "Settings", permissions=MANAGE_GUILD)
    fake_discord.add_member(GUILD_ID, CAROL_ID, "Carol")
    fake_discord.add_member(GUILD_ID, ERIN_ID, "Erin", roles=[settings_role.id])
    fake_discord.set_overwrite(GUILD_ID, helpers, CAROL_ID, allow=MANAGE_GUILD)
    await until(lambda: has_role(tutor_bot, settings_role.id), "the Settings role")

    carol = await capture(fake_discord, tutor_bot, CAROL_ID, helpers)
    assert carol.permissions.manage_guild  # from the channel overwrite only
    with pytest.raises(PermissionDenied) as refused:
        await ensure_server_admin(tutor_bot, carol)
    assert refused.value.message == ADMIN_ONLY
    erin = await capture(fake_discord, tutor_bot, ERIN_ID)
    await ensure_server_admin(tutor_bot, erin)
    fake_discord.guilds[GUILD_ID].members[ALICE_ID].roles.clear()
    alice = await capture(fake_discord, tutor_bot, ALICE_ID)
    await ensure_server_admin(tutor_bot, alice)  # the owner, without any role
