"""``/question`` in the offline console: the local server's own questions.

The console's user owns the data, so they moderate the console's local server (see
:data:`bot.console.app.LOCAL_GUILD_ID`). The rules are those of
:class:`~bot.services.question_bank.QuestionBankService`, exactly as on Discord; this module
only parses the typed words and reads and writes files:

- ``add`` and ``edit`` open a :class:`~bot.console.question_form.ConsoleQuestionForm`, which
  asks for the form's fields one prompt at a time.
- ``remove`` asks for a "yes" first; ``list``, ``export``, ``import`` and ``stats`` map to the
  service's methods, with files read from and written to disk instead of Discord attachments.
- ``paste`` takes typed or pasted Quizlet lines until an empty line (a :class:`PasteDialog`,
  the console's stand-in for Discord's paste form) and imports them.
"""

from __future__ import annotations

import asyncio
import shlex
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from bot.console.dialog import CANCEL_WORD, Dialog
from bot.console.question_form import EMPTY_DRAFT, ConfirmRemoval, ConsoleQuestionForm
from bot.core.clock import Clock
from bot.core.content import DIFFICULTIES
from bot.core.deck_imports import EXPORT_FORMATS
from bot.core.learners import Learner
from bot.core.privacy import export_stamp
from bot.core.question_drafts import FORM_KINDS, check_deck_name
from bot.core.question_files import MAX_IMPORT_BYTES, ExportFile, too_big_message
from bot.core.question_list import parse_list_token
from bot.core.replies import Choice, Reply, ReplyField, typed_choices
from bot.errors import BadInput, NotFound, PermissionDenied
from bot.log import get_logger
from bot.services.deck_export import DeckExportService
from bot.services.deck_import import DeckImportService, ImportResult
from bot.services.question_bank import QuestionBankService

if TYPE_CHECKING:
    from bot.console.app import ConsoleCommand

log = get_logger(__name__)

#: The console's spelling of the Discord ``history`` option of ``/question import``.
HISTORY_FLAG = "--history"
#: What ``/question`` alone and ``/help`` show.
USAGE = "\n".join(
    [
        "/question add [deck] [mcq|practice|explain] [easy|medium|hard] — add one, field by field",
        "/question edit <id> — change one (Enter keeps a value)",
        "/question remove <id> — retire one (answers are kept)",
        "/question list [deck] [page] — your questions, 10 a page",
        "/question export [deck] [yaml|csv|apkg|quizlet|red] — save them as files",
        "/question import <file> [deck] [--history] — every question of an Anki .apkg, an "
        "Anki/Quizlet text export, a Red Trivia list, or a .yaml/.csv file, or none",
        "/question paste <deck> — paste a Quizlet set (term, tab, definition a line), "
        "then an empty line",
        "/question accept <id> <answer> — accept another answer for a typed question",
        "/question stats <id> — how it is answered",
    ]
)
HELP_FIELD = ReplyField(
    "Your own questions (console)",
    USAGE + f"\nType {CANCEL_WORD} to stop adding, editing or pasting.",
)
#: One ``/question`` subcommand: the member and the words after its name.
Subcommand = Callable[[Learner, list[str]], Awaitable[Reply | Dialog]]
#: The deck names a member sees (offered at the add form's deck prompt).
DeckNames = Callable[[Learner], Awaitable[Sequence[str]]]
#: Imports pasted text (into the deck the dialog was opened for) and says how it went.
PasteImport = Callable[[str], Awaitable[Reply]]
NO_SERVER = (
    "Your own questions live on the console's local server, and this session has none. "
    "Start the console with: python -m bot console"
)


def parse_item_id(word: str | None, command: str) -> int:
    """``12``, ``#12`` or ``id:12`` (as the Discord replies write it) → 12."""
    text = (word or "").strip().casefold().removeprefix("id:").removeprefix("#")
    if not text.isdecimal() or int(text) < 1:
        raise BadInput(
            f"Give the question's number, e.g. /question {command} 12 (see /question list)."
        )
    return int(text)


# --------------------------------------------------------------------------- helpers


