"""A server's own question bank: the rules and the service behind ``/question``.

Moderators add, import, edit and remove multiple-choice and practice questions that only
their server sees. Every question is checked by the same pydantic schema as the bundled
decks (:func:`bot.core.content.parse_item`), so a server's question can never be one the
engine cannot show. The first half of this module is pure (modal fields → item, CSV/YAML
import → items or row problems, duplicate keys, answer statistics); :class:`QuestionBank`
stores the results through :mod:`bot.storage.bank` and answers with neutral replies.

This module must not import discord.
"""

from __future__ import annotations

import asyncio
import csv
import difflib
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import yaml
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.clock import Clock, SystemClock
from bot.core.content import (
    ANSWER_LETTERS,
    DIFFICULTIES,
    MAX_OPTIONS,
    MIN_OPTIONS,
    SLUG_PATTERN,
    AnyItem,
    ChoiceItem,
    Practice,
    item_to_dict,
    load_deck_text,
    parse_item,
)
from bot.core.learners import Learner
from bot.core.permissions import SERVER_ONLY
from bot.core.replies import Choice, Reply, ReplyBuilder, Tone
from bot.errors import BadInput, ExpiredAction, NotFound, PermissionDenied
from bot.log import get_logger
from bot.storage import bank, crud
from bot.storage.db import Database
from bot.storage.models import Item

log = get_logger(__name__)

#: Kinds a server may add (flashcards and explain prompts stay in content/ decks).
BANK_KINDS = ("mcq", "practice")
MAX_IMPORT_BYTES = 1_000_000
MAX_IMPORT_ROWS = 500
PAGE_SIZE = 10
#: Questions with at least this many answers and under this share right get flagged.
FLAG_MIN_ANSWERS = 5
FLAG_BELOW_PERCENT = 25
#: Lengths that keep a question readable in one Discord message.
MAX_QUESTION = 1000
MAX_OPTION = 200
MAX_EXPLANATION = 1500
#: Placeholder id while a question is checked; stored ones get ``q-<row id>``.
DRAFT_ID = "q-new"
CSV_REQUIRED = ("deck", "kind", "question", "options", "answer", "explanation", "difficulty")
CSV_OPTIONAL = ("code", "hint", "steps", "mistakes")
LIST_SEPARATOR = "|"
#: How many problems an import reply shows inline (all of them go in the attached report).
PROBLEMS_SHOWN = 15

_LETTER_MARK = re.compile(r"^\s*([A-Fa-f])\s*[).:]\s+(.*)$")
_PRACTICE_LINE = re.compile(r"^\s*(hint|steps?|mistakes?)\s*:\s*(.*)$", re.IGNORECASE)
_SLUG = re.compile(SLUG_PATTERN)


# --------------------------------------------------------------------------- small rules


def question_key(text: str) -> str:
    """What makes two questions "the same": case and runs of whitespace are ignored."""
    return " ".join(text.casefold().split())


def short(text: str, limit: int = 80) -> str:
    """One line of at most ``limit`` characters."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def check_deck_name(deck: str | None) -> str:
    """The deck name, stripped; raises :class:`BadInput` unless it is a valid deck slug."""
    name = (deck or "").strip()
    if not name:
        raise BadInput("Pick a deck name, e.g. 'loss-functions'.")
    if not _SLUG.match(name):
        raise BadInput(
            f"'{short(name, 45)}' isn't a valid deck name: use lowercase letters, digits and "
            "dashes (2–41 characters), e.g. 'loss-functions'."
        )
    return name


def check_difficulty(difficulty: str | None) -> str:
    """``easy``, ``medium`` or ``hard`` (case-insensitive); raises :class:`BadInput`."""
    value = (difficulty or "").strip().casefold()
    if value not in DIFFICULTIES:
        raise BadInput("Difficulty must be easy, medium or hard.")
    return value


def split_option_lines(text: str) -> list[str]:
    """Options typed one per line; blank lines dropped, ``A)``/``B.`` markers removed."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    marks = [_LETTER_MARK.match(line) for line in lines]
    lettered = all(
        m is not None and m[1].upper() == ANSWER_LETTERS[i]
        for i, m in enumerate(marks[:MAX_OPTIONS])
    )
    if lines and lettered and len(lines) <= MAX_OPTIONS:
        return [m[2].strip() for m in marks if m is not None]
    return lines


def resolve_answer(options: Sequence[str], answer: str) -> str:
    """The answer letter for ``answer``: a letter A–F or the exact text of an option.

    An option's text wins over a letter (options may themselves be single letters). A
    letter past the last option is passed on, so the schema names the allowed range.
    """
    typed = answer.strip()
    last = ANSWER_LETTERS[min(max(len(options), 1), len(ANSWER_LETTERS)) - 1]
    if not typed:
        raise BadInput(f"the correct option is empty: type its letter (A–{last}) or its text")
    if len(options) > len(ANSWER_LETTERS):
        raise BadInput(f"needs {MIN_OPTIONS}–{MAX_OPTIONS} options, got {len(options)}")
    key = question_key(typed)
    for index, option in enumerate(options):
        if question_key(option) == key:
            return ANSWER_LETTERS[index]
    letter = typed.rstrip(").:").strip().upper()
    if len(letter) == 1 and letter in ANSWER_LETTERS:
        return letter
    raise BadInput(
        f"answer '{short(typed, 40)}' is neither a letter A–{last} "
        "nor the exact text of one of the options"
    )


