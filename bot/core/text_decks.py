"""Decks other apps write as text: Quizlet, Anki "Notes in plain text", Red-DiscordBot Trivia.

Each parser returns an :class:`~bot.core.question_files.ImportParse`, like
:func:`~bot.core.question_files.parse_csv`: good questions, one problem per bad line
(``line N: …``) and remarks that do not stop the import. Every question gets a source key
so a second import updates it: ``anki:<guid>:<card>`` when the file has Anki guids, else
``text:<hash of the question>`` (:func:`~bot.core.import_rules.text_key`), so a question asked
twice in one deck is a problem.

* **Quizlet** (and text pasted into a form): a card per line (or per ``;``), the term and
  its definition split by a tab (or ``,``); both given or guessed (:func:`parse_quizlet`).
  Plain text: markdown characters are escaped, so ``a*b*c`` shows as typed.
* **Anki text** (``#separator:tab``, ``#html:true``, ``#notetype column:1`` … headers, CSV
  quoting): each row a note, converted like a package's notes (:mod:`bot.core.anki_notes`).
* **Red Trivia** (``question: [answer, …]`` YAML, with ``AUTHOR``/``CONFIG``): typed
  questions; every scalar is text (``- 1`` is the answer "1"). Red shows questions as
  Discord markdown, so they are kept as written.

:func:`detect_text_format` tells the formats apart by content. Writing decks back out as
these formats is :mod:`bot.core.text_exports`.

Pure: text in, values and text out.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from typing import Any, Literal

import yaml

from bot.core.anki_model import AnkiNote, AnkiNoteType, AnkiTemplate
from bot.core.anki_notes import convert_notes, with_made_cards
from bot.core.content import MAX_ANSWERS
from bot.core.import_rules import build_item, item_id, text_key
from bot.core.markup import escape_markdown, text_to_html
from bot.core.question_drafts import check_deck_name, question_key, short
from bot.core.question_files import (
    CSV_OPTIONAL,
    CSV_REQUIRED,
    ImportedQuestion,
    ImportParse,
)
from bot.errors import BadInput

TextFormat = Literal["red", "anki-text", "quizlet", "csv", "yaml"]

_SEPARATOR_NAMES = {
    "tab": "\t",
    "comma": ",",
    "semicolon": ";",
    "space": " ",
    "pipe": "|",
    "colon": ":",
}
_SHOWN_SEPARATORS = {"\t": "tab", ",": "comma", ";": "semicolon", "\n": "line break"}
_ANKI_HEADER = re.compile(
    r"#(separator|html|tags|columns|notetype|deck|guid|if matches)( column)?:(.*)$", re.I
)
_CLOZE_MARK = re.compile(r"\{\{c\d+::")
_RED_KEYS = ("AUTHOR", "CONFIG")


# --------------------------------------------------------------------------- shared


class _Questions:
    """Questions of one file: each built, keyed by its text, and asked once per deck."""

    def __init__(self, deck: str | None) -> None:
        self.result = ImportParse()
        self.deck = ""
        self.asked: dict[str, str] = {}
        try:
            self.deck = check_deck_name(deck)
        except BadInput as error:
            self.result.problems.append(error.message)

    def add(self, where: str, raw: dict[str, Any]) -> None:
        """Validate one question; a problem line names ``where``."""
        prompt = str(raw.get("front") or raw.get("question") or "")
        key = text_key(prompt)
        raw["id"] = item_id(key)
        try:
            item = build_item(raw)
        except BadInput as error:
            self.result.problems.append(f"{where}: {error.message}")
            return
        first = self.asked.setdefault(question_key(prompt), where)
        if first != where:
            self.result.problems.append(f"{where}: same question as {first}; keep one of them")
            return
        question = ImportedQuestion(where=where, deck=self.deck, item=item, key=key)
        self.result.questions.append(question)


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


# --------------------------------------------------------------------------- Quizlet


def _guess_card_separator(text: str) -> str:
    """A line break, unless the text is one line of several cards split by ``;``."""
    cards = [card for card in text.split(";") if card.strip()]
    if "\n" in text.strip() or len(cards) < 2:
        return "\n"
    split = all(any(mark in card for mark in ("\t", " - ", ",")) for card in cards)
    return ";" if split else "\n"


def _guess_term_separator(cards: Sequence[str]) -> str:
    """A tab when any card has one; else " - " when every card has it; else a comma."""
    if any("\t" in card for card in cards):
        return "\t"
    if cards and all(" - " in card for card in cards):
        return " - "
    return ","


def parse_quizlet(
    text: str,
    *,
    deck: str,
    term_separator: str | None = None,
    card_separator: str | None = None,
) -> ImportParse:
    """Flashcards from a Quizlet export (or pasted text) into ``deck``.

    Not given, the card separator is a line break (``;`` for one line with semicolons)
    and the term separator a tab, else " - " when every card has one, else a comma. A card
    is split at its first term separator; runs of spaces become one space.
    """
    questions = _Questions(deck)
    if questions.result.problems:
        return questions.result
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    between = card_separator or _guess_card_separator(text)
    pieces: list[tuple[int, str]] = []
    offset = 0
    for piece in text.split(between):
        if piece.strip():
            start = offset + len(piece) - len(piece.lstrip())
            pieces.append((_line_of(text, start), piece))
        offset += len(piece) + len(between)
    term_separator = term_separator or _guess_term_separator([card for _, card in pieces])
    shown = _SHOWN_SEPARATORS.get(term_separator, f"'{term_separator}'")
    for line, card in pieces:
        where = f"line {line}"
        if term_separator not in card:
            questions.result.problems.append(
                f"{where}: no {shown} between the term and its definition"
            )
            continue
        term, definition = (part.strip() for part in card.split(term_separator, 1))
        if not term or not definition:
            what = "term" if not term else f"definition of '{short(term, 40)}'"
            questions.result.problems.append(f"{where}: the {what} is empty")
            continue
        front, back = (_escaped(part) for part in (term, definition))
        questions.add(where, {"kind": "flashcard", "front": front, "back": back})
    if not pieces:
        questions.result.problems.append("the text has no cards: one term and definition a line")
    return questions.result


def _escaped(text: str) -> str:
    """Plain text as markdown that shows it as written (spaces tidied in each line)."""
    return escape_markdown("\n".join(" ".join(line.split()) for line in text.splitlines()))


# --------------------------------------------------------------------------- Red Trivia


def _compose(text: str) -> yaml.Node | None:
    """The YAML node tree of ``text`` (every scalar text); raises :class:`yaml.YAMLError`."""
    loader = getattr(yaml, "CBaseLoader", yaml.BaseLoader)
    try:
        return yaml.compose(text, Loader=loader)
    except yaml.YAMLError:
        if loader is yaml.BaseLoader:
            raise
        return yaml.compose(text, Loader=yaml.BaseLoader)  # for its clearer message


def _yaml_problem(error: yaml.YAMLError) -> str:
    mark = getattr(error, "problem_mark", None)
    where = f"line {mark.line + 1}: " if mark is not None else ""
    what = getattr(error, "problem", None) or "it can't be read"
    return f"{where}this isn't readable YAML ({what})"


def _red_answers(node: yaml.Node, question: str) -> list[str] | str:
    """The answers under a question, or what is wrong with them."""
    if isinstance(node, yaml.ScalarNode) and not node.value.strip():
        return f"'{short(question, 40)}' has no answers; list them under it as '- answer' lines"
    if not isinstance(node, yaml.SequenceNode):
        return f"the answers of '{short(question, 40)}' must be a list of '- answer' lines"
    answers: list[str] = []
    for index, child in enumerate(node.value, start=1):
        if not isinstance(child, yaml.ScalarNode):
            return f"answer {index} of '{short(question, 40)}' must be text, not a list"
        if child.value.strip():
            answers.append(" ".join(child.value.split()))
    if not answers:
        return f"'{short(question, 40)}' has no answers; list them under it as '- answer' lines"
    return answers


def parse_red(text: str, *, deck: str) -> ImportParse:
    """Typed questions from a Red-DiscordBot Trivia list into ``deck``.

    ``AUTHOR`` is mentioned in a remark and ``CONFIG`` left out; a question with more than
    20 answers keeps the first 20 (a remark says how many did).
    """
    questions = _Questions(deck)
    result = questions.result
    if result.problems:
        return result
    try:
        root = _compose(text)
    except yaml.YAMLError as error:
        result.problems.append(_yaml_problem(error))
        return result
    if not isinstance(root, yaml.MappingNode) or not root.value:
        result.problems.append(
            "line 1: a Trivia list is 'question:' lines, each followed by '- answer' lines"
        )
        return result
    trimmed = 0
    for key, value in root.value:
        where = f"line {key.start_mark.line + 1}"
        if not isinstance(key, yaml.ScalarNode) or not key.value.strip():
            result.problems.append(f"{where}: a question must be text")
            continue
        question = key.value.strip()
        if question in _RED_KEYS:
            if question == "AUTHOR" and isinstance(value, yaml.ScalarNode) and value.value:
                result.remarks.append(f"the list is by {short(value.value, 60)}")
            continue
        answers = _red_answers(value, question)
        if isinstance(answers, str):
            result.problems.append(f"{where}: {answers}")
            continue
        trimmed += len(answers) > MAX_ANSWERS
        raw = {"kind": "typed", "question": question, "answers": answers[:MAX_ANSWERS]}
        questions.add(where, raw)
    if trimmed:
        result.remarks.append(
            f"{trimmed} question(s) had more than {MAX_ANSWERS} answers; the first "
            f"{MAX_ANSWERS} were kept"
        )
    return result


# --------------------------------------------------------------------------- Anki text


_ANSWER = "{{FrontSide}}<hr id=answer>"
_FORWARD = ("{{Front}}", _ANSWER + "{{Back}}")
_STOCK: tuple[tuple[str, tuple[str, ...], tuple[tuple[str, str], ...]], ...] = (
    ("Basic", ("Front", "Back"), (_FORWARD,)),
    (
        "Basic (and reversed card)",
        ("Front", "Back"),
        (_FORWARD, ("{{Back}}", _ANSWER + "{{Front}}")),
    ),
    (
        "Basic (optional reversed card)",
        ("Front", "Back", "Add Reverse"),
        (_FORWARD, ("{{#Add Reverse}}{{Back}}{{/Add Reverse}}", _ANSWER + "{{Front}}")),
    ),
    (
        "Basic (type in the answer)",
        ("Front", "Back"),
        (("{{Front}}\n\n{{type:Back}}", "{{Front}}<hr id=answer>{{type:Back}}"),),
    ),
    ("Cloze", ("Text", "Back Extra"), (("{{cloze:Text}}", "{{cloze:Text}}<br>\n{{Back Extra}}"),)),
)
#: Anki's stock note types by their English names (case-folded), for notes that come
#: without templates: a text export names only the note type.
STOCK_NOTETYPES: dict[str, AnkiNoteType] = {
    name.casefold(): AnkiNoteType(
        id=0,
        name=name,
        is_cloze=name == "Cloze",
        field_names=fields,
        templates=tuple(
            AnkiTemplate(name=f"Card {number}", front=front, back=back)
            for number, (front, back) in enumerate(templates, start=1)
        ),
    )
    for name, fields, templates in _STOCK
}


def notetype_named(name: str, field_count: int) -> AnkiNoteType:
    """Anki's stock note type called ``name`` (case ignored); any other name gets a type
    without templates, read by its first two fields."""
    stock = STOCK_NOTETYPES.get(name.strip().casefold())
    if stock is not None:
        return stock
    names = tuple(f"Field {number}" for number in range(1, max(field_count, 2) + 1))
    return AnkiNoteType(
        id=0, name=name.strip() or "Basic", is_cloze=False, field_names=names, templates=()
    )


class _Headers:
    """The ``#key:value`` lines an Anki text export starts with."""

    def __init__(self) -> None:
        self.separator: str | None = None
        self.html: bool | None = None
        self.tags: list[str] = []
        self.columns = ""
        self.notetype = ""
        self.deck = ""
        #: 0-based columns of the note type, deck, tags and guid.
        self.meta: dict[str, int] = {}
        self.problems: list[str] = []

    def read(self, line: int, key: str, value: str) -> None:
        """Take one header line."""
        if key == "separator":
            name = value.strip().casefold()
            separator = _SEPARATOR_NAMES.get(name) or (value if len(value) == 1 else None)
            if separator is None and len(value.strip()) == 1:
                separator = value.strip()
            if separator is None:
                self.problems.append(
                    f"line {line}: unknown separator '{short(value, 20)}'; use tab, comma, "
                    "semicolon, space, pipe, colon or one character"
                )
            self.separator = separator
        elif key == "html":
            self.html = value.strip().casefold() in ("true", "yes", "1")
        elif key == "tags":
            self.tags.extend(value.split())
        elif key in ("columns", "notetype", "deck"):
            setattr(self, key, value if key == "columns" else value.strip())
        elif key.endswith(" column"):
            if not value.strip().isdigit() or int(value) < 1:
                self.problems.append(f"line {line}: '{key}' must be a column number (1, 2, …)")
            else:
                self.meta[key.removesuffix(" column")] = int(value) - 1

    def name_columns(self) -> None:
        """Columns named Tags, Deck, Notetype or Guid in ``#columns:`` are those columns."""
        names = self.columns.split(self.separator or "\t") if self.columns else []
        for index, name in enumerate(names):
            wanted = name.strip().casefold().replace(" ", "")
            if wanted in ("tags", "deck", "notetype", "guid"):
                self.meta.setdefault(wanted, index)


