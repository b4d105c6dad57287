"""The ``content`` command: check and export study decks.

``python -m bot content check [PATH...]``
    Validate deck files (or every ``*.yaml`` in the given folders; by default the configured
    content folder). Prints one ``file:line: message`` line per problem on stdout and a
    summary on stderr. Exit status: 0 all good, 1 problems found, 2 bad usage, a missing
    path or a folder without deck files.

``python -m bot content export [PATH...] [-o FILE]``
    Print (or write) every item as a JSON list, see :func:`bot.core.deck_files.export_items`.
    Refuses (exit status 1) while any deck has problems.

Problems quote the files, so they are printed through
:func:`bot.console.render.safe_text` (a deck cannot send control sequences to the
terminal); in exported JSON such characters are written as ``\\uXXXX`` escapes.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from bot.console.render import BIDI_CONTROLS, safe_text
from bot.core.content import Explain
from bot.core.deck_files import DeckLibrary, deck_files, export_items, load_deck_files
from bot.core.grading import close_concepts
from bot.errors import ContentError
from bot.log import get_logger
from bot.semantic.meaning import SentenceMeaning

log = get_logger(__name__)

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_USAGE = 2

#: Characters ``json.dumps(ensure_ascii=False)`` writes as they are but a terminal obeys:
#: DEL, C1 controls and bidi controls (C0 controls are escaped by json already).
_JSON_UNSAFE = re.compile("[\x7f-\x9f" + "".join(chr(code) for code in BIDI_CONTROLS) + "]")


class _UsageError(Exception):
    """A path that does not exist, or no deck files at all."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot content",
        description="Check or export the study decks (YAML files in the content folder).",
    )
    commands = parser.add_subparsers(dest="command", metavar="{check,export}")
    check = commands.add_parser(
        "check", help="validate deck files and report problems as file:line: message"
    )
    check.add_argument("paths", nargs="*", type=Path, metavar="PATH", help="deck files or folders")
    export = commands.add_parser("export", help="print every item as JSON")
    export.add_argument("paths", nargs="*", type=Path, metavar="PATH", help="deck files or folders")
    export.add_argument(
        "-o", "--output", type=Path, metavar="FILE", help="write the JSON here instead of stdout"
    )
    return parser


def _display(path: Path) -> Path:
    """``path`` relative to the working directory when it lies below it."""
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        return path


def _deck_paths(paths: Sequence[Path], content_dir: Path) -> list[Path]:
    """Expand the command-line paths (default: the configured content folder) into files."""
    if not paths:
        if not content_dir.is_dir():
            raise _UsageError(
                f"Content folder {content_dir} not found. "
                "Set CONTENT_DIR or restore the content/ folder."
            )
        paths = [_display(content_dir)]
    files: list[Path] = []
    seen: set[Path] = set()
    for path in paths:
        if path.is_dir():
            found = deck_files(path)
            if not found:
                raise _UsageError(f"No deck files (*.yaml, *.yml) in {path}.")
        elif path.is_file():
            found = [path]
        else:
            raise _UsageError(f"{path}: no such file or folder.")
        for file in found:
            key = file.resolve()
            if key not in seen:
                seen.add(key)
                files.append(file)
    return files


@contextmanager
def _quiet_loader() -> Iterator[None]:
    """The CLI prints every problem itself, so silence the loader's summary warnings."""
    logger = logging.getLogger("bot.core.content")
    previous = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(previous)


def _err(message: object) -> None:
    sys.stderr.write(safe_text(f"{message}\n"))


def _out(message: object) -> None:
    sys.stdout.write(safe_text(f"{message}\n"))
    sys.stdout.flush()


def _json_text(items: object) -> str:
    """``items`` as indented JSON that is safe to print: unsafe characters as escapes."""
    text = json.dumps(items, indent=2, ensure_ascii=False)
    # They only occur inside JSON strings, where an escape means the same character.
    return _JSON_UNSAFE.sub(lambda match: f"\\u{ord(match[0]):04x}", text)


def _load(paths: Sequence[Path], content_dir: Path) -> tuple[DeckLibrary, int]:
    files = _deck_paths(paths, content_dir)
    with _quiet_loader():
        library = load_deck_files(files)
    return library, len(files)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def concept_warnings(library: DeckLibrary, meaning: SentenceMeaning) -> list[str]:
    """Explain items whose concepts are too close in meaning to be told apart."""
    warnings: list[str] = []
    for deck, item in library.items():
        if not isinstance(item, Explain) or len(item.concepts) < 2:
            continue
        for first, second, value in close_concepts(item.concepts, meaning.similarities):
            warnings.append(
                f"warning: {deck.deck}/{item.id}: concepts '{first}' and '{second}' mean "
                f"almost the same (similarity {value:.2f}); an answer earns both or neither. "
                "Merge them or give them different examples."
            )
    return warnings


def _check(paths: Sequence[Path], content_dir: Path, model: str) -> int:
    library, file_count = _load(paths, content_dir)
    for problem in library.problems:
        _out(problem)
    if any(isinstance(item, Explain) for _, item in library.items()):
        for warning in concept_warnings(library, SentenceMeaning(model)):
            _out(warning)
    item_count = sum(len(deck.items) for deck in library.decks)
    if library.problems:
        broken = len({problem.file for problem in library.problems})
        _err(
            f"Found {_plural(len(library.problems), 'problem')} in "
            f"{broken} of {_plural(file_count, 'deck file')}."
        )
        return EXIT_PROBLEMS
    _err(f"All good: {_plural(len(library.decks), 'deck')}, {_plural(item_count, 'item')}.")
    return EXIT_OK


def _export(paths: Sequence[Path], output: Path | None, content_dir: Path) -> int:
    library, _ = _load(paths, content_dir)
    if library.problems:
        for problem in library.problems:
            _err(problem)
        _err("Nothing exported: fix the problems above first.")
        return EXIT_PROBLEMS
    items = export_items(library)
    text = _json_text(items)
    if output is None:
        try:
            _out(text)
        except BrokenPipeError:  # e.g. piped into `head`; the reader has gone away
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    try:
        output.write_text(text + "\n", encoding="utf-8")
    except OSError as exc:
        _err(f"Cannot write {output}: {exc.strerror or exc}")
        return EXIT_USAGE
    _err(f"Wrote {_plural(len(items), 'item')} to {output}.")
    return EXIT_OK


def main(argv: list[str], *, content_dir: Path, model: str = "wordllama") -> int:
    """Run ``content`` with ``argv`` (the arguments after ``content``); return the exit status.

    ``content_dir`` is the configured content folder, checked when no path is given;
    ``model`` the sentence model that warns about explain concepts too close to tell apart.
    """
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help or a usage error; argparse already printed
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    try:
        if args.command == "check":
            return _check(args.paths, content_dir, model)
        if args.command == "export":
            return _export(args.paths, args.output, content_dir)
    except _UsageError as exc:
        _err(exc)
        return EXIT_USAGE
    except ContentError as exc:  # a folder that cannot be listed
        _err(exc.message)
        return EXIT_USAGE
    parser.print_help(sys.stderr)
    return EXIT_USAGE
