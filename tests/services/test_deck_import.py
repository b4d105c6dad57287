"""Importing decks through the service: Anki packages, text exports, re-imports, history,
hostile files, and the exports that come back in."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from sqlmodel import col, select

from bot.core.clock import FakeClock
from bot.core.content import Flashcard, MultipleChoice, Typed, parse_item
from bot.core.deck_imports import MAX_PACKAGE_BYTES
from bot.core.learners import Learner
from bot.core.question_drafts import QuestionDraft
from bot.core.scheduling import Grade, SpacedRepetition
from bot.errors import BadInput
from bot.services.deck_export import DeckExportService
from bot.services.deck_import import DeckImportService
from bot.services.question_bank import QuestionBankService
from bot.services.study import StudyServices
from bot.storage import crud, imports
from bot.storage.db import Database
from bot.storage.models import AuditEntry, Item, ReviewState
from tests.decks.anki_builders import (
    BASIC,
    NoteSpec,
    ReviewSpec,
    sample_media,
    sample_notes,
    write_anki21b_package,
    write_legacy_package,
    write_zip_bomb,
)

GUILD = 1001
OTHER_GUILD = 2002


def moderator(guild_id: int = GUILD) -> Learner:
    return Learner("discord", "900", "Mod", guild_id=guild_id, guild_name="Study Hall")


@pytest.fixture
def media_dir(tmp_path: Path) -> Path:
    return tmp_path / "media"


@pytest.fixture
def service(db: Database, clock: FakeClock, media_dir: Path) -> DeckImportService:
    return DeckImportService(db, clock=clock, srs=SpacedRepetition(), media_dir=media_dir)


@pytest.fixture
def exports(db: Database, clock: FakeClock, media_dir: Path) -> DeckExportService:
    return DeckExportService(db, clock=clock, media_dir=media_dir)


def hidden_files(folder: Path) -> list[Path]:
    return [path for path in folder.iterdir() if path.name.startswith(".")]


async def server_items(db: Database, guild_id: int = GUILD) -> list[Item]:
    async with db.session() as session:
        statement = select(Item).where(Item.guild_id == guild_id).order_by(col(Item.id))
        return list((await session.exec(statement)).all())


async def cards_of(db: Database, user_id: int) -> dict[int, ReviewState]:
    async with db.session() as session:
        rows = await session.exec(select(ReviewState).where(ReviewState.user_id == user_id))
        return {row.item_id: row for row in rows.all()}


async def user_id(db: Database, learner: Learner) -> int:
    async with db.session() as session:
        user = await crud.get_or_create_user(
            session, platform=learner.platform, external_id=learner.external_id
        )
        await session.commit()
        assert user.id is not None
        return user.id


async def test_an_anki21b_package_imports_every_card_with_decks_tags_and_pictures(
    db: Database, service: DeckImportService, tmp_path: Path, media_dir: Path
) -> None:
    package = write_anki21b_package(tmp_path / "sample.apkg", sample_notes(), media=sample_media())
    result = await service.import_upload(moderator(), "sample.apkg", package)
    assert result.reply.title == "Imported 11 questions"
    assert "11 new questions" in result.reply.text
    rows = await server_items(db)
    decks = {row.deck for row in rows}
    assert decks == {
        "science-biology",
        "science-geo",
        "languages",
        "languages-french",
        "default",
    }
    kinds = sorted(row.kind for row in rows)
    assert kinds.count("typed") == 3  # two cloze deletions and the type-in card
    cell = next(row for row in rows if "What is this?" in row.payload.get("front", ""))
    image = cell.payload["image"]
    assert (media_dir / image).is_file()
    assert not await asyncio.to_thread(hidden_files, media_dir)  # the staging folder is gone
    assert " biology " in cell.tags and " cells " in cell.tags
    assert all(row.source_key and row.source_key.startswith("anki:") for row in rows)
    assert result.report is not None and "sound" in result.report
    async with db.session() as session:
        audits = (await session.exec(select(AuditEntry))).all()
    assert [(a.action, a.details["added"]) for a in audits] == [("question.import", 11)]


async def test_reimporting_updates_in_place_and_keeps_progress(
    db: Database, service: DeckImportService, tmp_path: Path, clock: FakeClock
) -> None:
    notes = sample_notes()
    package = write_anki21b_package(tmp_path / "v1.apkg", notes, media=sample_media())
    await service.import_upload(moderator(), "v1.apkg", package)
    before = await server_items(db)
    member = Learner("discord", "501", "Member", guild_id=GUILD)
    member_id = await user_id(db, member)
    state = SpacedRepetition().review(None, Grade.GOOD, clock.now())
    async with db.session() as session:
        await imports.save_cards(
            session, user_id=member_id, cards=[(before[0].id or 0, state)], now=clock.now()
        )
        await session.commit()

    again = await service.import_upload(moderator(), "v1.apkg", package)
    assert "11 already up to date" in again.reply.text
    assert [row.id for row in await server_items(db)] == [row.id for row in before]

    # The builder's guid is the note's position: keep the order, change one note's text.
    edited = dataclasses.replace(notes[4], fields=("Capital of Italy?", "Rome"))
    package = write_anki21b_package(
        tmp_path / "v2.apkg", [*notes[:4], edited, *notes[5:]], media=sample_media()
    )
    third = await service.import_upload(moderator(), "v2.apkg", package)
    assert "1 updated (members keep their progress)" in third.reply.text
    after = await server_items(db)
    assert [row.id for row in after] == [row.id for row in before]
    capital = next(row for row in after if row.kind == "typed" and "Capital" in str(row.payload))
    assert capital.payload["question"].startswith("Capital of Italy?")
    assert capital.payload["answers"] == ["Rome"]
    assert set(await cards_of(db, member_id)) == {before[0].id}


async def test_history_schedules_the_importers_cards_from_anki_reviews(
    db: Database, service: DeckImportService, tmp_path: Path, clock: FakeClock
) -> None:
    now = clock.now()
    mature = (
        ReviewSpec(now - timedelta(days=90), 3, kind=0, interval=-600),
        ReviewSpec(now - timedelta(days=89), 3, kind=1, interval=4),
        ReviewSpec(now - timedelta(days=85), 3, kind=1, interval=15),
        ReviewSpec(now - timedelta(days=70), 3, kind=1, interval=40),
        ReviewSpec(now - timedelta(days=10), 3, kind=1, interval=30),
    )
    lapsed = (
        ReviewSpec(now - timedelta(days=40), 3, kind=0, interval=-600),
        ReviewSpec(now - timedelta(days=39), 3, kind=1, interval=10),
        ReviewSpec(now - timedelta(days=2), 1, kind=1, interval=1),
    )
    notes = [
        NoteSpec(BASIC, ("Mature card", "A"), reviews=mature),
        NoteSpec(BASIC, ("Lapsed card", "B"), reviews=lapsed),
        NoteSpec(BASIC, ("New card", "C")),
    ]
    package = write_anki21b_package(tmp_path / "history.apkg", notes)
    result = await service.import_upload(moderator(), "h.apkg", package, history=True)
    assert "2 cards scheduled from your Anki reviews; 1 due now" in str(result.reply.fields)
    cards = await cards_of(db, await user_id(db, moderator()))
    by_front = {row.payload["front"]: row.id or 0 for row in await server_items(db)}
    assert set(cards) == {by_front["Mature card"], by_front["Lapsed card"]}
    assert cards[by_front["Mature card"]].due > now + timedelta(days=7)
    assert cards[by_front["Lapsed card"]].due <= now
    assert cards[by_front["Lapsed card"]].lapses == 1

    # Without the option nobody's cards are touched.
    other = moderator(OTHER_GUILD)
    await service.import_upload(other, "h.apkg", package)
    assert len(await cards_of(db, await user_id(db, other))) == 2  # same member, same cards


async def test_a_legacy_package_made_by_genanki_imports_too(
    db: Database, service: DeckImportService, tmp_path: Path
) -> None:
    package = write_legacy_package(tmp_path / "old.apkg", sample_notes(), media=sample_media())
    result = await service.import_upload(moderator(), "old.apkg", package.read_bytes())
    assert result.reply.title == "Imported 11 questions"


async def test_text_formats_are_recognised_from_their_content(
    db: Database, service: DeckImportService
) -> None:
    quizlet = "gradient\tdirection of steepest ascent\nepoch\tone pass over the data\n"
    result = await service.import_upload(moderator(), "My Set.txt", quizlet.encode())
    assert result.reply.title == "Imported 2 questions"
    red = "AUTHOR: Quiz Master\nWhat is 2+2?:\n- 4\n- four\nCapital of Peru?:\n- Lima\n"
    result = await service.import_upload(moderator(), "maths.yaml", red.encode())
    assert result.reply.title == "Imported 2 questions"
    anki_text = "#separator:tab\n#html:true\n#tags column:3\nFront <b>bold</b>\tBack\tt1 t2\n"
    result = await service.import_upload(
        moderator(), "notes.txt", anki_text.encode(), deck="anki-notes"
    )
    assert result.reply.title == "Imported 1 question"
    rows = {row.deck: row for row in await server_items(db)}
    assert set(rows) == {"my-set", "maths", "anki-notes"}
    typed = parse_item(rows["maths"].payload)
    assert isinstance(typed, Typed)
    assert parse_item(rows["anki-notes"].payload) == Flashcard(
        id=rows["anki-notes"].slug, front="Front **bold**", back="Back", tags=["t1", "t2"]
    )


async def test_hostile_and_oversized_files_are_refused_and_store_nothing(
    db: Database, service: DeckImportService, tmp_path: Path, media_dir: Path
) -> None:
    bomb = write_zip_bomb(tmp_path / "bomb.apkg", 2_000_000_000)
    with pytest.raises(BadInput) as refused:
        await service.import_upload(moderator(), "bomb.apkg", bomb)
    assert "\n" not in refused.value.message
    big = tmp_path / "big.apkg"
    with big.open("wb") as handle:
        handle.write(b"PK\x03\x04")
        handle.truncate(MAX_PACKAGE_BYTES + 1)
    with pytest.raises(BadInput, match="limit is 50 MB"):
        await service.import_upload(moderator(), "big.apkg", big)
    with pytest.raises(BadInput, match="Export"):
        await service.import_upload(moderator(), "junk.apkg", b"PK\x03\x04 not really a zip")
    assert await server_items(db) == []
    assert not await asyncio.to_thread(lambda: list(media_dir.glob("*")))


async def test_our_export_comes_back_as_the_same_questions(
    db: Database,
    study: StudyServices,
    service: DeckImportService,
    exports: DeckExportService,
    clock: FakeClock,
) -> None:
    bank = QuestionBankService(db, clock=clock)
    await bank.add(
        moderator(),
        QuestionDraft(
            deck="mixed",
            kind="mcq",
            difficulty="hard",
            question="Which **optimizer** adapts its step?",
            options="Adam\nSGD",
            answer="A",
            explanation="Adam keeps running averages.",
        ),
    )
    red = "Name the loss for classes?:\n- cross-entropy\n- log loss\n"
    await service.import_upload(moderator(), "mixed.yaml", red.encode(), deck="mixed")
    originals = [parse_item(row.payload) for row in await server_items(db)]
    for guild, file_format in enumerate(("apkg", "yaml"), start=OTHER_GUILD):
        result = await exports.export(moderator(), None, file_format)
        (file,) = result.files
        again = await service.import_upload(moderator(guild), file.filename, file.data)
        assert again.reply.title == "Imported 2 questions", file_format
        copies = [parse_item(row.payload) for row in await server_items(db, guild)]
        assert [c.model_copy(update={"id": "x"}) for c in copies] == [
            o.model_copy(update={"id": "x"}) for o in originals
        ], file_format
    assert isinstance(originals[0], MultipleChoice)
    # CSV has columns for multiple-choice and practice questions only: the reply says so.
    csv = await exports.export(moderator(), "mixed", "csv")
    assert "Name the loss for classes?" in str(csv.reply.fields)
    quizlet = await exports.export(moderator(), "mixed", "quizlet")
    assert quizlet.files[0].text.splitlines()[1] == "Name the loss for classes?\tcross-entropy"


async def test_accepted_answers_can_be_added_to_typed_questions(
    db: Database, service: DeckImportService, clock: FakeClock
) -> None:
    bank = QuestionBankService(db, clock=clock)
    await service.import_upload(moderator(), "t.yaml", b"Speed of light?:\n- c\n")
    (row,) = await server_items(db)
    assert row.id is not None
    reply = await bank.accept(moderator(), row.id, "  299792458 m/s ")
    assert "Accepted answers: *c*, *299792458 m/s*" in reply.text
    with pytest.raises(BadInput, match="already accepted"):
        await bank.accept(moderator(), row.id, "C")
    with pytest.raises(BadInput, match="Type the answer"):
        await bank.accept(moderator(), row.id, "\u200b")
    (row,) = await server_items(db)
    assert row.payload["answers"] == ["c", "299792458 m/s"]


async def test_quizlet_and_red_text_come_back_out_the_same(
    db: Database, service: DeckImportService, exports: DeckExportService
) -> None:
    quizlet = "gradient\tdirection of steepest ascent\nepoch\tone pass over the data"
    await service.import_upload(moderator(), "terms.txt", quizlet.encode(), deck="terms")
    (file,) = (await exports.export(moderator(), "terms", "quizlet")).files
    assert file.text == quizlet + "\n"

    red = "AUTHOR: Study Hall\nWhat is 2+2?:\n- '4'\n- four\nCapital of Peru?:\n- Lima\n"
    await service.import_upload(moderator(), "maths.yaml", red.encode())
    (file,) = (await exports.export(moderator(), "maths", "red")).files
    assert file.filename == "maths.yaml"
    again = await service.import_upload(moderator(), file.filename, file.data)
    assert "2 already up to date" in again.reply.text
    (questions,) = [yaml.safe_load(file.text)]
    assert questions == {
        "AUTHOR": "Study Hall",
        "What is 2+2?": ["4", "four"],
        "Capital of Peru?": ["Lima"],
    }