def _read_headers(lines: Sequence[str]) -> tuple[_Headers, int]:
    """The headers and how many lines they take."""
    headers = _Headers()
    count = 0
    while count < len(lines) and lines[count].startswith("#"):
        match = _ANKI_HEADER.match(lines[count].rstrip("\r\n"))
        if match is None:
            break
        count += 1
        headers.read(count, match[1].casefold() + (" column" if match[2] else ""), match[3])
    return headers, count


def _guess_separator(body: str) -> str:
    first = next((line for line in body.splitlines() if line.strip()), "")
    return next((char for char in "\t;," if char in first), "\t")


def _note(line: int, row: list[str], headers: _Headers, html: bool) -> AnkiNote:
    """One row as a note (with the cards Anki would make), its columns named by headers."""
    meta = headers.meta

    def cell(name: str) -> str:
        index = meta.get(name)
        return row[index].strip() if index is not None and index < len(row) else ""

    skipped = set(meta.values())
    fields = [value for index, value in enumerate(row) if index not in skipped]
    name = cell("notetype") or headers.notetype
    has_cloze = bool(fields) and bool(_CLOZE_MARK.search(fields[0]))
    kind = notetype_named(name or ("Cloze" if has_cloze else "Basic"), len(fields))
    if not kind.templates and has_cloze:
        kind = STOCK_NOTETYPES["cloze"]  # a cloze type of its own: read like Anki's Cloze
    if not html:
        fields = [text_to_html(value) for value in fields]
    tags = (*headers.tags, *cell("tags").split())
    note = AnkiNote(id=line, guid=cell("guid"), notetype=kind, fields=tuple(fields), tags=tags)
    return with_made_cards(note, cell("deck") or headers.deck or "Default")


