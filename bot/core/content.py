"""Study content: the deck schema (pydantic v2) and a loader that reports problems by line.

A deck is one YAML file in ``content/``::

    deck: tensorflow-training-basics
    title: Why training optimizes model weights
    description: One or two sentences.
    items:
      - id: goal-of-training
        kind: flashcard            # flashcard | mcq | practice | explain
        front: ...
        back: ...

Every scalar in a deck file is read as text (``answer: 1`` is the text ``"1"``, ``Yes`` stays
``"Yes"``); an empty value, ``~`` or ``null`` is "no value". Unknown fields are errors, text is
stripped and must not be empty, nor only invisible characters (zero-width spaces and the like,
see :func:`is_blank`). :func:`load_deck_text` turns every mistake into a
:class:`ContentProblem` such as ``content/x.yaml:14: item 'loss-role': answer 'E' is not one
of the options A–D``; :func:`load_library` loads a whole folder (``.yaml``/``.yml`` in any
letter case), skipping broken decks and reporting every file it cannot use.

YAML is parsed by libyaml when PyYAML has it (about twenty times faster); a file libyaml
refuses is parsed again by the pure-Python parser, whose error messages the problems quote.

This module must not import discord, tensorflow or sqlalchemy.
"""

from __future__ import annotations

import difflib
import gc
import re
import stat
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, TypeAlias

import yaml
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
from bot.errors import BadInput, ContentError
from bot.log import get_logger

log = get_logger(__name__)

Difficulty = Literal["easy", "medium", "hard"]
Level = Literal["beginner", "intermediate", "advanced"]
ItemKind = Literal["flashcard", "mcq", "practice", "explain"]

DIFFICULTIES: tuple[Difficulty, ...] = ("easy", "medium", "hard")
LEVELS: tuple[Level, ...] = ("beginner", "intermediate", "advanced")
ITEM_KINDS: tuple[ItemKind, ...] = ("flashcard", "mcq", "practice", "explain")
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

_NULL_SCALARS = frozenset({"", "~", "null", "Null", "NULL"})

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


class Concept(_Model):
    """One idea an explain answer should mention, with the phrases that express it."""

    name: Text
    phrases: Annotated[list[Text], Field(min_length=1)]

    @field_validator("phrases")
    @classmethod
    def _phrases_have_words(cls, phrases: list[str]) -> list[str]:
        for index, phrase in enumerate(phrases):
            if not has_words(phrase):
                raise PydanticCustomError(
                    "phrase_without_words",
                    "phrase '{phrase}' has no words to match",
                    {"phrase": phrase, "index": index},
                )
        return phrases


class Flashcard(_Model):
    """A front/back card, rated by the member after revealing the back."""

    id: Slug
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


class ChoiceItem(_Model):
    """Fields shared by :class:`MultipleChoice` and :class:`Practice` (never used directly)."""

    id: Slug
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


class Explain(_Model):
    """A free-text prompt graded by concept coverage (see :mod:`bot.core.grading`)."""

    id: Slug
    kind: Literal["explain"] = "explain"
    prompt: Text
    hint: Text
    difficulty: Difficulty = "medium"
    model_answer: Text
    concepts: Annotated[list[Concept], Field(min_length=1)]

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


AnyItem: TypeAlias = Flashcard | MultipleChoice | Practice | Explain
Item = Annotated[Flashcard | MultipleChoice | Practice | Explain, Field(discriminator="kind")]

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
        errors = _merge_missing(exc.errors())
        messages = _unique([_describe(error, raw, single_item=True)[1] for error in errors])
        message = messages[0]
        if len(messages) > 1:
            more = len(messages) - 1
            message += f" (and {more} more problem{'s' if more > 1 else ''})"
        raise BadInput(message) from None


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
}


def _allowed_fields(rest: Sequence[str | int], raw_item: Any, in_item: bool) -> list[str]:
    """Field names valid where an unknown field ``rest[-1]`` was found (for suggestions)."""
    if not in_item:
        return list(Deck.model_fields)
    if len(rest) >= 3 and rest[0] == "concepts":
        return list(Concept.model_fields)
    kind = raw_item.get("kind") if isinstance(raw_item, dict) else None
    model = _ITEM_MODELS.get(kind) if isinstance(kind, str) else None
    return list(model.model_fields) if model else []


