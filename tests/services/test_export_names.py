"""Exports and import reports written at the same clock value keep their own files.

The clock is frozen, so every file below is written "in the same second"; each must get a
name of its own and keep what was written into it.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import yaml

from bot.console import questions
from bot.console.app import console_learner
from bot.console.privacy import privacy_commands
from bot.core.clock import FakeClock
from bot.core.privacy import export_stamp
from bot.core.question_drafts import QuestionDraft
from bot.core.replies import Reply
from bot.core.scheduling import SpacedRepetition
from bot.services.deck_export import DeckExportService
from bot.services.deck_import import DeckImportService
from bot.services.privacy import PrivacyService
from bot.services.question_bank import QuestionBankService
from bot.services.study import StudyServices

DECK = "my-deck"


def draft(question: str) -> QuestionDraft:
    return QuestionDraft(
        deck=DECK,
        kind="mcq",
        difficulty="easy",
        question=question,
        options="yes\nno",
        answer="yes",
        explanation="Because.",
    )


def saved_paths(reply: Reply) -> list[Path]:
    return [Path(found) for found in re.findall(r"Saved to (\S+)", reply.text)]


def test_stamps_of_one_moment_differ_and_keep_the_time() -> None:
    moment = datetime(2026, 1, 5, 9, 0, 0, tzinfo=UTC)
    stamps = [export_stamp(moment) for _ in range(1000)]
    assert len(set(stamps)) == len(stamps)
    assert all(re.fullmatch(r"20260105-090000-[0-9a-f]{6}", stamp) for stamp in stamps)


async def test_two_data_exports_in_the_same_second_keep_both_files(
    study: StudyServices, clock: FakeClock, tmp_path: Path
) -> None:
    alice = console_learner("alice")
    export_dir = tmp_path / "exports"
    export_me = privacy_commands(
        PrivacyService(study.context.db, clock=clock), export_dir=export_dir
    )["/export-me"]
    question = await study.practice.quiz(alice)
    await study.actions.act(alice, question.choices[0].action)
    first = await export_me(alice, [])
    question = await study.practice.quiz(alice)
    await study.actions.act(alice, question.choices[0].action)
    second = await export_me(alice, [])

    [first_path], [second_path] = saved_paths(first), saved_paths(second)
    assert first_path != second_path
    assert sorted(export_dir.glob("*.json")) == sorted([first_path, second_path])
    assert len(list(export_dir.glob("*.apkg"))) == 2  # the member's cards for Anki, twice
    assert len(json.loads(first_path.read_text(encoding="utf-8"))["attempts"]) == 1
    assert len(json.loads(second_path.read_text(encoding="utf-8"))["attempts"]) == 2


async def test_question_exports_and_import_reports_in_the_same_second_keep_every_file(
    study: StudyServices, clock: FakeClock, tmp_path: Path
) -> None:
    moderator = console_learner("alice")
    bank = QuestionBankService(study.context.db, clock=clock)
    export_dir = tmp_path / "exports"
    db = study.context.db
    command = questions.question_commands(
        bank,
        imports=DeckImportService(
            db, clock=clock, srs=SpacedRepetition(), media_dir=tmp_path / "media"
        ),
        exports=DeckExportService(db, clock=clock, media_dir=tmp_path / "media"),
        deck_names=study.decks.decks,
        clock=clock,
        export_dir=export_dir,
    )["/question"]

    await bank.add(moderator, draft("First question?"))
    first = await command(moderator, ["export"])
    await bank.add(moderator, draft("Second question?"))
    second = await command(moderator, ["export"])
    assert isinstance(first, Reply) and isinstance(second, Reply)
    [first_path], [second_path] = saved_paths(first), saved_paths(second)
    assert first_path != second_path
    assert first_path.exists() and second_path.exists()
    counts = [
        len(yaml.safe_load(path.read_text(encoding="utf-8"))["items"])
        for path in (first_path, second_path)
    ]
    assert counts == [1, 2]

    reports = []
    for name in ("one.csv", "two.csv"):
        bad = tmp_path / name
        bad.write_text("deck,kind,question\n" + f"{DECK},mcq,{name}?\n", encoding="utf-8")
        refused = await command(moderator, ["import", str(bad)])
        assert isinstance(refused, Reply)
        reports.append(Path(refused.footer.rsplit(" ", 1)[-1]))
    assert reports[0] != reports[1]
    for report, name in zip(reports, ("one.csv", "two.csv"), strict=True):
        assert f"in {name}; nothing was imported" in report.read_text(encoding="utf-8")
    assert len(list(export_dir.iterdir())) == 4