def parse_anki_text(text: str, *, deck: str | None = None) -> ImportParse:
    """Questions from an Anki "Notes in plain text" export; ``deck`` replaces its decks.

    The headers name the separator, whether fields are HTML and which columns hold the
    note type, deck, tags and guid; the other columns are the note's fields in order. A
    row without a note type is Basic (Cloze when its first field has ``{{c1::``); a note
    type Anki does not ship is read by its first two fields.
    """
    lines = text.splitlines(keepends=True)
    headers, count = _read_headers(lines)
    if headers.problems:
        return ImportParse(problems=headers.problems)
    body = "".join(lines[count:])
    separator = headers.separator or _guess_separator(body)
    headers.separator = separator
    headers.name_columns()
    html = headers.html if headers.html is not None else bool(re.search(r"<[a-z]", body, re.I))
    reader = csv.reader(io.StringIO(body, newline=""), delimiter=separator, strict=True)
    notes: list[AnkiNote] = []
    previous = 0
    try:
        for row in reader:
            line, previous = count + previous + 1, reader.line_num
            if any(value.strip() for value in row):
                notes.append(_note(line, row, headers, html))
    except csv.Error as error:
        return ImportParse(
            problems=[
                f"line {count + previous + 1}: this row can't be read ({error}); write a "
                'quote inside a quoted field as two ("") and close every quote'
            ]
        )
    result = convert_notes(notes, media={}, deck=deck, label="line")
    if not notes and not result.problems:
        result.problems.append("the file has no notes after its # header lines")
    return result


