"""A server's own questions: the rules of the add/edit form and of one question.

Moderators add multiple-choice and practice questions and explain prompts that only their
server sees (explain prompts: see :func:`build_explain`). Every
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
    MAX_EXAMPLES,
    MAX_MISCONCEPTIONS,
    MAX_OPTIONS,
    MIN_OPTIONS,
    SLUG_PATTERN,
    AnyItem,
    ChoiceItem,
    Explain,
    Practice,
    is_blank,
    parse_item,
)
from bot.core.replies import Reply, Tone
from bot.errors import BadInput

#: Kinds a CSV row may be (flashcards and explain prompts come in YAML decks).
BANK_KINDS = ("mcq", "practice")
#: Kinds the add/edit form makes (Discord's modal and the console's form).
FORM_KINDS = ("mcq", "practice", "explain")
#: Lengths that keep a question readable in one Discord message.
MAX_QUESTION = 1000
MAX_OPTION = 200
MAX_EXPLANATION = 1500
#: Placeholder id while a question is checked; stored ones get ``q-<row id>``.
DRAFT_ID = "q-new"
#: Explain prompts: the most concepts the form takes, and lengths of their parts.
MAX_CONCEPTS = 8
MAX_CONCEPT_NAME = 120
MAX_SENTENCE = 300
MAX_HINT = 300
#: The hint an explain prompt gets when the moderator leaves the box empty.
DEFAULT_HINT = "Think about the main ideas, and say each one in a sentence of your own."
#: How the concept and misconception boxes are written (shown in errors and placeholders).
CONCEPT_FORMAT = "`name: example | example`"
MISCONCEPTION_FORMAT = "`wrong idea => correction`"

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
    #: Explain only (``question`` is the prompt, ``explanation`` the model answer): the
    #: hint, "name: example | example" lines and "wrong idea => correction" lines.
    hint: str = ""
    concepts: str = ""
    misconceptions: str = ""
    #: Explain, kept from the stored item on edit: "name: phrase | phrase" lines.
    phrases: str = ""

    def echo(self) -> str:
        """Everything typed, as plain text the moderator can copy."""
        if self.kind == "explain":
            return "\n".join(
                [
                    f"Prompt: {self.question.strip()}",
                    f"Model answer: {self.explanation.strip()}",
                    f"Hint: {self.hint.strip()}",
                    "Concepts:",
                    self.concepts.strip(),
                    "Misconceptions:",
                    self.misconceptions.strip(),
                ]
            )
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


# --------------------------------------------------------------------------- explain prompts


def _lines(text: str) -> list[tuple[int, str]]:
    """``(1-based line number, stripped line)`` for every non-blank line of a box."""
    return [(n, line.strip()) for n, line in enumerate(text.splitlines(), 1) if line.strip()]


def _parts(text: str) -> list[str]:
    """The ``|``-separated parts of ``text``, stripped, blank ones dropped."""
    return [part.strip() for part in text.split("|") if not is_blank(part.strip())]


def _check_sentence(where: str, what: str, text: str, limit: int) -> None:
    if len(text) > limit:
        raise BadInput(f"{where}: the {what} is too long ({len(text)} characters, at most {limit})")


def parse_concept_lines(text: str) -> list[dict[str, Any]]:
    """Concepts typed one per line as ``name: example | example`` (examples optional).

    A bare name is allowed: answers are then compared with the name itself. Raises
    :class:`BadInput` naming the line (numbered as typed in the box).
    """
    lines = _lines(text)
    if not lines:
        raise BadInput(
            f"list at least one concept, one per line: {CONCEPT_FORMAT} (examples are optional)"
        )
    if len(lines) > MAX_CONCEPTS:
        raise BadInput(
            f"you listed {len(lines)} concepts; keep the {MAX_CONCEPTS} most important "
            "(one per line)"
        )
    concepts: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for number, line in lines:
        where = f"concept line {number}"
        name, _colon, rest = line.partition(":")
        name = name.strip()
        if is_blank(name):
            raise BadInput(f"{where}: write it as {CONCEPT_FORMAT} — the name comes first")
        examples = _parts(rest)
        if "|" in name or (rest.strip() and not examples):
            raise BadInput(f"{where}: write it as {CONCEPT_FORMAT}")
        if len(examples) > MAX_EXAMPLES:
            raise BadInput(f"{where} has {len(examples)} examples; keep at most {MAX_EXAMPLES}")
        _check_sentence(where, "name", name, MAX_CONCEPT_NAME)
        for example in examples:
            _check_sentence(where, "example", example, MAX_SENTENCE)
        key = question_key(name)
        if key in seen:
            raise BadInput(f"{where} repeats the concept '{short(name, 40)}' of line {seen[key]}")
        seen[key] = number
        concept: dict[str, Any] = {"name": name}
        if examples:
            concept["examples"] = examples
        concepts.append(concept)
    return concepts


def parse_misconception_lines(text: str) -> list[dict[str, str]]:
    """Misconceptions typed one per line as ``wrong idea => correction`` (the box may be empty).

    Raises :class:`BadInput` naming the line (numbered as typed in the box).
    """
    lines = _lines(text)
    if len(lines) > MAX_MISCONCEPTIONS:
        raise BadInput(f"you listed {len(lines)} misconceptions; keep at most {MAX_MISCONCEPTIONS}")
    found: list[dict[str, str]] = []
    for number, line in lines:
        where = f"misconception line {number}"
        wrong, arrow, correction = (part.strip() for part in line.partition("=>"))
        if not arrow or is_blank(wrong) or is_blank(correction):
            raise BadInput(f"{where}: write it as {MISCONCEPTION_FORMAT}")
        _check_sentence(where, "wrong idea", wrong, MAX_SENTENCE)
        _check_sentence(where, "correction", correction, MAX_SENTENCE)
        found.append({"wrong": wrong, "correction": correction})
    return found


def _with_phrases(concepts: list[dict[str, Any]], phrases: str) -> list[dict[str, Any]]:
    """Give back the stored ``phrases`` of concepts whose name was kept (edit form)."""
    kept: dict[str, list[str]] = {}
    for _number, line in _lines(phrases):
        name, _colon, rest = line.partition(":")
        if _parts(rest):
            kept[question_key(name)] = _parts(rest)
    for concept in concepts:
        words = kept.get(question_key(concept["name"]))
        if words:
            concept["phrases"] = words
    return concepts


def concept_lines(item: Explain) -> str:
    """The concepts box of an explain item (to pre-fill the edit form)."""
    return "\n".join(
        f"{c.name}: {' | '.join(c.examples)}" if c.examples else c.name for c in item.concepts
    )


def misconception_lines(item: Explain) -> str:
    """The misconceptions box of an explain item (to pre-fill the edit form)."""
    return "\n".join(f"{m.wrong} => {m.correction}" for m in item.misconceptions or ())


def phrase_lines(item: Explain) -> str:
    """The concepts' phrases, kept out of the form and given back on save."""
    return "\n".join(f"{c.name}: {' | '.join(c.phrases)}" for c in item.concepts if c.phrases)


