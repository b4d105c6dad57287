"""Checking a typed answer against a question's accepted answers: forgiving and predictable.

Both the member's answer and every accepted answer are folded the same way
(:func:`normalize_answer`):

* Unicode compatibility forms are unified and accents dropped (NFKD, then the combining
  marks go: "Café" = "cafe", "ﬁ" = "fi"), and case is folded ("Straße" = "STRASSE");
* apostrophes vanish ("don't" = "dont"), ``&`` reads as "and", and every other punctuation
  mark or symbol separates words ("well-known" = "well known");
* one leading English article (*a*, *an*, *the*) is dropped when words follow it ("The
  Beatles" = "Beatles"). Other languages' articles are kept on purpose: in a language deck
  *der Hund* versus *die Hund* is the point, and names such as "Los Angeles", "El Salvador"
  or "Le Mans" must stay whole;
* the words are compared without the spaces between them ("ice cream" = "icecream"), except
  that two numbers stay apart ("1 2" is not "12").

Then, in this order:

1. **Numbers** are compared by value, never by spelling. An answer that is a number with an
   optional unit ("0.5", ".5", "0,5", "1,000", "-3", "5 kg", "5kg", "50%") matches an
   accepted number of the same value: "15" never matches "16". A comma followed by groups of
   exactly three digits separates thousands ("1,000" = 1000, "12,345" = 12345) unless the
   number starts with "0,"; any other comma is a decimal comma ("0,5" = 0.5, "3,14" =
   3.14); spaces between groups of three digits separate thousands too ("1 000").
   Currency symbols are ignored ("$5" = "5"); "1e3" is not a number. ``fractions`` (the
   author's choice) reads "1/2", "1 1/2" and "½" as numbers too; without it "1/2" is only
   "1/2". The unit is whatever words follow the number ("%" reads "percent"): the same unit
   (give or take a plural "s") is exact, a unit typo as below is close enough ("meters" for
   "metres"), a unit on one side only is close enough ("5" for "5 kg") and two different
   units are wrong ("100 kph" is not "100 mph").
2. **Exact**: the folded answer equals a folded accepted answer. Every accepted answer is
   tried before any typo is forgiven, so a typed answer that *is* an accepted one always
   matches that one.
3. **Typos**: otherwise the accepted answer nearest in Damerau–Levenshtein distance (a swap
   of two neighbouring letters is one edit), if within :func:`typo_allowance` of its folded
   length: no edit up to 4 characters, 1 up to 8, 2 beyond. A typo never touches a number:
   both answers must hold the same digit runs ("Apolo 11" is close to "Apollo 11", "Apollo
   12" never is). Ties go to the accepted answer listed first.

No I/O; HTML left in imported answers is the importer's business.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from rapidfuzz.distance import DamerauLevenshtein

#: Leading words dropped when more words follow them.
LEADING_ARTICLES = frozenset({"a", "an", "the"})
#: Folded length up to which no typo is forgiven, and up to which one is.
NO_TYPO_UP_TO = 4
ONE_TYPO_UP_TO = 8
#: Typos forgiven in longer answers.
MAX_TYPOS = 2

_APOSTROPHES = "'\u2018\u2019\u02bc`\u00b4"
_WORD = re.compile(r"[^\W_]+")
_DIGITS = re.compile(r"\d+")
_MINUS = "\u2212\u2012\u2013-"  # the ASCII hyphen last: literal in a [...] class
_SIGN = rf"(?P<sign>[+{_MINUS}])?\s*"
#: "1,000" and "12,345.5" (not "0,500": that is a decimal comma).
_COMMA_THOUSANDS = re.compile(r"[1-9]\d{0,2}(?:,\d{3})+(?:\.\d+)?")
#: "1 000" and "1 000,5".
_SPACE_THOUSANDS = re.compile(r"[1-9]\d{0,2}(?: \d{3})+(?:[.,]\d+)?")
_PLAIN_NUMBER = re.compile(
    rf"{_SIGN}(?P<value>{_COMMA_THOUSANDS.pattern}|{_SPACE_THOUSANDS.pattern}|\d*[.,]\d+|\d+)"
    r"(?P<rest>.*)",
    re.DOTALL,
)
_FRACTION = re.compile(
    rf"{_SIGN}(?:(?P<whole>\d+)\s+)?(?P<top>\d+)\s*/\s*(?P<bottom>\d+)(?P<rest>.*)", re.DOTALL
)
#: Apostrophes vanish, "&" reads as "and", the fraction slash is a slash and the dotless
#: i is an i without its dot (as "I" folds to "i").
_FOLDS = str.maketrans({"&": " and ", "\u2044": "/", "\u0131": "i"} | dict.fromkeys(_APOSTROPHES))
#: No-break and thin spaces that may separate thousands.
_SPACES = str.maketrans({"\u00a0": " ", "\u202f": " ", "\u2009": " "})


@dataclass(frozen=True, slots=True)
class TypedCheck:
    """The verdict on one typed answer.

    ``matched`` is the accepted answer (as the author wrote it) the answer was taken for,
    None when it is wrong. ``exact`` means no forgiveness was needed beyond the folding;
    ``typos`` counts the edits forgiven. A correct, inexact answer is "close enough".
    """

    correct: bool
    exact: bool
    matched: str | None
    typos: int = 0


@dataclass(frozen=True, slots=True)
class _Number:
    value: Fraction
    unit: str


@dataclass(frozen=True, slots=True)
class _Folded:
    """One answer folded for comparing: its key and, when it is one, its number."""

    key: str
    number: _Number | None

    @property
    def digit_runs(self) -> list[str]:
        return _DIGITS.findall(self.key)


def _fold_text(text: str) -> str:
    """Compatibility forms, accents, case, ``&`` and apostrophes (the steps before words)."""
    # Case first ("ᾀ" folds to "ἀι" as its capital "ἈΙ" does), again after NFKD ("ℌ" → "H").
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return bare.casefold().translate(_FOLDS)


def _join(words: Sequence[str]) -> str:
    """Words without spaces between them, except between two numbers."""
    key = ""
    for word in words:
        if key and key[-1].isdigit() and word[0].isdigit():
            key += " "
        key += word
    return key


def _key(folded: str) -> str:
    words = _WORD.findall(folded)
    if len(words) > 1 and words[0] in LEADING_ARTICLES:
        words = words[1:]
    # An answer of punctuation only ("?!") is compared as it was typed.
    return _join(words) or " ".join(folded.split())


def normalize_answer(text: str) -> str:
    """The comparison key of a typed or accepted answer (see the module docstring).

    >>> normalize_answer("  The Café-au-lait! ")
    'cafeaulait'
    """
    return _key(_fold_text(text))


def typo_allowance(length: int) -> int:
    """How many edits are forgiven in an accepted answer whose key has ``length`` characters."""
    if length <= NO_TYPO_UP_TO:
        return 0
    if length <= ONE_TYPO_UP_TO:
        return 1
    return MAX_TYPOS


def _unit_key(rest: str) -> str | None:
    """The folded unit after a number ("" for none); None when the rest is not a unit."""
    key = _join(_WORD.findall(rest.replace("%", " percent ")))
    if key[:1].isdigit() or rest.lstrip()[:1] in ("/", ",", "."):
        return None if key else ""
    return key


def _decimal(digits: str) -> Fraction:
    """The value of a matched number without sign: thousands separators out, comma decimals."""
    if _COMMA_THOUSANDS.fullmatch(digits):
        return Fraction(digits.replace(",", ""))
    if _SPACE_THOUSANDS.fullmatch(digits):
        return Fraction(digits.replace(" ", "").replace(",", "."))
    return Fraction(digits.replace(",", "."))


def _parse_number(folded: str, *, fractions: bool) -> _Number | None:
    """A number with an optional unit, or None (see rule 1 of the module docstring)."""
    text = "".join(" " if unicodedata.category(c) == "Sc" else c for c in folded)
    text = text.translate(_SPACES).strip()
    match = _FRACTION.fullmatch(text) if fractions else None
    if match is not None and int(match["bottom"]) != 0:
        value = int(match["whole"] or 0) + Fraction(int(match["top"]), int(match["bottom"]))
    else:
        match = _PLAIN_NUMBER.fullmatch(text)
        if match is None:
            return None
        value = _decimal(match["value"])
    unit = _unit_key(match["rest"])
    if unit is None:
        return None
    negative = match["sign"] is not None and match["sign"] in _MINUS
    return _Number(value=-value if negative else value, unit=unit)


def _fold(text: str, *, fractions: bool) -> _Folded:
    folded = _fold_text(text)
    return _Folded(key=_key(folded), number=_parse_number(folded, fractions=fractions))


def _unit_typos(typed: str, accepted: str) -> int | None:
    """Edits between two units (a plural "s" is none); None when they are different units."""
    if _singular(typed) == _singular(accepted):
        return 0
    allowed = typo_allowance(len(accepted))
    distance = DamerauLevenshtein.distance(typed, accepted, score_cutoff=allowed)
    return distance if distance <= allowed else None


def _singular(unit: str) -> str:
    return unit[:-1] if len(unit) > 1 and unit.endswith("s") else unit


def _number_match(typed: _Number, accepted: _Number) -> tuple[bool, int] | None:
    """(exact, typos) for two numbers: a unit on one side only is inexact without typos;
    None when the values or the units differ."""
    if typed.value != accepted.value:
        return None
    if not typed.unit or not accepted.unit:
        return (typed.unit == accepted.unit, 0)
    typos = _unit_typos(typed.unit, accepted.unit)
    return None if typos is None else (typos == 0, typos)


def check_typed(answer: str, accepted: Sequence[str], *, fractions: bool = False) -> TypedCheck:
    """Whether ``answer`` counts as one of ``accepted`` (rules in the module docstring).

    >>> check_typed("gradiant", ["gradient"])
    TypedCheck(correct=True, exact=False, matched='gradient', typos=1)
    """
    typed = _fold(answer, fractions=fractions)
    close: list[tuple[int, int, str]] = []
    for position, text in enumerate(accepted):
        wanted = _fold(text, fractions=fractions)
        exact = False
        typos: int | None = None
        if typed.number is not None and wanted.number is not None:
            match = _number_match(typed.number, wanted.number)
            if match is not None:
                exact, typos = match
        elif typed.key == wanted.key:
            typos, exact = 0, True
        else:
            typos = _text_typos(typed, wanted)
        if exact:
            return TypedCheck(correct=True, exact=True, matched=text)
        if typos is not None:
            close.append((typos, position, text))
    if not close:
        return TypedCheck(correct=False, exact=False, matched=None)
    typos, _position, text = min(close)
    return TypedCheck(correct=True, exact=False, matched=text, typos=typos)


def _text_typos(typed: _Folded, wanted: _Folded) -> int | None:
    """Edits between two keys within the allowance, never touching digits; else None."""
    if typed.digit_runs != wanted.digit_runs:
        return None
    allowed = typo_allowance(len(wanted.key))
    if not allowed:
        return None
    distance = DamerauLevenshtein.distance(typed.key, wanted.key, score_cutoff=allowed)
    return distance if distance <= allowed else None
