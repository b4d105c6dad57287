"""Concept-coverage grading for "explain" answers.

An explain item lists a few *concepts*, each with phrases that express it. An answer covers
a concept when one of its phrases occurs in the answer, compared after normalisation:

* lower-case, Unicode-normalised, apostrophes and possessive ``'s`` dropped;
* split into words on anything that is not a letter or digit (``apply_gradients`` →
  ``apply gradients``, ``step-by-step`` → ``step by step``);
* a few filler words are ignored on both sides (articles, possessive determiners and the
  forms of "be"/"get", see :data:`IGNORED_WORDS`), so "adjust the weights" matches
  "adjusts its weights" and "weights are adjusted" matches "weights adjusted";
* every word is reduced by a small, predictable suffix stripper (:func:`stem`):
  "updating", "updated", "updates", "update" → ``updat``; "weights" → ``weight``;
  "predictions" → ``predict``; "minimise"/"minimizing" → ``minimiz``.

A phrase matches when its words appear as a contiguous run in the answer's words. The
grader is deterministic and has no notion of negation ("does not reduce the loss" still
contains "reduce the loss"); it measures coverage, not truth.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.core.content import Concept

#: Words dropped from both answers and phrases before matching.
IGNORED_WORDS: frozenset[str] = frozenset(
    {
        "a",
        "an",
        "the",
        "its",
        "their",
        "our",
        "your",
        "my",
        "his",
        "her",
        "this",
        "that",
        "these",
        "those",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "get",
        "gets",
        "got",
        "gotten",
        "getting",
    }
)

#: (suffix, replacement) pairs; the first suffix that leaves a stem of at least
#: :data:`_MIN_STEM` characters is applied, once.
_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("izations", "iz"),
    ("isations", "iz"),
    ("ization", "iz"),
    ("isation", "iz"),
    ("izers", "iz"),
    ("isers", "iz"),
    ("izer", "iz"),
    ("iser", "iz"),
    ("izing", "iz"),
    ("ising", "iz"),
    ("ized", "iz"),
    ("ised", "iz"),
    ("izes", "iz"),
    ("ises", "iz"),
    ("ize", "iz"),
    ("ise", "iz"),
    ("ments", ""),
    ("ment", ""),
    ("ions", ""),
    ("ion", ""),
    ("ingly", ""),
    ("edly", ""),
    ("ings", ""),
    ("ing", ""),
    ("ies", "y"),
    ("ied", "y"),
    ("ers", ""),
    ("er", ""),
    ("ly", ""),
    ("es", ""),
    ("ed", ""),
    ("s", ""),
)
_MIN_STEM = 3
#: "ly" only comes off longer stems ("accurately" → "accurate", but "apply" stays).
_MIN_LY_STEM = 4
#: Plural "s" is kept after these endings ("loss", "focus", "analysis", "bias").
_KEEP_S_AFTER = ("ss", "us", "is", "as")
_VOWELS = frozenset("aeiouy")
_WORD_RE = re.compile(r"[^\W_]+")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'"})
_POSSESSIVE_RE = re.compile(r"'s\b")


def stem(word: str) -> str:
    """Reduce one lower-case word to its stem with a small, fixed set of suffix rules.

    Rules, in order: strip the first matching suffix from :data:`_SUFFIXES` (at most one),
    then drop a final ``e`` and collapse a final doubled consonant (``stopp`` → ``stop``).
    Words of three letters or fewer and numbers are returned unchanged.
    """
    if len(word) <= _MIN_STEM or not word.isalpha():
        return word
    result = word
    for suffix, replacement in _SUFFIXES:
        if not word.endswith(suffix):
            continue
        base = word[: -len(suffix)]
        if len(base) < _MIN_STEM:
            continue
        if suffix == "ly" and len(base) < _MIN_LY_STEM:
            continue
        if suffix == "s" and word.endswith(_KEEP_S_AFTER):
            continue
        if suffix == "ed" and word.endswith("eed"):
            continue
        if suffix in ("ed", "ing", "ings") and not _VOWELS.intersection(base):
            continue
        result = base + replacement
        break
    if len(result) > _MIN_STEM and result.endswith("e"):
        result = result[:-1]
    if (
        len(result) > _MIN_STEM
        and result[-1] == result[-2]
        and result[-1] not in _VOWELS
        and result[-1] not in "lsz"
    ):
        result = result[:-1]
    return result


def normalize_tokens(text: str) -> list[str]:
    """Split ``text`` into stemmed, lower-case words, dropping :data:`IGNORED_WORDS`.

    >>> normalize_tokens("The optimizer UPDATES the model's weights!")
    ['optimiz', 'updat', 'model', 'weight']
    """
    folded = unicodedata.normalize("NFKC", text).casefold().translate(_APOSTROPHES)
    folded = _POSSESSIVE_RE.sub("", folded).replace("'", "")
    return [stem(word) for word in _WORD_RE.findall(folded) if word not in IGNORED_WORDS]


def _contains_run(haystack: Sequence[str], needle: Sequence[str]) -> bool:
    """Whether ``needle`` occurs as a contiguous run inside ``haystack`` (empty never does)."""
    size = len(needle)
    if size == 0 or size > len(haystack):
        return False
    first = needle[0]
    return any(
        haystack[start] == first and list(haystack[start : start + size]) == list(needle)
        for start in range(len(haystack) - size + 1)
    )


def phrase_matches(answer_tokens: Sequence[str], phrase: str) -> bool:
    """Whether ``phrase`` occurs in an answer already passed through :func:`normalize_tokens`."""
    return _contains_run(answer_tokens, normalize_tokens(phrase))


@dataclass(frozen=True, slots=True)
class Coverage:
    """Which concepts (by name, in the item's order) an answer covered and which it missed."""

    covered: tuple[str, ...]
    missed: tuple[str, ...]

    @property
    def total(self) -> int:
        """How many concepts were checked."""
        return len(self.covered) + len(self.missed)

    @property
    def fraction(self) -> float:
        """Covered share between 0.0 and 1.0 (1.0 when there was nothing to cover)."""
        if self.total == 0:
            return 1.0
        return len(self.covered) / self.total

    @property
    def complete(self) -> bool:
        """True when no concept was missed."""
        return not self.missed

    def summary(self) -> str:
        """One friendly line, e.g. ``"You covered 2/3 concepts. Missed: loss function."``."""
        if self.total == 0:
            return "There were no concepts to check."
        if not self.missed:
            if self.total == 1:
                return "You covered the key concept."
            return f"You covered all {self.total} concepts."
        missed = ", ".join(self.missed)
        return f"You covered {len(self.covered)}/{self.total} concepts. Missed: {missed}."


def grade_explanation(answer: str, concepts: Sequence[Concept]) -> Coverage:
    """Grade a free-text ``answer`` by which ``concepts`` it mentions (see the module doc)."""
    tokens = normalize_tokens(answer)
    covered: list[str] = []
    missed: list[str] = []
    for concept in concepts:
        if any(phrase_matches(tokens, phrase) for phrase in concept.phrases):
            covered.append(concept.name)
        else:
            missed.append(concept.name)
    return Coverage(covered=tuple(covered), missed=tuple(missed))
