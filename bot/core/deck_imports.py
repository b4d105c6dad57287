"""The rules of importing a deck: what kind of file it is, how a question is recognised
again, the limits, and what the moderator is told.

Pure: the service (:mod:`bot.services.deck_import`) reads files and stores questions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.core.import_rules import deck_slug, text_key
from bot.core.question_drafts import check_deck_name
from bot.core.question_files import (
    ImportedQuestion,
    ImportParse,
    decode_upload,
    parse_csv,
    parse_yaml,
)
from bot.core.replies import Reply, ReplyBuilder, Tone, plural
from bot.core.text_decks import detect_text_format, parse_anki_text, parse_quizlet, parse_red

#: The largest Anki package accepted (a Discord upload of a big deck with pictures).
MAX_PACKAGE_BYTES = 50_000_000
#: The most questions one package may bring (cards, so a reversed note counts twice).
MAX_PACKAGE_QUESTIONS = 20_000
#: The name of the problems (or notes) file sent with an import's reply.
REPORT_FILENAME = "import-report.txt"
#: How many remarks (non-fatal notes such as "sound dropped") the reply shows inline.
REMARKS_SHOWN = 5
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")


def is_zip(head: bytes) -> bool:
    """Whether a file starting with ``head`` is a zip archive (an Anki package)."""
    return head.startswith(_ZIP_MAGIC)


def package_too_big(size: int) -> str:
    """The friendly line for a package over :data:`MAX_PACKAGE_BYTES`."""
    return (
        f"That package is {size / 1_000_000:.0f} MB; the limit is "
        f"{MAX_PACKAGE_BYTES // 1_000_000} MB. In Anki, export one deck at a time, or "
        'untick "Include media" and try again.'
    )


def deck_for_file(filename: str, deck: str | None) -> str:
    """The deck of a file that names none (Quizlet, Red Trivia): ``deck``, else the file's
    name as a deck name (``Biology Terms.txt`` → ``biology-terms``)."""
    if deck:
        return check_deck_name(deck)
    stem = filename.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    return check_deck_name(deck_slug(stem) or "imported")


def parse_text_upload(filename: str, data: bytes, *, deck: str | None = None) -> ImportParse:
    """Read an uploaded text file of any format we take, recognised from its content.

    Our CSV and YAML, Anki "Notes in plain text", Red-DiscordBot Trivia lists and Quizlet
    exports. Raises :class:`~bot.errors.BadInput` for a file that cannot be read at all
    (too big, not UTF-8, binary); problems inside it are in :attr:`ImportParse.problems`.
    """
    if deck:
        check_deck_name(deck)
    text = decode_upload(data, filename)
    kind = detect_text_format(filename, text)
    if kind == "csv":
        return parse_csv(text, deck=deck)
    if kind == "yaml":
        return parse_yaml(text, deck=deck, source=filename)
    if kind == "anki-text":
        return parse_anki_text(text, deck=deck)
    if kind == "red":
        return parse_red(text, deck=deck_for_file(filename, deck))
    return parse_quizlet(text, deck=deck_for_file(filename, deck))


def source_key(question: ImportedQuestion) -> str:
    """The key a question is found by when the same file is imported again.

    An Anki card keeps its ``anki:<note guid>:<card>`` key, so an edited note updates its
    questions; anything else is its deck and the text of its question (case and spacing
    ignored): ``text:<deck>:<digest>``.
    """
    if question.key and question.key.startswith("anki:"):
        return question.key
    digest = text_key(question.item.prompt).removeprefix("text:")
    return f"text:{question.deck}:{digest}"


def repeated_keys(questions: Sequence[ImportedQuestion]) -> list[str]:
    """One problem per Anki card whose key an earlier card of the package already has (two
    notes sharing a guid). A question repeated by its text is already reported, with its
    line, by the parser of its format."""
    first: dict[str, str] = {}
    problems: list[str] = []
    for question in questions:
        key = source_key(question)
        if not key.startswith("anki:"):
            continue
        if key in first:
            problems.append(
                f"{question.where}: the same Anki card as {first[key]} (two notes share "
                "an id); export the deck from Anki again"
            )
            continue
        first[key] = question.where
    return problems


@dataclass(slots=True)
class ImportSummary:
    """What an import did: the ids it added, how many it updated, pictures and history."""

    filename: str
    added: list[int] = field(default_factory=list)
    updated: int = 0
    unchanged: int = 0
    decks: list[str] = field(default_factory=list)
    images: int = 0
    history_cards: int = 0
    history_due: int = 0
    remarks: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        """Questions the file held."""
        return len(self.added) + self.updated + self.unchanged


def imported_reply(summary: ImportSummary) -> Reply:
    """The "imported" reply: counts, decks, pictures, history and the first remarks."""
    parts: list[str] = []
    if summary.added:
        span = (
            f"#{summary.added[0]}"
            if len(summary.added) == 1
            else f"#{summary.added[0]}–#{summary.added[-1]}"
        )
        parts.append(f"{plural(len(summary.added), 'new question')} ({span})")
    if summary.updated:
        parts.append(f"{summary.updated} updated (members keep their progress)")
    if summary.unchanged:
        parts.append(f"{summary.unchanged} already up to date")
    decks = ", ".join(summary.decks[:10])
    if len(summary.decks) > 10:
        decks += f" and {len(summary.decks) - 10} more"
    out = ReplyBuilder(
        title=f"Imported {plural(summary.total, 'question')}",
        text=f"Into {decks}: {', '.join(parts)}.",
        tone=Tone.SUCCESS,
        private=True,
    )
    if summary.images:
        out.add_field("Pictures", f"{summary.images} kept")
    if summary.history_cards:
        out.add_field(
            "Your review history",
            f"{plural(summary.history_cards, 'card')} scheduled from your Anki reviews; "
            f"{summary.history_due} due now.",
        )
    if summary.remarks:
        shown = "\n".join(f"• {remark}" for remark in summary.remarks[:REMARKS_SHOWN])
        more = len(summary.remarks) - REMARKS_SHOWN
        if more > 0:
            shown += f"\n…and {more} more (see the attached notes)."
        out.add_field("Notes", shown)
    out.footer = "They show up in /review, /quiz and /test on this server. See /question list."
    return out.build()


def remarks_report(summary: ImportSummary) -> str | None:
    """Every remark of an import as a text file body, or None when there are none."""
    if not summary.remarks:
        return None
    header = f"Notes on importing {summary.filename} (everything was imported):\n\n"
    return header + "\n".join(summary.remarks) + "\n"


# --------------------------------------------------------------------------- export

#: ``/question export`` formats: our deck YAML (imports again exactly), our CSV, an Anki
#: package, Quizlet text and Red-DiscordBot Trivia lists.
EXPORT_FORMATS = ("yaml", "csv", "apkg", "quizlet", "red")
_FORMAT_NAMES = {
    "yaml": "YAML deck file",
    "csv": "CSV file",
    "apkg": "Anki package",
    "quizlet": "Quizlet text file",
    "red": "Red Trivia list",
}
_FORMAT_HOW = {
    "yaml": "Edit a file and import it again with /question import: questions update in place.",
    "csv": "Edit it in a spreadsheet and import it again with /question import.",
    "apkg": "Open it in Anki (File → Import). Importing it again updates the notes.",
    "quizlet": "In Quizlet: Create → Import, paste the text; tab between, new line between.",
    "red": "Put it in Red's trivia lists folder, or import it again with /question import.",
}


def export_reply(
    file_format: str,
    decks: dict[str, list[Any]],
    *,
    files: int,
    notes: Sequence[str] = (),
    more_decks: Sequence[str] = (),
) -> Reply:
    """What goes with exported files: how many questions, decks, what was left out."""
    count = sum(len(items) for items in decks.values())
    kind = _FORMAT_NAMES[file_format]
    out = ReplyBuilder(
        title=f"Export: {plural(count, 'question')}",
        text=f"{plural(count, 'question')} from {plural(len(decks), 'deck')} "
        f"({', '.join(sorted(decks))}) in {files} {kind}{'s' if files != 1 else ''}.",
        tone=Tone.SUCCESS,
        private=True,
    )
    if more_decks:
        out.text += (
            f" More decks: {', '.join(more_decks)} — export each with /question export deck:<name>."
        )
    if notes:
        shown = "\n".join(f"• {note}" for note in notes[:REMARKS_SHOWN])
        if len(notes) > REMARKS_SHOWN:
            shown += f"\n…and {len(notes) - REMARKS_SHOWN} more."
        out.add_field("Left out", shown)
    out.footer = _FORMAT_HOW[file_format]
    return out.build()
