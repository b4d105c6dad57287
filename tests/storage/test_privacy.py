"""Forget-me removes every row of the member and nothing else; export-me holds their data."""

from __future__ import annotations

import json
import zipfile
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import SQLModel, select

from bot.console.privacy import privacy_commands
from bot.core.clock import FakeClock
from bot.core.learners import Learner
from bot.core.privacy import ForgetChoice, forget_confirmation
from bot.errors import ExpiredAction, NotYourQuestion
from bot.services.privacy import PrivacyService
from bot.services.study import StudyServices
from bot.storage import bank, privacy
from bot.storage.db import Database
from bot.storage.models import AuditEntry, DailyQuiz, Exam, Item, Prompt, User

GUILD = 42


def member(name: str) -> Learner:
    return Learner("discord", name.casefold(), name, guild_id=GUILD, guild_name="Study Hall")


async def table_counts(db: Database) -> dict[str, int]:
    async with db.engine.connect() as conn:
        tables = await conn.run_sync(lambda sync: inspect(sync).get_table_names())
        names = [name for name in tables if name != "alembic_version"]
        return {
            name: int((await conn.execute(text(f'SELECT COUNT(*) FROM "{name}"'))).scalar_one())
            for name in names
        }


async def rows_of(db: Database, user_id: int) -> dict[str, int]:
    """Rows that belong to ``user_id``, per table (what forgetting must remove)."""
    queries = {
        "attempts": "SELECT COUNT(*) FROM attempts WHERE user_id = :u",
        "review_states": "SELECT COUNT(*) FROM review_states WHERE user_id = :u",
        "prompts": "SELECT COUNT(*) FROM prompts WHERE user_id = :u",
        "study_sessions": "SELECT COUNT(*) FROM study_sessions WHERE user_id = :u",
        "form_drafts": "SELECT COUNT(*) FROM form_drafts WHERE user_id = :u",
        "exams": "SELECT COUNT(*) FROM exams WHERE user_id = :u",
        "users": "SELECT COUNT(*) FROM users WHERE id = :u",
    }
    async with db.engine.connect() as conn:
        return {
            table: int((await conn.execute(text(sql), {"u": user_id})).scalar_one())
            for table, sql in queries.items()
        }


async def study_a_bit(study: StudyServices, learner: Learner) -> None:
    """A bit of everything: a review, a private quiz, a test answer."""
    card = await study.review.review(learner)
    reveal = card.choice_for("reveal")
    if reveal is not None:
        card = await study.actions.act(learner, reveal.action)
    answer = card.choice_for("good") or card.choices[0]
    await study.actions.act(learner, answer.action)
    question = await study.practice.practice(learner)
    await study.actions.act(learner, question.choices[0].action)
    first = await study.tests.start_test(learner)
    await study.actions.act(learner, first.choices[0].action)


async def user_id(db: Database, learner: Learner) -> int:
    async with db.session() as session:
        user = await privacy.find_user(session, platform="discord", external_id=learner.external_id)
        assert user is not None and user.id is not None
        return user.id


@pytest.fixture
def ana() -> Learner:
    return member("Ana")


@pytest.fixture
def ben() -> Learner:
    return member("Ben")


