"""End to end: moderators bring and take decks through ``/question`` on the fake Discord.

The unmodified discord.py client runs TutorBot; Alice owns the server (Administrator), Bob
is a plain member. Anki packages are built in the test (``tests.decks.anki_builders``).
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from bot.app import discord_bot
from bot.core.deck_imports import REPORT_FILENAME
from bot.exts.client import TutorBot
from bot.settings import Settings
from tests.dbquery import query
from tests.decks.anki_builders import (
    sample_media,
    sample_notes,
    write_anki21b_package,
    write_zip_bomb,
)
from tests.exts.conftest import ACK_DEADLINE_S
from tests.fakediscord import FakeDiscord, MessageRecord, running_client
from tests.fakediscord.fixtures import ALICE_ID, BOB_ID, GUILD_ID

pytestmark = pytest.mark.slow

#: sample_notes() makes 11 cards; two of them carry Anki reviews.
SAMPLE_CARDS = 11
SERVER_ITEMS = f"SELECT count(*) FROM items WHERE guild_id = {GUILD_ID}"


def embed(message: MessageRecord) -> dict[str, Any]:
    assert message.embeds, f"no embed in {message.payload}"
    return message.embeds[0]


def fields(message: MessageRecord) -> dict[str, str]:
    return {str(f["name"]): str(f["value"]) for f in embed(message).get("fields", [])}


def stored(settings: Settings, sql: str) -> list[tuple[Any, ...]]:
    return query(settings.database_url, sql)


def payloads(settings: Settings) -> list[tuple[int, str, str, dict[str, Any]]]:
    """(id, deck, kind, payload) of the server's questions (SQLite gives JSON as text)."""
    rows = stored(
        settings, f"SELECT id, deck, kind, payload FROM items WHERE guild_id = {GUILD_ID}"
    )
    return [
        (int(i), str(deck), str(kind), json.loads(p) if isinstance(p, str) else dict(p))
        for i, deck, kind, p in rows
    ]


def cards_of(settings: Settings, member_id: int) -> int:
    rows = stored(
        settings,
        "SELECT count(*) FROM review_states r JOIN users u ON u.id = r.user_id "
        f"WHERE u.external_id = '{member_id}'",
    )
    return int(rows[0][0])


async def command(
    fake: FakeDiscord, sub: str, options: dict[str, Any] | None = None, user_id: int = ALICE_ID
) -> MessageRecord:
    handle = await fake.send_slash_command(
        "question", user_id=user_id, subcommand=sub, options=options or {}
    )
    reply = await fake.wait_for_response(handle, timeout=15)
    assert isinstance(reply, MessageRecord), reply
    return reply


def sample_package(folder: Path) -> tuple[str, bytes]:
    path = write_anki21b_package(folder / "sample.apkg", sample_notes(), media=sample_media())
    return path.name, path.read_bytes()


def assert_acks_in_time(fake: FakeDiscord) -> None:
    assert fake.callbacks and all(c.ok for c in fake.callbacks), fake.callbacks
    assert max(c.elapsed_s for c in fake.callbacks) < ACK_DEADLINE_S


async def test_an_anki_package_with_history_is_imported_with_its_pictures(
    fake_discord: FakeDiscord, tutor_bot: TutorBot, bot_settings: Settings, tmp_path: Path
) -> None:
    upload = sample_package(tmp_path)
    reply = await command(fake_discord, "import", {"file": upload, "history": True})
    assert reply.ephemeral and embed(reply)["title"] == f"Imported {SAMPLE_CARDS} questions"
    assert f"{SAMPLE_CARDS} new questions" in embed(reply)["description"]
    assert "2 cards scheduled from your Anki reviews" in fields(reply)["Your review history"]
    assert fields(reply)["Pictures"] == "1 kept"
    (notes,) = reply.attachments  # the sound it could not keep is in the notes
    assert notes.filename == REPORT_FILENAME and b"sound" in notes.data
    assert stored(bot_settings, SERVER_ITEMS) == [(SAMPLE_CARDS,)]
    assert cards_of(bot_settings, ALICE_ID) == 2
    (picture,) = [p["image"] for _i, _d, _k, p in payloads(bot_settings) if p.get("image")]
    assert (bot_settings.media_path / picture).is_file()

    # Nothing of the package is stored twice when it comes again.
    again = await command(fake_discord, "import", {"file": upload})
    assert f"{SAMPLE_CARDS} already up to date" in embed(again)["description"]
    assert stored(bot_settings, SERVER_ITEMS) == [(SAMPLE_CARDS,)]
    assert_acks_in_time(fake_discord)


async def test_a_zip_bomb_gets_one_clear_line_and_nothing_is_stored(
    fake_discord: FakeDiscord, tutor_bot: TutorBot, bot_settings: Settings, tmp_path: Path
) -> None:
    bomb = write_zip_bomb(tmp_path / "bomb.apkg", 50_000_000)
    reply = await command(fake_discord, "import", {"file": ("bomb.apkg", bomb.read_bytes())})
    assert reply.ephemeral and not reply.embeds
    assert "zip bomb" in reply.content and "\n" not in reply.content.strip()
    assert stored(bot_settings, SERVER_ITEMS) == [(0,)]
    assert stored(bot_settings, "SELECT count(*) FROM audit_log") == [(0,)]
    media = bot_settings.media_path
    assert not media.exists() or not list(media.iterdir())  # no staging folder left behind
    assert_acks_in_time(fake_discord)


