"""``/question`` in the offline console: the local server's own questions.

The console's user owns the data, so they moderate the console's local server (see
:data:`bot.console.app.LOCAL_GUILD_ID`). The rules are those of
:class:`~bot.core.questionbank.QuestionBank`, exactly as on Discord; this module only
collects text and files:

- ``add`` and ``edit`` ask for the form's fields one prompt at a time (a :class:`QuestionForm`
  dialog). Each answer is checked at once with :func:`~bot.core.questionbank.build_item`, so a
  bad field gets the Discord form's one-line error and is asked again; nothing is stored until
  the last field is in.
- ``remove`` asks for a "yes" first; ``list``, ``export``, ``import`` and ``stats`` map to the
  bank's methods, with files read from and written to disk instead of Discord attachments.
"""

from __future__ import annotations

import asyncio
import shlex
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, fields, replace
from pathlib import Path

from bot.console.app import ConsoleCommand
from bot.console.dialog import CANCEL_WORD, Dialog
from bot.core.content import ANSWER_LETTERS, DIFFICULTIES, MAX_OPTIONS, MIN_OPTIONS
from bot.core.learners import Learner
from bot.core.privacy import export_stamp
from bot.core.questionbank import (
    BANK_KINDS,
    MAX_IMPORT_BYTES,
    QuestionBank,
    QuestionDraft,
    build_item,
    check_deck_name,
    draft_problem_reply,
    file_format,
    parse_list_token,
    short,
    split_option_lines,
    too_big_message,
)
from bot.core.replies import Choice, Reply, ReplyField, Tone, typed_choices
from bot.core.tutor import Tutor
from bot.errors import BadInput, NotFound, PermissionDenied, TutorError
from bot.log import get_logger

log = get_logger(__name__)

#: What ``/question`` alone and ``/help`` show.
USAGE = "\n".join(
    [
        "/question add [deck] [mcq|practice] [easy|medium|hard] — add one, field by field",
        "/question edit <id> — change one (Enter keeps a value)",
        "/question remove <id> — retire one (answers are kept)",
        "/question list [deck] [page] — your questions, 10 a page",
        "/question export [deck] — save them as YAML deck files",
        "/question import <file> [deck] — add every question of a .yaml or .csv file, or none",
        "/question stats <id> — how it is answered",
    ]
)
HELP_FIELD = ReplyField(
    "Your own questions (console)",
    USAGE + f"\nType {CANCEL_WORD} to stop adding or editing.",
)
#: Answers an add form starts with when the member just presses Enter.
ADD_DEFAULTS = {"kind": "mcq", "difficulty": "medium"}
EMPTY_DRAFT = QuestionDraft(
    deck="", kind="mcq", difficulty="", question="", options="", answer="", explanation=""
)
#: Known-good values for the fields not typed yet, so each field is checked on its own.
PLACEHOLDERS = QuestionDraft(
    deck="placeholder-deck",
    kind="mcq",
    difficulty="medium",
    question="Placeholder question?",
    options="First placeholder option\nSecond placeholder option",
    answer="A",
    explanation="Placeholder explanation.",
    practice="Hint: placeholder\nStep: placeholder\nMistake: placeholder",
)
#: Fields the add form asks for, in order ("practice" only for practice questions).
ADD_FIELDS = ("deck", "kind", "difficulty", "question", "options", "answer", "explanation")
#: The edit form keeps the deck and kind, like Discord's.
EDIT_FIELDS = ADD_FIELDS[2:]
PRACTICE_FIELD = "practice"
MULTILINE_FIELDS = frozenset({"options", "practice"})
YES_WORDS = frozenset({"yes", "y"})
NO_SERVER = (
    "Your own questions live on the console's local server, and this session has none. "
    "Start the console with: python -m bot console"
)


@dataclass(frozen=True, slots=True)
class FieldPrompt:
    """How one field of the form is asked for."""

    label: str
    ask: str


FIELD_PROMPTS = {
    "deck": FieldPrompt("Deck", "Which deck? A new name starts a new deck, e.g. 'loss-functions'."),
    "kind": FieldPrompt(
        "Kind",
        "mcq (a quiz question) or practice (a worked problem with a hint, steps and mistakes)?",
    ),
    "difficulty": FieldPrompt("Difficulty", "easy, medium or hard?"),
    "question": FieldPrompt("Question", "Type the question on one line."),
    "options": FieldPrompt(
        "Options",
        f"Type {MIN_OPTIONS}–{MAX_OPTIONS} options, one per line, then an empty line.",
    ),
    "answer": FieldPrompt("Correct option", "Type its letter or its text."),
    "explanation": FieldPrompt("Explanation", "Shown after answering; one line."),
    "practice": FieldPrompt(
        "Hint, steps and mistakes",
        "One per line: 'Hint: …', then 'Step: …' lines and 'Mistake: …' lines; then an empty line.",
    ),
}