def build_explain(draft: QuestionDraft, difficulty: str) -> Explain:
    """An explain prompt from the form: prompt, model answer, hint, concept and misconception
    lines. Raises :class:`BadInput` (one line, naming the box and line)."""
    prompt = draft.question.strip()
    model_answer = draft.explanation.strip()
    hint = draft.hint.strip()
    if is_blank(prompt):
        raise BadInput("type the prompt: what members should explain in their own words")
    if is_blank(model_answer):
        raise BadInput("type a model answer: the full answer members see after answering")
    if len(prompt) > MAX_QUESTION:
        raise BadInput(f"the prompt is too long ({len(prompt)} of {MAX_QUESTION} max)")
    if len(model_answer) > MAX_EXPLANATION:
        raise BadInput(
            f"the model answer is too long ({len(model_answer)} of {MAX_EXPLANATION} max)"
        )
    if len(hint) > MAX_HINT:
        raise BadInput(f"the hint is too long ({len(hint)} of {MAX_HINT} max)")
    raw: dict[str, Any] = {
        "id": DRAFT_ID,
        "kind": "explain",
        "prompt": prompt,
        "model_answer": model_answer,
        "hint": hint if not is_blank(hint) else DEFAULT_HINT,
        "difficulty": difficulty,
        "concepts": _with_phrases(parse_concept_lines(draft.concepts), draft.phrases),
        "misconceptions": parse_misconception_lines(draft.misconceptions),
    }
    try:
        item = parse_item(raw)
    except BadInput as error:
        raise BadInput(_schema_message(error.message)) from None
    if not isinstance(item, Explain):  # pragma: no cover - the kind is fixed above
        raise BadInput("that isn't an explain prompt")
    return item


def build_item(draft: QuestionDraft) -> AnyItem:
    """Turn a form's fields into a validated item; raises :class:`BadInput` (one line)."""
    check_deck_name(draft.deck)
    difficulty = check_difficulty(draft.difficulty)
    kind = draft.kind.strip()
    if kind and kind not in FORM_KINDS:
        raise BadInput(f"kind must be mcq, practice or explain, got '{short(kind, 20)}'")
    if kind == "explain":
        return build_explain(draft, difficulty)
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
    if isinstance(item, Explain):
        return QuestionDraft(
            deck=deck,
            kind=item.kind,
            difficulty=item.difficulty,
            question=item.prompt,
            options="",
            answer="",
            explanation=item.model_answer,
            hint=item.hint,
            concepts=concept_lines(item),
            misconceptions=misconception_lines(item),
            phrases=phrase_lines(item),
        )
    if not isinstance(item, ChoiceItem):
        what = "typed question" if item.kind == "typed" else item.kind
        raise BadInput(
            f"This is a {what}; the form edits multiple-choice and practice questions and "
            "explain prompts. "
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
