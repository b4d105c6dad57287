"""``python -m bot grade ITEM_ID "answer text" [--json]``: grade one explanation.

Grades ``answer text`` against the explain item ``ITEM_ID`` of the loaded decks (the
content folder; ``DECK/ITEM_ID`` when two decks share an id) with the bot's own grader:
phrase rules or meaning (the sentence model of ``GRADING_MODEL``), negation and direction
checks, misconceptions. Prints the verdict for people, or with ``--json`` one line::

    {"item": "…", "score": 2, "out_of": 3,
     "concepts": [{"name": "…", "hit": true, "evidence": "…"}, …],
     "misconceptions": ["…"]}

An unknown item, a non-explain item or an empty answer is a one-line error and exit 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.console.render import safe_text
from bot.core.content import Explain
from bot.core.deck_files import load_library
from bot.core.grading import Coverage
from bot.errors import ContentError
from bot.semantic.meaning import SentenceMeaning

#: Longest answer graded (the bot's own limit for an explanation).
MAX_ANSWER_CHARS = 2000


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f'{message}. Usage: python -m bot grade ITEM_ID "answer text" [--json]\n')


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m bot grade",
        description="Grade one answer to an explain item of the loaded decks.",
    )
    parser.add_argument("item", help="the explain item's id (or DECK/ITEM_ID)")
    parser.add_argument("answer", help="the answer text, in quotes")
    parser.add_argument("--json", action="store_true", help="print one line of JSON")
    return parser


def find_explain(content_dir: Path, wanted: str) -> Explain:
    """The explain item ``wanted`` (``ID`` or ``DECK/ID``); raises ValueError with a message."""
    deck_slug, _, item_id = wanted.rpartition("/")
    library = load_library(content_dir)
    matches = [
        (deck.deck, item)
        for deck, item in library.items()
        if item.id == item_id and (not deck_slug or deck.deck == deck_slug)
    ]
    if not matches:
        raise ValueError(f"No item '{wanted}' in the decks under {content_dir}.")
    if len(matches) > 1:
        decks = ", ".join(f"{deck}/{item_id}" for deck, _ in matches)
        raise ValueError(f"'{wanted}' is in several decks; name one: {decks}.")
    _, item = matches[0]
    if not isinstance(item, Explain):
        raise ValueError(f"'{wanted}' is a {item.kind} item; only explain items are graded.")
    return item


def as_json(item_id: str, coverage: Coverage) -> str:
    """The one-line JSON verdict."""
    return json.dumps(
        {
            "item": item_id,
            "score": len(coverage.covered),
            "out_of": coverage.total,
            "concepts": [
                {"name": r.name, "hit": r.hit, "evidence": r.evidence} for r in coverage.concepts
            ],
            "misconceptions": [m.wrong for m in coverage.misconceptions],
        },
        ensure_ascii=False,
    )


def as_text(item_id: str, coverage: Coverage) -> str:
    """The verdict for people: the score, each concept with its evidence, misconceptions."""
    lines = [f"{item_id}: {len(coverage.covered)}/{coverage.total} concepts"]
    for result in coverage.concepts:
        if result.hit:
            lines.append(f"  ✓ {result.name} ({result.via}): {result.evidence}")
        else:
            lines.append(f"  · {result.name}: not found")
    for found in coverage.misconceptions:
        lines.append(f"  ! {found.wrong}: {found.evidence}")
        lines.append(f"    {found.correction}")
    if not coverage.by_meaning:
        lines.append("  (phrase rules only: the sentence model is off or unavailable)")
    return "\n".join(safe_text(line) for line in lines)


def main(argv: Sequence[str], *, content_dir: Path, model: str) -> int:
    """Run the command; the exit code."""
    args = _parser().parse_args(list(argv))
    answer = args.answer.strip()
    if not answer:
        sys.stderr.write("The answer is empty. Put the answer text in quotes.\n")
        return 2
    if len(answer) > MAX_ANSWER_CHARS:
        sys.stderr.write(f"The answer is too long; keep it under {MAX_ANSWER_CHARS} characters.\n")
        return 2
    try:
        item = find_explain(content_dir, args.item)
    except (ValueError, ContentError) as problem:
        sys.stderr.write(f"{problem}\n")
        return 2
    coverage = SentenceMeaning(model).grade(item, answer)
    print(as_json(item.id, coverage) if args.json else as_text(item.id, coverage))
    return 0
