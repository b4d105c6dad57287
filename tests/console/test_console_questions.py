"""``/question`` in the console: the local server's question bank, typed line by line."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
import yaml
from sqlmodel import col, select

from bot.console import questions
from bot.console.app import LOCAL_GUILD_ID, ConsoleApp, console_learner
from bot.console.leaderboard import leaderboard_commands
from bot.core.learners import Learner
from bot.core.question_files import MAX_IMPORT_BYTES, parse_import
from bot.services.leaderboard import LeaderboardService
from bot.services.study import StudyServices
from bot.storage.db import Database
from bot.storage.models import Item
from tests.study_helpers import console_question_commands

DECK = "my-deck"
#: One whole add form, as typed (the empty line ends the options).
ADD_LINES = [
    "/question add",
    DECK,
    "mcq",
    "easy",
    "What is 2 + 2?",
    "3",
    "4",
    "5",
    "",
    "4",
    "Two and two make four.",
]


def make_app(study: StudyServices, tmp_path: Path, learner: Learner | None = None) -> ConsoleApp:
    commands = {
        **leaderboard_commands(
            LeaderboardService(study.context.db, clock=study.context.clock, include_serverless=True)
        ),
        **console_question_commands(study, tmp_path / "exports"),
    }
    return ConsoleApp(
        study,
        learner or console_learner("alice"),
        out=io.StringIO(),
        commands=commands,
        help_fields=[questions.HELP_FIELD],
    )


async def feed(app: ConsoleApp, *lines: str) -> str:
    """Type ``lines``; returns what the console printed for them."""
    out = app.out
    assert isinstance(out, io.StringIO)
    start = out.tell()
    for line in lines:
        await app.handle_line(line + "\n")
    out.seek(start)
    text = out.read()
    out.seek(0, io.SEEK_END)
    return text


async def local_items(db: Database, *, active_only: bool = True) -> list[Item]:
    async with db.session() as session:
        statement = select(Item).where(Item.guild_id == LOCAL_GUILD_ID).order_by(col(Item.id))
        rows = list((await session.exec(statement)).all())
    return [row for row in rows if row.active or not active_only]


def read_text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def added_id(text: str) -> int:
    match = re.search(r"Added #(\d+) to", text)
    assert match, text
    return int(match[1])


# -- add ------------------------------------------------------------------------------------


async def test_an_added_question_is_served_by_quiz(study: StudyServices, tmp_path: Path) -> None:
    app = make_app(study, tmp_path)
    out = await feed(app, *ADD_LINES)
    assert "[1/7] Deck:" in out and "[7/7] Explanation:" in out
    assert "or practice (a worked problem with a hint, steps and mistakes)? Enter for mcq." in out
    assert "    B. 4" in out  # the answer prompt lists the options
    item_id = added_id(out)
    (row,) = await local_items(study.context.db)
    assert row.id == item_id and row.deck == DECK and row.difficulty == "easy"
    assert row.payload["options"] == ["3", "4", "5"] and row.payload["answer"] == "B"
    assert app.dialog is None

    quiz = await feed(app, f"/quiz {DECK}")
    assert "What is 2 + 2?" in quiz and "→ Type A, B, C" in quiz
    answered = await feed(app, "B")
    assert "Correct" in answered and "Two and two make four." in answered


async def test_deck_kind_and_difficulty_may_be_given_on_the_command_line(
    study: StudyServices, tmp_path: Path
) -> None:
    app = make_app(study, tmp_path)
    out = await feed(app, f"/question add hard {DECK}")
    assert "[1/7]" not in out and "[2/7] Kind" in out  # the deck is known
    out = await feed(app, "flashcard")
    assert "! Kind must be mcq, practice or explain, got 'flashcard'." in out
    assert "[2/7] Kind" in out
    out = await feed(app, "")  # Enter: mcq
    assert "[3/7]" not in out and "[4/7] Question" in out  # the difficulty is known
    added_id(await feed(app, "What is 2 + 2?", "3", "4", "", "B", "Two and two make four."))
    (row,) = await local_items(study.context.db)
    assert (row.deck, row.kind, row.difficulty) == (DECK, "mcq", "hard")
    assert "Use /question add [deck]" in await feed(app, "/question add one two")
    assert "isn't a valid deck name" in await feed(app, "/question add Bad_Deck")
    assert app.dialog is None


async def test_a_bad_field_is_asked_again_and_nothing_is_half_saved(
    study: StudyServices, tmp_path: Path
) -> None:
    app = make_app(study, tmp_path)
    out = await feed(app, "/question add", "Not A Deck")
    assert "! 'Not A Deck' isn't a valid deck name" in out
    assert "Try again, or type /cancel." in out
    assert out.rstrip().splitlines()[-2].startswith("[1/7] Deck:")  # the same field again
    await feed(app, DECK, "", "hard", "What is 2 + 2?")
    out = await feed(app, "4", "4", "")
    assert "! Option B '4' repeats option A." in out and "[5/7] Options" in out
    assert await local_items(study.context.db) == []
    out = await feed(app, "3", "4", "", "7")
    assert "! Answer '7' is neither a letter A–B" in out
    out = await feed(app, "b", "")
    assert "! Explanation must not be empty." in out
    assert await local_items(study.context.db) == []
    out = await feed(app, "Two and two make four.")
    added_id(out)
    (row,) = await local_items(study.context.db)
    assert (row.kind, row.difficulty, row.payload["answer"]) == ("mcq", "hard", "B")


async def test_cancel_stops_the_form_and_saves_nothing(
    study: StudyServices, tmp_path: Path
) -> None:
    app = make_app(study, tmp_path)
    await feed(app, "/question add", DECK, "mcq", "easy", "What is 2 + 2?", "3")
    out = await feed(app, "/cancel")
    assert "Stopped adding a question — nothing was saved." in out
    assert app.dialog is None and await local_items(study.context.db) == []
    assert "Question" in await feed(app, "/quiz")  # back to normal commands
    assert "Nothing to cancel" in await feed(app, "/cancel")


async def test_a_command_typed_mid_form_is_not_taken_as_text(
    study: StudyServices, tmp_path: Path
) -> None:
    app = make_app(study, tmp_path)
    await feed(app, "/question add", DECK, "mcq", "easy")
    out = await feed(app, "/stats")
    assert "Finish adding a question first, or type /cancel" in out and "[4/7] Question" in out
    assert "Stats" not in out
    assert await app.handle_line("/quit\n") is False
    assert await local_items(study.context.db) == []


async def test_input_ending_mid_form_says_nothing_was_saved(
    study: StudyServices, tmp_path: Path
) -> None:
    app = make_app(study, tmp_path)
    assert await app.run(io.StringIO("/question add\nmy-deck\n")) == 0
    assert isinstance(app.out, io.StringIO)
    assert "The input ended while adding a question — nothing was saved." in app.out.getvalue()
    assert await local_items(study.context.db) == []


class TerminalInput(io.StringIO):
    """Typed input that looks like a terminal."""

    def isatty(self) -> bool:
        return True


async def test_on_a_terminal_option_lines_get_a_continuation_prompt(
    study: StudyServices, tmp_path: Path
) -> None:
    app = make_app(study, tmp_path)
    await app.run(TerminalInput("/question add\nmy-deck\n\n\nWhat is 2 + 2?\n3\n4\n\n"))
    assert isinstance(app.out, io.StringIO)
    tail = app.out.getvalue().split("[5/7] Options")[1]
    assert "\n> … … " in tail and "[6/7] Correct option" in tail


async def test_a_practice_question_needs_its_hint_steps_and_mistakes(
    study: StudyServices, tmp_path: Path
) -> None:
    app = make_app(study, tmp_path)
    await feed(app, "/question add", "loss-practice", "practice", "medium")
    await feed(app, "The loss went up after one step. What now?", "Lower the learning rate")
    out = await feed(app, "Add more layers", "", "A", "A smaller step stops overshooting.")
    assert "[8/8] Hint, steps and mistakes" in out
    out = await feed(app, "Hint: think about the step size", "Step: halve the rate", "")
    assert "! Practice questions need at least one 'Mistake: …' line." in out
    assert await local_items(study.context.db) == []
    out = await feed(
        app, "Hint: think about the step size", "Step: halve it", "Mistake: more layers", ""
    )
    added_id(out)
    practice = await feed(app, "/practice loss-practice")
    assert "The loss went up" in practice
    assert "think about the step size" in await feed(app, "hint")


async def test_a_duplicate_goes_round_again_with_the_values_kept(
    study: StudyServices, tmp_path: Path
) -> None:
    app = make_app(study, tmp_path)
    first = added_id(await feed(app, *ADD_LINES))
    out = await feed(app, *ADD_LINES)
    assert f"! That question is already in {DECK} as #{first}. Nothing was saved." in out
    assert f"Now: {DECK}  (Enter keeps it)" in out
    # Enter keeps deck, kind and difficulty; a new question; Enter keeps the rest.
    out = await feed(app, "", "", "", "What is 2 + 3?", "", "", "")
    assert "Now:\n    3\n    4\n    5" in out
    added_id(out)
    rows = await local_items(study.context.db)
    assert [r.payload["question"] for r in rows] == ["What is 2 + 2?", "What is 2 + 3?"]
    assert rows[1].payload["options"] == ["3", "4", "5"]


# -- edit, remove ---------------------------------------------------------------------------


async def test_edit_shows_the_values_and_enter_keeps_them(
    study: StudyServices, tmp_path: Path
) -> None:
    app = make_app(study, tmp_path)
    item_id = added_id(await feed(app, *ADD_LINES))
    out = await feed(app, f"/question edit {item_id}")
    assert f"Editing #{item_id} · {DECK} · mcq" in out
    assert "[1/5] Difficulty" in out and "Now: easy  (Enter keeps it)" in out
    assert "Enter for medium" not in out  # Enter keeps the value when editing
    out = await feed(app, "", "What is two plus two?", "", "")
    assert "Now: B  (Enter keeps it)" in out
    out = await feed(app, "")
    assert f"Saved #{item_id}" in out
    (row,) = await local_items(study.context.db)
    assert row.payload["question"] == "What is two plus two?"
    assert row.payload["options"] == ["3", "4", "5"] and row.difficulty == "easy"

    unchanged = await feed(app, f"/question edit id:{item_id}", "", "", "", "", "")
    assert f"Nothing changed in #{item_id}." in unchanged


async def test_edit_refuses_bundled_and_unknown_questions(
    study: StudyServices, tmp_path: Path
) -> None:
    app = make_app(study, tmp_path)
    assert "#1 is a bundled question" in await feed(app, "/question edit 1")
    assert "There is no question #9999" in await feed(app, "/question edit 9999")
    assert "Give the question's number" in await feed(app, "/question edit two")
    assert app.dialog is None


async def test_remove_asks_for_yes_first(study: StudyServices, tmp_path: Path) -> None:
    app = make_app(study, tmp_path)
    item_id = added_id(await feed(app, *ADD_LINES))
    out = await feed(app, f"/question remove #{item_id}")
    assert f"Remove #{item_id} · {DECK}" in out and "What is 2 + 2?" in out
    assert "Type yes to remove it" in out
    assert f"Kept #{item_id}" in await feed(app, "no")
    assert len(await local_items(study.context.db)) == 1
    out = await feed(app, f"/question remove {item_id}", "/cancel")
    assert f"Stopped removing #{item_id} — nothing was saved." in out
    assert len(await local_items(study.context.db)) == 1

    out = await feed(app, f"/question remove {item_id}", "yes")
    assert f"Removed #{item_id}" in out
    assert await local_items(study.context.db) == []
    assert len(await local_items(study.context.db, active_only=False)) == 1  # soft delete
    assert "no deck called 'my-deck'" in await feed(app, f"/quiz {DECK}")


# -- list, export, import, stats ------------------------------------------------------------


def write_csv(path: Path, rows: list[str]) -> Path:
    header = "deck,kind,question,options,answer,explanation,difficulty"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def csv_rows(count: int, deck: str = "imported") -> list[str]:
    return [f"{deck},mcq,Question number {n}?,yes|no,yes,Because.,easy" for n in range(count)]


async def test_list_pages_and_deck_filter(study: StudyServices, tmp_path: Path) -> None:
    app = make_app(study, tmp_path)
    assert "No questions of your own yet" in await feed(app, "/question list")
    await feed(app, *ADD_LINES)
    await feed(app, f"/question import {write_csv(tmp_path / 'many.csv', csv_rows(11))}")
    out = await feed(app, "/question list")
    assert "page 1 of 2" in out and "12 questions" in out
    assert "next page: /question list 2" in out
    assert "→ Type" not in out and app.current is None  # no buttons to type
    out = await feed(app, "/question list 2")
    assert "page 2 of 2" in out and "prev page: /question list 1" in out
    out = await feed(app, f"/question list {DECK}")
    assert "What is 2 + 2?" in out and "Question number" not in out


async def test_export_writes_yaml_that_imports_again(study: StudyServices, tmp_path: Path) -> None:
    app = make_app(study, tmp_path)
    await feed(app, *ADD_LINES)
    out = await feed(app, "/question export")
    match = re.search(r"Saved to (\S+\.yaml)", out)
    assert match, out
    path = Path(match[1])
    assert path.parent == tmp_path / "exports" and path.name.endswith(f"-{DECK}.yaml")
    text = read_text(path)
    data = yaml.safe_load(text)
    assert data["deck"] == DECK
    (item,) = data["items"]
    assert item["question"] == "What is 2 + 2?" and item["options"] == ["3", "4", "5"]
    assert item["answer"] == "B" and item["kind"] == "mcq"
    assert "Exported from offline console" in text
    assert parse_import(path.name, text.encode(), deck="copy").ok
    # Re-imported into another deck, the copy is not a duplicate.
    assert "Imported 1 question" in await feed(app, f"/question import {path} copy")
    assert "No questions of your own in nothing to export yet" in await feed(
        app, "/question export nothing"
    )


async def test_importing_a_good_file_adds_every_question(
    study: StudyServices, tmp_path: Path
) -> None:
    deck_file = tmp_path / "my questions.yaml"
    deck_file.write_text(
        yaml.safe_dump(
            {
                "deck": "optimizers",
                "title": "Optimizers",
                "items": [
                    {
                        "id": "momentum",
                        "kind": "mcq",
                        "question": "Which optimizer keeps running averages of gradients?",
                        "options": ["Adam", "Plain SGD"],
                        "answer": "A",
                        "explanation": "Adam keeps first and second moments.",
                        "difficulty": "medium",
                    },
                    {
                        "id": "learning-rate",
                        "kind": "mcq",
                        "question": "What does a too large learning rate cause?",
                        "options": ["Overshooting", "Nothing"],
                        "answer": "A",
                        "explanation": "Steps jump past the minimum.",
                        "difficulty": "hard",
                    },
                ],
            }
        ),
        encoding="utf-8",
    )
    app = make_app(study, tmp_path)
    out = await feed(app, f'/question import "{deck_file}"')
    assert "Imported 2 questions" in out
    assert len(await local_items(study.context.db)) == 2
    assert "What does a too large learning rate cause?" in await feed(app, "/quiz optimizers hard")


async def test_a_file_with_a_bad_row_imports_nothing_and_reports_it(
    study: StudyServices, tmp_path: Path
) -> None:
    rows = [*csv_rows(2), "imported,mcq,Broken one?,only one option,A,Why.,easy"]
    app = make_app(study, tmp_path)
    out = await feed(app, f"/question import {write_csv(tmp_path / 'bad.csv', rows)}")
    assert "Nothing imported — 1 problem" in out and "row 4:" in out
    assert await local_items(study.context.db) == []
    match = re.search(r"The full report is in (\S+\.txt)", out)
    assert match, out
    report = read_text(Path(match[1]))
    assert "nothing was imported" in report and "row 4:" in report


def unusable_file(folder: Path, case: str) -> Path:
    """A file (or not) that /question import must refuse with one clear line."""
    if case == "missing":
        return folder / "missing.yaml"
    if case == "folder":
        return folder
    path = folder / {"too-big": "big.csv", "binary": "bin.csv"}[case]
    if case == "too-big":
        path.write_bytes(b"x" * (MAX_IMPORT_BYTES + 1))
    else:
        path.write_bytes(b"\xff\xfe\x00")
    return path


async def test_a_file_without_questions_imports_nothing(
    study: StudyServices, tmp_path: Path
) -> None:
    app = make_app(study, tmp_path)
    out = await feed(app, f"/question import {write_csv(tmp_path / 'notes.txt', [])}")
    assert "Nothing imported — 1 problem" in out and "the file has no questions" in out
    assert await local_items(study.context.db) == []


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("missing", "There is no file at"),
        ("folder", "is a folder"),
        ("too-big", "the limit is 1 MB"),
        ("binary", "isn't UTF-8 text"),
    ],
)
async def test_an_unusable_file_gets_one_clear_line(
    study: StudyServices, tmp_path: Path, case: str, message: str
) -> None:
    path = unusable_file(tmp_path, case)
    app = make_app(study, tmp_path)
    out = await feed(app, f"/question import {path}")
    assert out.startswith("! ") and message in out and "Traceback" not in out
    assert await local_items(study.context.db) == []


async def test_import_needs_a_path(study: StudyServices, tmp_path: Path) -> None:
    app = make_app(study, tmp_path)
    assert "Use /question import <file> [deck]" in await feed(app, "/question import")
    assert "unclosed quote" in await feed(app, '/question import "my file.csv')


async def test_stats_count_the_consoles_answers(study: StudyServices, tmp_path: Path) -> None:
    app = make_app(study, tmp_path)
    item_id = added_id(await feed(app, *ADD_LINES))
    assert "No answers on this server yet." in await feed(app, f"/question stats {item_id}")
    await feed(app, f"/quiz {DECK}", "A")
    bob = make_app(study, tmp_path, console_learner("bob"))
    await feed(bob, f"/quiz {DECK}", "B")
    out = await feed(app, f"/question stats {item_id}")
    assert "Answers: 2" in out and "Correct: 1 (50%)" in out
    assert "A. 3 — 1×" in out


# -- the console as a whole -----------------------------------------------------------------


async def test_help_lists_the_console_question_commands(
    study: StudyServices, tmp_path: Path
) -> None:
    out = await feed(make_app(study, tmp_path), "/help")
    assert "Your own questions (console):" in out and "/question import <file>" in out
    assert "/review — your due flashcards" in out  # the shared help is still there


async def test_unknown_subcommand_and_usage(study: StudyServices, tmp_path: Path) -> None:
    app = make_app(study, tmp_path)
    assert "/question add [deck]" in await feed(app, "/question")
    assert "There is no /question frobnicate" in await feed(app, "/question frobnicate")


async def test_a_session_without_the_local_server_is_told_why(
    study: StudyServices, tmp_path: Path, alice: Learner
) -> None:
    app = make_app(study, tmp_path, alice)  # no guild: an older way of starting the console
    assert "local server" in await feed(app, "/question list")


async def test_earlier_answers_still_count_on_the_leaderboard_and_stats(
    study: StudyServices, tmp_path: Path, alice: Learner
) -> None:
    # alice answered before the console had a local server (no guild on her answers) …
    before = make_app(study, tmp_path, alice)
    await feed(before, "/quiz", "A")
    # … and now answers as a member of it: both count, for the same profile.
    now = make_app(study, tmp_path, console_learner("Alice"))
    await feed(now, "/quiz", "A")
    board = await feed(now, "/leaderboard all")
    assert "of 2 answers" in board and board.count("Alice") == 1
    assert "Answered: 2" in await feed(now, "/stats")