async def test_members_cannot_import_paste_accept_or_export(
    fake_discord: FakeDiscord, tutor_bot: TutorBot, bot_settings: Settings, tmp_path: Path
) -> None:
    attempts: dict[str, dict[str, Any]] = {
        "import": {"file": sample_package(tmp_path), "history": True},
        "paste": {"deck": "my-set"},
        "accept": {"id": 1, "answer": "paris"},
        "export": {"format": "apkg"},
    }
    for sub, options in attempts.items():
        reply = await command(fake_discord, sub, options, user_id=BOB_ID)
        assert reply.ephemeral and reply.content.startswith("Only moderators can"), (sub, reply)
    assert stored(bot_settings, SERVER_ITEMS) == [(0,)]
    assert not fake_discord.modals
    assert_acks_in_time(fake_discord)


async def test_export_as_apkg_and_accept_an_answer(
    fake_discord: FakeDiscord, tutor_bot: TutorBot, bot_settings: Settings, tmp_path: Path
) -> None:
    await command(fake_discord, "import", {"file": sample_package(tmp_path)})
    exported = await command(fake_discord, "export", {"format": "apkg"})
    assert exported.ephemeral
    (package,) = exported.attachments
    assert package.filename.endswith(".apkg")
    with zipfile.ZipFile(io.BytesIO(package.data)) as archive:
        names = archive.namelist()
        assert "collection.anki2" in names
        assert archive.read("collection.anki2").startswith(b"SQLite format 3\x00")
    assert len(package.data) > 1000

    (item_id,) = [
        i
        for i, _d, kind, p in payloads(bot_settings)
        if kind == "typed" and "Capital of France" in p["question"]
    ]
    accepted = await command(fake_discord, "accept", {"id": item_id, "answer": "  Paris, France "})
    assert embed(accepted)["title"] == f"#{item_id} accepts 'Paris, France'"
    assert "*Paris*, *Paris, France*" in embed(accepted)["description"]
    (answers,) = [p["answers"] for i, _d, _k, p in payloads(bot_settings) if i == item_id]
    assert answers == ["Paris", "Paris, France"]
    twice = await command(fake_discord, "accept", {"id": item_id, "answer": "paris, france"})
    assert "already accepted" in twice.content
    assert_acks_in_time(fake_discord)


async def test_a_pasted_set_is_imported_even_after_a_restart(
    fake_discord: FakeDiscord, bot_settings: Settings
) -> None:
    fake_discord.ack_deadline_s = ACK_DEADLINE_S
    first = discord_bot(bot_settings)
    async with running_client(first, fake_discord):
        handle = await fake_discord.send_slash_command(
            "question", user_id=ALICE_ID, subcommand="paste", options={"deck": "My Set"}
        )
        bad_name = await fake_discord.wait_for_message(handle)
        assert "isn't a valid deck name" in bad_name.content
        handle = await fake_discord.send_slash_command(
            "question", user_id=ALICE_ID, subcommand="paste", options={"deck": "my-set"}
        )
        modal = await fake_discord.wait_for_modal(handle)
        (box,) = [c for c in modal.iter_components() if c.get("type") == 4]
        assert box["max_length"] == 4000 and "\t" in box["placeholder"]

        refused = await fake_discord.wait_for_message(
            await fake_discord.submit_modal(modal, {"cards": "osmosis\tmoving water\nno tab"})
        )
        assert embed(refused)["title"] == "Nothing imported — 1 problem"
        assert "line 2: no tab between the term and its definition" in embed(refused)["description"]
        assert stored(bot_settings, SERVER_ITEMS) == [(0,)]

    second = discord_bot(bot_settings)  # a restart: the form was opened by the first bot
    async with running_client(second, fake_discord):
        pasted = "osmosis\twater crossing a membrane\r\nmitosis\tone cell becomes two\n"
        saved = await fake_discord.wait_for_message(
            await fake_discord.submit_modal(modal, {"cards": pasted})
        )
        assert saved.ephemeral and embed(saved)["title"] == "Imported 2 questions"
        assert "Into my-set" in embed(saved)["description"]
    assert sorted((deck, kind, p["front"]) for _i, deck, kind, p in payloads(bot_settings)) == [
        ("my-set", "flashcard", "mitosis"),
        ("my-set", "flashcard", "osmosis"),
    ]
    assert stored(bot_settings, "SELECT action FROM audit_log") == [("question.import",)]


async def test_export_me_sends_the_data_and_an_anki_package_of_the_cards(
    fake_discord: FakeDiscord, tutor_bot: TutorBot
) -> None:
    handle = await fake_discord.send_slash_command(
        "quiz", user_id=BOB_ID, options={"difficulty": "easy"}
    )
    question = await fake_discord.wait_for_message(handle)
    answer = next(c for c in question.iter_components() if c.get("label") == "A")
    feedback = await fake_discord.wait_for_message(
        await fake_discord.click_button(question, str(answer["custom_id"]), user_id=BOB_ID)
    )
    assert feedback.ephemeral

    handle = await fake_discord.send_slash_command("export-me", user_id=BOB_ID)
    reply = await fake_discord.wait_for_message(handle, timeout=15)
    assert reply.ephemeral
    data, package = sorted(reply.attachments, key=lambda a: a.filename.endswith(".apkg"))
    assert data.filename.endswith(".json") and package.filename.endswith(".apkg")
    assert len(json.loads(data.data)["attempts"]) == 1
    with zipfile.ZipFile(io.BytesIO(package.data)) as archive:
        assert "collection.anki2" in archive.namelist()
    assert_acks_in_time(fake_discord)