def _merge_missing(errors: list[ErrorDetails]) -> list[ErrorDetails]:
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


def _describe(error: ErrorDetails, root: Any, *, single_item: bool = False) -> tuple[LocPath, str]:  # noqa: C901  (one flat case list; see docs/architecture.md)
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


# --------------------------------------------------------------------------- YAML


class _Located:
    """Builds plain Python data from a YAML node tree, collecting the problems on the way.

    Scalars, most of a deck's nodes (some 700,000 in 20,000 items), are handled in their
    parent's loop. Lines are looked up in the node tree only for a problem (:func:`_line_at`).
    """

    def __init__(self) -> None:
        self.problems: list[tuple[int, str]] = []
        self._built: set[int] = set()

    def _alias(self, node: yaml.Node, active: frozenset[int]) -> None:
        """Report a node met a second time: an alias (``*name``)."""
        line = node.start_mark.line + 1
        if id(node) in active:
            self.problems.append((line, "an alias refers to itself"))
            return
        # Expanding aliases lets a few hundred bytes grow exponentially, so decks write
        # every value out instead.
        message = "anchors and aliases (&name, *name) aren't allowed in decks; write the value out"
        self.problems.append((line, message))

    def _scalar(self, node: yaml.ScalarNode, active: frozenset[int]) -> str | None:
        """A scalar's text; None for an empty value, ``~`` or ``null`` (unless quoted)."""
        key = id(node)
        if key in self._built:
            self._alias(node, active)
            return None
        self._built.add(key)
        value: str = node.value
        if node.style is None and value in _NULL_SCALARS:
            return None
        return value

    def build(self, node: yaml.Node, path: LocPath, active: frozenset[int]) -> Any:
        """The value of ``node`` found at ``path``; ``active`` holds the nodes being built."""
        if isinstance(node, yaml.ScalarNode):
            return self._scalar(node, active)
        if id(node) in self._built:
            self._alias(node, active)
            return None
        self._built.add(id(node))
        active = active | {id(node)}
        if isinstance(node, yaml.SequenceNode):
            return self._sequence(node, path, active)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path, active)
        return None  # pragma: no cover - PyYAML only produces the three node kinds

    def _sequence(self, node: yaml.SequenceNode, path: LocPath, active: frozenset[int]) -> Any:
        result: list[Any] = []
        for index, child in enumerate(node.value):
            if type(child) is yaml.ScalarNode:
                result.append(self._scalar(child, active))
            else:
                result.append(self.build(child, (*path, index), active))
        return result

    def _mapping(self, node: yaml.MappingNode, path: LocPath, active: frozenset[int]) -> Any:
        result: dict[str, Any] = {}
        first_line: dict[str, int] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                self.problems.append((line, "field names must be plain words"))
                continue
            key = str(key_node.value)
            if key in first_line:
                self.problems.append(
                    (line, f"duplicate field '{key}' (first on line {first_line[key]})")
                )
                continue
            first_line[key] = line
            if type(value_node) is yaml.ScalarNode:
                result[key] = self._scalar(value_node, active)
            else:
                result[key] = self.build(value_node, (*path, key), active)
        return result


def _line_at(root: yaml.Node, path: LocPath) -> int:
    """The 1-based line of ``path`` in the tree, or of the longest part of it that exists.

    A field's line is its name's; a list entry's is its own. Of repeated field names the
    first counts, as in :meth:`_Located.build`.
    """
    node = root
    line = root.start_mark.line + 1
    for part in path:
        if isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if not 0 <= part < len(node.value):
                break
            node = node.value[part]
            line = node.start_mark.line + 1
        elif isinstance(node, yaml.MappingNode) and isinstance(part, str):
            found = next(
                (
                    (key, value)
                    for key, value in node.value
                    if isinstance(key, yaml.ScalarNode) and str(key.value) == part
                ),
                None,
            )
            if found is None:
                break
            line = found[0].start_mark.line + 1
            node = found[1]
        else:
            break
    return line