def console_wording(message: str) -> str:
    """A core message as one console sentence (the form's "last box" is the last prompt)."""
    sentence = message.replace(" in the last box", "").rstrip(".")
    return f"{sentence[:1].upper()}{sentence[1:]}."


def parse_item_id(word: str | None, command: str) -> int:
    """``12``, ``#12`` or ``id:12`` (as the Discord replies write it) → 12."""
    text = (word or "").strip().casefold().removeprefix("id:").removeprefix("#")
    if not text.isdecimal() or int(text) < 1:
        raise BadInput(
            f"Give the question's number, e.g. /question {command} 12 (see /question list)."
        )
    return int(text)


class QuestionForm(Dialog):
    """The add/edit form, one field per prompt.

    Each typed field is checked straight away with :func:`build_item` (the fields not typed
    yet are filled with known-good :data:`PLACEHOLDERS`, so any problem is the new field's),
    and the question is stored only after the last one. When the bank still refuses it (a
    duplicate, say), the form starts again from the top with everything typed kept: Enter
    keeps a value, as when editing.
    """

    def __init__(
        self,
        bank: QuestionBank,
        member: Learner,
        draft: QuestionDraft,
        *,
        item_id: int | None = None,
        given: Sequence[str] = (),
        decks: Sequence[str] = (),
    ) -> None:
        self.bank = bank
        self.member = member
        self.item_id = item_id
        self.draft = draft
        self.purpose = "adding a question" if item_id is None else f"editing #{item_id}"
        #: Add: fields typed on the command line, not asked on the first pass.
        self.given = frozenset(given)
        #: Deck names to offer at the deck prompt.
        self.decks = tuple(decks)
        #: Enter keeps the current value (editing, or going round again after a refusal).
        self.keeping = item_id is not None
        self.position = 0
        self.lines: list[str] = []
        self._finished = False
        self._skip_given()

    # -- the Dialog protocol ----------------------------------------------------------------

    @property
    def finished(self) -> bool:
        """True once the question is stored, or the bank refused it for good."""
        return self._finished

    @property
    def collecting(self) -> bool:
        """True while the lines of a multi-line field are being typed."""
        return bool(self.lines)

    def opening(self) -> str:
        """The heading shown once, before the first field."""
        if self.item_id is not None:
            title = f"Editing #{self.item_id} · {self.draft.deck} · {self.draft.kind}"
        else:
            title = "New question"
        return f"── {title} ──\n(Type {CANCEL_WORD} at any prompt to stop; nothing is saved.)"

    def question(self) -> str:
        """The current field's prompt, with its current value when Enter keeps it."""
        name = self.current_field
        order = self.field_names
        prompt = FIELD_PROMPTS[name]
        ask = prompt.ask
        if not self.keeping and name in ADD_DEFAULTS:
            ask += f" Enter for {ADD_DEFAULTS[name]}."
        lines = [f"[{order.index(name) + 1}/{len(order)}] {prompt.label}: {ask}"]
        if name == "deck" and self.decks:
            lines.append(f"  Decks so far: {', '.join(self.decks)}")
        if name == "answer":
            options = split_option_lines(self.draft.options)[:MAX_OPTIONS]
            lines += [f"    {ANSWER_LETTERS[i]}. {option}" for i, option in enumerate(options)]
        current = str(getattr(self.draft, name)).strip()
        if self.keeping and current:
            if name in MULTILINE_FIELDS:
                lines.append("  Now:")
                lines += [f"    {line.strip()}" for line in current.splitlines() if line.strip()]
                lines.append("  (An empty line right away keeps them.)")
            else:
                lines.append(f"  Now: {short(current, 200)}  (Enter keeps it)")
        return "\n".join(lines)

    async def take(self, line: str) -> Reply | None:
        """One typed line: the next line of a multi-line field, or the current field's value."""
        name = self.current_field
        if name in MULTILINE_FIELDS and line:
            self.lines.append(line)
            return None
        typed = "\n".join(self.lines) if self.lines else line
        self.lines = []
        self._set(name, typed or self._empty_value(name))
        self.position += 1
        self._skip_given()
        if self.position < len(self.field_names):
            return None
        return await self._save()

    # -- fields -----------------------------------------------------------------------------

    @property
    def field_names(self) -> tuple[str, ...]:
        """The fields this form asks for (practice questions have one more)."""
        names = EDIT_FIELDS if self.item_id is not None else ADD_FIELDS
        return (*names, PRACTICE_FIELD) if self.draft.kind == "practice" else names

    @property
    def current_field(self) -> str:
        """The field the next line is for."""
        names = self.field_names
        return names[min(self.position, len(names) - 1)]

    def _skip_given(self) -> None:
        if self.keeping:
            return
        names = self.field_names
        while self.position < len(names) and names[self.position] in self.given:
            self.position += 1

    def _empty_value(self, name: str) -> str:
        """What just Enter means: keep the value, or the add form's default."""
        if self.keeping:
            return str(getattr(self.draft, name))
        return ADD_DEFAULTS.get(name, "")

    def _set(self, name: str, value: str) -> None:
        """Store one field after checking it; a bad one raises :class:`BadInput`, kept out."""
        if name == "kind":
            value = value.strip().casefold()
        candidate = replace(self.draft, **{name: value})
        order = (*(EDIT_FIELDS if self.item_id is not None else ADD_FIELDS), PRACTICE_FIELD)
        typed = set(order[: order.index(name) + 1])
        if self.item_id is not None:
            typed |= {"deck", "kind"}  # fixed when editing (and valid: they are stored)
        kept = {f.name: getattr(candidate, f.name) for f in fields(QuestionDraft)}
        trial = replace(
            PLACEHOLDERS, code=candidate.code, **{n: v for n, v in kept.items() if n in typed}
        )
        try:
            build_item(trial)
        except BadInput as error:
            raise BadInput(
                f"{console_wording(error.message)} Try again, or type {CANCEL_WORD}."
            ) from None
        self.draft = candidate

    async def _save(self) -> Reply:
        """Store the question; a refusal sends the form round again with the values kept."""
        try:
            if self.item_id is None:
                reply = await self.bank.add(self.member, self.draft)
            else:
                reply = await self.bank.edit(self.member, self.item_id, self.draft)
        except BadInput as error:
            self.keeping = True
            self.position = 0
            raise BadInput(
                f"{console_wording(error.message)} Nothing was saved. Let's go through it "
                f"again: press Enter to keep a value, or type {CANCEL_WORD}."
            ) from None
        except TutorError as error:
            self._finished = True
            return draft_problem_reply(self.draft, error.message, retry=False)
        self._finished = True
        return reply


