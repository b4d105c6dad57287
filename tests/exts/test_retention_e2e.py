"""End to end: /settings retention and /me retention on the fake Discord — the workload
preview first, then Save stores the value; members may not change the server's."""

from __future__ import annotations

from typing import Any

import pytest

from bot.exts.client import TutorBot
from bot.settings import Settings
from tests.dbquery import query
from tests.fakediscord import FakeDiscord, MessageRecord
from tests.fakediscord.fixtures import ALICE_ID, BOB_ID, GUILD_ID
from tests.fakediscord.reading import button, button_labels, embed, fields

pytestmark = pytest.mark.slow


def stored(settings: Settings, sql: str) -> list[tuple[Any, ...]]:
    return query(settings.database_url, sql)


async def command(
    fake: FakeDiscord, name: str, user_id: int, guild_id: int | None = GUILD_ID, **options: Any
) -> MessageRecord:
    handle = await fake.send_slash_command(
        name,
        user_id=user_id,
        guild_id=guild_id,
        subcommand="retention",
        options=options or None,
    )
    return await fake.wait_for_message(handle, timeout=10)


async def click(
    fake: FakeDiscord, message: MessageRecord, label: str, user_id: int
) -> MessageRecord:
    handle = await fake.click_button(message, button(message, label), user_id=user_id)
    return await fake.wait_for_message(handle, timeout=10)


async def test_the_server_retention_is_previewed_then_saved_by_an_admin_only(
    fake_discord: FakeDiscord, tutor_bot: TutorBot, bot_settings: Settings
) -> None:
    await fake_discord.wait_for_commands("settings", "me")
    denied = await command(fake_discord, "settings", BOB_ID, value="85")
    assert denied.ephemeral and "Only server admins" in denied.content

    preview = await command(fake_discord, "settings", ALICE_ID, value="85%")
    assert preview.ephemeral
    text = embed(preview)["description"]
    assert "At 85% you'd do about " in text and "reviews a day for 500 cards, vs " in text
    assert button_labels(preview) == ["Save 85%", "Cancel"]
    assert all(len(custom_id) <= 100 for custom_id in preview.custom_ids)
    assert stored(bot_settings, "SELECT desired_retention FROM guilds") in ([], [(None,)])

    # A member who is not an admin cannot save it, even from the button.
    refused = await click(fake_discord, preview, "Save 85%", BOB_ID)
    assert "Only server admins" in refused.content
    saved = await click(fake_discord, preview, "Save 85%", ALICE_ID)
    assert "85%" in embed(saved)["title"]
    assert stored(bot_settings, "SELECT desired_retention FROM guilds") == [(0.85,)]

    shown = await command(fake_discord, "settings", ALICE_ID)
    assert "85% (set here)" in embed(shown)["description"]
    handle = await fake_discord.send_slash_command("settings", user_id=BOB_ID, subcommand="show")
    listing = await fake_discord.wait_for_message(handle, timeout=10)
    assert fields(listing)["Desired retention"] == "85%"

    bad = await command(fake_discord, "settings", ALICE_ID, value="99")
    assert "between 70% and 97%" in bad.content


async def test_a_member_chooses_their_own_retention_in_a_dm(
    fake_discord: FakeDiscord, tutor_bot: TutorBot, bot_settings: Settings
) -> None:
    await fake_discord.wait_for_commands("me")
    mine = await command(fake_discord, "me", BOB_ID, guild_id=None)
    assert "90% (the bot's default)" in embed(mine)["description"]
    preview = await command(fake_discord, "me", BOB_ID, guild_id=None, value="0.8")
    assert button_labels(preview) == ["Save 80%", "Cancel"]
    cancelled = await click(fake_discord, preview, "Cancel", BOB_ID)
    assert cancelled.action == "edit" and "Nothing changed" in embed(cancelled)["title"]
    assert stored(bot_settings, "SELECT desired_retention FROM users") in ([], [(None,)])
    preview = await command(fake_discord, "me", BOB_ID, guild_id=None, value="80")
    saved = await click(fake_discord, preview, "Save 80%", BOB_ID)
    assert "80%" in embed(saved)["title"]
    query_users = f"SELECT desired_retention FROM users WHERE external_id = '{BOB_ID}'"
    assert stored(bot_settings, query_users) == [(0.8,)]
    in_server = await command(fake_discord, "me", BOB_ID)
    assert "80% (your own choice)" in embed(in_server)["description"]
    reset = await command(fake_discord, "me", BOB_ID, value="reset")
    assert "reset" in embed(reset)["title"]
    assert stored(bot_settings, query_users) == [(None,)]