async def populate(
    study: StudyServices, clock: FakeClock, ana: Learner, ben: Learner
) -> tuple[int, int]:
    await study_a_bit(study, ana)
    await study_a_bit(study, ben)
    # A channel quiz both answer: the shared prompt is server data.
    shared = await study.practice.quiz(ana, shared=True)
    await study.actions.act(ana, shared.choices[0].action)
    await study.actions.act(ben, shared.choices[1].action)
    clock.advance(days=1)
    await study_a_bit(study, ana)
    ana_id, ben_id = await user_id(study.context.db, ana), await user_id(study.context.db, ben)
    async with study.context.db.session() as session:
        bundled = (await session.exec(select(Item).limit(2))).all()
        session.add(AuditEntry(guild_id=GUILD, actor_user_id=ana_id, action="question.add"))
        session.add(AuditEntry(guild_id=GUILD, actor_user_id=ben_id, action="question.edit"))
        mine, theirs = bundled[0], bundled[1]
        mine.created_by, theirs.created_by = ana_id, ben_id
        session.add_all([mine, theirs])
        session.add(DailyQuiz(guild_id=GUILD, local_date="2026-01-05", scheduled_for=clock.now()))
        for owner in (ana_id, ben_id):  # a refused question form each
            await bank.keep_form_draft(
                session,
                user_id=owner,
                guild_id=GUILD,
                item_id=None,
                fields={"question": f"draft of {owner}"},
                now=clock.now(),
            )
            # An exam each, and the server-wide one Ana set as a moderator.
            session.add(Exam(guild_id=GUILD, user_id=owner, exam_on=date(2026, 3, owner)))
        session.add(Exam(guild_id=GUILD, user_id=None, exam_on=date(2026, 4, 1), set_by=ana_id))
        await session.commit()
    return ana_id, ben_id


async def test_forget_removes_every_row_of_the_member_and_nothing_else(
    study: StudyServices, clock: FakeClock, ana: Learner, ben: Learner
) -> None:
    ana_id, ben_id = await populate(study, clock, ana, ben)
    before = await table_counts(study.context.db)
    anas = await rows_of(study.context.db, ana_id)
    bens = await rows_of(study.context.db, ben_id)
    assert all(anas.values()) and all(bens.values())

    reply = await PrivacyService(study.context.db, clock=clock).forget(ana)

    assert "deleted" in reply.title
    after = await table_counts(study.context.db)
    expected = {table: count - anas.get(table, 0) for table, count in before.items()}
    assert after == expected
    assert await rows_of(study.context.db, ben_id) == bens
    assert set(before) >= {"guilds", "items", "audit_log", "daily_quizzes", "attempts"}
    async with study.context.db.session() as session:
        actors = {e.action: e.actor_user_id for e in (await session.exec(select(AuditEntry)))}
        assert actors == {"question.add": None, "question.edit": ben_id}
        creators = {i.created_by for i in (await session.exec(select(Item)))}
        assert ana_id not in creators and ben_id in creators
        shared = (await session.exec(select(Prompt).where(Prompt.user_id == None))).all()  # noqa: E711
        assert len(shared) == 1
        assert (await session.get(User, ana_id)) is None
        exams = {(e.user_id, e.set_by) for e in (await session.exec(select(Exam)))}
        assert exams == {(ben_id, None), (None, None)}  # the server's exam stays, unlinked


async def test_forgetting_twice_or_a_stranger_changes_nothing(
    study: StudyServices, clock: FakeClock, ana: Learner, ben: Learner
) -> None:
    await populate(study, clock, ana, ben)
    data = PrivacyService(study.context.db, clock=clock)
    await data.forget(ana)
    before = await table_counts(study.context.db)
    assert "no data" in (await data.forget(ana)).text
    assert "no data" in (await data.forget(member("Stranger"))).text
    assert await table_counts(study.context.db) == before


async def test_forget_is_all_or_nothing(
    study: StudyServices, clock: FakeClock, ana: Learner, ben: Learner
) -> None:
    ana_id, ben_id = await populate(study, clock, ana, ben)
    # Corrupt the data so deleting Ana's prompts fails half-way: one of Ben's answers
    # points at a prompt of Ana's (the engine never does this).
    async with study.context.db.engine.begin() as conn:
        await conn.execute(
            text(
                "UPDATE attempts SET prompt_id = "
                "(SELECT MIN(id) FROM prompts WHERE user_id = :a) "
                "WHERE id = (SELECT MIN(id) FROM attempts WHERE user_id = :b)"
            ),
            {"a": ana_id, "b": ben_id},
        )
    before = await table_counts(study.context.db)
    with pytest.raises(IntegrityError):
        await PrivacyService(study.context.db, clock=clock).forget(ana)
    assert await table_counts(study.context.db) == before
    assert (await rows_of(study.context.db, ana_id))["attempts"] > 0


