"""End to end: daily quiz, /settings and /remind with the real bot against the fake Discord."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest
import pytest_asyncio

from bot.app import discord_bot
from bot.exts.client import TutorBot
from bot.exts.dailyquiz import COG_NAME, DailyQuizCog
from bot.exts.reminders import RemindersCog
from bot.settings import Settings
from tests.dbquery import query
from tests.exts.conftest import ACK_DEADLINE_S
from tests.fakediscord import FakeDiscord, MessageRecord, running_client
from tests.fakediscord.fixtures import ALICE_ID, BOB_ID, CHANNEL_ID, GUILD_ID

pytestmark = pytest.mark.slow

CAROL_ID = 555555555555555555
#: Short enough to keep the test quick, long enough for two members to click.
TEST_WINDOW = timedelta(seconds=2.5)
CLOSED = "This daily quiz has closed — take the catch-up instead."


def embed(message: MessageRecord) -> dict[str, Any]:
    assert message.embeds, f"no embed in {message.payload}"
    return message.embeds[0]


def text_of(message: MessageRecord) -> str:
    """Everything readable in a message: content, title, description and fields."""
    if not message.embeds:
        return message.content
    data = embed(message)
    fields = " ".join(f"{f['name']} {f['value']}" for f in data.get("fields", []))
    return " ".join([message.content, data.get("title", ""), data.get("description", ""), fields])


def button(message: MessageRecord, label: str) -> str:
    for component in message.iter_components():
        if component.get("type") == 2 and component.get("label") == label:
            return str(component["custom_id"])
    raise AssertionError(f"no button {label!r} in {message.custom_ids}")


async def click(
    fake: FakeDiscord, message: MessageRecord, label: str, user_id: int
) -> MessageRecord:
    handle = await fake.click_button(message, button(message, label), user_id=user_id)
    return await fake.wait_for_message(handle, timeout=5)


async def command(
    fake: FakeDiscord,
    name: str,
    user_id: int,
    subcommand: str | None = None,
    **options: Any,
) -> MessageRecord:
    handle = await fake.send_slash_command(
        name, user_id=user_id, subcommand=subcommand, options=options or None
    )
    return await fake.wait_for_message(handle, timeout=5)


def stored(settings: Settings, sql: str) -> list[tuple[Any, ...]]:
    return query(settings.database_url, sql)


def correct_letter(settings: Settings) -> str:
    ((item_ids,),) = stored(settings, "SELECT item_ids FROM daily_quizzes")
    item_id = as_json(item_ids)[0]
    ((payload,),) = stored(settings, f"SELECT payload FROM items WHERE id = {item_id}")
    return str(as_json(payload)["answer"])


def as_json(value: Any) -> Any:
    """A JSON column as read back: text from SQLite, already decoded from PostgreSQL."""
    return json.loads(value) if isinstance(value, str) else value


def daily_cog(bot: TutorBot) -> DailyQuizCog:
    # Extensions are re-imported when loaded, so compare by name rather than class.
    cog = bot.get_cog(COG_NAME)
    assert type(cog).__name__ == "DailyQuizCog"
    return cast(DailyQuizCog, cog)


def reminders_cog(bot: TutorBot) -> RemindersCog:
    cog = bot.get_cog("Reminders")
    assert type(cog).__name__ == "RemindersCog"
    return cast(RemindersCog, cog)


def is_question(message: MessageRecord) -> bool:
    return bool(message.embeds) and "Daily quiz" in embed(message).get("title", "")


def is_results(message: MessageRecord) -> bool:
    return bool(message.embeds) and "results" in embed(message).get("title", "")


@pytest_asyncio.fixture
async def bot(fake_discord: FakeDiscord, bot_settings: Settings) -> AsyncIterator[TutorBot]:
    """A connected bot whose daily quizzes have a 2.5-second answer window."""
    fake_discord.ack_deadline_s = ACK_DEADLINE_S
    fake_discord.add_member(GUILD_ID, CAROL_ID, "Carol")
    tutor_bot = discord_bot(bot_settings)
    async with running_client(tutor_bot, fake_discord):
        await fake_discord.wait_for_commands("settings", "dailyquiz", "remind")
        daily_cog(tutor_bot).service.window_override = TEST_WINDOW
        yield tutor_bot


async def test_admin_configures_the_daily_quiz_and_members_cannot(
    fake_discord: FakeDiscord, bot: TutorBot, bot_settings: Settings
) -> None:
    cog = daily_cog(bot)
    good = {"channel": CHANNEL_ID, "time": "08:30", "timezone": "europe/berlin"}
    denied = await command(fake_discord, "settings", BOB_ID, "daily-quiz", **good)
    assert denied.ephemeral and "Only server admins" in denied.content

    bad_time = await command(
        fake_discord, "settings", ALICE_ID, "daily-quiz", **good | {"time": "25:00"}
    )
    assert "isn't a time" in bad_time.content and "HH:MM" in bad_time.content
    bad_zone = {"timezone": "Mars/Olympus"}
    reply = await command(fake_discord, "settings", ALICE_ID, "daily-quiz", **good | bad_zone)
    assert "don't know the time zone" in reply.content
    reply = await command(
        fake_discord, "settings", ALICE_ID, "daily-quiz", **good | {"deck": "nope"}
    )
    assert "no deck called 'nope'" in reply.content
    assert stored(bot_settings, "SELECT daily_enabled FROM guilds") in ([], [(0,)])
    assert not cog.has_job(f"daily:post:{GUILD_ID}")

    saved = await command(
        fake_discord, "settings", ALICE_ID, "daily-quiz", **good | {"questions": 2}
    )
    assert saved.ephemeral and "Daily quiz on" in embed(saved)["title"]
    assert "08:30 (Europe/Berlin)" in embed(saved)["description"]
    assert "can't post" not in embed(saved)["footer"]["text"]
    assert stored(
        bot_settings, "SELECT daily_enabled, daily_time, timezone, daily_questions FROM guilds"
    ) == [(1, "08:30", "Europe/Berlin", 2)]
    assert cog.has_job(f"daily:post:{GUILD_ID}")

    role = fake_discord.add_role(GUILD_ID, "Tutors")
    denied = await command(fake_discord, "settings", BOB_ID, "moderator-role", role=role.id)
    assert "Only server admins" in denied.content
    reply = await command(fake_discord, "settings", ALICE_ID, "moderator-role", role=role.id)
    assert f"<@&{role.id}>" in embed(reply)["description"]

    reply = await command(fake_discord, "settings", BOB_ID, "me", **{"extra-time": "on"})
    assert "Extra time is on" in embed(reply)["description"]

    shown = await command(fake_discord, "settings", BOB_ID, "show")
    assert shown.ephemeral
    everything = text_of(shown)
    for expected in ("08:30", "Europe/Berlin", f"<#{CHANNEL_ID}>", f"<@&{role.id}>", "60 minutes"):
        assert expected in everything
    assert "Extra time: on" in everything

    off = await command(fake_discord, "settings", ALICE_ID, "daily-quiz-off")
    assert "Daily quiz off" in embed(off)["title"]
    assert not cog.has_job(f"daily:post:{GUILD_ID}")


async def test_daily_quiz_now_answers_results_and_catch_up(
    fake_discord: FakeDiscord, bot: TutorBot, bot_settings: Settings
) -> None:
    denied = await command(fake_discord, "dailyquiz", BOB_ID, "now")
    assert "Only moderators" in denied.content

    before = len(fake_discord.messages)
    posted = await command(fake_discord, "dailyquiz", ALICE_ID, "now")
    assert posted.ephemeral and "Posted" in embed(posted)["title"]
    question = await fake_discord.wait_for_channel_message(
        CHANNEL_ID, predicate=is_question, after=before
    )
    assert not question.ephemeral
    assert all(cid.startswith("t:dq:") for cid in question.custom_ids)

    right = correct_letter(bot_settings)
    wrong = "A" if right != "A" else "B"
    alice = await click(fake_discord, question, right, ALICE_ID)
    bob = await click(fake_discord, question, wrong, BOB_ID)
    assert alice.ephemeral and "Correct" in embed(alice)["title"]
    assert bob.ephemeral and "Not quite" in embed(bob)["title"]
    again = await click(fake_discord, question, right, BOB_ID)
    assert again.ephemeral and "already answered" in again.content
    counted = "SELECT count(*), sum(CASE WHEN correct THEN 1 ELSE 0 END) FROM attempts"
    assert stored(bot_settings, counted) == [(2, 1)]

    twice = await command(fake_discord, "dailyquiz", ALICE_ID, "now")
    assert "already open" in twice.content and "one per day" in twice.content

    results = await fake_discord.wait_for_channel_message(
        CHANNEL_ID, predicate=is_results, after=before, timeout=10
    )
    summary = text_of(results)
    assert "2 members answered" in summary and "1 of 2 answered correctly" in summary
    assert "Top scorers" in summary and "Alice" in summary and "Bob" not in summary
    assert stored(bot_settings, "SELECT status FROM daily_quizzes") == [("closed",)]

    late = await click(fake_discord, question, right, CAROL_ID)
    assert late.ephemeral and late.content == CLOSED

    catch_up = await click(fake_discord, results, "Catch up", CAROL_ID)
    assert catch_up.ephemeral and "catch-up" in embed(catch_up)["title"]
    feedback = await click(fake_discord, catch_up, right, CAROL_ID)
    assert feedback.ephemeral and "Correct" in embed(feedback)["title"]
    done = await click(fake_discord, results, "Catch up", CAROL_ID)
    assert "All done" in embed(done)["title"]
    assert stored(bot_settings, "SELECT count(*) FROM attempts WHERE mode = 'daily'") == [(3,)]


async def test_an_open_quiz_is_closed_after_a_restart(
    fake_discord: FakeDiscord, bot_settings: Settings
) -> None:
    fake_discord.ack_deadline_s = ACK_DEADLINE_S
    first = discord_bot(bot_settings)
    async with running_client(first, fake_discord):
        await fake_discord.wait_for_commands("dailyquiz")
        daily_cog(first).service.window_override = timedelta(hours=1)
        posted = await command(fake_discord, "dailyquiz", ALICE_ID, "now")
        assert "Posted" in embed(posted)["title"]
    assert stored(bot_settings, "SELECT status FROM daily_quizzes") == [("open",)]
    # The bot was down when the window ended.
    query(
        bot_settings.database_url,
        "UPDATE daily_quizzes SET closes_at = :past",
        past=datetime(2000, 1, 1, tzinfo=UTC)
        if "postgres" in bot_settings.database_url
        else "2000-01-01 00:00:00.000000",
    )
    before = len(fake_discord.messages)
    second = discord_bot(bot_settings)
    async with running_client(second, fake_discord):
        results = await fake_discord.wait_for_channel_message(
            CHANNEL_ID, predicate=is_results, after=before, timeout=10
        )
        assert "Nobody answered" in embed(results)["description"]
    assert stored(bot_settings, "SELECT status FROM daily_quizzes") == [("closed",)]


async def test_remind_on_sends_one_dm_when_reviews_are_due(
    fake_discord: FakeDiscord, bot: TutorBot, bot_settings: Settings
) -> None:
    reply = await command(fake_discord, "remind", ALICE_ID, "on", time="00:00", timezone="UTC")
    assert reply.ephemeral and "Reminders on" in embed(reply)["title"]
    bad = await command(fake_discord, "remind", BOB_ID, "on", time="7pm")
    assert "isn't a time" in bad.content
    await command(fake_discord, "remind", BOB_ID, "on", time="00:00")

    card = await command(fake_discord, "review", ALICE_ID)
    revealed = await click(fake_discord, card, "Reveal", ALICE_ID)
    await click(fake_discord, revealed, "Good", ALICE_ID)

    reminders = reminders_cog(bot)
    later = datetime.now(UTC) + timedelta(days=30)
    before = len(fake_discord.messages)
    assert await reminders.send_due_reminders(now=later) == 1  # Bob has nothing due
    dm = await fake_discord.wait_for_channel_message(
        fake_discord.dm_channel(ALICE_ID).id, after=before
    )
    assert dm.kind == "dm" and "1 review is due" in embed(dm)["description"]
    assert await reminders.send_due_reminders(now=later + timedelta(hours=1)) == 0
    assert stored(
        bot_settings, "SELECT count(*) FROM users WHERE last_reminded_on IS NOT NULL"
    ) == [(1,)]

    off = await command(fake_discord, "remind", ALICE_ID, "off")
    assert "Reminders off" in embed(off)["title"]
    assert await reminders.send_due_reminders(now=later + timedelta(days=1)) == 0


async def test_admin_sets_the_server_time_zone_and_new_cards_per_day(
    fake_discord: FakeDiscord, bot: TutorBot, bot_settings: Settings
) -> None:
    handle = await fake_discord.send_autocomplete(
        "settings",
        focused="timezone",
        user_id=ALICE_ID,
        subcommand="timezone",
        options={"timezone": "berl"},
    )
    assert (await fake_discord.wait_for_autocomplete(handle)).values == ["Europe/Berlin"]
    handle = await fake_discord.send_autocomplete(
        "settings",
        focused="timezone",
        user_id=ALICE_ID,
        subcommand="timezone",
        options={"timezone": "america"},
    )
    americas = (await fake_discord.wait_for_autocomplete(handle)).values
    assert len(americas) == 25 and all(name.startswith("America/") for name in americas)

    denied = await command(fake_discord, "settings", BOB_ID, "timezone", timezone="UTC")
    assert denied.ephemeral and "Only server admins" in denied.content
    bad = await command(fake_discord, "settings", ALICE_ID, "timezone", timezone="Berlin")
    assert bad.ephemeral and "don't know the time zone 'Berlin'" in bad.content
    assert "Europe/Berlin" in bad.content and "\n" not in bad.content
    saved = await command(fake_discord, "settings", ALICE_ID, "timezone", timezone="europe/berlin")
    assert saved.ephemeral and "Time zone saved" in embed(saved)["title"]
    assert "Europe/Berlin" in embed(saved)["description"]

    denied = await command(fake_discord, "settings", BOB_ID, "new-per-day", count=5)
    assert "Only server admins" in denied.content
    capped = await command(fake_discord, "settings", ALICE_ID, "new-per-day", count=5)
    assert capped.ephemeral and "up to 5 new cards a day" in embed(capped)["description"]
    assert stored(bot_settings, "SELECT timezone, new_items_per_day FROM guilds") == [
        ("Europe/Berlin", 5)
    ]

    # The daily quiz runs on the server's time zone when none is given.
    quiz = await command(
        fake_discord, "settings", ALICE_ID, "daily-quiz", channel=CHANNEL_ID, time="08:30"
    )
    assert "08:30 (Europe/Berlin)" in embed(quiz)["description"]
    assert f"<#{CHANNEL_ID}>" in embed(quiz)["description"]
    shown = text_of(await command(fake_discord, "settings", BOB_ID, "show"))
    assert "Time zone Europe/Berlin" in shown and "New cards per day 5" in shown