def _add_words(words: Sequence[str]) -> dict[str, str]:
    """``/question add [deck] [kind] [difficulty]`` in any order → the fields given."""
    given: dict[str, str] = {}
    for word in words:
        lowered = word.casefold()
        if lowered in FORM_KINDS and "kind" not in given:
            given["kind"] = lowered
        elif lowered in DIFFICULTIES and "difficulty" not in given:
            given["difficulty"] = lowered
        elif "deck" not in given:
            given["deck"] = check_deck_name(word)
        else:
            raise BadInput("Use /question add [deck] [mcq|practice|explain] [easy|medium|hard].")
    return given


def _list_words(words: Sequence[str]) -> tuple[str | None, int]:
    """``[deck] [page]`` in either order → (deck, 0-based page)."""
    deck: str | None = None
    page = 0
    for word in words:
        if word.isdecimal():
            page = max(0, int(word) - 1)
        elif deck is None:
            deck = word
        else:
            raise BadInput("Use /question list [deck] [page].")
    return deck, page


def _import_words(words: Sequence[str]) -> tuple[Path, str | None, bool]:
    """``<file> [deck] [--history]`` (quote a path with spaces) → (path, deck, history)."""
    try:
        parts = shlex.split(" ".join(words))
    except ValueError:
        raise BadInput("That path has an unclosed quote. Quote the whole path.") from None
    history = HISTORY_FLAG in parts
    parts = [part for part in parts if part != HISTORY_FLAG]
    if not parts or len(parts) > 2:
        raise BadInput(
            "Use /question import <file> [deck] [--history], e.g. /question import "
            "biology.apkg (quote a path with spaces)."
        )
    deck = check_deck_name(parts[1]) if len(parts) > 1 else None
    return Path(parts[0]), deck, history


def _export_words(words: Sequence[str]) -> tuple[str | None, str]:
    """``[deck] [format]`` in either order → (deck or None, format)."""
    deck: str | None = None
    chosen = "yaml"
    for word in words:
        if word.casefold() in EXPORT_FORMATS:
            chosen = word.casefold()
        elif deck is None:
            deck = word
        else:
            raise BadInput(f"Use /question export [deck] [{'|'.join(EXPORT_FORMATS)}].")
    return deck, chosen


def _one_deck(words: Sequence[str]) -> str:
    """``paste <deck>`` → the checked deck name."""
    if len(words) != 1:
        raise BadInput("Use /question paste <deck>, e.g. /question paste biology-terms.")
    return check_deck_name(words[0])


def _one_id(words: Sequence[str], command: str) -> int:
    if len(words) > 1:
        raise BadInput(f"Use /question {command} <id>, e.g. /question {command} 12.")
    return parse_item_id(words[0] if words else None, command)


def _page_hints(reply: Reply) -> Reply:
    """The list's Prev/Next buttons as commands to type (the console has no buttons)."""

    def command(choice: Choice) -> str:
        page, deck = parse_list_token(choice.action)
        where = f"{deck} " if deck else ""
        return f"/question list {where}{page + 1}"

    return typed_choices(reply, command)


def check_import_file(path: Path) -> Path:
    """The file to import (``~`` is expanded), checked to exist; raises a friendly error.

    Its content is read by the import service (which recognises the format and checks
    its size), so a big Anki package is never read into memory here.
    """
    path = path.expanduser()
    try:
        if not path.exists():
            raise NotFound(f"There is no file at {path}. Check the path and try again.")
        if not path.is_file():
            raise BadInput(f"{path} is a folder. Give the path of the file to import.")
        with path.open("rb"):
            pass
    except OSError as error:
        log.info("could not read import file %s: %s", path, error)
        reason = error.strerror or "it can't be read"
        raise BadInput(
            f"I couldn't read {path} ({reason}). Check the file and try again."
        ) from None
    return path


def _write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _write_export(export_dir: Path, prefix: str, files: Sequence[ExportFile]) -> list[Path]:
    """Write exported files as ``<prefix>-<name>`` (a name that starts like ``prefix``, such
    as an Anki package's ``questions-<time>.apkg``, is kept); returns their paths."""
    head = prefix.split("-", 1)[0] + "-"
    paths = [
        export_dir
        / (file.filename if file.filename.startswith(head) else f"{prefix}-{file.filename}")
        for file in files
    ]
    for path, file in zip(paths, files, strict=True):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(file.data)
    return paths