class ConfirmRemoval(Dialog):
    """``/question remove``: show the question, then remove it only after a "yes"."""

    def __init__(
        self, bank: QuestionBank, member: Learner, item_id: int, draft: QuestionDraft
    ) -> None:
        self.bank = bank
        self.member = member
        self.item_id = item_id
        self.draft = draft
        self.purpose = f"removing #{item_id}"
        self._finished = False

    @property
    def finished(self) -> bool:
        """True after the one answer."""
        return self._finished

    def opening(self) -> str:
        """Which question would go."""
        heading = f"── Remove #{self.item_id} · {self.draft.deck} ──"
        return f"{heading}\n{short(self.draft.question, 200)}"

    def question(self) -> str:
        """Ask for the confirmation."""
        return (
            "Type yes to remove it (answers already given stay in the stats); "
            "anything else keeps it."
        )

    async def take(self, line: str) -> Reply | None:
        """Remove on "yes"; keep it on anything else."""
        self._finished = True
        if line.casefold() in YES_WORDS:
            return await self.bank.remove(self.member, self.item_id)
        return Reply(text=f"Kept #{self.item_id} — nothing changed.", tone=Tone.INFO, private=True)


# --------------------------------------------------------------------------- helpers


def _add_words(words: Sequence[str]) -> dict[str, str]:
    """``/question add [deck] [kind] [difficulty]`` in any order → the fields given."""
    given: dict[str, str] = {}
    for word in words:
        lowered = word.casefold()
        if lowered in BANK_KINDS and "kind" not in given:
            given["kind"] = lowered
        elif lowered in DIFFICULTIES and "difficulty" not in given:
            given["difficulty"] = lowered
        elif "deck" not in given:
            given["deck"] = check_deck_name(word)
        else:
            raise BadInput("Use /question add [deck] [mcq|practice] [easy|medium|hard].")
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


def read_import_file(path: Path) -> bytes:
    """The bytes of a file to import (``~`` is expanded); raises a friendly error."""
    path = path.expanduser()
    if not path.exists():
        raise NotFound(f"There is no file at {path}. Check the path and try again.")
    if not path.is_file():
        raise BadInput(f"{path} is a folder. Give the path of a .yaml or .csv file.")
    try:
        file_format(path.name)
    except BadInput:
        raise BadInput("The file must end in .csv, .yaml or .yml.") from None
    try:
        size = path.stat().st_size
        if size > MAX_IMPORT_BYTES:
            raise BadInput(too_big_message(size))
        with path.open("rb") as handle:
            # One byte past the limit shows a file that grew after stat().
            data = handle.read(MAX_IMPORT_BYTES + 1)
    except OSError as error:
        log.info("could not read import file %s: %s", path, error)
        reason = error.strerror or "it can't be read"
        raise BadInput(
            f"I couldn't read {path} ({reason}). Check the file and try again."
        ) from None
    if len(data) > MAX_IMPORT_BYTES:
        raise BadInput(too_big_message(len(data)))
    return data