def _yaml_message(exc: yaml.YAMLError) -> tuple[int, str]:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line = mark.line + 1 if mark is not None else 1
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    message = f"invalid YAML: {problem}"
    context = getattr(exc, "context", None)
    context_mark = getattr(exc, "context_mark", None)
    if context and context_mark is not None and context_mark.line + 1 != line:
        what = str(context).removeprefix("while ")
        what = what.removeprefix("parsing ").removeprefix("scanning ")
        message += f" ({what} that starts on line {context_mark.line + 1})"
    if "mapping values are not allowed" in problem:
        message += " (check the indentation, or quote text that contains ': ')"
    elif "'\\t'" in problem:
        message += " (indent with spaces, not tabs)"
    return line, message


_TEXT_LOADER: type[yaml.CBaseLoader] | None = None
if yaml.__with_libyaml__:

    class _TextLoader(yaml.CBaseLoader):
        """libyaml without tag resolution (a deck reads every scalar as text anyway).

        Resolving implicit tags (is ``1`` a number, ``yes`` a boolean?) ran a few regular
        expressions in Python for every scalar: a third of the time of composing a deck.
        """

        def resolve(self, kind: type[yaml.Node], value: Any, implicit: Any) -> str:
            """The default tag of the node kind, without looking at the value."""
            if kind is yaml.ScalarNode:
                return str(self.DEFAULT_SCALAR_TAG)
            if kind is yaml.SequenceNode:
                return str(self.DEFAULT_SEQUENCE_TAG)
            return str(self.DEFAULT_MAPPING_TAG)

        def descend_resolver(self, current_node: Any, current_index: Any) -> None:
            """Nothing to track: there are no path resolvers."""

        def ascend_resolver(self) -> None:
            """Nothing to track: there are no path resolvers."""

    _TEXT_LOADER = _TextLoader


def _compose(text: str) -> yaml.Node | None:
    """The YAML node tree of ``text``; raises :class:`yaml.YAMLError` or RecursionError.

    libyaml (when PyYAML was built with it) does the fast work; a document it refuses is
    parsed again in pure Python, so every error keeps the messages :func:`_yaml_message`
    knows. libyaml stops at 1000 levels of nesting, well before the C stack could.
    """
    if _TEXT_LOADER is not None:
        try:
            return yaml.compose(text, Loader=_TEXT_LOADER)
        except yaml.YAMLError:
            log.debug("libyaml refused the document; parsing it again for the message")
    return yaml.compose(text, Loader=yaml.SafeLoader)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a deck is built.

    A big deck makes millions of small objects (YAML nodes, dicts, models), none of them in
    reference cycles, and the collector's passes over that growing heap took about 40% of
    the time of loading a 20,000-item deck. Plain reference counting still frees garbage.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@dataclass(slots=True)
class _Loaded:
    deck: Deck | None
    problems: list[ContentProblem]
    slug_line: int = 1


@_collector_paused()
def _load(text: str, source: str) -> _Loaded:
    def problem(line: int, message: str) -> ContentProblem:
        return ContentProblem(file=source, line=line, message=message)

    too_deep = "the file nests lists or fields too deeply to be a deck"
    try:
        node = _compose(text)
    except yaml.YAMLError as exc:
        return _Loaded(None, [problem(*_yaml_message(exc))])
    except RecursionError:
        return _Loaded(None, [problem(1, too_deep)])
    if node is None:
        return _Loaded(None, [problem(1, "the file is empty")])
    located = _Located()
    try:
        data = located.build(node, (), frozenset())
    except RecursionError:
        return _Loaded(None, [problem(1, too_deep)])
    found = [problem(line, message) for line, message in located.problems]

    def line_of(path: LocPath) -> int:
        return _line_at(node, path)

    if not isinstance(data, dict):
        what = "a list" if isinstance(data, list) else "plain text"
        message = f"a deck must be a set of fields (deck, title, items), not {what}"
        return _Loaded(None, [*found, problem(line_of(()), message)])
    deck: Deck | None = None
    try:
        deck = Deck.model_validate(data)
    except ValidationError as exc:
        for error in _merge_missing(exc.errors()):
            path, message = _describe(error, data)
            if error["type"] == "duplicate_id":
                ctx = error.get("ctx") or {}
                message = _duplicate_id_message(str(ctx["id"]), line_of(("items", ctx["first"])))
            found.append(problem(line_of(path), message))
    found.extend(_raw_duplicate_ids(data, line_of, problem))

    # Each problem once, by line; the sort is stable, so one line keeps the order found.
    # (Not ``found.index``: that made a deck with thousands of problems quadratic.)
    problems = sorted(dict.fromkeys(found), key=lambda p: p.line)
    slug_line = line_of(("deck",))
    if problems:
        return _Loaded(None, problems, slug_line)
    return _Loaded(deck, [], slug_line)