def _schema_message(message: str) -> str:
    """A schema message without the placeholder item name it starts with."""
    return message.removeprefix(f"item '{DRAFT_ID}': ")


def _check_lengths(item: AnyItem) -> None:
    if not isinstance(item, ChoiceItem):
        return
    if len(item.question) > MAX_QUESTION:
        raise BadInput(f"the question is too long ({len(item.question)} of {MAX_QUESTION} max)")
    for index, option in enumerate(item.options):
        if len(option) > MAX_OPTION:
            raise BadInput(
                f"option {ANSWER_LETTERS[index]} is too long "
                f"({len(option)} characters, at most {MAX_OPTION})"
            )
    if len(item.explanation) > MAX_EXPLANATION:
        raise BadInput(
            f"the explanation is too long ({len(item.explanation)} of {MAX_EXPLANATION} max)"
        )


def validate_question(raw: Mapping[str, Any]) -> AnyItem:
    """Check one question (as a content/ item mapping) with the deck schema.

    ``answer`` may be a letter or an option's text. Only ``mcq`` and ``practice`` are
    accepted. Raises :class:`BadInput` with one line naming the problem.
    """
    data = dict(raw)
    data["id"] = DRAFT_ID
    kind = data.get("kind")
    if kind is not None and str(kind).strip() and str(kind).strip() not in BANK_KINDS:
        raise BadInput(f"kind must be mcq or practice, got '{short(str(kind), 20)}'")
    options = data.get("options")
    answer = data.get("answer")
    if isinstance(options, list) and isinstance(answer, str):
        data["answer"] = resolve_answer([str(o) for o in options], answer)
    try:
        item = parse_item(data)
    except BadInput as error:
        raise BadInput(_schema_message(error.message)) from None
    _check_lengths(item)
    return item


# --------------------------------------------------------------------------- modal drafts


@dataclass(frozen=True, slots=True)
class QuestionDraft:
    """What a moderator typed into the add/edit form (kept verbatim for echoing back)."""

    deck: str
    kind: str
    difficulty: str
    question: str
    options: str
    answer: str
    explanation: str
    #: Practice only: "Hint: …", "Step: …" and "Mistake: …" lines.
    practice: str = ""
    #: Kept from the stored item on edit (the form has no room for it).
    code: str = ""

    def echo(self) -> str:
        """Everything typed, as plain text the moderator can copy."""
        parts = [
            f"Question: {self.question.strip()}",
            "Options:",
            self.options.strip(),
            f"Correct option: {self.answer.strip()}",
            f"Explanation: {self.explanation.strip()}",
        ]
        if self.kind == "practice":
            parts += ["Hint, steps and mistakes:", self.practice.strip()]
        return "\n".join(parts)


def parse_practice_lines(text: str) -> tuple[str, list[str], list[str]]:
    """``(hint, steps, mistakes)`` from "Hint:", "Step:" and "Mistake:" lines.

    Lines without a label count as steps. Raises :class:`BadInput` when a part is missing.
    """
    hints: list[str] = []
    steps: list[str] = []
    mistakes: list[str] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        match = _PRACTICE_LINE.match(line)
        label = match[1].casefold() if match else "step"
        value = (match[2] if match else line).strip()
        if not value:
            continue
        if label == "hint":
            hints.append(value)
        elif label.startswith("mistake"):
            mistakes.append(value)
        else:
            steps.append(value)
    if not hints:
        raise BadInput("practice questions need a 'Hint: …' line in the last box")
    if not steps:
        raise BadInput("practice questions need at least one 'Step: …' line in the last box")
    if not mistakes:
        raise BadInput("practice questions need at least one 'Mistake: …' line in the last box")
    return " ".join(hints), steps, mistakes


def practice_lines(item: Practice) -> str:
    """The "Hint/Step/Mistake" text of a practice item (to pre-fill the edit form)."""
    lines = [f"Hint: {item.hint}"]
    lines += [f"Step: {step}" for step in item.steps]
    lines += [f"Mistake: {mistake}" for mistake in item.mistakes]
    return "\n".join(lines)


def build_item(draft: QuestionDraft) -> AnyItem:
    """Turn a form's fields into a validated item; raises :class:`BadInput` (one line)."""
    check_deck_name(draft.deck)
    difficulty = check_difficulty(draft.difficulty)
    options = split_option_lines(draft.options)
    if not MIN_OPTIONS <= len(options) <= MAX_OPTIONS:
        raise BadInput(
            f"needs {MIN_OPTIONS}–{MAX_OPTIONS} options, one per line — you gave {len(options)}"
        )
    raw: dict[str, Any] = {
        "kind": draft.kind,
        "question": draft.question,
        "options": options,
        "answer": draft.answer,
        "explanation": draft.explanation,
        "difficulty": difficulty,
    }
    if draft.code.strip():
        raw["code"] = draft.code
    if draft.kind == "practice":
        raw["hint"], raw["steps"], raw["mistakes"] = parse_practice_lines(draft.practice)
    return validate_question(raw)