def test_every_reference_to_users_is_handled() -> None:
    """A new table pointing at users.id must be added to forget-me's lists."""
    references = {
        (table.name, fk.parent.name)
        for table in SQLModel.metadata.tables.values()
        for fk in table.foreign_keys
        if fk.column.table.name == "users"
    }
    handled = set(privacy.DELETED_BY_USER) | set(privacy.CLEARED_ON_FORGET)
    assert references <= handled, f"forget-me does not handle {references - handled}"


async def test_export_holds_profile_attempts_and_review_states(
    study: StudyServices, clock: FakeClock, ana: Learner, ben: Learner
) -> None:
    ana_id, _ = await populate(study, clock, ana, ben)
    export = await PrivacyService(study.context.db, clock=clock).export(ana)
    assert export is not None and export.filename.endswith(".json")
    data = json.loads(export.data)
    assert data["profile"]["external_id"] == "ana" and data["profile"]["display_name"] == "Ana"
    owned = await rows_of(study.context.db, ana_id)
    assert len(data["attempts"]) == owned["attempts"] == export.attempts
    assert len(data["review_states"]) == owned["review_states"] == export.review_states
    assert len(data["study_sessions"]) == owned["study_sessions"]
    assert [d["fields"] for d in data["form_drafts"]] == [{"question": f"draft of {ana_id}"}]
    assert [e["exam_on"] for e in data["exams"]] == [f"2026-03-{ana_id:02d}"]
    assert "desired_retention" in data["profile"]
    first = data["attempts"][0]
    assert first["deck"] == "tensorflow-training-basics" and first["guild_id"] == str(GUILD)
    assert {"answer", "correct", "rating", "created_at", "mode"} <= set(first)
    assert data["review_states"][0]["state"] in {"learning", "review", "relearning"}
    assert "ben" not in export.data.decode()
    assert await PrivacyService(study.context.db, clock=clock).export(member("Nobody")) is None


async def test_confirmation_buttons_belong_to_the_asker(
    study: StudyServices, clock: FakeClock, ana: Learner, ben: Learner
) -> None:
    await populate(study, clock, ana, ben)
    data = PrivacyService(study.context.db, clock=clock)
    asking = forget_confirmation(ana)
    delete, cancel = (c.action for c in asking.choices)
    assert delete == "fm:ok:ana" and ForgetChoice.parse(cancel) == ForgetChoice(False, "ana")
    with pytest.raises(NotYourQuestion):
        await data.act(ben, delete)
    with pytest.raises(ExpiredAction):
        await data.act(ana, "fm:maybe:ana")
    assert "untouched" in (await data.act(ana, cancel)).text
    assert (await rows_of(study.context.db, await user_id(study.context.db, ana)))["users"] == 1
    await data.act(ana, delete)
    assert "no data" in (await data.act(ana, delete)).text


async def test_console_export_and_forget(
    study: StudyServices, alice: Learner, tmp_path: Path, clock: FakeClock
) -> None:
    commands = privacy_commands(
        PrivacyService(study.context.db, clock=clock), export_dir=tmp_path / "exports"
    )
    assert "no data" in (await commands["/export-me"](alice, [])).text
    question = await study.practice.quiz(alice)
    await study.actions.act(alice, question.choices[0].action)
    saved = await commands["/export-me"](alice, [])
    [path, deck] = sorted((tmp_path / "exports").iterdir(), key=lambda p: p.suffix, reverse=True)
    assert str(path) in saved.text and json.loads(path.read_text())["attempts"]
    # The member's cards also come as an Anki package they can open in Anki.
    assert deck.suffix == ".apkg" and f"Your cards for Anki: {deck}" in saved.text
    with zipfile.ZipFile(deck) as package:
        assert "collection.anki2" in package.namelist()
    asking = await commands["/forget-me"](alice, [])
    assert "/forget-me confirm" in asking.text and not asking.choices
    clock.advance(timedelta(minutes=1))
    done = await commands["/forget-me"](alice, ["confirm"])
    assert "deleted" in done.title
    assert "no data" in (await commands["/export-me"](alice, [])).text
