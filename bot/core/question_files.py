"""Import and export files of a server's question bank: CSV/YAML text in, deck YAML out.

``/question import`` takes a CSV (one question per row, options split by ``|``) or a
content/ deck YAML file; every good row becomes an :class:`ImportedQuestion` and every
problem one line naming its row or line, so a moderator can fix the whole file at once.
``/question export`` writes the server's questions back as deck files that import again.

Pure: this module parses and formats bytes and text. Reading and writing files (or
downloading attachments) is the adapter's job.
"""

from __future__ import annotations

import csv
import difflib
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from bot.core.anki_model import AnkiReview
from bot.core.content import AnyItem, item_to_dict
from bot.core.deck_files import load_deck_text, not_utf8_message
from bot.core.question_drafts import (
    check_deck_name,
    check_lengths,
    question_key,
    short,
    validate_question,
)
from bot.core.replies import Reply, Tone
from bot.errors import BadInput

MAX_IMPORT_BYTES = 1_000_000
MAX_IMPORT_ROWS = 500
CSV_REQUIRED = ("deck", "kind", "question", "options", "answer", "explanation", "difficulty")
CSV_OPTIONAL = ("code", "hint", "steps", "mistakes")
LIST_SEPARATOR = "|"
#: How many problems an import reply shows inline (all of them go in the attached report).
PROBLEMS_SHOWN = 15
#: The most deck files one export carries (a Discord message allows 10 attachments).
MAX_EXPORT_FILES = 10


@dataclass(frozen=True, slots=True)
class ImportedQuestion:
    """One good row of an import file, with where it came from (``row 4``, ``line 12``).

    ``key`` names the question in its source (``anki:<guid>:<card>``, ``text:<hash>``) so a
    second import of the same file updates it; ``reviews`` is its Anki review history.
    """

    where: str
    deck: str
    item: AnyItem
    key: str | None = None
    reviews: tuple[AnkiReview, ...] = ()


@dataclass(slots=True)
class ImportParse:
    """The good questions of a file and one message per problem (file-level or per row)."""

    questions: list[ImportedQuestion] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    #: Notes that do not stop the import ("3 notes had sounds, which were left out").
    remarks: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing is wrong (the import may go ahead)."""
        return not self.problems


def decode_upload(data: bytes, filename: str = "") -> str:
    """UTF-8 text of an uploaded file (a BOM is fine); raises :class:`BadInput`.

    The message names ``filename`` (when given) and where the first bad byte is.
    """
    if len(data) > MAX_IMPORT_BYTES:
        raise BadInput(too_big_message(len(data)))
    name = short(filename, 60) if filename else "That file"
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        _, where = not_utf8_message(data, error)
        raise BadInput(
            f"{name} {where}. Save it as UTF-8 (in Excel: 'CSV UTF-8') and try again."
        ) from None
    if "\x00" in text:
        raise BadInput(f"{name} looks like a binary file. Send a .csv or .yaml text file.")
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


def _csv_question(values: Mapping[str, str]) -> dict[str, Any]:
    """One CSV row's cells (by column name) as a content/ item mapping, not yet checked."""
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
    return raw


#: A quoted CSV cell from its opening quote: text and doubled quotes, then the closing one.
_QUOTED_CELL = re.compile(r'"[^"]*+(?:""[^"]*+)*+"')
#: The rest of a cell up to the next comma or line break (quotes inside it are text).
_CELL_REST = re.compile(r"[^,\r\n]*")
_LINE_BREAK = re.compile(r"\r\n?|\n")


def unclosed_quote_line(text: str) -> int | None:
    """The 1-based line of a quote that opens a CSV cell and is never closed, if any.

    Python's csv module (like Excel) reads such a quote as the start of one cell that runs to
    the end of the file, and only its strict mode complains, at the end. This scan follows
    the same rules (a cell is quoted when it starts with a quote; ``""`` inside is a quote)
    to find where the quote opened.
    """
    position = 0
    size = len(text)
    while position < size:
        if text[position] == '"':
            quoted = _QUOTED_CELL.match(text, position)
            if quoted is None:
                return len(_LINE_BREAK.findall(text, 0, position)) + 1
            position = quoted.end()
        rest = _CELL_REST.match(text, position)
        position = (rest.end() if rest is not None else position) + 1
        if text.startswith("\r\n", position - 1):
            position += 1
    return None


def parse_csv(text: str, *, deck: str | None = None) -> ImportParse:
    """Questions from CSV text; ``deck`` (when given) puts every row in that deck.

    Row numbers count the header as row 1, like a spreadsheet; a quote that is never closed
    is reported by the line it opened on.
    """
    result = ImportParse()
    quote_line = unclosed_quote_line(text)
    if quote_line is not None:
        result.problems.append(
            f'line {quote_line}: a quote (") opens a cell here and is never closed. Close '
            'it, or write a quote inside a quoted cell as two ("")'
        )
        return result
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
        _add(result, where, row_deck, _csv_question(values))
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
        try:
            check_lengths(item)
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
    text = decode_upload(data, filename)
    if kind == "csv":
        return parse_csv(text, deck=deck)
    return parse_yaml(text, deck=deck, source=filename)


def problem_position(problem: str) -> tuple[int, int]:
    """Sort key: file-level problems first, then by row or line number."""
    match = re.match(r"(?:row|line) (\d+):", problem)
    return (1, int(match[1])) if match else (0, 0)


def import_refused_reply(filename: str, problems: Sequence[str]) -> Reply:
    """The "nothing imported" reply: the first problems (:func:`problem_report` has all)."""
    shown = problems[:PROBLEMS_SHOWN]
    more = len(problems) - len(shown)
    lines = "\n".join(f"• {p}" for p in shown)
    if more:
        lines += f"\n…and {more} more (all of them are in the attached report)."
    count = len(problems)
    return Reply(
        title=f"Nothing imported — {count} problem{'s' if count != 1 else ''}",
        text=f"{lines}\n\nFix {'these' if count != 1 else 'it'} in the file and send "
        "it again; either every question goes in or none does.",
        tone=Tone.ERROR,
        private=True,
    )


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


@dataclass(frozen=True, slots=True)
class ExportFile:
    """One exported file: a text file, or (``blob``) a binary one such as an ``.apkg``."""

    filename: str
    text: str = ""
    blob: bytes | None = None

    @property
    def data(self) -> bytes:
        """The file's bytes (text as UTF-8)."""
        return self.blob if self.blob is not None else self.text.encode("utf-8")