DRAFT_GONE = (
    "That form has expired (they are kept for a day). Nothing was saved: copy your text from "
    "the message and start again with /question add."
)


def draft_fields(draft: QuestionDraft) -> dict[str, str]:
    """A draft as a plain mapping (to store it)."""
    return {name: str(getattr(draft, name)) for name in QuestionDraft.__dataclass_fields__}


def draft_from_fields(fields: Mapping[str, Any]) -> QuestionDraft:
    """The inverse of :func:`draft_fields`; unknown keys are ignored, missing ones empty."""
    return QuestionDraft(
        **{name: str(fields.get(name) or "") for name in QuestionDraft.__dataclass_fields__}
    )


def draft_from_item(deck: str, item: AnyItem) -> QuestionDraft:
    """The form fields that reproduce ``item`` (to pre-fill the edit form)."""
    if not isinstance(item, ChoiceItem):
        raise BadInput("Only multiple-choice and practice questions can be edited here.")
    return QuestionDraft(
        deck=deck,
        kind=item.kind,
        difficulty=item.difficulty,
        question=item.question,
        options="\n".join(item.options),
        answer=item.answer,
        explanation=item.explanation,
        practice=practice_lines(item) if isinstance(item, Practice) else "",
        code=item.code or "",
    )


def draft_problem_reply(draft: QuestionDraft, problem: str, *, retry: bool = True) -> Reply:
    """The "nothing was saved" reply that shows the moderator everything they typed."""
    sentence = problem.rstrip(".")
    how = "press **Edit and retry**, or copy it from below" if retry else "copy it from below"
    return Reply(
        title="Not saved — one thing to fix",
        text=f"{sentence[:1].upper()}{sentence[1:]}.\n\nNothing was stored. "
        f"Here's what you typed — {how}.",
        code=draft.echo(),
        code_language="text",
        tone=Tone.ERROR,
        private=True,
    )


# --------------------------------------------------------------------------- import files


@dataclass(frozen=True, slots=True)
class ImportedQuestion:
    """One good row of an import file, with where it came from (``row 4``, ``line 12``)."""

    where: str
    deck: str
    item: AnyItem