def _duplicate_id_message(item_id: str, first_line: int) -> str:
    return f"item '{item_id}': duplicate id, already used on line {first_line}"


def _raw_duplicate_ids(
    data: dict[str, Any],
    line_of: Callable[[LocPath], int],
    problem: Callable[[int, str], ContentProblem],
) -> list[ContentProblem]:
    """Duplicate ids, found even when other item errors stop pydantic's deck-level check."""
    items = data.get("items")
    if not isinstance(items, list):
        return []
    first: dict[str, int] = {}
    found: list[ContentProblem] = []
    for index, raw in enumerate(items):
        item_id = raw.get("id") if isinstance(raw, dict) else None
        if not isinstance(item_id, str) or not item_id.strip():
            continue
        key = item_id.strip()
        if key in first:
            message = _duplicate_id_message(key, line_of(("items", first[key])))
            found.append(problem(line_of(("items", index, "id")), message))
        else:
            first[key] = index
    return found


def load_deck_text(text: str, source: str) -> tuple[Deck | None, list[ContentProblem]]:
    """Parse and validate deck YAML; ``source`` names the file in problems.

    Returns the deck and no problems, or ``None`` and at least one problem.
    """
    loaded = _load(text, source)
    return loaded.deck, loaded.problems


def not_utf8_message(data: bytes, error: UnicodeDecodeError) -> tuple[int, str]:
    """(1-based line, "isn't UTF-8 text (line L, byte offset B)") for bytes that failed to decode.

    ``error`` comes from ``data.decode(...)``; a ``utf-8-sig`` BOM it skipped is counted.
    """
    offset = error.start + len(data) - len(error.object)
    line = data.count(b"\n", 0, offset) + 1
    return line, f"isn't UTF-8 text (line {line}, byte offset {offset})"


def _unreadable(path: Path) -> str | None:
    """Why ``path`` cannot be a deck file (broken link, folder, not a file), or None."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        if path.is_symlink():
            try:
                target = str(path.readlink())
            except OSError:
                target = "a file"
            return (
                f"broken link: it points to {target}, which doesn't exist; "
                "fix the link or remove it"
            )
        return "the file disappeared while the decks were loading; check it again"
    except OSError as exc:
        return _read_error(exc)
    if stat.S_ISDIR(mode):
        return "this is a folder, not a deck file; decks must be files directly in the folder"
    if not stat.S_ISREG(mode):
        return "this is not a regular file (a pipe or device?); decks must be plain text files"
    return None


def _read_error(exc: OSError) -> str:
    if isinstance(exc, PermissionError):
        return "cannot read the file: permission denied; make it readable (chmod a+r)"
    return f"cannot read the file: {exc.strerror or exc.__class__.__name__}"


def _load_path(path: Path) -> _Loaded:
    source = str(path)
    reason = _unreadable(path)
    if reason is not None:
        return _Loaded(None, [ContentProblem(source, 1, reason)])
    try:
        data = path.read_bytes()
    except OSError as exc:
        return _Loaded(None, [ContentProblem(source, 1, _read_error(exc))])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line, wording = not_utf8_message(data, exc)
        return _Loaded(
            None, [ContentProblem(source, line, f"the file {wording}; save it as UTF-8")]
        )
    return _load(text, source)


def load_deck_file(path: Path) -> tuple[Deck | None, list[ContentProblem]]:
    """Load one deck file (see :func:`load_deck_text`); unreadable files are problems too."""
    loaded = _load_path(path)
    return loaded.deck, loaded.problems


# --------------------------------------------------------------------------- library


@dataclass(slots=True)
class DeckLibrary:
    """Every deck that loaded cleanly, plus the problems of those that did not."""

    decks: list[Deck] = field(default_factory=list)
    problems: list[ContentProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no file had a problem."""
        return not self.problems

    def items(self) -> Iterator[tuple[Deck, AnyItem]]:
        """Every (deck, item) pair, in deck then file order."""
        for deck in self.decks:
            for item in deck.items:
                yield deck, item

    def get_deck(self, slug: str) -> Deck | None:
        """The deck with this slug, if it loaded."""
        return next((deck for deck in self.decks if deck.deck == slug), None)


