"""The console's question dialogs: the add/edit form, one field per prompt, and removal.

The console's stand-in for Discord's question modal (:class:`bot.exts.questions.QuestionModal`).
Each answer is checked at once with :func:`~bot.core.question_drafts.build_item`, so a bad
field gets the Discord form's one-line error and is asked again; nothing is stored until
the last field is in. Storing is :class:`~bot.services.question_bank.QuestionBankService`'s.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields, replace

from bot.console.dialog import CANCEL_WORD, Dialog
from bot.core.content import ANSWER_LETTERS, MAX_OPTIONS, MIN_OPTIONS
from bot.core.learners import Learner
from bot.core.question_drafts import (
    DEFAULT_HINT,
    MAX_CONCEPTS,
    QuestionDraft,
    build_item,
    draft_problem_reply,
    short,
    split_option_lines,
)
from bot.core.replies import Reply, Tone
from bot.errors import BadInput, TutorError
from bot.services.question_bank import QuestionBankService

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
    concepts="placeholder idea: A placeholder sentence.",
)
#: Fields the add form asks for, in order ("practice" only for practice questions).
ADD_FIELDS = ("deck", "kind", "difficulty", "question", "options", "answer", "explanation")
#: The edit form keeps the deck and kind, like Discord's.
EDIT_FIELDS = ADD_FIELDS[2:]
PRACTICE_FIELD = "practice"
#: An explain prompt's fields after the deck, kind and difficulty (Discord's five boxes).
EXPLAIN_FIELDS = ("question", "explanation", "hint", "concepts", "misconceptions")
MULTILINE_FIELDS = frozenset({"options", "practice", "concepts", "misconceptions"})
YES_WORDS = frozenset({"yes", "y"})


@dataclass(frozen=True, slots=True)
class FieldPrompt:
    """How one field of the form is asked for."""

    label: str
    ask: str


FIELD_PROMPTS = {
    "deck": FieldPrompt("Deck", "Which deck? A new name starts a new deck, e.g. 'loss-functions'."),
    "kind": FieldPrompt(
        "Kind",
        "mcq (a quiz question), explain (a prompt members answer in their own words) "
        "or practice (a worked problem with a hint, steps and mistakes)?",
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
#: How an explain prompt's fields are asked for (the prompt and model answer reuse the
#: question and explanation fields).
EXPLAIN_PROMPTS = {
    **FIELD_PROMPTS,
    "question": FieldPrompt("Prompt", "What should members explain? One line."),
    "explanation": FieldPrompt("Model answer", "The full answer shown after answering; one line."),
    "hint": FieldPrompt("Hint", f"One line, or Enter for: {DEFAULT_HINT}"),
    "concepts": FieldPrompt(
        "Concepts",
        f"Up to {MAX_CONCEPTS}, one per line as 'name: example | example' (examples are "
        "optional: a bare name is compared by meaning); then an empty line.",
    ),
    "misconceptions": FieldPrompt(
        "Misconceptions",
        "Optional, one per line as 'wrong idea => correction'; then an empty line "
        "(an empty line right away: none).",
    ),
}


def console_wording(message: str) -> str:
    """A core message as one console sentence (the form's "last box" is the last prompt)."""
    sentence = message.replace(" in the last box", "").rstrip(".")
    return f"{sentence[:1].upper()}{sentence[1:]}."


class ConsoleQuestionForm(Dialog):
    """The add/edit form, one field per prompt.

    Each typed field is checked straight away with :func:`build_item` (the fields not typed
    yet are filled with known-good :data:`PLACEHOLDERS`, so any problem is the new field's),
    and the question is stored only after the last one. When the bank still refuses it (a
    duplicate, say), the form starts again from the top with everything typed kept: Enter
    keeps a value, as when editing.
    """

    def __init__(
        self,
        bank: QuestionBankService,
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
        prompt = (EXPLAIN_PROMPTS if self.draft.kind == "explain" else FIELD_PROMPTS)[name]
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
        return self._fields_for(self.draft.kind)

    def _fields_for(self, kind: str) -> tuple[str, ...]:
        """The fields asked for a question of ``kind`` (an explain prompt has its own)."""
        names = ADD_FIELDS if self.item_id is None else EDIT_FIELDS
        if kind == "explain":
            return (*names[: names.index("question")], *EXPLAIN_FIELDS)
        return (*names, PRACTICE_FIELD) if kind == "practice" else names

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
        order = self._fields_for(candidate.kind)
        if PRACTICE_FIELD not in order and candidate.kind != "explain":
            order = (*order, PRACTICE_FIELD)
        typed = set(order[: order.index(name) + 1])
        if self.item_id is not None:
            typed |= {"deck", "kind"}  # fixed when editing (and valid: they are stored)
        kept = {f.name: getattr(candidate, f.name) for f in fields(QuestionDraft)}
        trial = replace(
            PLACEHOLDERS,
            code=candidate.code,
            phrases=candidate.phrases,
            **{n: v for n, v in kept.items() if n in typed},
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
        self, bank: QuestionBankService, member: Learner, item_id: int, draft: QuestionDraft
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
