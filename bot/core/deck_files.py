"""Deck files and folders: YAML into validated decks, with every problem by line.

:func:`load_deck_text` turns every mistake into a :class:`~bot.core.content.ContentProblem`;
:func:`load_library` loads a whole folder (``.yaml``/``.yml`` in any letter case), skipping
broken decks and reporting every file it cannot use. YAML is parsed by libyaml when PyYAML
has it (about twenty times faster); a file libyaml refuses is parsed again by the
pure-Python parser, whose error messages the problems quote.

This module must not import discord, tensorflow or sqlalchemy.
"""

from __future__ import annotations

import gc
import stat
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from bot.core.content import (
    DECK_SUFFIXES,
    NULL_SCALARS,
    AnyItem,
    ChoiceItem,
    ContentProblem,
    Deck,
    LocPath,
    describe_error,
    item_to_dict,
    merge_missing_errors,
)
from bot.errors import ContentError
from bot.log import get_logger

log = get_logger(__name__)


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
        if node.style is None and value in NULL_SCALARS:
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
        for error in merge_missing_errors(exc.errors()):
            path, message = describe_error(error, data)
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