@dataclass(slots=True)
class ImportParse:
    """The good questions of a file and one message per problem (file-level or per row)."""

    questions: list[ImportedQuestion] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing is wrong (the import may go ahead)."""
        return not self.problems


def decode_upload(data: bytes) -> str:
    """UTF-8 text of an uploaded file (a BOM is fine); raises :class:`BadInput`."""
    if len(data) > MAX_IMPORT_BYTES:
        raise BadInput(too_big_message(len(data)))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadInput(
            "That file isn't UTF-8 text. Save it as UTF-8 (in Excel: 'CSV UTF-8') and try again."
        ) from None
    if "\x00" in text:
        raise BadInput("That looks like a binary file. Send a .csv or .yaml text file.")
    return text


def too_big_message(size: int) -> str:
    """The friendly "file too large" line."""
    return (
        f"That file is {size / 1_000_000:.1f} MB; the limit is "
        f"{MAX_IMPORT_BYTES // 1_000_000} MB ({MAX_IMPORT_ROWS} questions). "
        "Split it into smaller files."
    )


def file_format(filename: str) -> str:
    """``csv`` or ``yaml`` from the file name; raises :class:`BadInput` for anything else."""
    lowered = filename.casefold()
    if lowered.endswith(".csv"):
        return "csv"
    if lowered.endswith((".yaml", ".yml")):
        return "yaml"
    raise BadInput("Send a .csv or .yaml file (see /question import's description).")


def _split_list(value: str) -> list[str]:
    return [part.strip() for part in value.split(LIST_SEPARATOR) if part.strip()]


def _csv_header(names: Sequence[str | None]) -> tuple[list[str], list[str]]:
    """(normalised column names, file-level problems)."""
    columns = [(name or "").strip().casefold() for name in names]
    problems: list[str] = []
    known = (*CSV_REQUIRED, *CSV_OPTIONAL)
    for name in columns:
        if name and name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            problems.append(f"row 1: unknown column '{short(name, 30)}'{hint}")
    missing = [name for name in CSV_REQUIRED if name not in columns]
    if missing:
        listed = ", ".join(missing)
        problems.append(
            f"row 1: the header is missing {listed} (it needs {','.join(CSV_REQUIRED)})"
        )
    return columns, problems


def parse_csv(text: str, *, deck: str | None = None) -> ImportParse:
    """Questions from CSV text; ``deck`` (when given) puts every row in that deck.

    Row numbers count the header as row 1, like a spreadsheet.
    """
    result = ImportParse()
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as error:
        result.problems.append(
            f"the file isn't readable CSV ({error}) — check for a very long cell or an "
            "unclosed quote"
        )
        return result
    if not rows:
        result.problems.append("the file is empty — the first row must be the header")
        return result
    columns, problems = _csv_header(rows[0])
    if problems:
        result.problems.extend(problems)
        return result
    body = [
        (number, row) for number, row in enumerate(rows[1:], start=2) if any(c.strip() for c in row)
    ]
    if len(body) > MAX_IMPORT_ROWS:
        result.problems.append(
            f"the file has {len(body)} questions; the limit is {MAX_IMPORT_ROWS} per import. "
            "Split it into smaller files."
        )
        return result
    for number, cells in body:
        where = f"row {number}"
        if len(cells) > len(columns):
            result.problems.append(
                f"{where}: more cells than the header has columns — put all options in one "
                f"cell separated by '{LIST_SEPARATOR}' and quote cells that contain commas"
            )
            continue
        values = {name: cell.strip() for name, cell in zip(columns, cells, strict=False) if name}
        try:
            row_deck = check_deck_name(deck or values.get("deck"))
        except BadInput as error:
            result.problems.append(f"{where}: {_lower_first(error.message)}")
            continue
        raw: dict[str, Any] = {
            "kind": values.get("kind") or "mcq",
            "question": values.get("question", ""),
            "options": _split_list(values.get("options", "")),
            "answer": values.get("answer", ""),
            "explanation": values.get("explanation", ""),
            "difficulty": (values.get("difficulty") or "medium").casefold(),
        }
        if values.get("code"):
            raw["code"] = values["code"]
        if raw["kind"] == "practice":
            # Left out when blank, so the schema names every missing part at once.
            if values.get("hint"):
                raw["hint"] = values["hint"]
            for name in ("steps", "mistakes"):
                if _split_list(values.get(name, "")):
                    raw[name] = _split_list(values[name])
        _add(result, where, row_deck, raw)
    _mark_repeats(result)
    return result


def _lower_first(message: str) -> str:
    return message[:1].lower() + message[1:]


def _add(result: ImportParse, where: str, deck: str, raw: Mapping[str, Any]) -> None:
    try:
        item = validate_question(raw)
    except BadInput as error:
        result.problems.append(f"{where}: {error.message}")
        return
    result.questions.append(ImportedQuestion(where=where, deck=deck, item=item))


def _mark_repeats(result: ImportParse) -> None:
    """Questions that appear twice in one file (same deck) are problems too."""
    first: dict[tuple[str, str], str] = {}
    kept: list[ImportedQuestion] = []
    for question in result.questions:
        key = (question.deck, question_key(question.item.prompt))
        if key in first:
            result.problems.append(f"{question.where}: same question as {first[key]}")
        else:
            first[key] = question.where
            kept.append(question)
    result.questions = kept


def _item_lines(text: str) -> list[int]:
    """1-based line of each entry under ``items:`` (the text already parsed as a deck)."""
    node = yaml.compose(text, Loader=yaml.SafeLoader)
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if (
                isinstance(key, yaml.ScalarNode)
                and key.value == "items"
                and isinstance(value, yaml.SequenceNode)
            ):
                return [child.start_mark.line + 1 for child in value.value]
    return []


def parse_yaml(text: str, *, deck: str | None = None, source: str = "upload") -> ImportParse:
    """Questions from a content/ deck file; ``deck`` (when given) replaces the file's deck."""
    result = ImportParse()
    loaded, problems = load_deck_text(text, source)
    if loaded is None:
        result.problems.extend(f"line {p.line}: {p.message}" for p in problems)
        return result
    if len(loaded.items) > MAX_IMPORT_ROWS:
        result.problems.append(
            f"the file has {len(loaded.items)} questions; the limit is {MAX_IMPORT_ROWS} per "
            "import. Split it into smaller files."
        )
        return result
    try:
        target = check_deck_name(deck) if deck else loaded.deck
    except BadInput as error:
        result.problems.append(error.message)
        return result
    lines = _item_lines(text)
    for index, item in enumerate(loaded.items):
        where = f"line {lines[index]}" if index < len(lines) else f"item {index + 1}"
        if item.kind not in BANK_KINDS:
            result.problems.append(
                f"{where}: item '{item.id}' is a {item.kind}; only mcq and practice "
                "questions can be added to a server"
            )
            continue
        try:
            _check_lengths(item)
        except BadInput as error:
            result.problems.append(f"{where}: item '{item.id}': {error.message}")
            continue
        result.questions.append(ImportedQuestion(where=where, deck=target, item=item))
    _mark_repeats(result)
    return result


def parse_import(filename: str, data: bytes, *, deck: str | None = None) -> ImportParse:
    """Read an uploaded CSV or YAML file into questions and problems.

    Raises :class:`BadInput` for a file that cannot be read at all (wrong type, too big,
    not UTF-8); anything wrong inside the file is listed in :attr:`ImportParse.problems`.
    """
    kind = file_format(filename)
    if deck:
        check_deck_name(deck)
    text = decode_upload(data)
    if kind == "csv":
        return parse_csv(text, deck=deck)
    return parse_yaml(text, deck=deck, source=filename)


def _position(problem: str) -> tuple[int, int]:
    """Sort key: file-level problems first, then by row or line number."""
    match = re.match(r"(?:row|line) (\d+):", problem)
    return (1, int(match[1])) if match else (0, 0)


def problem_report(filename: str, problems: Sequence[str]) -> str:
    """The full list of problems as a text file body."""
    header = f"{len(problems)} problem(s) in {filename}; nothing was imported.\n\n"
    return header + "\n".join(problems) + "\n"


