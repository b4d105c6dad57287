"""The question bank on a temporary SQLite file: storing, scoping, audit, soft delete, stats."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import col, select

from bot.core.clock import FakeClock
from bot.core.learners import Learner
from bot.core.question_drafts import QuestionDraft
from bot.core.scheduling import SpacedRepetition
from bot.errors import BadInput, ExpiredAction, NotFound, PermissionDenied
from bot.services.deck_export import DeckExportService
from bot.services.deck_import import DeckImportService
from bot.services.question_bank import QuestionBankService
from bot.services.study import StudyServices
from bot.storage import bank
from bot.storage.db import Database
from bot.storage.models import Attempt, FormDraft, Item

GUILD = 1001
OTHER_GUILD = 2002
DECK = "server-deck"
HEADER = "deck,kind,question,options,answer,explanation,difficulty"


def moderator(guild_id: int = GUILD) -> Learner:
    return Learner("discord", "900", "Mod", guild_id=guild_id, guild_name="Study Hall")


def member(guild_id: int | None = GUILD, name: str = "501") -> Learner:
    return Learner("discord", name, "Member", guild_id=guild_id)


def draft(
    question: str = "Which optimizer uses momentum by default?", **changes: str
) -> QuestionDraft:
    values = {
        "deck": DECK,
        "kind": "mcq",
        "difficulty": "easy",
        "question": question,
        "options": "Adam\nPlain SGD",
        "answer": "Adam",
        "explanation": "Adam keeps running averages of the gradients.",
    }
    values.update(changes)
    return QuestionDraft(**values)


@pytest.fixture
def questions(db: Database, clock: FakeClock) -> QuestionBankService:
    return QuestionBankService(db, clock=clock)


@pytest.fixture
def imports(db: Database, clock: FakeClock, tmp_path: Path) -> DeckImportService:
    return DeckImportService(db, clock=clock, srs=SpacedRepetition(), media_dir=tmp_path / "media")


@pytest.fixture
def exports(db: Database, clock: FakeClock, tmp_path: Path) -> DeckExportService:
    return DeckExportService(db, clock=clock, media_dir=tmp_path / "media")


async def items(db: Database) -> list[Item]:
    async with db.session() as session:
        statement = select(Item).where(Item.guild_id == GUILD).order_by(col(Item.id))
        return list((await session.exec(statement)).all())


async def audit(db: Database, guild_id: int = GUILD) -> list[tuple[str, int | None]]:
    async with db.session() as session:
        return [(e.action, e.item_id) for e in await bank.audit_entries(session, guild_id=guild_id)]


async def test_an_added_question_is_stored_for_its_server_and_audited(
    db: Database, study: StudyServices, questions: QuestionBankService
) -> None:
    reply = await questions.add(moderator(), draft())
    (row,) = await items(db)
    assert reply.title == f"Added #{row.id} to {DECK}"
    assert row.key == f"g{GUILD}/{DECK}/q-{row.id}" and row.slug == f"q-{row.id}"
    assert row.payload["id"] == row.slug and row.payload["answer"] == "A"
    assert (row.kind, row.difficulty, row.active) == ("mcq", "easy", True)
    async with db.session() as session:
        (entry,) = await bank.audit_entries(session, guild_id=GUILD)
    assert entry.action == "question.add" and entry.item_id == row.id
    assert entry.actor_user_id == row.created_by is not None
    assert entry.details["deck"] == DECK


async def test_server_questions_are_seen_only_on_that_server(
    study: StudyServices, questions: QuestionBankService
) -> None:
    await questions.add(moderator(), draft())
    here = await study.practice.quiz(member(), DECK)
    assert "Which optimizer" in here.text
    test = await study.tests.start_test(member(name="502"), DECK)
    assert "Which optimizer" in test.text
    with pytest.raises(NotFound, match="no deck called 'server-deck'"):
        await study.practice.quiz(member(OTHER_GUILD), DECK)
    with pytest.raises(NotFound):
        await study.practice.quiz(member(None), DECK)
    for _ in range(15):
        elsewhere = await study.practice.quiz(member(OTHER_GUILD))
        assert "Which optimizer" not in elsewhere.text


async def test_a_server_may_extend_a_bundled_deck(
    study: StudyServices, questions: QuestionBankService
) -> None:
    bundled = "tensorflow-training-basics"
    await questions.add(moderator(), draft(deck=bundled, difficulty="hard"))
    reply = await study.practice.quiz(member(), bundled, "hard")
    assert "Which optimizer" in reply.text
    with pytest.raises(NotFound):
        await study.practice.quiz(member(OTHER_GUILD), bundled, "hard")


async def test_duplicates_are_refused_with_the_existing_id(
    db: Database, study: StudyServices, questions: QuestionBankService
) -> None:
    await questions.add(moderator(), draft())
    (row,) = await items(db)
    with pytest.raises(BadInput, match=f"already in {DECK} as #{row.id}"):
        await questions.add(moderator(), draft("  which OPTIMIZER uses momentum   by default? "))
    bundled = "What does training a model mainly adjust?"
    with pytest.raises(BadInput, match="already in tensorflow-training-basics as #"):
        await questions.add(moderator(), draft(bundled, deck="tensorflow-training-basics"))
    # Another server, or another deck, may have the same text.
    await questions.add(moderator(OTHER_GUILD), draft())
    await questions.add(moderator(), draft(deck="second-deck"))
    assert len(await items(db)) == 2


async def test_an_import_goes_in_whole_or_not_at_all(
    db: Database, study: StudyServices, questions: QuestionBankService, imports: DeckImportService
) -> None:
    await questions.add(moderator(), draft())
    (existing,) = await items(db)
    bad = "\n".join(
        [
            HEADER,
            f"{DECK},mcq,A new question?,a|b,A,Fine.,easy",
            f"{DECK},mcq,which optimizer uses momentum by default?,a|b,A,Dup.,easy",
            f"{DECK},mcq,Broken?,a|b,C,Bad.,easy",
            f"{DECK},mcq,a new  question?,a|b,A,Twice.,easy",
        ]
    ).encode()
    result = await imports.import_upload(moderator(), "bank.csv", bad)
    assert result.reply.title == "Nothing imported — 2 problems"
    assert result.report is not None
    assert "row 4: answer 'C' is not one of the options A–B" in result.report
    assert "row 5: same question as row 2" in result.report
    assert result.report.index("row 4") < result.report.index("row 5")
    assert [r.id for r in await items(db)] == [existing.id]
    assert await audit(db) == [("question.add", existing.id)]

    good = "\n".join(
        [
            HEADER,
            f"{DECK},mcq,A new question?,a|b,A,Fine.,easy",
            ",practice,Another?,1|2|3,3,Three.,hard,h,s1|s2,m",
        ]
    )
    good = good.replace(HEADER, HEADER + ",hint,steps,mistakes")
    result = await imports.import_upload(moderator(), "bank.csv", good.encode(), deck="imported")
    assert result.report is None and result.reply.title == "Imported 2 questions"
    rows = await items(db)
    assert [(r.deck, r.kind) for r in rows[1:]] == [("imported", "mcq"), ("imported", "practice")]
    assert [a for a, _ in await audit(db)] == ["question.add", "question.import"]
    practice = await study.practice.practice(member(), "imported")
    assert "Another?" in practice.text


async def test_importing_a_hand_added_question_again_updates_it(
    db: Database, study: StudyServices, questions: QuestionBankService, imports: DeckImportService
) -> None:
    await questions.add(moderator(), draft())
    (existing,) = await items(db)
    same = f"{HEADER}\n{DECK},mcq,which optimizer uses momentum by default?,Adam|SGD,A,New.,hard"
    result = await imports.import_upload(moderator(), "bank.csv", same.encode())
    assert "1 updated (members keep their progress)" in result.reply.text
    (row,) = await items(db)
    assert row.id == existing.id and row.payload["explanation"] == "New."
    assert row.source_key is not None and row.source_key.startswith(f"text:{DECK}:")
    again = await imports.import_upload(moderator(), "bank.csv", same.encode())
    assert "1 already up to date" in again.reply.text
    assert [r.id for r in await items(db)] == [existing.id]


async def test_edit_replaces_content_and_keeps_the_key(
    db: Database, study: StudyServices, questions: QuestionBankService
) -> None:
    await questions.add(moderator(), draft())
    (row,) = await items(db)
    assert row.id is not None
    current = await questions.draft_for_edit(moderator(), row.id)
    assert current.answer == "A" and current.options == "Adam\nPlain SGD"
    reply = await questions.edit(
        moderator(), row.id, draft("Which optimizer adapts its step size?", answer="B")
    )
    assert reply.title == f"Saved #{row.id}"
    (edited,) = await items(db)
    assert edited.key == row.key and edited.payload["answer"] == "B"
    assert edited.content_hash != row.content_hash
    shown = await study.practice.quiz(member(), DECK)
    assert "adapts its step size" in shown.text
    unchanged = await questions.edit(
        moderator(), row.id, draft("Which optimizer adapts its step size?", answer="B")
    )
    assert "Nothing changed" in unchanged.text
    actions = await audit(db)
    assert actions == [("question.add", row.id), ("question.edit", row.id)]
    async with db.session() as session:
        entry = (await bank.audit_entries(session, guild_id=GUILD))[-1]
    assert entry.details["before"]["answer"] == "A" and entry.details["after"]["answer"] == "B"


async def test_only_the_servers_own_active_questions_can_change(
    db: Database, study: StudyServices, questions: QuestionBankService
) -> None:
    await questions.add(moderator(), draft())
    (row,) = await items(db)
    assert row.id is not None
    with pytest.raises(NotFound, match=f"no question #{row.id} on this server"):
        await questions.remove(moderator(OTHER_GUILD), row.id)
    with pytest.raises(BadInput, match="bundled question"):
        await questions.edit(moderator(), 1, draft())
    with pytest.raises(PermissionDenied, match="only works in a server"):
        await questions.list_page(member(None))


async def test_remove_is_a_soft_delete_that_keeps_attempts_and_stats(
    db: Database, study: StudyServices, questions: QuestionBankService
) -> None:
    await questions.add(moderator(), draft())
    (row,) = await items(db)
    assert row.id is not None
    answers = {"501": "B", "502": "B", "503": "B", "504": "B", "505": "A"}
    for name, letter in answers.items():
        question = await study.practice.quiz(member(name=name), DECK)
        choice = question.choice_for(letter)
        assert choice is not None
        await study.actions.act(member(name=name), choice.action)
    stats = await questions.stats(moderator(), row.id)
    fields = {f.name: f.value for f in stats.fields}
    assert fields["Answers"] == "5" and fields["Correct"] == "1 (20%)"
    assert fields["Wrong answers chosen"] == "B. Plain SGD — 4×"
    assert "⚠️ Check the answer key" in fields

    reply = await questions.remove(moderator(), row.id)
    assert reply.title == f"Removed #{row.id}"
    (removed,) = await items(db)
    assert removed.active is False
    async with db.session() as session:
        kept = (await session.exec(select(Attempt).where(Attempt.item_id == row.id))).all()
    assert len(kept) == 5
    with pytest.raises(NotFound):
        await study.practice.quiz(member(), DECK)
    with pytest.raises(NotFound, match="was removed"):
        await questions.remove(moderator(), row.id)
    assert (await questions.stats(moderator(), row.id)).text.endswith("(removed)")
    assert [a for a, _ in await audit(db)] == ["question.add", "question.remove"]


async def test_list_pages_and_export(
    db: Database,
    study: StudyServices,
    questions: QuestionBankService,
    imports: DeckImportService,
    exports: DeckExportService,
) -> None:
    empty = await questions.list_page(moderator())
    assert "No questions of your own yet" in empty.text and not empty.choices
    rows = [f"{DECK},mcq,Question number {n}?,a|b,A,Why.,easy" for n in range(23)]
    await imports.import_upload(moderator(), "bank.csv", "\n".join([HEADER, *rows]).encode())
    first = await questions.list_page(moderator())
    assert first.title == "Server questions · page 1 of 3"
    assert len(first.text.splitlines()) == 10
    assert [c.action for c in first.choices] == ["ql:1"]
    last = await questions.list_page(moderator(), 7, DECK)
    assert last.title.endswith("page 3 of 3") and len(last.text.splitlines()) == 3
    assert [c.action for c in last.choices] == [f"ql:1:{DECK}"]

    exported = await exports.export(moderator())
    (file,) = exported.files
    assert file.filename == f"{DECK}.yaml" and "Exported from Study Hall" in file.text
    with pytest.raises(NotFound, match="to export"):
        await exports.export(moderator(OTHER_GUILD))
    again = await imports.import_upload(moderator(OTHER_GUILD), file.filename, file.data)
    assert again.reply.title == "Imported 23 questions"


async def test_a_refused_form_is_kept_for_its_owner_for_a_day(
    db: Database, questions: QuestionBankService, clock: FakeClock
) -> None:
    typed = draft(answer="Z", practice="")
    key = await questions.keep_draft(moderator(), typed, None)
    assert await questions.kept_draft(moderator(), key) == (typed, None)
    other_moderator = Learner("discord", "901", "Mod 2", guild_id=GUILD)
    with pytest.raises(BadInput, match="isn't your form"):
        await questions.kept_draft(other_moderator, key)
    number, stamp = key.split("-")
    for wrong in (f"{int(number) + 1000}-{stamp}", f"{number}-{int(stamp) + 1}", "x", ""):
        with pytest.raises(ExpiredAction, match="expired"):
            await questions.kept_draft(moderator(), wrong)
    with pytest.raises(ExpiredAction):
        await questions.kept_draft(moderator(OTHER_GUILD), key)  # another server
    edit_key = await questions.keep_draft(moderator(), typed, 42)
    assert (await questions.kept_draft(moderator(), edit_key))[1] == 42

    clock.advance(days=1, minutes=1)
    with pytest.raises(ExpiredAction, match="Nothing was saved"):
        await questions.kept_draft(moderator(), key)
    fresh = await questions.keep_draft(moderator(), typed, None)  # clears expired ones
    async with db.session() as session:
        assert len((await session.exec(select(FormDraft))).all()) == 1
    # Even if the new draft reuses an expired row id, the old key does not open it.
    with pytest.raises(ExpiredAction):
        await questions.kept_draft(moderator(), key)
    assert await questions.kept_draft(moderator(), fresh) == (typed, None)
