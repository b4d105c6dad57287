"""End to end: /leaderboard, /stats with a chart, /forget-me and /export-me on the fake Discord."""

from __future__ import annotations

import json
import struct
from typing import Any

import pytest

from bot.core.learners import Learner
from bot.exts.client import TutorBot
from bot.services.study import StudyServices
from bot.settings import Settings
from tests.dbquery import query
from tests.exts.conftest import ACK_DEADLINE_S
from tests.fakediscord import FakeDiscord
from tests.fakediscord.fixtures import ALICE_ID, BOB_ID, GUILD_ID
from tests.fakediscord.reading import button, embed, fields

pytestmark = pytest.mark.slow

HELPER_BOT_ID = 555555555555555555
STRANGER_ID = 666666666666666666


def stored(settings: Settings, sql: str) -> list[tuple[Any, ...]]:
    return query(settings.database_url, sql)


def member(user_id: int, name: str) -> Learner:
    return Learner("discord", str(user_id), name, guild_id=GUILD_ID, guild_name="Study Hall")


async def answer(study: StudyServices, learner: Learner, *, right: bool) -> None:
    """Answer one private quiz question through the engine, right or wrong on purpose."""
    question = await study.practice.quiz(learner)
    item = next(
        i for i in study.context.items._items.values() if question.text.startswith(i.content.prompt)
    )
    correct: int = item.content.correct_index  # type: ignore[union-attr]
    await study.actions.act(
        learner, question.choices[correct if right else (correct + 1) % 2].action
    )


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


async def test_leaderboard_ranks_members_and_pages(
    fake_discord: FakeDiscord, tutor_bot: TutorBot
) -> None:
    study = tutor_bot.study
    for _ in range(3):
        await answer(study, member(BOB_ID, "Bob"), right=True)
    for n in range(11):
        extra = member(700 + n, f"Extra{n:02d}")
        for _ in range(2):
            await answer(study, extra, right=True)
    await answer(study, member(ALICE_ID, "Alice"), right=True)
    await answer(study, member(ALICE_ID, "Alice"), right=False)

    handle = await fake_discord.send_slash_command(
        "leaderboard", user_id=ALICE_ID, options={"period": "week"}
    )
    first = await fake_discord.wait_for_message(handle)
    assert first.ephemeral
    lines = embed(first)["description"].splitlines()
    assert len(lines) == 10
    assert lines[0].startswith("**1.** Bob — 3 correct")
    assert all(line.startswith("**2.** Extra") for line in lines[1:])  # an 11-way tie
    assert fields(first)["You"].startswith("#13 of 13 — 1 correct · 50%")
    assert "Page 1 of 2" in embed(first)["footer"]["text"]

    click = await fake_discord.click_button(first, button(first, "Next ▶"), user_id=ALICE_ID)
    second = await fake_discord.wait_for_message(click)
    assert second.action == "edit" and second.id == first.id
    lines = embed(second)["description"].splitlines()
    assert [line.split(" — ")[0] for line in lines] == [
        "**2.** Extra09",
        "**2.** Extra10",
        "**13.** Alice",
    ]
    click = await fake_discord.click_button(second, button(second, "◀ Prev"), user_id=ALICE_ID)
    back = await fake_discord.wait_for_message(click)
    assert embed(back)["description"].startswith("**1.** Bob")
    assert all(c.ok and c.elapsed_s < ACK_DEADLINE_S for c in fake_discord.callbacks)


async def test_leaderboard_is_for_servers_and_checks_the_deck(
    fake_discord: FakeDiscord, tutor_bot: TutorBot
) -> None:
    handle = await fake_discord.send_slash_command(
        "leaderboard", user_id=BOB_ID, options={"period": "all", "deck": "nope"}
    )
    reply = await fake_discord.wait_for_message(handle)
    assert reply.ephemeral and "no deck called 'nope'" in reply.content
    handle = await fake_discord.send_slash_command("leaderboard", user_id=BOB_ID)
    empty = await fake_discord.wait_for_message(handle)
    assert "Nobody has answered" in embed(empty)["description"]