def _pick(subcommands: Mapping[str, Subcommand], word: str) -> Subcommand:
    """The subcommand ``word`` names; raises :class:`BadInput` listing them otherwise."""
    name = word.casefold()
    subcommand = subcommands.get(name)
    if subcommand is None:
        raise BadInput(f"There is no /question {name[:20]}. Use one of: {', '.join(subcommands)}.")
    return subcommand


def usage_reply() -> Reply:
    """What ``/question`` alone shows."""
    return Reply(
        title="Your own questions",
        text=USAGE,
        footer="They show up in /quiz, /practice, /test and /review in this console.",
        private=True,
    )


class PasteDialog(Dialog):
    """``/question paste <deck>``: cards typed or pasted one per line, an empty line imports.

    Every line is a Quizlet card (term, a tab or " - ", its definition); all of them go in,
    or none does, as with an uploaded file.
    """

    def __init__(self, deck: str, save: PasteImport) -> None:
        self.deck = deck
        self.save = save
        self.purpose = f"pasting cards into {deck}"
        self.lines: list[str] = []
        self.size = 0
        self._finished = False

    @property
    def finished(self) -> bool:
        """True once the cards were imported (or refused)."""
        return self._finished

    @property
    def collecting(self) -> bool:
        """True while lines are coming in (the question isn't repeated after each)."""
        return bool(self.lines)

    def opening(self) -> str:
        """The heading: where the cards go and how to stop."""
        return (
            f"── Paste a set into {self.deck} ──\n(Type {CANCEL_WORD} to stop; nothing is saved.)"
        )

    def question(self) -> str:
        """How to type the cards."""
        return (
            "Paste or type the cards, one per line: term, a tab (or ' - '), its definition. "
            "An empty line imports them."
        )

    async def take(self, line: str) -> Reply | None:
        """One more card line, or (an empty line) import every line typed so far."""
        if line:
            self.size += len(line.encode("utf-8", "surrogatepass")) + 1
            if self.size > MAX_IMPORT_BYTES:
                self._finished = True
                raise BadInput(
                    f"{too_big_message(self.size)} Or save it in a file and use "
                    f"/question import <file> {self.deck}."
                )
            self.lines.append(line)
            return None
        if not self.lines:
            raise BadInput(f"Nothing pasted yet. Paste the cards, or type {CANCEL_WORD}.")
        text = "\n".join(self.lines)
        self.lines = []
        self._finished = True
        return await self.save(text)


# --------------------------------------------------------------------------- the commands


