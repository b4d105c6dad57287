"""The fake resolves channel permissions in Discord's order (no bot needed)."""

from __future__ import annotations

from tests.fakediscord import FakeDiscord
from tests.fakediscord.fixtures import ALICE_ID, BOB_ID, CHANNEL_ID, GUILD_ID, make_fake_discord
from tests.fakediscord.payloads import ALL_PERMISSIONS, EVERYONE_PERMISSIONS

MANAGE_MESSAGES = 1 << 13
SEND_MESSAGES = 1 << 11


def fake_with_role() -> tuple[FakeDiscord, int]:
    fake = make_fake_discord()
    role = fake.add_role(GUILD_ID, "Helpers")
    fake.guilds[GUILD_ID].members[BOB_ID].roles.append(role.id)
    return fake, role.id


def test_without_overwrites_channel_and_server_permissions_agree() -> None:
    fake, _ = fake_with_role()
    guild = fake.guilds[GUILD_ID]
    assert guild.channel_permissions(BOB_ID, CHANNEL_ID) == EVERYONE_PERMISSIONS
    assert guild.channel_permissions(ALICE_ID, CHANNEL_ID) == ALL_PERMISSIONS


def test_everyone_then_roles_then_the_member() -> None:
    fake, role_id = fake_with_role()
    guild = fake.guilds[GUILD_ID]
    fake.set_overwrite(GUILD_ID, CHANNEL_ID, GUILD_ID, deny=SEND_MESSAGES)
    assert not guild.channel_permissions(BOB_ID, CHANNEL_ID) & SEND_MESSAGES
    fake.set_overwrite(GUILD_ID, CHANNEL_ID, role_id, allow=SEND_MESSAGES | MANAGE_MESSAGES)
    assert guild.channel_permissions(BOB_ID, CHANNEL_ID) & (SEND_MESSAGES | MANAGE_MESSAGES)
    member = fake.set_overwrite(GUILD_ID, CHANNEL_ID, BOB_ID, deny=MANAGE_MESSAGES)
    assert member.type == 1
    perms = guild.channel_permissions(BOB_ID, CHANNEL_ID)
    assert perms & SEND_MESSAGES and not perms & MANAGE_MESSAGES
    # The server-level permissions are untouched, and an admin ignores overwrites.
    assert guild.member_permissions(BOB_ID) == EVERYONE_PERMISSIONS
    fake.set_overwrite(GUILD_ID, CHANNEL_ID, ALICE_ID, deny=ALL_PERMISSIONS)
    assert guild.channel_permissions(ALICE_ID, CHANNEL_ID) == ALL_PERMISSIONS


def test_overwrites_are_in_the_channel_payload() -> None:
    fake, role_id = fake_with_role()
    fake.set_overwrite(GUILD_ID, CHANNEL_ID, role_id, allow=MANAGE_MESSAGES)
    payload = fake.guilds[GUILD_ID].channels[CHANNEL_ID].payload()
    assert payload["permission_overwrites"] == [
        {"id": str(role_id), "type": 0, "allow": str(MANAGE_MESSAGES), "deny": "0"}
    ]
