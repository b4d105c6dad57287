"""The small rules every imported question follows, from an Anki package or a text file.

A deck name made from another app's deck (:func:`deck_slug`), the source key of a question
without an id (:func:`text_key`) and the item id of a key (:func:`item_id`), the tags an
item may carry (:func:`clean_tags`) and a validated item that fits one Discord message
(:func:`build_item`, :func:`length_problem`).

Pure: values in, values out.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

from bot.core.content import MAX_TAGS, AnyItem, Flashcard, Typed, parse_item
from bot.core.question_drafts import (
    MAX_EXPLANATION,
    MAX_OPTION,
    MAX_QUESTION,
    check_lengths,
    question_key,
)
from bot.errors import BadInput

#: The longest accepted answer of a typed question (an option's limit).
MAX_ANSWER = MAX_OPTION
DEFAULT_DECK = "default"

_NOT_SLUG = re.compile(r"[^a-z0-9]+")
_TAG_SPACES = re.compile(r"\s+")
_TAG_INVISIBLE = re.compile(r"[\u00ad\u200b-\u200f\u2060-\u2064\ufeff]+")


def deck_slug(name: str) -> str:
    """A server deck name for an Anki deck: ``Biology::Cells`` → ``biology-cells``.

    Accents are dropped and anything else becomes dashes; "Default" or no name is
    ``default``; a name with no Latin letters or digits is ``deck-<hash>``; a long one is cut
    to 41 characters ending in a hash, so two long names stay apart.
    """
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = _NOT_SLUG.sub("-", ascii_name.casefold()).strip("-")
    digest = hashlib.sha1(name.encode()).hexdigest()[:6]
    if not name.strip():
        return DEFAULT_DECK
    if not slug:
        return f"deck-{digest}"
    if len(slug) < 2:
        return f"deck-{slug}"
    if len(slug) > 41:
        return f"{slug[:34].rstrip('-')}-{digest}"
    return slug


def text_key(question: str) -> str:
    """The source key of a question that has no id of its own: a hash of its text."""
    return "text:" + hashlib.sha1(question_key(question).encode()).hexdigest()[:24]


def clean_tags(tags: Iterable[str]) -> tuple[list[str], bool]:
    """Tags an item may carry (spaces inside become ``_``, invisible characters go, 1–60
    characters, at most 20), and whether some were left out for the limit of 20."""
    cleaned: dict[str, str] = {}
    for tag in tags:
        tidy = _TAG_SPACES.sub("_", _TAG_INVISIBLE.sub("", tag).strip())[:60]
        if tidy:
            cleaned.setdefault(tidy.casefold(), tidy)
    kept = list(cleaned.values())
    return kept[:MAX_TAGS], len(kept) > MAX_TAGS


def length_problem(item: AnyItem) -> str | None:
    """What is too long in ``item`` for one Discord message, or None."""
    try:
        check_lengths(item)
    except BadInput as error:
        return f"{error.message}; shorten it"
    limits: list[tuple[str, str | None, int]] = []
    if isinstance(item, Flashcard):
        limits = [("front", item.front, MAX_QUESTION), ("back", item.back, MAX_EXPLANATION)]
    elif isinstance(item, Typed):
        limits = [
            ("question", item.question, MAX_QUESTION),
            *(("answer", answer, MAX_ANSWER) for answer in item.answers),
            ("explanation", item.explanation, MAX_EXPLANATION),
            ("hint", item.hint, MAX_OPTION),
        ]
    for name, text, limit in limits:
        if text is not None and len(text) > limit:
            return f"the {name} is too long ({len(text)} characters, at most {limit}); shorten it"
    return None


def build_item(raw: Mapping[str, Any]) -> AnyItem:
    """A validated flashcard or typed question from ``raw``; raises :class:`BadInput`.

    The message has no item name (the caller names the note or line).
    """
    try:
        item = parse_item(raw)
    except BadInput as error:
        raise BadInput(re.sub(r"^item '[^']*': ", "", error.message)) from None
    problem = length_problem(item)
    if problem is not None:
        raise BadInput(problem)
    return item


def item_id(key: str) -> str:
    """A deterministic item id for a source key (the bank gives stored items its own)."""
    return "i-" + hashlib.sha1(key.encode()).hexdigest()[:12]