async def test_stats_has_a_chart_and_shows_other_members_privately(
    fake_discord: FakeDiscord, tutor_bot: TutorBot
) -> None:
    study = tutor_bot.study
    await answer(study, member(ALICE_ID, "Alice"), right=True)
    await answer(study, member(ALICE_ID, "Alice"), right=False)

    handle = await fake_discord.send_slash_command("stats", user_id=ALICE_ID)
    mine = await fake_discord.wait_for_message(handle)
    assert mine.ephemeral and fields(mine)["Answered"] == "2"
    assert {"Accuracy", "Streak", "Due now", "Retention (30 days)"} <= set(fields(mine))
    [chart] = mine.attachments
    assert chart.filename == "stats.png" and png_size(chart.data) == (800, 400)
    assert embed(mine)["image"]["url"] == "attachment://stats.png"

    handle = await fake_discord.send_slash_command(
        "stats", user_id=BOB_ID, options={"member": ALICE_ID}
    )
    theirs = await fake_discord.wait_for_message(handle)
    assert theirs.ephemeral and embed(theirs)["title"] == "Stats · Alice"
    assert fields(theirs)["Accuracy"] == "50%" and theirs.attachments

    handle = await fake_discord.send_slash_command(
        "stats", user_id=ALICE_ID, options={"member": BOB_ID}
    )
    never = await fake_discord.wait_for_message(handle)
    assert never.ephemeral and "Bob hasn't studied with me yet" in never.content

    fake_discord.add_member(GUILD_ID, HELPER_BOT_ID, "Helper", bot=True)
    handle = await fake_discord.send_slash_command(
        "stats", user_id=ALICE_ID, options={"member": HELPER_BOT_ID}
    )
    assert "Bots don't study" in (await fake_discord.wait_for_message(handle)).content

    fake_discord.add_user(STRANGER_ID, "Stranger")
    handle = await fake_discord.send_slash_command(
        "stats", user_id=ALICE_ID, options={"member": STRANGER_ID}
    )
    assert "isn't a member of this server" in (await fake_discord.wait_for_message(handle)).content


async def test_forget_me_needs_the_askers_confirmation(
    fake_discord: FakeDiscord, tutor_bot: TutorBot, bot_settings: Settings
) -> None:
    study = tutor_bot.study
    await answer(study, member(ALICE_ID, "Alice"), right=True)
    await answer(study, member(BOB_ID, "Bob"), right=True)
    count_users = "SELECT external_id FROM users ORDER BY external_id"

    handle = await fake_discord.send_slash_command("forget-me", user_id=ALICE_ID)
    asking = await fake_discord.wait_for_message(handle)
    assert asking.ephemeral and "Delete all your data?" in embed(asking)["title"]

    # Bob cannot confirm Alice's deletion.
    click = await fake_discord.click_button(
        asking, button(asking, "Delete everything"), user_id=BOB_ID
    )
    refused = await fake_discord.wait_for_message(click)
    assert refused.ephemeral and "isn't for you" in refused.content
    assert stored(bot_settings, count_users) == [(str(ALICE_ID),), (str(BOB_ID),)]

    click = await fake_discord.click_button(
        asking, button(asking, "Delete everything"), user_id=ALICE_ID
    )
    done = await fake_discord.wait_for_message(click)
    assert done.action == "edit" and "deleted" in embed(done)["title"]
    assert stored(bot_settings, count_users) == [(str(BOB_ID),)]
    assert stored(bot_settings, "SELECT COUNT(*) FROM attempts") == [(1,)]

    # Cancel leaves everything as it was.
    handle = await fake_discord.send_slash_command("forget-me", user_id=BOB_ID)
    asking = await fake_discord.wait_for_message(handle)
    click = await fake_discord.click_button(asking, button(asking, "Cancel"), user_id=BOB_ID)
    assert "Nothing deleted" in embed(await fake_discord.wait_for_message(click))["title"]
    assert stored(bot_settings, count_users) == [(str(BOB_ID),)]


async def test_export_me_sends_a_private_json_file(
    fake_discord: FakeDiscord, tutor_bot: TutorBot
) -> None:
    handle = await fake_discord.send_slash_command("export-me", user_id=BOB_ID)
    nothing = await fake_discord.wait_for_message(handle)
    assert nothing.ephemeral and "no data" in nothing.content

    await answer(tutor_bot.study, member(ALICE_ID, "Alice"), right=True)
    handle = await fake_discord.send_slash_command("export-me", user_id=ALICE_ID)
    reply = await fake_discord.wait_for_message(handle)
    assert reply.ephemeral and "Your data" in embed(reply)["title"]
    attachment, deck = reply.attachments
    assert attachment.filename.endswith(".json") and deck.filename.endswith(".apkg")
    data = json.loads(attachment.data)
    assert data["profile"]["external_id"] == str(ALICE_ID)
    assert len(data["attempts"]) == 1 and len(data["review_states"]) == 1