# --------------------------------------------------------------------------- export


class _ExportDumper(yaml.SafeDumper):
    """Multi-line text as ``|`` blocks, so exported code stays readable."""


def _represent_text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_ExportDumper.add_representer(str, _represent_text)


def export_yaml(deck: str, items: Sequence[AnyItem], *, comment: str = "") -> str:
    """A content/ deck file holding ``items`` (re-importable with ``/question import``)."""
    data = {
        "deck": deck,
        "title": f"{deck} (server questions)",
        "description": "Questions added by this server's moderators.",
        "items": [item_to_dict(item) for item in items],
    }
    body = yaml.dump(data, Dumper=_ExportDumper, sort_keys=False, allow_unicode=True, width=100)
    head = "".join(f"# {line}\n" for line in comment.splitlines())
    return head + body


# --------------------------------------------------------------------------- statistics


@dataclass(frozen=True, slots=True)
class OptionCount:
    """How often one option (by its text) was chosen."""

    label: str
    text: str
    count: int
    correct: bool


@dataclass(frozen=True, slots=True)
class QuestionStats:
    """Answers to one question on one server."""

    total: int
    correct: int
    options: tuple[OptionCount, ...]

    @property
    def percent(self) -> int:
        """Share of right answers, rounded (0 without answers)."""
        return round(100 * self.correct / self.total) if self.total else 0

    @property
    def flagged(self) -> bool:
        """Almost everyone gets it wrong: the answer key may be broken."""
        return (
            self.total >= FLAG_MIN_ANSWERS and 100 * self.correct < FLAG_BELOW_PERCENT * self.total
        )

    @property
    def wrong_choices(self) -> tuple[OptionCount, ...]:
        """Wrong options that were picked, most picked first."""
        picked = [o for o in self.options if not o.correct and o.count]
        return tuple(sorted(picked, key=lambda o: -o.count))


def question_stats(
    options: Sequence[str], correct_index: int, answers: Iterable[tuple[str, bool, int]]
) -> QuestionStats:
    """Count answers (``(chosen option text, correct, count)``) against the options.

    Answers whose text is no longer an option (the question was edited) are listed as
    "earlier option".
    """
    counts = [0] * len(options)
    older: dict[str, int] = {}
    total = correct = 0
    index_of = {text: i for i, text in enumerate(options)}
    for text, was_correct, count in answers:
        total += count
        correct += count if was_correct else 0
        if text in index_of:
            counts[index_of[text]] += count
        elif not was_correct:
            older[text] = older.get(text, 0) + count
    rows = [
        OptionCount(ANSWER_LETTERS[i], text, counts[i], i == correct_index)
        for i, text in enumerate(options)
    ]
    rows += [OptionCount("earlier option", text, n, False) for text, n in older.items()]
    return QuestionStats(total=total, correct=correct, options=tuple(rows))


# --------------------------------------------------------------------------- the service


@dataclass(frozen=True, slots=True)
class ExportFile:
    """One exported deck file."""

    filename: str
    text: str


@dataclass(frozen=True, slots=True)
class ExportResult:
    """What ``/question export`` sends: a summary and the deck files."""

    reply: Reply
    files: tuple[ExportFile, ...]


@dataclass(frozen=True, slots=True)
class ImportResult:
    """What ``/question import`` sends: a summary and, on problems, the full report."""

    reply: Reply
    report: str | None = None


#: The most deck files one export message carries (Discord allows 10 attachments).
MAX_EXPORT_FILES = 10


def _server_id(member: Learner) -> int:
    if member.guild_id is None:
        raise PermissionDenied(SERVER_ONLY)
    return member.guild_id


def _list_token(page: int, deck: str | None) -> str:
    return f"ql:{page}:{deck}" if deck else f"ql:{page}"


def parse_list_token(token: str) -> tuple[int, str | None]:
    """``(page, deck)`` from a list button's token ``ql:<page>[:<deck>]``."""
    parts = token.split(":", 2)
    try:
        page = max(0, int(parts[1]))
    except (IndexError, ValueError):
        raise BadInput("That button is out of date. Run /question list again.") from None
    deck = parts[2] if len(parts) > 2 and parts[2] else None
    return page, deck