def deck_files(directory: Path) -> list[Path]:
    """The deck files directly in ``directory``, sorted by name.

    Every name ending in ``.yaml`` or ``.yml`` in any letter case (``.YAML`` too), except
    hidden ones (editors' ``.name.yaml`` swap files). Broken links, folders and unreadable
    files are listed too, so that loading reports them instead of skipping them unseen.
    Raises :class:`~bot.errors.ContentError` when the folder itself cannot be listed.
    """
    try:
        entries = list(directory.iterdir())
    except OSError as exc:
        reason = exc.strerror or exc.__class__.__name__
        raise ContentError(
            f"Cannot read the content folder {directory} ({reason}). Check its permissions."
        ) from None
    return sorted(
        path
        for path in entries
        if path.suffix.casefold() in DECK_SUFFIXES and not path.name.startswith(".")
    )


def load_deck_files(paths: Iterable[Path]) -> DeckLibrary:
    """Load several deck files; broken ones are skipped and their problems collected.

    A deck whose slug was already loaded from an earlier file is a problem as well.
    """
    library = DeckLibrary()
    origin: dict[str, str] = {}
    for path in paths:
        loaded = _load_path(path)
        problems = loaded.problems
        deck = loaded.deck
        if deck is not None and deck.deck in origin:
            message = f"deck '{deck.deck}' is already defined in {origin[deck.deck]}"
            problems = [ContentProblem(str(path), loaded.slug_line, message)]
            deck = None
        if deck is None:
            log.warning(
                # %r: a file name or message may hold control codes for the terminal.
                "Skipping deck file %r: %d problem(s), first: %r",
                str(path),
                len(problems),
                problems[0].message,
            )
            library.problems.extend(problems)
            continue
        origin[deck.deck] = str(path)
        library.decks.append(deck)
    return library


def load_library(directory: Path) -> DeckLibrary:
    """Load every deck in ``directory``; a broken deck never stops the others.

    Raises :class:`~bot.errors.ContentError` when the folder does not exist or cannot be
    listed. Files that cannot be decks (broken links, unreadable files, folders named
    ``*.yaml``) are problems in :attr:`DeckLibrary.problems`.
    """
    if not directory.is_dir():
        raise ContentError(
            f"Content folder {directory} not found. Set CONTENT_DIR or restore the content/ folder."
        )
    files = deck_files(directory)
    if not files:
        log.warning("No deck files (*.yaml) in %s", directory)
    library = load_deck_files(files)
    log.info(
        "Loaded %d deck(s) with %d item(s) from %s; %d problem(s)",
        len(library.decks),
        sum(len(deck.items) for deck in library.decks),
        directory,
        len(library.problems),
    )
    return library


def export_items(library: DeckLibrary) -> list[dict[str, Any]]:
    """One JSON-able object per item: ``id`` is ``"<deck>/<item id>"``, ``answer`` is text.

    Keys: ``id``, ``deck``, ``deck_title``, ``item_id``, ``kind``, ``prompt``, ``options``,
    ``answer`` (correct option text, flashcard back or model answer), ``difficulty``; for
    choice items also ``answer_letter`` and ``correct_index``; then the item's other fields.
    """
    exported: list[dict[str, Any]] = []
    for deck, item in library.items():
        entry: dict[str, Any] = {
            "id": f"{deck.deck}/{item.id}",
            "deck": deck.deck,
            "deck_title": deck.title,
            "item_id": item.id,
            "kind": item.kind,
            "prompt": item.prompt,
            "options": list(item.options),
            "answer": item.answer_text,
            "difficulty": item.difficulty,
        }
        if isinstance(item, ChoiceItem):
            entry["answer_letter"] = item.answer
            entry["correct_index"] = item.correct_index
        for key, value in item_to_dict(item).items():
            entry.setdefault(key, value)
        exported.append(entry)
    return exported