# --------------------------------------------------------------------------- detection


def _yaml_kind(text: str) -> TextFormat | None:
    """``yaml`` for our deck files, ``red`` for a mapping of answer lists, else None."""
    try:
        root = _compose(text)
    except yaml.YAMLError:
        return None
    if not isinstance(root, yaml.MappingNode):
        return None
    keys = {key.value for key, _ in root.value if isinstance(key, yaml.ScalarNode)}
    if "items" in keys or "deck" in keys:
        return "yaml"
    lists = [
        key
        for key, value in root.value
        if isinstance(value, yaml.SequenceNode) and key.value not in _RED_KEYS
    ]
    return "red" if lists else None


def detect_text_format(filename: str, text: str) -> TextFormat:
    """Which parser reads ``text``, from its content; the file name only breaks ties.

    ``anki-text`` when it starts with Anki's ``#separator:``/``#html:``/… headers; ``csv``
    when the first row is our CSV header; ``yaml`` for a mapping with ``items:``/``deck:``;
    ``red`` for a mapping of answer lists; otherwise the name: ``.yaml``/``.yml`` is
    ``yaml`` (or ``red`` without ``items:``) so its parser names the YAML mistake, ``.csv``
    with a header naming our columns is ``csv``; anything else ``quizlet``.
    """
    text = text.removeprefix("\ufeff")
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    if _ANKI_HEADER.match(first):
        return "anki-text"
    cells = {cell.strip().casefold() for cell in next(csv.reader([first]), [])}
    if set(CSV_REQUIRED) <= cells:
        return "csv"
    content = next((line for line in text.splitlines() if line.strip()[:1] not in "#"), "")
    if ":" in content and "\t" not in content:
        kind = _yaml_kind(text)
        if kind is not None:
            return kind
    lowered = filename.casefold()
    if lowered.endswith((".yaml", ".yml")):
        return "yaml" if re.search(r"^items\s*:", text, re.M) else "red"
    if lowered.endswith(".csv") and cells & {*CSV_REQUIRED, *CSV_OPTIONAL}:
        return "csv"
    return "quizlet"