class QuestionBank:
    """A server's own questions: add, import, edit, remove, list, export and stats.

    Every method takes the acting moderator as a :class:`~bot.core.tutor.Learner` (whose
    ``guild_id`` is the server). Permission checks happen in the adapter, which knows the
    member's roles; this class trusts that they passed.
    """

    def __init__(self, db: Database, *, clock: Clock | None = None) -> None:
        self.db = db
        self.clock: Clock = clock or SystemClock()

    def _now(self) -> datetime:
        return self.clock.now()

    async def _actor(self, session: AsyncSession, member: Learner) -> tuple[int, int]:
        """(server id, acting member's users.id), creating both rows when new."""
        guild_id = _server_id(member)
        await crud.ensure_guild(session, guild_id=guild_id, name=member.guild_name)
        user = await crud.get_or_create_user(
            session,
            platform=member.platform,
            external_id=member.external_id,
            display_name=member.display_name,
        )
        assert user.id is not None
        return guild_id, user.id

    @staticmethod
    def _existing_keys(rows: Iterable[Item]) -> dict[tuple[str, str], int]:
        keys: dict[tuple[str, str], int] = {}
        for row in rows:
            payload = row.payload or {}
            text = payload.get("question") or payload.get("front") or payload.get("prompt")
            if isinstance(text, str) and row.id is not None:
                keys.setdefault((row.deck, question_key(text)), row.id)
        return keys

    async def _own_row(self, session: AsyncSession, guild_id: int, item_id: int) -> Item:
        row = await bank.get_item(session, item_id=item_id)
        if row is None or (row.guild_id is not None and row.guild_id != guild_id):
            raise NotFound(f"There is no question #{item_id} on this server. See /question list.")
        if row.guild_id is None:
            raise BadInput(
                f"#{item_id} is a bundled question; only your server's own questions can be "
                "changed. See /question list."
            )
        if not row.active:
            raise NotFound(f"Question #{item_id} was removed. See /question list.")
        return row

    # -- add and edit ----------------------------------------------------------------------

    async def add(self, member: Learner, draft: QuestionDraft) -> Reply:
        """Store a new question from the add form; raises :class:`BadInput` if invalid."""
        item = build_item(draft)
        deck = draft.deck.strip()
        async with self.db.session() as session:
            guild_id, user_id = await self._actor(session, member)
            rows = await bank.active_items_in_decks(session, guild_id=guild_id, decks=[deck])
            existing = self._existing_keys(rows).get((deck, question_key(item.prompt)))
            if existing is not None:
                raise BadInput(f"that question is already in {deck} as #{existing}")
            row = await bank.add_server_item(
                session,
                guild_id=guild_id,
                deck=deck,
                content=item,
                created_by=user_id,
                now=self._now(),
            )
            assert row.id is not None
            await crud.record_audit(
                session,
                guild_id=guild_id,
                actor_user_id=user_id,
                action="question.add",
                item_id=row.id,
                details={"deck": deck, "kind": item.kind, "question": short(item.prompt, 200)},
                now=self._now(),
            )
            await session.commit()
        log.info("guild %s: question #%s added to %s", guild_id, row.id, deck)
        return Reply(
            title=f"Added #{row.id} to {deck}",
            text=f"{short(item.prompt, 200)}\n\nIt shows up in /quiz, /practice and /test "
            "on this server right away.",
            tone=Tone.SUCCESS,
            footer=f"Change it with /question edit id:{row.id}.",
            private=True,
        )

    async def keep_draft(self, member: Learner, draft: QuestionDraft, item_id: int | None) -> str:
        """Keep a refused form for "Edit and retry" (restart-safe); returns its key.

        The key is ``<row id>-<unix time kept>``, so a key stays tied to its own draft even
        if the database later reuses the row id of an expired one.
        """
        now = self._now()
        async with self.db.session() as session:
            guild_id, user_id = await self._actor(session, member)
            draft_id = await bank.keep_form_draft(
                session,
                user_id=user_id,
                guild_id=guild_id,
                item_id=item_id,
                fields=draft_fields(draft),
                now=now,
            )
            await session.commit()
        return f"{draft_id}-{int(now.timestamp())}"

    async def kept_draft(self, member: Learner, key: str) -> tuple[QuestionDraft, int | None]:
        """A kept form and the question it edits (None: a new one), for its owner only."""
        number, _, stamp = key.partition("-")
        if not number.isdecimal() or not stamp.isdecimal():
            raise ExpiredAction(DRAFT_GONE)
        async with self.db.session() as session:
            guild_id, user_id = await self._actor(session, member)
            kept = await bank.get_form_draft(session, draft_id=int(number), now=self._now())
        if (
            kept is None
            or kept.guild_id != guild_id
            or int(kept.created_at.timestamp()) != int(stamp)
        ):
            raise ExpiredAction(DRAFT_GONE)
        if kept.user_id != user_id:
            raise BadInput("This isn't your form — start your own with /question add.")
        return draft_from_fields(kept.fields), kept.item_id

    async def draft_for_edit(self, member: Learner, item_id: int) -> QuestionDraft:
        """The current fields of one of the server's questions, for the edit form."""
        async with self.db.session() as session:
            row = await self._own_row(session, _server_id(member), item_id)
            return draft_from_item(row.deck, parse_item(row.payload))

    async def edit(self, member: Learner, item_id: int, draft: QuestionDraft) -> Reply:
        """Replace a question's content from the edit form (deck and kind stay)."""
        async with self.db.session() as session:
            guild_id, user_id = await self._actor(session, member)
            row = await self._own_row(session, guild_id, item_id)
            fixed = QuestionDraft(
                deck=row.deck,
                kind=row.kind,
                difficulty=draft.difficulty,
                question=draft.question,
                options=draft.options,
                answer=draft.answer,
                explanation=draft.explanation,
                practice=draft.practice,
                code=draft.code,
            )
            item = build_item(fixed)
            rows = await bank.active_items_in_decks(session, guild_id=guild_id, decks=[row.deck])
            others = self._existing_keys(r for r in rows if r.id != row.id)
            existing = others.get((row.deck, question_key(item.prompt)))
            if existing is not None:
                raise BadInput(f"that question is already in {row.deck} as #{existing}")
            old_payload = dict(row.payload)
            await bank.update_server_item(session, row=row, content=item, now=self._now())
            if row.payload == old_payload:
                await session.rollback()
                return Reply(text=f"Nothing changed in #{item_id}.", tone=Tone.INFO, private=True)
            await crud.record_audit(
                session,
                guild_id=guild_id,
                actor_user_id=user_id,
                action="question.edit",
                item_id=item_id,
                details={"deck": row.deck, "before": old_payload, "after": dict(row.payload)},
                now=self._now(),
            )
            await session.commit()
        log.info("guild %s: question #%s edited", guild_id, item_id)
        return Reply(
            title=f"Saved #{item_id}",
            text=f"{short(item.prompt, 200)}\n\nMembers keep their progress on it.",
            tone=Tone.SUCCESS,
            private=True,
        )

    # -- import ----------------------------------------------------------------------------

    async def import_file(
        self, member: Learner, filename: str, data: bytes, *, deck: str | None = None
    ) -> ImportResult:
        """Import every question of a CSV or YAML file, or none of them.

        A file with any problem stores nothing; the reply lists the first problems and
        :attr:`ImportResult.report` holds all of them.
        """
        # Up to 1 MB of YAML or CSV: parse off the event loop so other members aren't held up.
        parsed = await asyncio.to_thread(parse_import, filename, data, deck=deck)
        async with self.db.session() as session:
            guild_id, user_id = await self._actor(session, member)
            if parsed.questions:
                decks = {q.deck for q in parsed.questions}
                rows = await bank.active_items_in_decks(session, guild_id=guild_id, decks=decks)
                existing = self._existing_keys(rows)
                for question in parsed.questions:
                    found = existing.get((question.deck, question_key(question.item.prompt)))
                    if found is not None:
                        parsed.problems.append(
                            f"{question.where}: '{short(question.item.prompt, 50)}' is already "
                            f"in {question.deck} as #{found}"
                        )
            if not parsed.questions and not parsed.problems:
                parsed.problems.append("the file has no questions")
            if parsed.problems:
                await session.rollback()
                return self._import_refused(filename, sorted(parsed.problems, key=_position))
            added: list[int] = []
            now = self._now()
            for question in parsed.questions:
                row = await bank.add_server_item(
                    session,
                    guild_id=guild_id,
                    deck=question.deck,
                    content=question.item,
                    created_by=user_id,
                    now=now,
                )
                assert row.id is not None
                added.append(row.id)
                await crud.record_audit(
                    session,
                    guild_id=guild_id,
                    actor_user_id=user_id,
                    action="question.import",
                    item_id=row.id,
                    details={
                        "file": filename[:100],
                        "where": question.where,
                        "deck": question.deck,
                        "question": short(question.item.prompt, 200),
                    },
                    now=now,
                )
            await session.commit()
        log.info("guild %s: imported %d questions from %s", guild_id, len(added), filename)
        decks_text = ", ".join(sorted({q.deck for q in parsed.questions}))
        return ImportResult(
            Reply(
                title=f"Imported {len(added)} question{'s' if len(added) != 1 else ''}",
                text=f"Into {decks_text}: #{added[0]}–#{added[-1]}. They show up in /quiz, "
                "/practice and /test on this server right away.",
                tone=Tone.SUCCESS,
                footer="See them with /question list.",
                private=True,
            )
        )

    @staticmethod
    def _import_refused(filename: str, problems: list[str]) -> ImportResult:
        shown = problems[:PROBLEMS_SHOWN]
        more = len(problems) - len(shown)
        lines = "\n".join(f"• {p}" for p in shown)
        if more:
            lines += f"\n…and {more} more (all of them are in the attached report)."
        count = len(problems)
        return ImportResult(
            Reply(
                title=f"Nothing imported — {count} problem{'s' if count != 1 else ''}",
                text=f"{lines}\n\nFix {'these' if count != 1 else 'it'} in the file and send "
                "it again; either every question goes in or none does.",
                tone=Tone.ERROR,
                private=True,
            ),
            report=problem_report(filename, problems),
        )

    # -- remove ----------------------------------------------------------------------------

    async def remove(self, member: Learner, item_id: int) -> Reply:
        """Retire a question (members' answers to it are kept)."""
        async with self.db.session() as session:
            guild_id, user_id = await self._actor(session, member)
            row = await self._own_row(session, guild_id, item_id)
            await bank.deactivate_item(session, row=row, now=self._now())
            question = str(row.payload.get("question", ""))
            await crud.record_audit(
                session,
                guild_id=guild_id,
                actor_user_id=user_id,
                action="question.remove",
                item_id=item_id,
                details={"deck": row.deck, "question": short(question, 200)},
                now=self._now(),
            )
            await session.commit()
        log.info("guild %s: question #%s removed", guild_id, item_id)
        return Reply(
            title=f"Removed #{item_id}",
            text=f"{short(question, 200)}\n\nIt no longer comes up; answers already given are "
            "kept in the stats.",
            tone=Tone.SUCCESS,
            private=True,
        )

    # -- list, export, stats ---------------------------------------------------------------

    async def list_page(self, member: Learner, page: int = 0, deck: str | None = None) -> Reply:
        """One page (10 questions) of the server's own questions, with Prev/Next choices."""
        guild_id = _server_id(member)
        deck = (deck or "").strip() or None
        async with self.db.session() as session:
            total = await bank.count_server_items(session, guild_id=guild_id, deck=deck)
            pages = max(1, -(-total // PAGE_SIZE))
            page = min(max(page, 0), pages - 1)
            rows = await bank.server_items(
                session, guild_id=guild_id, deck=deck, offset=page * PAGE_SIZE, limit=PAGE_SIZE
            )
        where = f" in {deck}" if deck else ""
        if not rows:
            return Reply(
                title=f"Server questions{where}",
                text=f"No questions of your own{where} yet — add one with /question add "
                "or a file with /question import.",
                private=True,
            )
        lines = [
            f"`#{row.id}` · {row.deck} · {row.difficulty} · "
            f"{short(str(row.payload.get('question', '')), 70)}"
            for row in rows
        ]
        out = ReplyBuilder(
            title=f"Server questions{where} · page {page + 1} of {pages}",
            text="\n".join(lines),
            footer=f"{total} question{'s' if total != 1 else ''} · /question edit, "
            "remove or stats with the #id.",
            private=True,
        )
        if page > 0:
            out.choices.append(Choice("prev", "◀ Prev", _list_token(page - 1, deck)))
        if page < pages - 1:
            out.choices.append(Choice("next", "Next ▶", _list_token(page + 1, deck)))
        return out.build()

    async def export(self, member: Learner, deck: str | None = None) -> ExportResult:
        """The server's own questions as content/ deck files, one per deck."""
        guild_id = _server_id(member)
        deck = (deck or "").strip() or None
        async with self.db.session() as session:
            rows = await bank.server_items(session, guild_id=guild_id, deck=deck)
        where = f" in {deck}" if deck else ""
        if not rows:
            raise NotFound(
                f"No questions of your own{where} to export yet. Add some with /question add."
            )
        by_deck: dict[str, list[AnyItem]] = {}
        for row in rows:
            by_deck.setdefault(row.deck, []).append(parse_item(row.payload))
        stamp = self._now().strftime("%Y-%m-%d")
        server = member.guild_name or f"server {guild_id}"
        comment = (
            f"Exported from {server} on {stamp}.\n"
            "Re-import with /question import (ids are reassigned)."
        )
        names = sorted(by_deck)
        files = tuple(
            ExportFile(f"{name}.yaml", export_yaml(name, by_deck[name], comment=comment))
            for name in names[:MAX_EXPORT_FILES]
        )
        count = sum(len(by_deck[name]) for name in names[:MAX_EXPORT_FILES])
        text = f"{count} question{'s' if count != 1 else ''} in {len(files)} deck file(s)."
        if len(names) > MAX_EXPORT_FILES:
            rest = ", ".join(names[MAX_EXPORT_FILES:])
            text += f" More decks: {rest} — export each with /question export deck:<name>."
        reply = Reply(
            title=f"Export{where}",
            text=text,
            tone=Tone.SUCCESS,
            footer="Edit the file and send it back with /question import.",
            private=True,
        )
        return ExportResult(reply=reply, files=files)

    async def stats(self, member: Learner, item_id: int) -> Reply:
        """How members on this server answer one question, flagging a likely broken key."""
        guild_id = _server_id(member)
        async with self.db.session() as session:
            row = await bank.get_item(session, item_id=item_id)
            if row is None or (row.guild_id is not None and row.guild_id != guild_id):
                raise NotFound(f"There is no question #{item_id} here. See /question list.")
            counts = await bank.answer_counts(session, item_id=item_id, guild_id=guild_id)
        item = parse_item(row.payload)
        if not isinstance(item, ChoiceItem):
            raise BadInput(f"#{item_id} isn't a multiple-choice question, so it has no stats here.")
        figures = question_stats(item.options, item.correct_index, counts)
        out = ReplyBuilder(
            title=f"Stats · #{item_id} · {row.deck}",
            text=short(item.question, 300) + ("" if row.active else "\n(removed)"),
            private=True,
        )
        if figures.total == 0:
            out.text += "\n\nNo answers on this server yet."
            return out.build()
        out.add_field("Answers", str(figures.total), inline=True)
        out.add_field("Correct", f"{figures.correct} ({figures.percent}%)", inline=True)
        out.add_field(
            "Right answer", f"{item.answer}. {short(item.correct_option, 100)}", inline=True
        )
        wrong = [
            f"{o.label}. {short(o.text, 80)} — {o.count}×"
            if len(o.label) == 1
            else f"{o.label} '{short(o.text, 70)}' — {o.count}×"
            for o in figures.wrong_choices
        ]
        out.add_field("Wrong answers chosen", "\n".join(wrong) or "none")
        if figures.flagged:
            out.tone = Tone.WARNING
            out.add_field(
                "⚠️ Check the answer key",
                f"Only {figures.percent}% of {figures.total} answers are right — often a "
                f"broken answer key. Check it with /question edit id:{item_id}.",
            )
        return out.build()