def _write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def usage_reply() -> Reply:
    """What ``/question`` alone shows."""
    return Reply(
        title="Your own questions",
        text=USAGE,
        footer="They show up in /quiz, /practice, /test and /review in this console.",
        private=True,
    )


# --------------------------------------------------------------------------- the commands

Subcommand = Callable[[Learner, list[str]], Awaitable[Reply | Dialog]]


def console_commands(tutor: Tutor, *, export_dir: Path) -> dict[str, ConsoleCommand]:
    """``/question add|edit|remove|list|export|import|stats`` for the offline console.

    Exported deck files and import problem reports are written into ``export_dir``.
    """
    bank = QuestionBank(tutor.db, clock=tutor.clock)

    def stamp() -> str:
        return export_stamp(tutor.clock.now())

    async def add(member: Learner, words: list[str]) -> Reply | Dialog:
        given = _add_words(words)
        decks = await tutor.decks(member)
        draft = replace(EMPTY_DRAFT, **given)
        return QuestionForm(bank, member, draft, given=list(given), decks=decks)

    async def edit(member: Learner, words: list[str]) -> Reply | Dialog:
        item_id = _one_id(words, "edit")
        draft = await bank.draft_for_edit(member, item_id)
        return QuestionForm(bank, member, draft, item_id=item_id)

    async def remove(member: Learner, words: list[str]) -> Reply | Dialog:
        item_id = _one_id(words, "remove")
        # Also refuses bundled, removed and other servers' questions before asking.
        draft = await bank.draft_for_edit(member, item_id)
        return ConfirmRemoval(bank, member, item_id, draft)

    async def list_questions(member: Learner, words: list[str]) -> Reply | Dialog:
        deck, page = _list_words(words)
        return _page_hints(await bank.list_page(member, page, deck))

    async def export(member: Learner, words: list[str]) -> Reply | Dialog:
        if len(words) > 1:
            raise BadInput("Use /question export [deck].")
        result = await bank.export(member, words[0] if words else None)
        prefix = f"questions-{stamp()}"
        paths = [export_dir / f"{prefix}-{file.filename}" for file in result.files]
        for path, file in zip(paths, result.files, strict=True):
            await asyncio.to_thread(_write_text, path, file.text)
        saved = "\n".join(f"Saved to {path}" for path in paths)
        return replace(
            result.reply,
            text=f"{result.reply.text}\n{saved}",
            footer="Edit a file and load it back with /question import <file>.",
        )

    async def import_file(member: Learner, words: list[str]) -> Reply | Dialog:
        try:
            parts = shlex.split(" ".join(words))
        except ValueError:
            raise BadInput("That path has an unclosed quote. Quote the whole path.") from None
        if not parts or len(parts) > 2:
            raise BadInput(
                "Use /question import <file> [deck], e.g. /question import my-deck.yaml "
                "(quote a path with spaces)."
            )
        deck = check_deck_name(parts[1]) if len(parts) > 1 else None
        path = Path(parts[0])
        data = await asyncio.to_thread(read_import_file, path)
        result = await bank.import_file(member, path.name, data, deck=deck)
        if result.report is None:
            return result.reply
        report = export_dir / f"import-problems-{stamp()}.txt"
        await asyncio.to_thread(_write_text, report, result.report)
        return replace(result.reply, footer=f"Every problem is listed in {report}")

    async def stats(member: Learner, words: list[str]) -> Reply | Dialog:
        return await bank.stats(member, _one_id(words, "stats"))

    subcommands: dict[str, Subcommand] = {
        "add": add,
        "edit": edit,
        "remove": remove,
        "list": list_questions,
        "export": export,
        "import": import_file,
        "stats": stats,
    }

    async def question(member: Learner, words: list[str]) -> Reply | Dialog:
        if not words:
            return usage_reply()
        name = words[0].casefold()
        subcommand = subcommands.get(name)
        if subcommand is None:
            raise BadInput(
                f"There is no /question {name[:20]}. Use one of: {', '.join(subcommands)}."
            )
        if member.guild_id is None:
            raise PermissionDenied(NO_SERVER)
        return await subcommand(member, words[1:])

    return {"/question": question}
