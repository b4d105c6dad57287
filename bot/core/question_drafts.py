"""A server's own questions: the rules of the add/edit form and of one question.

Moderators add multiple-choice and practice questions that only their server sees. Every
question is checked by the same pydantic schema as the bundled decks
(:func:`bot.core.content.parse_item`), so a server's question can never be one the engine
cannot show. This module turns the form's typed fields (a :class:`QuestionDraft`) into a
validated item, or a one-line :class:`~bot.errors.BadInput` naming the problem.

Pure rules: no I/O, no database, no discord.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.core.content import (
    ANSWER_LETTERS,
    DIFFICULTIES,
    MAX_OPTIONS,
    MIN_OPTIONS,
    SLUG_PATTERN,
    AnyItem,
    ChoiceItem,
    Practice,
    is_blank,
    parse_item,
)
from bot.core.replies import Reply, Tone
from bot.errors import BadInput

#: Kinds a server may add (flashcards and explain prompts stay in content/ decks).
BANK_KINDS = ("mcq", "practice")
#: Lengths that keep a question readable in one Discord message.
MAX_QUESTION = 1000
MAX_OPTION = 200
MAX_EXPLANATION = 1500
#: Placeholder id while a question is checked; stored ones get ``q-<row id>``.
DRAFT_ID = "q-new"

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
    if is_blank(typed):
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


def check_lengths(item: AnyItem) -> None:
    """Raise :class:`BadInput` when a choice question's text is too long for one message."""
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
    check_lengths(item)
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
        what = "typed question" if item.kind == "typed" else item.kind
        raise BadInput(
            f"This is a {what}; the form edits multiple-choice and practice questions. "
            "Export its deck, edit the file and import it again (members keep their progress)"
            + (", or add accepted answers with /question accept." if item.kind == "typed" else ".")
        )
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
