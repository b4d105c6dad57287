"""Study content: the deck schema (pydantic v2) and a loader that reports problems by line.

A deck is one YAML file in ``content/``::

    deck: tensorflow-training-basics
    title: Why training optimizes model weights
    description: One or two sentences.
    items:
      - id: goal-of-training
        kind: flashcard            # flashcard | mcq | practice | explain | typed
        front: ...
        back: ...
        tags: [basics, week-1]     # optional, on every kind: filter /review and /quiz
        image: 3f2a....png         # optional, on every kind: a file in data/media/

Every scalar in a deck file is read as text (``answer: 1`` is the text ``"1"``, ``Yes`` stays
``"Yes"``); an empty value, ``~`` or ``null`` is "no value". Unknown fields are errors, text is
stripped and must not be empty, nor only invisible characters (zero-width spaces and the like,
see :func:`is_blank`). Every mistake becomes a :class:`ContentProblem` such as
``content/x.yaml:14: item 'loss-role': answer 'E' is not one of the options A–D``.
Reading deck files and folders is :mod:`bot.core.deck_files`.

This module must not import discord, tensorflow or sqlalchemy.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal, TypeAlias

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_core import ErrorDetails, PydanticCustomError

from bot.core.grading import IGNORED_WORDS
from bot.errors import BadInput
from bot.log import get_logger

log = get_logger(__name__)

Difficulty = Literal["easy", "medium", "hard"]
Level = Literal["beginner", "intermediate", "advanced"]
ItemKind = Literal["flashcard", "mcq", "practice", "explain", "typed"]

DIFFICULTIES: tuple[Difficulty, ...] = ("easy", "medium", "hard")
LEVELS: tuple[Level, ...] = ("beginner", "intermediate", "advanced")
ITEM_KINDS: tuple[ItemKind, ...] = ("flashcard", "mcq", "practice", "explain", "typed")
#: How a flashcard's level maps onto the difficulty scale used everywhere else.
LEVEL_DIFFICULTY: dict[Level, Difficulty] = {
    "beginner": "easy",
    "intermediate": "medium",
    "advanced": "hard",
}

#: Deck slugs and item ids: lowercase letters, digits and dashes, 2–41 characters.
SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]{1,40}$"
MIN_OPTIONS = 2
MAX_OPTIONS = 6
ANSWER_LETTERS = "ABCDEF"
DECK_SUFFIXES = (".yaml", ".yml")
#: The most accepted answers a typed question carries, and tags an item carries.
MAX_ANSWERS = 20
MAX_TAGS = 20
#: A tag: no spaces, 1–60 characters (Anki's ``Parent::Child`` tags are fine).
TAG_PATTERN = r"^[^\s]{1,60}$"
#: A media file in ``data/media/``: a plain file name (no folders), as the importer stores it.
MEDIA_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,119}$"

#: Characters that show nothing on their own beyond the Unicode categories in
#: :data:`_INVISIBLE_CATEGORIES`: soft hyphen, combining grapheme joiner, Hangul and
#: half-width fillers, Khmer vowel inherents, the braille blank.
_INVISIBLE = frozenset("\u00ad\u034f\u115f\u1160\u17b4\u17b5\u2800\u3164\uffa0")
#: Controls (Cc), format characters such as U+200B..U+200F, U+2060 and U+FEFF (Cf),
#: separators (Z*) and lone surrogates (Cs).
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zs", "Zl", "Zp"})


def is_blank(text: str) -> bool:
    r"""True when ``text`` shows nothing: only whitespace, zero-width or other invisible characters.

    ``""``, ``"  "``, ``"\u200b"`` and ``"\ufeff\u2060"`` are blank; ``"a\u200b"`` is not.
    """
    return all(
        char.isspace() or char in _INVISIBLE or unicodedata.category(char) in _INVISIBLE_CATEGORIES
        for char in text
    )


def _visible(text: str) -> str:
    """Refuse text that is there but shows nothing (empty text is refused by its length)."""
    if text and is_blank(text):
        raise PydanticCustomError("invisible_text", "only invisible characters")
    return text


def _visible_or_none(text: str | None) -> str | None:
    return None if text is None else _visible(text)


#: "At least one visible character": the complement of :func:`is_blank`, checked by
#: pydantic's Rust regex engine, so the ~20 text fields of every item cost no Python call.
VISIBLE_PATTERN = "[^\\s\\p{Cc}\\p{Cf}\\p{Z}" + "".join(sorted(_INVISIBLE)) + "]"

Text = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, pattern=VISIBLE_PATTERN)
]
Slug = Annotated[str, StringConstraints(strip_whitespace=True, pattern=SLUG_PATTERN)]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, pattern=TAG_PATTERN)]
MediaName = Annotated[str, StringConstraints(strip_whitespace=True, pattern=MEDIA_NAME_PATTERN)]

NULL_SCALARS = frozenset({"", "~", "null", "Null", "NULL"})

LocPath: TypeAlias = tuple[str | int, ...]


def _option_key(option: str) -> str:
    """Options compare equal ignoring case and runs of whitespace."""
    return " ".join(option.casefold().split())


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


_WORD = re.compile(r"[^\W_]+")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'"})
_POSSESSIVE = re.compile(r"'s\b")
_NO_APOSTROPHES = re.compile("[^'`\u2018\u2019]*")


def has_words(phrase: str) -> bool:
    """Whether :func:`bot.core.grading.normalize_tokens` finds a word to match in ``phrase``.

    The same folding (NFKC, case, apostrophes, possessive 's) and ignored words, without the
    stemming (a stem is never empty), which made up most of the time of checking a deck.
    A test checks that both agree.
    """
    # NFKC leaves ASCII as it is; the apostrophe steps change nothing without apostrophes.
    folded = phrase if phrase.isascii() else unicodedata.normalize("NFKC", phrase)
    folded = folded.casefold()
    if not _NO_APOSTROPHES.fullmatch(folded):
        folded = _POSSESSIVE.sub("", folded.translate(_APOSTROPHES)).replace("'", "")
    return not IGNORED_WORDS.issuperset(_WORD.findall(folded))


#: Example sentences a concept may carry, and misconceptions an explain item may list.
MAX_EXAMPLES = 5
MAX_MISCONCEPTIONS = 10


def _check_phrases(phrases: list[str] | None) -> list[str] | None:
    for index, phrase in enumerate(phrases or ()):
        if not has_words(phrase):
            raise PydanticCustomError(
                "phrase_without_words",
                "phrase '{phrase}' has no words to match",
                {"phrase": phrase, "index": index},
            )
    return phrases or None


class Concept(_Model):
    """One idea an explain answer should state.

    An answer earns it when a sentence of the answer *means* the same as the concept's name
    or one of its ``examples`` (a sentence model, see :mod:`bot.core.grading`), or when it
    contains one of the optional ``phrases`` (stemmed word runs). Negated or reversed
    statements never earn it.
    """

    name: Text
    #: One to five sentences that state the idea the way a good answer would.
    examples: Annotated[list[Text], Field(min_length=1, max_length=MAX_EXAMPLES)] | None = None
    #: Optional exact word runs that always count (after stemming).
    phrases: Annotated[list[Text], Field(min_length=1)] | None = None

    @field_validator("phrases", mode="before")
    @classmethod
    def _no_phrases(cls, value: Any) -> Any:
        return None if value == [] else value

    @field_validator("examples", mode="before")
    @classmethod
    def _no_examples(cls, value: Any) -> Any:
        return None if value == [] else value

    @field_validator("phrases")
    @classmethod
    def _phrases_have_words(cls, phrases: list[str] | None) -> list[str] | None:
        return _check_phrases(phrases)

    @property
    def references(self) -> list[str]:
        """What an answer's sentences are compared with: the examples, else the name."""
        return list(self.examples) if self.examples else [self.name]


class Misconception(_Model):
    """A common wrong idea an explain answer may state, and the correction to show."""

    #: The wrong idea, as a student would state it ("the optimizer measures the error").
    wrong: Text
    #: One or two friendly sentences that put it right.
    correction: Text


class _ItemFields(_Model):
    """Fields every kind of item has: its id, optional tags and an optional image."""

    id: Slug
    #: Labels a moderator or an imported deck gives the item; ``/review`` and ``/quiz`` can
    #: be limited to one. ``None``: no tags.
    tags: Annotated[list[Tag], Field(min_length=1, max_length=MAX_TAGS)] | None = None
    #: A picture shown with the question: a file name in ``data/media/``.
    image: MediaName | None = None

    @field_validator("tags", mode="before")
    @classmethod
    def _no_tags(cls, value: Any) -> Any:
        """An empty tag list is no tags; repeated tags (ignoring case) are kept once."""
        if isinstance(value, list):
            unique: dict[str, Any] = {}
            for tag in value:
                key = tag.strip().casefold() if isinstance(tag, str) else tag
                unique.setdefault(key, tag)
            return list(unique.values()) or None
        return value

    def has_tag(self, tag: str) -> bool:
        """Whether the item carries ``tag`` (case ignored)."""
        wanted = tag.strip().casefold()
        return any(own.casefold() == wanted for own in self.tags or ())


class Flashcard(_ItemFields):
    """A front/back card, rated by the member after revealing the back."""

    kind: Literal["flashcard"] = "flashcard"
    front: Text
    back: Text
    level: Level = "beginner"

    @property
    def prompt(self) -> str:
        """What the member is asked (the front)."""
        return self.front

    @property
    def difficulty(self) -> Difficulty:
        """The level mapped onto easy/medium/hard."""
        return LEVEL_DIFFICULTY[self.level]

    @property
    def options(self) -> list[str]:
        """Flashcards have no options."""
        return []

    @property
    def answer_text(self) -> str | None:
        """The back of the card."""
        return self.back


class ChoiceItem(_ItemFields):
    """Fields shared by :class:`MultipleChoice` and :class:`Practice` (never used directly)."""

    question: Text
    code: Annotated[str | None, AfterValidator(_visible_or_none)] = None
    options: Annotated[list[Text], Field(min_length=MIN_OPTIONS, max_length=MAX_OPTIONS)]
    answer: str
    explanation: Text
    difficulty: Difficulty = "medium"

    @field_validator("code", mode="before")
    @classmethod
    def _tidy_code(cls, value: Any) -> Any:
        """Keep indentation, drop surrounding blank lines; blank code means no code."""
        if isinstance(value, str):
            lines = value.rstrip().splitlines()
            while lines and not lines[0].strip():
                lines.pop(0)
            return "\n".join(lines) or None
        return value

    @field_validator("options")
    @classmethod
    def _unique_options(cls, options: list[str]) -> list[str]:
        seen: dict[str, int] = {}
        for index, option in enumerate(options):
            key = _option_key(option)
            if key in seen:
                raise PydanticCustomError(
                    "duplicate_option",
                    "option {letter} '{option}' repeats option {first}",
                    {
                        "letter": ANSWER_LETTERS[index],
                        "option": option,
                        "first": ANSWER_LETTERS[seen[key]],
                        "index": index,
                    },
                )
            seen[key] = index
        return options

    @field_validator("answer")
    @classmethod
    def _answer_is_an_option(cls, value: str, info: ValidationInfo) -> str:
        letter = value.strip().upper()
        if len(letter) != 1 or letter not in ANSWER_LETTERS:
            if not letter:
                raise PydanticCustomError("answer_letter", "answer must be a letter A–F")
            raise PydanticCustomError(
                "answer_letter",
                "answer must be a letter A–F, got '{answer}'",
                {"answer": value.strip()},
            )
        options = info.data.get("options")
        if options is not None and ANSWER_LETTERS.index(letter) >= len(options):
            raise PydanticCustomError(
                "answer_out_of_range",
                "answer '{answer}' is not one of the options A–{last}",
                {"answer": letter, "last": ANSWER_LETTERS[len(options) - 1]},
            )
        return letter

    @property
    def prompt(self) -> str:
        """What the member is asked (the question)."""
        return self.question

    @property
    def correct_index(self) -> int:
        """0-based index of the correct option."""
        return ANSWER_LETTERS.index(self.answer)

    @property
    def correct_option(self) -> str:
        """Text of the correct option."""
        return self.options[self.correct_index]

    @property
    def answer_text(self) -> str | None:
        """Text of the correct option."""
        return self.correct_option


class MultipleChoice(ChoiceItem):
    """A quiz question with 2–6 options and one correct letter."""

    kind: Literal["mcq"] = "mcq"


class Practice(ChoiceItem):
    """A worked multiple-choice problem: a hint, solution steps and common mistakes."""

    kind: Literal["practice"] = "practice"
    hint: Text
    steps: Annotated[list[Text], Field(min_length=1)]
    mistakes: Annotated[list[Text], Field(min_length=1)]


class Explain(_ItemFields):
    """A free-text prompt graded by concept coverage (see :mod:`bot.core.grading`)."""

    kind: Literal["explain"] = "explain"
    prompt: Text
    hint: Text
    difficulty: Difficulty = "medium"
    model_answer: Text
    concepts: Annotated[list[Concept], Field(min_length=1)]
    #: Common wrong ideas; an answer that states one is told so and corrected.
    misconceptions: (
        Annotated[list[Misconception], Field(min_length=1, max_length=MAX_MISCONCEPTIONS)] | None
    ) = None

    @field_validator("misconceptions", mode="before")
    @classmethod
    def _no_misconceptions(cls, value: Any) -> Any:
        return None if value == [] else value

    @field_validator("concepts")
    @classmethod
    def _unique_concepts(cls, concepts: list[Concept]) -> list[Concept]:
        seen: set[str] = set()
        for index, concept in enumerate(concepts):
            key = _option_key(concept.name)
            if key in seen:
                raise PydanticCustomError(
                    "duplicate_concept",
                    "concept '{name}' is listed twice",
                    {"name": concept.name, "index": index},
                )
            seen.add(key)
        return concepts

    @property
    def options(self) -> list[str]:
        """Explain prompts have no options."""
        return []

    @property
    def answer_text(self) -> str | None:
        """The model answer."""
        return self.model_answer


class Typed(_ItemFields):
    """A question answered by typing a short answer, checked forgivingly against ``answers``.

    The first accepted answer is the one shown after answering. ``fractions`` lets "1/2"
    count for "0.5" (see :mod:`bot.core.typed_answers`). Cloze cards, Anki "type in the
    answer" cards and Red Trivia questions become typed questions.
    """

    kind: Literal["typed"] = "typed"
    question: Text
    answers: Annotated[list[Text], Field(min_length=1, max_length=MAX_ANSWERS)]
    explanation: Text | None = None
    hint: Text | None = None
    fractions: bool = False
    difficulty: Difficulty = "medium"

    @field_validator("answers")
    @classmethod
    def _unique_answers(cls, answers: list[str]) -> list[str]:
        """Accepted answers that differ only in case or spacing are kept once."""
        return list({_option_key(answer): answer for answer in reversed(answers)}.values())[::-1]

    @property
    def prompt(self) -> str:
        """What the member is asked (the question)."""
        return self.question

    @property
    def options(self) -> list[str]:
        """Typed questions have no options."""
        return []

    @property
    def answer_text(self) -> str | None:
        """The first accepted answer."""
        return self.answers[0]


AnyItem: TypeAlias = Flashcard | MultipleChoice | Practice | Explain | Typed
Item = Annotated[
    Flashcard | MultipleChoice | Practice | Explain | Typed, Field(discriminator="kind")
]

_ITEM_ADAPTER: TypeAdapter[AnyItem] = TypeAdapter(Item)


class Deck(_Model):
    """One deck file: a slug, a title and at least one item (ids unique)."""

    deck: Slug
    title: Text
    description: Annotated[
        str, StringConstraints(strip_whitespace=True), AfterValidator(_visible)
    ] = ""
    items: Annotated[list[Item], Field(min_length=1)]

    @field_validator("description", mode="before")
    @classmethod
    def _no_description(cls, value: Any) -> Any:
        return "" if value is None else value

    @field_validator("items")
    @classmethod
    def _unique_ids(cls, items: list[AnyItem]) -> list[AnyItem]:
        first: dict[str, int] = {}
        for index, item in enumerate(items):
            if item.id in first:
                raise PydanticCustomError(
                    "duplicate_id",
                    "duplicate item id '{id}'",
                    {"id": item.id, "index": index, "first": first[item.id]},
                )
            first[item.id] = index
        return items

    def get_item(self, item_id: str) -> AnyItem | None:
        """The item with ``item_id``, if any."""
        return next((item for item in self.items if item.id == item_id), None)


def parse_item(data: Mapping[str, Any]) -> AnyItem:
    """Validate one item given as a mapping (a moderator's input, or JSON from storage).

    Raises :class:`~bot.errors.BadInput` with a one-line message naming the field.
    """
    if not isinstance(data, Mapping):
        raise BadInput("An item must be a set of fields (id, kind, ...).")
    raw = dict(data)
    try:
        return _ITEM_ADAPTER.validate_python(raw)
    except ValidationError as exc:
        errors = merge_missing_errors(exc.errors())
        messages = _unique([describe_error(error, raw, single_item=True)[1] for error in errors])
        message = messages[0]
        if len(messages) > 1:
            more = len(messages) - 1
            message += f" (and {more} more problem{'s' if more > 1 else ''})"
        raise BadInput(message) from None


def payload_prompt(payload: Mapping[str, Any] | None) -> str:
    """What a stored item (:func:`item_to_dict`'s dict) asks, without validating it: the
    question, a flashcard's front or an explain prompt (``""`` when there is none)."""
    data = payload or {}
    text = data.get("question") or data.get("front") or data.get("prompt")
    return text if isinstance(text, str) else ""


def item_to_dict(item: AnyItem) -> dict[str, Any]:
    """A JSON-able dict of ``item`` that :func:`parse_item` turns back into an equal item."""
    data = item.model_dump(mode="json", exclude_none=True)
    return {"id": data.pop("id"), "kind": data.pop("kind"), **data}


# --------------------------------------------------------------------------- problems


@dataclass(frozen=True, slots=True)
class ContentProblem:
    """One thing wrong with a deck file, pointing at a 1-based line."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        # One problem per line, even when a quoted value carries a line break.
        message = " ".join(self.message.splitlines())
        return f"{self.file}:{self.line}: {message}"


def _unique(messages: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(messages))


def _singular(word: str) -> str:
    return word[:-1] if word.endswith("s") else word


def _label(path: Sequence[str | int]) -> str:
    """Human name of a field path: ``("concepts", 1, "phrases", 0)`` → ``concept 2 phrase 1``."""
    words: list[str] = []
    for part in path:
        if isinstance(part, int) and words:
            words.append(f"{_singular(words.pop())} {part + 1}")
        else:
            words.append(str(part))
    return " ".join(words)


_ITEM_MODELS: dict[str, type[BaseModel]] = {
    "flashcard": Flashcard,
    "mcq": MultipleChoice,
    "practice": Practice,
    "explain": Explain,
    "typed": Typed,
}


def _allowed_fields(rest: Sequence[str | int], raw_item: Any, in_item: bool) -> list[str]:
    """Field names valid where an unknown field ``rest[-1]`` was found (for suggestions)."""
    if not in_item:
        return list(Deck.model_fields)
    if len(rest) >= 3 and rest[0] == "concepts":
        return list(Concept.model_fields)
    if len(rest) >= 3 and rest[0] == "misconceptions":
        return list(Misconception.model_fields)
    kind = raw_item.get("kind") if isinstance(raw_item, dict) else None
    model = _ITEM_MODELS.get(kind) if isinstance(kind, str) else None
    return list(model.model_fields) if model else []


def merge_missing_errors(errors: list[ErrorDetails]) -> list[ErrorDetails]:
    """Fold the "missing" errors of one mapping into a single error listing every field."""
    merged: list[ErrorDetails] = []
    by_parent: dict[LocPath, ErrorDetails] = {}
    for error in errors:
        if error["type"] != "missing":
            merged.append(error)
            continue
        parent = tuple(error["loc"][:-1])
        if parent in by_parent:
            by_parent[parent]["ctx"]["fields"].append(str(error["loc"][-1]))
            continue
        combined: ErrorDetails = {
            "type": "missing",
            "loc": error["loc"],
            "msg": error["msg"],
            "input": error["input"],
            "ctx": {"fields": [str(error["loc"][-1])]},
        }
        by_parent[parent] = combined
        merged.append(combined)
    return merged


def describe_error(  # noqa: C901  (one flat case list; see docs/architecture.md)
    error: ErrorDetails, root: Any, *, single_item: bool = False
) -> tuple[LocPath, str]:
    """Turn one pydantic error into (path for the line lookup, friendly message)."""
    loc: list[str | int] = list(error["loc"])
    prefix: LocPath = ()
    raw_item: Any = None
    in_item = single_item
    if single_item:
        raw_item = root
    elif len(loc) >= 2 and loc[0] == "items" and isinstance(loc[1], int):
        index = loc[1]
        prefix = ("items", index)
        items = root.get("items") if isinstance(root, dict) else None
        raw_item = items[index] if isinstance(items, list) and index < len(items) else None
        loc = loc[2:]
        in_item = True
    if in_item and loc and loc[0] in ITEM_KINDS:
        loc = loc[1:]  # the discriminator's tag, not a field
    rest: LocPath = tuple(loc)
    kind = error["type"]
    ctx: dict[str, Any] = dict(error.get("ctx") or {})
    value = error.get("input")
    label = _label(rest)
    name = str(rest[-1]) if rest else ""
    where = f" in {_label(rest[:-1])}" if len(rest) > 1 else ""
    line_path: LocPath = prefix + rest

    if kind == "extra_forbidden":
        message = f"unknown field '{name}'{where}"
        close = difflib.get_close_matches(name, _allowed_fields(rest, raw_item, in_item), n=1)
        if close:
            message += f" (did you mean '{close[0]}'?)"
    elif kind == "missing":
        names = ctx.get("fields") or [name]
        listed = ", ".join(f"'{missing}'" for missing in names)
        message = f"missing {listed}{where}"
    elif kind == "string_too_short" or (kind == "string_type" and value is None):
        message = f"{label} must not be empty"
    elif kind == "string_type":
        message = f"{label} must be text"
    elif kind == "invisible_text" or (
        kind == "string_pattern_mismatch" and ctx.get("pattern") == VISIBLE_PATTERN
    ):
        if len(rest) == 2 and rest[0] == "options" and isinstance(rest[1], int):
            label = f"option {ANSWER_LETTERS[rest[1]]}"  # as the options are shown
        message = (
            f"{label} has only spaces or invisible characters (such as zero-width spaces); "
            "type some visible text"
        )
    elif kind == "string_pattern_mismatch" and ctx.get("pattern") == TAG_PATTERN:
        message = f"{label} '{value}' must be 1–60 characters without spaces"
    elif kind == "string_pattern_mismatch" and ctx.get("pattern") == MEDIA_NAME_PATTERN:
        message = f"{label} '{value}' must be a file name in data/media/ (no folders)"
    elif kind == "string_pattern_mismatch":
        message = (
            f"{label} '{value}' is not a valid slug "
            "(lowercase letters, digits and dashes, 2–41 characters)"
        )
    elif kind == "literal_error":
        expected = str(ctx.get("expected", "")).replace("'", "")
        shown = "nothing" if value is None else f"'{value}'"
        message = f"{label} must be one of {expected}, got {shown}"
    elif kind == "union_tag_invalid":
        message = f"kind must be one of {', '.join(ITEM_KINDS)}, got '{ctx.get('tag')}'"
        line_path = (*line_path, "kind")
    elif kind == "union_tag_not_found":
        message = f"missing 'kind' (one of {', '.join(ITEM_KINDS)})"
    elif kind in ("too_short", "too_long", "list_type") and name == "options" and len(rest) == 1:
        count = len(value) if isinstance(value, list) else 0
        message = f"needs {MIN_OPTIONS}–{MAX_OPTIONS} options, got {count}"
    elif kind in ("too_short", "list_type") and rest == ("items",):
        message = "the deck has no items"
    elif kind == "too_short":
        minimum = ctx.get("min_length", 1)
        wanted = f"needs at least {minimum} {_singular(name) if minimum == 1 else name}"
        owner = _label(rest[:-1])
        message = f"{owner} {wanted}" if owner else wanted
    elif kind == "too_long":
        message = f"{label} has too many entries (at most {ctx.get('max_length')})"
    elif kind == "list_type":
        message = f"{label} must be a list" + (" with at least 1 entry" if value is None else "")
    elif kind in ("model_type", "model_attributes_type", "dict_type"):
        what = label or ("the item" if in_item else "the deck")
        message = f"{what} must be a set of fields (key: value lines)"
    elif kind.startswith(("duplicate_", "answer_", "phrase_")):
        message = error["msg"]
    else:
        message = f"{label}: {error['msg']}" if label else error["msg"]

    if isinstance(ctx.get("index"), int) and kind != "duplicate_id":
        line_path = (*line_path, ctx["index"])
    if kind == "duplicate_id" and isinstance(ctx.get("index"), int):
        line_path = ("items", ctx["index"], "id")

    if in_item:
        message = f"{_item_name(raw_item, prefix)}: {message}"
    return line_path, message


def _item_name(raw_item: Any, prefix: LocPath) -> str:
    item_id = raw_item.get("id") if isinstance(raw_item, dict) else None
    if isinstance(item_id, str) and item_id.strip():
        return f"item '{item_id.strip()}'"
    if len(prefix) == 2 and isinstance(prefix[1], int):
        return f"item {prefix[1] + 1}"
    return "item"
