"""End to end: moderators manage the server's own questions through ``/question``.

The unmodified discord.py client runs TutorBot against the fake Discord; Alice owns the
server (Administrator), Bob is a plain member.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import yaml

from bot.app import discord_bot
from bot.exts.client import TutorBot
from bot.settings import Settings
from tests.dbquery import query
from tests.exts.conftest import ACK_DEADLINE_S
from tests.fakediscord import FakeDiscord, MessageRecord, ModalRecord, running_client
from tests.fakediscord.fixtures import ALICE_ID, BOB_ID, GUILD_ID

pytestmark = pytest.mark.slow

MANAGE_MESSAGES = 1 << 13
CAROL_ID = 555555555555555555
DAVE_ID = 666666666666666666
HEADER = "deck,kind,question,options,answer,explanation,difficulty"
DENIED: dict[str, dict[str, Any]] = {
    "add": {"deck": "my-deck", "difficulty": "easy"},
    "import": {"file": ("bank.csv", b"deck\n")},
    "edit": {"id": 1},
    "remove": {"id": 1},
    "list": {},
    "export": {},
    "stats": {"id": 1},
    "accept": {"id": 1, "answer": "x"},
    "paste": {"deck": "my-set"},
}


def embed(message: MessageRecord) -> dict[str, Any]:
    assert message.embeds, f"no embed in {message.payload}"
    return message.embeds[0]


def buttons(message: MessageRecord) -> dict[str, str]:
    return {
        str(c.get("label")): str(c["custom_id"])
        for c in message.iter_components()
        if c.get("type") == 2
    }


def stored(settings: Settings, sql: str) -> list[tuple[Any, ...]]:
    return query(settings.database_url, sql)


def modal_defaults(modal: ModalRecord) -> dict[str, str]:
    return {
        str(c["custom_id"]): str(c.get("value") or "")
        for c in modal.iter_components()
        if c.get("type") == 4
    }


async def open_add_form(fake_discord: FakeDiscord, **options: str) -> ModalRecord:
    """Alice runs ``/question add`` with ``options``; the form Discord shows her."""
    handle = await fake_discord.send_slash_command(
        "question", user_id=ALICE_ID, subcommand="add", options=options
    )
    return await fake_discord.wait_for_modal(handle)


async def add_helpers_role(fake_discord: FakeDiscord, bot: TutorBot, *members: int) -> int:
    """A "Helpers" role with Manage Messages for ``members``, once the bot has seen it."""
    helpers = fake_discord.add_role(GUILD_ID, "Helpers", permissions=MANAGE_MESSAGES)
    for member_id in members:
        fake_discord.add_member(GUILD_ID, member_id, f"Member {member_id}", roles=[helpers.id])
    guild = bot.get_guild(GUILD_ID)
    assert guild is not None
    for _ in range(100):
        if guild.get_role(helpers.id):
            break
        await asyncio.sleep(0.02)
    return helpers.id


async def command(
    fake: FakeDiscord, sub: str, options: dict[str, Any] | None = None, user_id: int = ALICE_ID
) -> MessageRecord:
    handle = await fake.send_slash_command(
        "question", user_id=user_id, subcommand=sub, options=options or {}
    )
    reply = await fake.wait_for_response(handle, timeout=5)
    assert isinstance(reply, MessageRecord), reply
    return reply


def csv_file(*rows: str) -> tuple[str, bytes]:
    return ("bank.csv", ("\n".join([HEADER, *rows]) + "\n").encode())


def assert_acks_in_time(fake: FakeDiscord) -> None:
    assert fake.callbacks and all(c.ok for c in fake.callbacks), fake.callbacks
    assert max(c.elapsed_s for c in fake.callbacks) < ACK_DEADLINE_S


async def test_question_commands_are_registered(
    fake_discord: FakeDiscord, tutor_bot: TutorBot
) -> None:
    group = fake_discord.find_command("question", None)
    assert {o["name"] for o in group["options"]} == set(DENIED)
    assert group["description"]


async def test_non_moderators_are_denied_everything(
    fake_discord: FakeDiscord, tutor_bot: TutorBot, bot_settings: Settings
) -> None:
    for sub, options in DENIED.items():
        reply = await command(fake_discord, sub, options, user_id=BOB_ID)
        assert reply.ephemeral and reply.content.startswith("Only moderators can"), (sub, reply)
    handle = await fake_discord.send_slash_command(
        "question", user_id=BOB_ID, guild_id=None, subcommand="list"
    )
    dm = await fake_discord.wait_for_response(handle)
    assert isinstance(dm, MessageRecord) and "only works in a server" in dm.content
    assert stored(bot_settings, "SELECT count(*) FROM audit_log") == [(0,)]
    assert_acks_in_time(fake_discord)


async def test_manage_messages_and_the_moderator_role_count_as_moderators(
    fake_discord: FakeDiscord, tutor_bot: TutorBot, bot_settings: Settings
) -> None:
    # Roles made with add_role reach the bot's cache, which member permissions come from.
    helpers = fake_discord.add_role(GUILD_ID, "Helpers", permissions=MANAGE_MESSAGES)
    role = fake_discord.add_role(GUILD_ID, "Quizmasters")
    fake_discord.add_member(GUILD_ID, CAROL_ID, "Carol", roles=[helpers.id])
    fake_discord.add_member(GUILD_ID, DAVE_ID, "Dave", roles=[role.id])
    guild = tutor_bot.get_guild(GUILD_ID)
    assert guild is not None
    for _ in range(100):
        if guild.get_role(role.id) and guild.get_role(helpers.id):
            break
        await asyncio.sleep(0.02)
    carol = await command(fake_discord, "list", user_id=CAROL_ID)
    assert "No questions of your own yet" in embed(carol)["description"]
    dave = await command(fake_discord, "list", user_id=DAVE_ID)
    assert dave.content.startswith("Only moderators can")
    query(
        bot_settings.database_url,
        "UPDATE guilds SET moderator_role_id = :role WHERE id = :guild",
        role=role.id,
        guild=GUILD_ID,
    )
    dave = await command(fake_discord, "list", user_id=DAVE_ID)
    assert "No questions of your own yet" in embed(dave)["description"]


async def test_add_through_the_form_echoes_mistakes_then_shows_up_in_quiz(
    fake_discord: FakeDiscord, tutor_bot: TutorBot, bot_settings: Settings
) -> None:
    modal = await open_add_form(fake_discord, deck="optimizers", difficulty="easy")
    assert set(modal.input_custom_ids) == {"question", "options", "answer", "explanation"}
    typed = {
        "question": "Which optimizer keeps a running average of gradients?",
        "options": "Adam\nPlain SGD\nNone of them",
        "answer": "E",
        "explanation": "Adam tracks first and second moments of the gradients.",
    }
    submitted = await fake_discord.submit_modal(modal, typed, user_id=ALICE_ID)
    refused = await fake_discord.wait_for_response(submitted)
    assert isinstance(refused, MessageRecord) and refused.ephemeral
    description = embed(refused)["description"]
    assert "Answer 'E' is not one of the options A–C." in description
    assert "Nothing was stored" in description
    for value in typed.values():
        assert value.splitlines()[0] in description
    assert stored(bot_settings, "SELECT count(*) FROM items WHERE guild_id IS NOT NULL") == [(0,)]

    retry = await fake_discord.click_button(
        refused, buttons(refused)["Edit and retry"], user_id=ALICE_ID
    )
    reopened = await fake_discord.wait_for_modal(retry)
    assert modal_defaults(reopened) == typed
    submitted = await fake_discord.submit_modal(
        reopened, {**typed, "answer": "adam"}, user_id=ALICE_ID
    )
    saved = await fake_discord.wait_for_response(submitted)
    assert isinstance(saved, MessageRecord) and saved.ephemeral
    assert embed(saved)["title"].startswith("Added #")
    (item_id,) = stored(bot_settings, "SELECT id FROM items WHERE guild_id IS NOT NULL")[0]
    assert stored(bot_settings, "SELECT action, item_id FROM audit_log") == [
        ("question.add", item_id)
    ]

    handle = await fake_discord.send_slash_command(
        "quiz", user_id=BOB_ID, options={"deck": "optimizers"}
    )
    quiz = await fake_discord.wait_for_response(handle)
    assert isinstance(quiz, MessageRecord)
    assert "running average of gradients" in embed(quiz)["description"]

    handle = await fake_discord.send_slash_command(
        "question", user_id=ALICE_ID, subcommand="edit", options={"id": item_id}
    )
    edit_form = await fake_discord.wait_for_modal(handle)
    current = modal_defaults(edit_form)
    assert current["answer"] == "A" and current["question"] == typed["question"]
    submitted = await fake_discord.submit_modal(
        edit_form, {**current, "answer": "Plain SGD"}, user_id=ALICE_ID
    )
    edited = await fake_discord.wait_for_response(submitted)
    assert isinstance(edited, MessageRecord) and embed(edited)["title"] == f"Saved #{item_id}"
    assert_acks_in_time(fake_discord)


async def test_practice_form_has_a_fifth_box(
    fake_discord: FakeDiscord, tutor_bot: TutorBot
) -> None:
    modal = await open_add_form(fake_discord, deck="optimizers", difficulty="hard", kind="practice")
    assert "practice" in modal.input_custom_ids
    values = {
        "question": "A loss of 4.0 halves each step. What is it after 2 steps?",
        "options": "A) 1.0\nB) 2.0",
        "answer": "A",
        "explanation": "4.0 → 2.0 → 1.0.",
        "practice": "Hint: halve it twice\nStep: 4.0 / 2 = 2.0\nStep: 2.0 / 2 = 1.0\n"
        "Mistake: halving only once",
    }
    saved = await fake_discord.wait_for_response(
        await fake_discord.submit_modal(modal, values, user_id=ALICE_ID)
    )
    assert isinstance(saved, MessageRecord) and embed(saved)["title"].startswith("Added #")
    handle = await fake_discord.send_slash_command(
        "practice", user_id=BOB_ID, options={"deck": "optimizers"}
    )
    problem = await fake_discord.wait_for_response(handle)
    assert (
        isinstance(problem, MessageRecord) and "halves each step" in embed(problem)["description"]
    )


async def test_a_csv_with_bad_rows_stores_nothing_and_reports_every_row(
    fake_discord: FakeDiscord, tutor_bot: TutorBot, bot_settings: Settings
) -> None:
    upload = csv_file(
        "d1,mcq,Good one?,a|b,A,Fine.,easy",
        "d1,mcq,Bad answer?,a|b|c,E,Why.,easy",
        "d1,mcq,One option?,only,A,Why.,easy",
        "d1,mcq,good ONE?,c|d,A,Repeat.,easy",
    )
    reply = await command(fake_discord, "import", {"file": upload})
    assert reply.ephemeral and embed(reply)["title"] == "Nothing imported — 3 problems"
    description = embed(reply)["description"]
    assert "row 3: answer 'E' is not one of the options A–C" in description
    assert "row 4: needs 2–6 options, got 1" in description
    assert "row 5: same question as row 2" in description
    (report,) = reply.attachments
    assert report.filename == "import-report.txt" and b"row 5" in report.data
    assert stored(bot_settings, "SELECT count(*) FROM items WHERE guild_id IS NOT NULL") == [(0,)]
    assert stored(bot_settings, "SELECT count(*) FROM audit_log") == [(0,)]

    latin = ("bank.csv", f"{HEADER}\nd1,mcq,Café?,a|b,A,Why.,easy\n".encode("latin-1"))
    reply = await command(fake_discord, "import", {"file": latin})
    assert "isn't UTF-8" in reply.content
    # A text file that is no deck at all: read as a Quizlet set, refused line by line.
    reply = await command(fake_discord, "import", {"file": ("bank.txt", b"x")})
    assert embed(reply)["title"] == "Nothing imported — 1 problem"
    assert "line 1" in embed(reply)["description"]
    assert_acks_in_time(fake_discord)


async def test_import_list_pages_export_reimport_remove_and_stats(
    fake_discord: FakeDiscord, tutor_bot: TutorBot, bot_settings: Settings
) -> None:
    rows = [f"bank-deck,mcq,Question number {n}?,right|wrong,A,Why.,easy" for n in range(12)]
    reply = await command(fake_discord, "import", {"file": csv_file(*rows)})
    assert embed(reply)["title"] == "Imported 12 questions"
    assert stored(
        bot_settings, "SELECT count(*) FROM audit_log WHERE action='question.import'"
    ) == [(1,)]  # one audit entry per import, with its counts

    page = await command(fake_discord, "list")
    assert page.ephemeral and embed(page)["title"].endswith("page 1 of 2")
    assert embed(page)["description"].count("bank-deck") == 10
    assert list(buttons(page)) == ["Next ▶"]
    handle = await fake_discord.click_button(page, buttons(page)["Next ▶"], user_id=ALICE_ID)
    second = await fake_discord.wait_for_response(handle)
    assert isinstance(second, MessageRecord) and embed(second)["title"].endswith("page 2 of 2")
    assert embed(second)["description"].count("bank-deck") == 2
    handle = await fake_discord.click_button(second, buttons(second)["◀ Prev"], user_id=BOB_ID)
    denied = await fake_discord.wait_for_response(handle)
    assert isinstance(denied, MessageRecord) and denied.content.startswith("Only moderators")
    handle = await fake_discord.click_button(second, buttons(second)["◀ Prev"], user_id=ALICE_ID)
    back = await fake_discord.wait_for_response(handle)
    assert isinstance(back, MessageRecord) and embed(back)["title"].endswith("page 1 of 2")

    exported = await command(fake_discord, "export")
    (deck_file,) = exported.attachments
    assert deck_file.filename == "bank-deck.yaml"
    data = yaml.safe_load(deck_file.data)
    assert data["deck"] == "bank-deck" and len(data["items"]) == 12
    again = await command(fake_discord, "import", {"file": (deck_file.filename, deck_file.data)})
    assert embed(again)["title"] == "Imported 12 questions"
    assert "12 already up to date" in embed(again)["description"]
    copy = await command(
        fake_discord, "import", {"file": (deck_file.filename, deck_file.data), "deck": "copy"}
    )
    assert embed(copy)["title"] == "Imported 12 questions"

    first_id = stored(bot_settings, "SELECT min(id) FROM items WHERE deck = 'bank-deck'")[0][0]
    handle = await fake_discord.send_slash_command(
        "quiz", user_id=BOB_ID, options={"deck": "bank-deck"}
    )
    await fake_discord.wait_for_response(handle)
    stats = await command(fake_discord, "stats", {"id": first_id})
    assert embed(stats)["title"] == f"Stats · #{first_id} · bank-deck"

    removed = await command(fake_discord, "remove", {"id": first_id})
    assert embed(removed)["title"] == f"Removed #{first_id}"
    assert stored(bot_settings, f"SELECT active FROM items WHERE id = {first_id}") == [(0,)]
    gone = await command(fake_discord, "edit", {"id": first_id})
    assert "was removed" in gone.content
    assert_acks_in_time(fake_discord)


async def test_a_form_left_open_across_a_restart_still_saves(
    fake_discord: FakeDiscord, bot_settings: Settings
) -> None:
    fake_discord.ack_deadline_s = ACK_DEADLINE_S
    first = discord_bot(bot_settings)
    async with running_client(first, fake_discord):
        modal = await open_add_form(fake_discord, deck="restarts", difficulty="hard")
    second = discord_bot(bot_settings)
    async with running_client(second, fake_discord):
        typed = {
            "question": "What survives a restart?",
            "options": "The form\nNothing",
            "answer": "A",
            "explanation": "Its custom_id carries the deck, kind and difficulty.",
        }
        submitted = await fake_discord.submit_modal(modal, typed, user_id=ALICE_ID)
        saved = await fake_discord.wait_for_response(submitted)
        assert isinstance(saved, MessageRecord)
        assert embed(saved)["title"].startswith("Added #")
    rows = stored(bot_settings, "SELECT deck, difficulty FROM items WHERE guild_id IS NOT NULL")
    assert rows == [("restarts", "hard")]


async def test_edit_and_retry_works_after_a_restart_for_its_owner_only(
    fake_discord: FakeDiscord, bot_settings: Settings
) -> None:
    fake_discord.ack_deadline_s = ACK_DEADLINE_S
    typed = {
        "question": "What does a refused form keep?",
        "options": "Everything typed\nNothing",
        "answer": "Z",
        "explanation": "The text is kept for a day.",
    }
    first = discord_bot(bot_settings)
    async with running_client(first, fake_discord):
        modal = await open_add_form(fake_discord, deck="retries", difficulty="easy")
        submitted = await fake_discord.submit_modal(modal, typed, user_id=ALICE_ID)
        refused = await fake_discord.wait_for_response(submitted)
        assert isinstance(refused, MessageRecord)
        assert "Answer 'Z' is neither a letter A–B" in embed(refused)["description"]
    assert stored(bot_settings, "SELECT count(*) FROM form_drafts") == [(1,)]

    second = discord_bot(bot_settings)  # a restart: nothing of the first bot is in memory
    async with running_client(second, fake_discord):
        await add_helpers_role(fake_discord, second, CAROL_ID)
        # Another moderator cannot reopen Alice's form.
        other = await fake_discord.click_button(
            refused, buttons(refused)["Edit and retry"], user_id=CAROL_ID
        )
        denied = await fake_discord.wait_for_response(other)
        assert isinstance(denied, MessageRecord) and denied.ephemeral
        assert "isn't your form" in denied.content

        retry = await fake_discord.click_button(
            refused, buttons(refused)["Edit and retry"], user_id=ALICE_ID
        )
        reopened = await fake_discord.wait_for_modal(retry)
        assert modal_defaults(reopened) == typed
        submitted = await fake_discord.submit_modal(
            reopened, {**typed, "answer": "A"}, user_id=ALICE_ID
        )
        saved = await fake_discord.wait_for_response(submitted)
        assert isinstance(saved, MessageRecord)
        assert embed(saved)["title"].startswith("Added #")
    rows = stored(bot_settings, "SELECT deck, difficulty FROM items WHERE guild_id IS NOT NULL")
    assert rows == [("retries", "easy")]