class QuestionCommands:
    """The ``/question`` subcommands of one console session, over the question-bank service.

    Exported deck files and import problem reports are written into ``export_dir``, their
    names stamped with ``clock``'s time.
    """

    def __init__(
        self,
        bank: QuestionBankService,
        *,
        imports: DeckImportService,
        exports: DeckExportService,
        deck_names: DeckNames,
        clock: Clock,
        export_dir: Path,
    ) -> None:
        self.bank = bank
        self.imports = imports
        self.exports = exports
        self.deck_names = deck_names
        self.clock = clock
        self.export_dir = export_dir
        self.subcommands: dict[str, Subcommand] = {
            "add": self.add,
            "edit": self.edit,
            "remove": self.remove,
            "list": self.list_questions,
            "export": self.export,
            "import": self.import_file,
            "paste": self.paste,
            "accept": self.accept,
            "stats": self.stats,
        }

    def _stamp(self) -> str:
        return export_stamp(self.clock.now())

    async def question(self, member: Learner, words: list[str]) -> Reply | Dialog:
        """``/question <subcommand> …``: usage alone, else the subcommand (server only)."""
        if not words:
            return usage_reply()
        subcommand = _pick(self.subcommands, words[0])
        if member.guild_id is None:
            raise PermissionDenied(NO_SERVER)
        return await subcommand(member, words[1:])

    async def add(self, member: Learner, words: list[str]) -> Reply | Dialog:
        """``add [deck] [kind] [difficulty]``: the add form, field by field."""
        given = _add_words(words)
        decks = await self.deck_names(member)
        draft = replace(EMPTY_DRAFT, **given)
        return ConsoleQuestionForm(self.bank, member, draft, given=list(given), decks=decks)

    async def edit(self, member: Learner, words: list[str]) -> Reply | Dialog:
        """``edit <id>``: the edit form, filled in."""
        item_id = _one_id(words, "edit")
        draft = await self.bank.draft_for_edit(member, item_id)
        return ConsoleQuestionForm(self.bank, member, draft, item_id=item_id)

    async def remove(self, member: Learner, words: list[str]) -> Reply | Dialog:
        """``remove <id>``: shows the question, then asks for a "yes"."""
        item_id = _one_id(words, "remove")
        # Also refuses bundled, removed and other servers' questions before asking.
        draft = await self.bank.draft_for_edit(member, item_id)
        return ConfirmRemoval(self.bank, member, item_id, draft)

    async def list_questions(self, member: Learner, words: list[str]) -> Reply | Dialog:
        """``list [deck] [page]``: one page, with the other pages as commands to type."""
        deck, page = _list_words(words)
        return _page_hints(await self.bank.list_page(member, page, deck))

    async def export(self, member: Learner, words: list[str]) -> Reply | Dialog:
        """``export [deck] [format]``: the files, written into the export folder."""
        deck, chosen = _export_words(words)
        result = await self.exports.export(member, deck, chosen)
        paths = await asyncio.to_thread(
            _write_export, self.export_dir, f"questions-{self._stamp()}", result.files
        )
        saved = "\n".join(f"Saved to {path}" for path in paths)
        # The reply's footer says what to do with this format's files.
        return replace(result.reply, text=f"{result.reply.text}\n{saved}")

    async def import_file(self, member: Learner, words: list[str]) -> Reply | Dialog:
        """``import <file> [deck] [--history]``: every question of the file, or none."""
        path, deck, history = _import_words(words)
        path = await asyncio.to_thread(check_import_file, path)
        result = await self.imports.import_upload(
            member, path.name, path, deck=deck, history=history
        )
        return await self._import_reply(result)

    async def paste(self, member: Learner, words: list[str]) -> Reply | Dialog:
        """``paste <deck>``: Quizlet lines typed until an empty line, then imported."""
        deck = _one_deck(words)

        async def save(text: str) -> Reply:
            return await self._import_reply(await self.imports.import_text(member, text, deck=deck))

        return PasteDialog(deck, save)

    async def _import_reply(self, result: ImportResult) -> Reply:
        """An import's reply; its report, if any, is written to a file the footer names."""
        if result.report is None:
            return result.reply
        report = self.export_dir / f"import-report-{self._stamp()}.txt"
        await asyncio.to_thread(_write_text, report, result.report)
        return replace(result.reply, footer=f"The full report is in {report}")

    async def accept(self, member: Learner, words: list[str]) -> Reply | Dialog:
        """``accept <id> <answer…>``: one more accepted answer for a typed question."""
        if len(words) < 2:
            raise BadInput("Use /question accept <id> <answer>, e.g. /question accept 12 gradient.")
        item_id = parse_item_id(words[0], "accept")
        return await self.bank.accept(member, item_id, " ".join(words[1:]))

    async def stats(self, member: Learner, words: list[str]) -> Reply | Dialog:
        """``stats <id>``: how the question is answered."""
        return await self.bank.stats(member, _one_id(words, "stats"))


def question_commands(
    bank: QuestionBankService,
    *,
    imports: DeckImportService,
    exports: DeckExportService,
    deck_names: DeckNames,
    clock: Clock,
    export_dir: Path,
) -> dict[str, ConsoleCommand]:
    """``/question add|edit|remove|list|export|import|paste|accept|stats`` for the console.

    Exported files and import reports are written into ``export_dir``, their names stamped
    with ``clock``'s time.
    """
    commands = QuestionCommands(
        bank,
        imports=imports,
        exports=exports,
        deck_names=deck_names,
        clock=clock,
        export_dir=export_dir,
    )
    return {"/question": commands.question}
