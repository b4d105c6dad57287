"""Grading "explain" answers by meaning: which concepts an answer states, and which wrong ideas.

An explain item lists a few *concepts* (a name, example sentences, optional phrases) and
may list *misconceptions* (a wrong idea and its correction). The answer is cut into
*units*: its sentences and, inside them, their clauses (split at ``;``, ``, so``,
``because``, ``which``, ``and``, ``but`` …). A concept is earned when one unit

* **contains one of its phrases** (compared after normalisation: lower-case,
  Unicode-normalised, apostrophes and possessive ``'s`` dropped, split into words on
  anything that is not a letter or digit, filler words dropped (:data:`IGNORED_WORDS`),
  British ``-ise`` spellings read as ``-ize``, every word stemmed by the Snowball English
  stemmer: "updating", "updated", "updates" → ``updat``); **or**
* **means the same** as the concept's name or one of its examples: the cosine similarity
  of their sentence vectors (a ``Similarity`` function, see :mod:`bot.semantic.meaning`)
  reaches :attr:`MeaningRules.concept`.

Either way the unit must agree in **polarity** with what it matched: a negation ("not",
"don't", "never", "no longer" …) or the opposite direction ("goes up", "increase",
"maximise" against "goes down", "reduce", "minimise") turns a statement around, so "the
weights don't change" never earns "weights are adjusted" and "the loss goes up" never earns
"the loss goes down". A unit that states a listed misconception (its similarity to the
wrong idea reaches :attr:`MeaningRules.misconception` and beats every concept) earns
nothing and the misconception is reported with its correction.

*Keyword salad* ("loss weights optimizer gradient": three or more words and no function
word at all) is not read for meaning, and all salad together earns at most one concept.

Without a ``Similarity`` (no model installed, or ``GRADING_MODEL=off``) only the phrase
rules apply, with the same polarity and misconception checks where they need no model.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import snowballstemmer

if TYPE_CHECKING:
    from bot.core.content import Concept, Misconception

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

#: Cosine similarities of ``texts`` (rows) to ``references`` (columns), or None without a
#: model. Implemented by :class:`bot.semantic.meaning.SentenceMeaning`.
Similarity = Callable[[Sequence[str], Sequence[str]], Sequence[Sequence[float]] | None]


@dataclass(frozen=True, slots=True)
class MeaningRules:
    """Similarity thresholds of one sentence model (tuned on the labelled answers)."""

    #: A unit earns a concept at this similarity to one of its references.
    concept: float = 0.62
    #: A unit states a misconception at this similarity to its wrong idea ...
    misconception: float = 0.78
    #: ... when that beats its best concept similarity by at least this much.
    margin: float = 0.0
    #: A unit that moves the same thing the same way as a directed reference ("the error
    #: falls" and "the loss goes down") earns it at this similarity of their topics.
    topic: float = 0.6
    #: A unit that moves a concept's topic the other way ("the error goes up") reverses it
    #: at this topic similarity (high: calling an answer wrong needs to be sure).
    reversal: float = 0.8


_STEMMER = snowballstemmer.stemmer("english")
_WORD_RE = re.compile(r"[^\W_]+")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'"})
_POSSESSIVE_RE = re.compile(r"'s\b")
#: British "-ise" verbs read as "-ize" ("minimise" → "minimize"), except real "-ise" words.
_BRITISH_RE = re.compile(r"^([a-z]{3,}?)is(e|es|ed|ing|er|ers|ation|ations)$")
_REAL_ISE = frozenset(
    {
        "advert",
        "exerc",
        "otherw",
        "prec",
        "prom",
        "conc",
        "surpr",
        "comprom",
        "expert",
        "franch",
        "merchand",
        "superv",
        "telev",
        "rev",
        "dev",
        "improv",
        "compr",
        "desp",
        "disgu",
        "enterpr",
        "pra",
        "prem",
        "ar",
        "no",
        "po",
        "cru",
        "bru",
        "treat",
        "parad",
        "porpo",
        "tortoi",
        "w",
        "r",
        "cl",
        "exc",
    }
)


@functools.lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """Snowball (Porter 2) English stem of one lower-case word; "-ise" read as "-ize".

    >>> [stem(w) for w in ("updating", "weights", "minimise", "minimizing")]
    ['updat', 'weight', 'minim', 'minim']
    """
    if not word.isalpha():
        return word
    british = _BRITISH_RE.match(word)
    if british and british.group(1) not in _REAL_ISE:
        word = f"{british.group(1)}iz{british.group(2)}"
    result: str = _STEMMER.stemWord(word)
    return result


#: Notes-style symbols read as the words they stand for ("less error = better guesses").
_SYMBOLS_RE = re.compile(r"\s*(?:=+>?|->|\u2192|\u21d2)\s*")


def _fold(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).casefold().translate(_APOSTROPHES)
    folded = _SYMBOLS_RE.sub(" is ", folded)
    return _POSSESSIVE_RE.sub("", folded)


def _words(text: str) -> list[str]:
    """Lower-case words of ``text`` with contractions joined ("don't" → "dont")."""
    return _WORD_RE.findall(_fold(text).replace("'", ""))


def normalize_tokens(text: str) -> list[str]:
    """Split ``text`` into stemmed, lower-case words, dropping :data:`IGNORED_WORDS`.

    >>> normalize_tokens("The optimizer UPDATES the model's weights!")
    ['optim', 'updat', 'model', 'weight']
    """
    return [stem(word) for word in _words(text) if word not in IGNORED_WORDS]


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


# -- polarity ---------------------------------------------------------------------------------

#: Words that turn a statement around (contractions arrive joined: "dont", "isnt").
NEGATIONS: frozenset[str] = frozenset(
    {
        "not",
        "no",
        "never",
        "nothing",
        "none",
        "neither",
        "nor",
        "without",
        "cannot",
        "cant",
        "dont",
        "doesnt",
        "didnt",
        "isnt",
        "arent",
        "wasnt",
        "werent",
        "wont",
        "wouldnt",
        "shouldnt",
        "couldnt",
        "hasnt",
        "havent",
        "hadnt",
        "aint",
        "nt",
    }
)
#: Stems that say "more / up" and "less / down" of a quantity (the loss, the error).
_UP = frozenset(
    stem(w)
    for w in (
        "up",
        "upward",
        "upwards",
        "increase",
        "rise",
        "grow",
        "higher",
        "highest",
        "bigger",
        "biggest",
        "larger",
        "maximize",
        "maximum",
        "high",
        "raise",
        "climb",
        "more",
    )
)
_DOWN = frozenset(
    stem(w)
    for w in (
        "down",
        "downward",
        "downwards",
        "downhill",
        "decrease",
        "reduce",
        "lower",
        "lowest",
        "smaller",
        "smallest",
        "less",
        "fewer",
        "least",
        "minimize",
        "minimum",
        "small",
        "low",
        "shrink",
        "drop",
        "fall",
        "decline",
        "zero",
    )
)
#: Stems that say "better" and "worse" (of predictions, of the model).
_BETTER = frozenset(stem(w) for w in ("better", "improve", "best"))
_WORSE = frozenset(stem(w) for w in ("worse", "worsen", "worst", "degrade", "poorer"))
#: Every direction word, dropped when two statements' topics are compared.
DIRECTION_STEMS = _UP | _DOWN | _BETTER | _WORSE


def _axis(stems: set[str], plus: frozenset[str], minus: frozenset[str]) -> int:
    up, down = bool(stems & plus), bool(stems & minus)
    return 1 if up and not down else -1 if down and not up else 0


@dataclass(frozen=True, slots=True)
class Polarity:
    """Whether a statement is negated, and the way it moves a quantity and a quality.

    ``direction``: +1 "up/more", −1 "down/less", 0 neither (or both); ``quality``: +1
    "better", −1 "worse", 0 neither.
    """

    negated: bool
    direction: int
    quality: int = 0

    def _signs(self) -> tuple[int, int]:
        flip = -1 if self.negated else 1
        return self.direction * flip, self.quality * flip

    @property
    def directed(self) -> bool:
        """Whether the statement moves a quantity or a quality one way."""
        return bool(self.direction or self.quality)

    def agrees_with(self, other: Polarity) -> bool:
        """False when one statement turns the other around (negation or direction)."""
        shared = False
        for mine, theirs in zip(self._signs(), other._signs(), strict=True):
            if mine and theirs:
                shared = True
                if mine != theirs:
                    return False
        return shared or self.negated == other.negated

    def same_direction(self, other: Polarity) -> bool:
        """Both move the same thing the same way (after negation), and nothing disagrees."""
        shared = any(
            mine and mine == theirs
            for mine, theirs in zip(self._signs(), other._signs(), strict=True)
        )
        return shared and self.agrees_with(other)


#: "up"/"down" after these verbs is part of the verb ("messed up", "set up", "write down").
_PHRASAL_UP = frozenset(
    stem(w)
    for w in [
        "mess",
        "set",
        "make",
        "sum",
        "end",
        "pick",
        "look",
        "add",
        "show",
        "back",
        "give",
        "wrap",
        "mix",
        "break",
        "come",
    ]
)
_PHRASAL_DOWN = frozenset(
    stem(w) for w in ["write", "break", "sit", "calm", "shut", "let", "narrow", "boil"]
)


def _direction_stems(words: Sequence[str]) -> set[str]:
    stems: set[str] = set()
    previous = ""
    for word in words:
        stemmed = stem(word)
        phrasal = (word == "up" and previous in _PHRASAL_UP) or (
            word == "down" and previous in _PHRASAL_DOWN
        )
        if not phrasal:
            stems.add(stemmed)
        previous = stemmed
    return stems


def polarity(text: str) -> Polarity:
    """The :class:`Polarity` of one unit of text (an odd number of negations negates)."""
    words = _words(text)
    negations = sum(1 for word in words if word in NEGATIONS)
    stems = _direction_stems(words)
    return Polarity(
        negated=negations % 2 == 1,
        direction=_axis(stems, _UP, _DOWN),
        quality=_axis(stems, _BETTER, _WORSE),
    )


#: Words that say how or why something moves, not what moves ("the aim is to bring the
#: error down" is about the error).
_TOPIC_STOP = frozenset(
    stem(w)
    for w in [
        "go",
        "goes",
        "going",
        "went",
        "gone",
        "make",
        "makes",
        "made",
        "making",
        "bring",
        "brings",
        "push",
        "pushes",
        "pushing",
        "keep",
        "keeps",
        "keeping",
        "try",
        "tries",
        "trying",
        "aim",
        "aims",
        "goal",
        "point",
        "idea",
        "whole",
        "job",
        "want",
        "wants",
        "should",
        "must",
        "possible",
        "towards",
        "toward",
        "heading",
        "end",
        "ends",
        "ending",
        "up",
        "just",
        "really",
        "basically",
        "always",
        "each",
        "every",
        "step",
        "steps",
        "time",
        "times",
        "bit",
        "little",
        "all",
        "way",
    ]
)


#: Words before and after a direction word that name what moves ("bring that mistake down").
TOPIC_WINDOW = (3, 2)


def _topic_word(word: str) -> bool:
    return (
        word not in NEGATIONS
        and word not in FUNCTION_WORDS
        and word not in IGNORED_WORDS
        and stem(word) not in DIRECTION_STEMS
        and stem(word) not in _TOPIC_STOP
    )


def topic(text: str) -> str:
    """What a directed statement moves: the content words next to its direction words.

    Without direction words, every content word. Function, negation and "how" words
    ("bring", "make", "aim") are left out.

    >>> topic("Training corrects the weights to bring that mistake down")
    'mistake'
    """
    words = _words(text)
    near: set[int] = set()
    before, after = TOPIC_WINDOW
    for index, word in enumerate(words):
        if stem(word) in DIRECTION_STEMS:
            near.update(range(max(0, index - before), min(len(words), index + after + 1)))
    chosen = [w for i, w in enumerate(words) if (not near or i in near) and _topic_word(w)]
    return " ".join(chosen)


def _first_content_stem(text: str) -> str | None:
    """The stem of the first word that is not a function or filler word (the subject)."""
    for word in _words(text):
        if word not in FUNCTION_WORDS and word not in IGNORED_WORDS:
            return stem(word)
    return None


def role_agents(concepts: Sequence[Concept], misconceptions: Sequence[Misconception]) -> set[str]:
    """Subjects that concepts and misconceptions give different jobs (the roles to check).

    "the loss measures the error" and "the loss function updates the weights" (a wrong
    idea) both start with *loss*; "the optimizer updates the weights" and "the optimizer
    measures the error" both with *optimizer*: a unit whose subject is one of them must
    have the concept's own subject to earn it.
    """
    concept_subjects = {_first_content_stem(c.name) for c in concepts}
    wrong_subjects = {_first_content_stem(m.wrong) for m in misconceptions}
    return {s for s in concept_subjects & wrong_subjects if s}


# -- units --------------------------------------------------------------------------------------

_SENTENCE_RE = re.compile(r"(?<=[.!?])\s+|[\n\r]+|;\s*|\s+-{1,2}\s+|\s+\u2014\s*")
_CLAUSE_RE = re.compile(
    r",\s*(?:and\s+|but\s+|so\s+|which\s+|because\s+|while\s+|whereas\s+)?"
    r"|\s+(?:and\s+so|and\s+then|so\s+that|so|because|since|which|but|whereas|while|"
    r"therefore|thus|hence|meaning|until|and)\s+",
    re.IGNORECASE,
)
#: Words that make a run of words a sentence rather than a list of keywords.
FUNCTION_WORDS: frozenset[str] = IGNORED_WORDS | frozenset(
    [
        "it",
        "they",
        "them",
        "we",
        "you",
        "i",
        "he",
        "she",
        "to",
        "of",
        "in",
        "on",
        "at",
        "by",
        "for",
        "from",
        "with",
        "into",
        "as",
        "so",
        "because",
        "if",
        "when",
        "then",
        "than",
        "how",
        "what",
        "which",
        "who",
        "and",
        "or",
        "but",
        "not",
        "no",
        "do",
        "does",
        "did",
        "can",
        "will",
        "would",
        "should",
        "could",
        "has",
        "have",
        "had",
        "make",
        "makes",
        "made",
        "there",
    ]
)
#: A salad unit has at least this many words and no function word.
SALAD_MIN_WORDS = 3
#: Units shorter than this many words are not read for meaning on their own.
MIN_UNIT_WORDS = 2


@dataclass(frozen=True, slots=True)
class Unit:
    """A sentence or clause of an answer."""

    text: str
    salad: bool


def _is_salad(text: str) -> bool:
    words = _words(text)
    return len(words) >= SALAD_MIN_WORDS and not FUNCTION_WORDS.intersection(words)


def split_units(answer: str) -> list[Unit]:
    """The answer's sentences, then the clauses of each (both kept, in order, once each)."""
    units: dict[str, Unit] = {}
    for raw in _SENTENCE_RE.split(answer):
        sentence = raw.strip(" \t.!?,:")
        if not _words(sentence):
            continue
        salad = _is_salad(sentence)
        units.setdefault(sentence, Unit(sentence, salad))
        if salad:
            continue
        parts = [part.strip(" \t.!?,:") for part in _CLAUSE_RE.split(sentence)]
        for part in parts:
            if part and part != sentence and _words(part):
                units.setdefault(part, Unit(part, _is_salad(part)))
    return list(units.values())


# -- results --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ConceptResult:
    """One concept: earned or not, and the part of the answer that earned it."""

    name: str
    hit: bool
    evidence: str | None = None
    #: ``"phrase"`` or ``"meaning"`` when hit.
    via: str | None = None


@dataclass(frozen=True, slots=True)
class MisconceptionFound:
    """A wrong idea the answer stated, where, and its correction."""

    wrong: str
    correction: str
    evidence: str


@dataclass(frozen=True, slots=True)
class Coverage:
    """Which concepts (by name, in the item's order) an answer covered and which it missed."""

    covered: tuple[str, ...]
    missed: tuple[str, ...]
    #: Every concept with its evidence, in the item's order.
    concepts: tuple[ConceptResult, ...] = ()
    #: Listed misconceptions the answer stated.
    misconceptions: tuple[MisconceptionFound, ...] = ()
    #: Whether the sentence model was used (False: phrase rules only).
    by_meaning: bool = False

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


# -- the grader -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Reference:
    """A sentence an answer's units are compared with: a concept's, or a wrong idea."""

    owner: int
    text: str
    polarity: Polarity
    topic: str


def _reference(owner: int, text: str) -> _Reference:
    pol = polarity(text)
    return _Reference(owner, text, pol, topic(text) if pol.directed else "")


class _Scores:
    """Similarities of the answer's units (and their topics) to the references."""

    def __init__(
        self,
        similarity: Similarity | None,
        units: Sequence[Unit],
        references: Sequence[_Reference],
    ) -> None:
        self.by_meaning = False
        self._full: dict[tuple[str, str], float] = {}
        self._topic: dict[tuple[str, str], float] = {}
        if similarity is None or not units or not references:
            return
        left = [unit.text for unit in units]
        unit_topics = {unit.text: topic(unit.text) for unit in units}
        left_topics = sorted({t for t in unit_topics.values() if t} - set(left))
        right = list(dict.fromkeys(ref.text for ref in references))
        right_topics = sorted({ref.topic for ref in references if ref.topic} - set(right))
        rows = similarity([*left, *left_topics], [*right, *right_topics])
        if rows is None:
            return
        self.by_meaning = True
        table: dict[tuple[str, str], float] = {}
        for text, row in zip([*left, *left_topics], rows, strict=True):
            for other, value in zip([*right, *right_topics], row, strict=True):
                table[(text, other)] = float(value)
        for unit in units:
            for ref in references:
                self._full[(unit.text, ref.text)] = table[(unit.text, ref.text)]
                unit_topic = unit_topics[unit.text]
                if ref.topic and unit_topic:
                    self._topic[(unit.text, ref.text)] = table[(unit_topic, ref.topic)]

    def full(self, unit: Unit, ref: _Reference) -> float:
        """Similarity of the whole unit to the reference (−1 without a model)."""
        return self._full.get((unit.text, ref.text), -1.0)

    def topical(self, unit: Unit, ref: _Reference) -> float:
        """Similarity of their topics when both are directed (−1 otherwise)."""
        return self._topic.get((unit.text, ref.text), -1.0)


def _match(
    scores: _Scores, unit: Unit, pol: Polarity, ref: _Reference, rules: MeaningRules
) -> float:
    """How well ``unit`` states ``ref`` (0 when it turns it around); compare with thresholds.

    The best of: the whole-unit similarity (if the polarities agree) and, for a directed
    reference, the topic similarity scaled onto the concept threshold (if the unit moves
    the same thing the same way).
    """
    best = 0.0
    if pol.agrees_with(ref.polarity):
        best = scores.full(unit, ref)
    if ref.topic and pol.same_direction(ref.polarity):
        value = scores.topical(unit, ref)
        if value >= rules.topic:
            best = max(best, rules.concept + (value - rules.topic))
    return best


class _Grading:
    """One answer being graded: its units, their polarities and similarities."""

    def __init__(
        self,
        answer: str,
        concepts: Sequence[Concept],
        misconceptions: Sequence[Misconception],
        similarity: Similarity | None,
        rules: MeaningRules,
    ) -> None:
        self.concepts = concepts
        self.misconceptions = misconceptions
        self.rules = rules
        self.units = split_units(answer)
        self.readable = [unit for unit in self.units if not unit.salad]
        self.concept_refs = [
            _reference(index, text)
            for index, concept in enumerate(concepts)
            for text in concept.references
        ]
        self.wrong_refs = [
            _reference(index, idea.wrong) for index, idea in enumerate(misconceptions)
        ]
        self.scores = _Scores(similarity, self.readable, [*self.concept_refs, *self.wrong_refs])
        self.polarity = {unit.text: polarity(unit.text) for unit in self.units}
        # A sentence with a negated clause is read clause by clause only: its negations may
        # add up to an even number ("… never decreases and … don't improve").
        self.mixed = {
            unit.text
            for unit in self.units
            if any(
                other.text != unit.text
                and other.text in unit.text
                and self.polarity[other.text].negated
                for other in self.units
            )
        }
        self.best: dict[tuple[str, int], float] = {}
        self.found: dict[int, MisconceptionFound] = {}
        self.vetoed: set[str] = set()
        self.salad_hits = 0
        self.subjects = {_first_content_stem(c.name) for c in concepts} - {None}
        self.agents = role_agents(concepts, misconceptions)
        self.wrong_polarity = [polarity(m.wrong) for m in misconceptions]

    def role_ok(self, unit: Unit, concept: Concept) -> bool:
        """False when the unit gives the concept's job to another subject (swapped roles)."""
        subject = _first_content_stem(concept.name)
        if subject not in self.agents:
            return True
        for word in _words(unit.text):
            stemmed = stem(word)
            if stemmed in self.subjects:
                return stemmed == subject
        return True

    def wrong_role_ok(self, unit: Unit, owner: int) -> bool:
        """A wrong idea about who does what ("the loss function updates the weights") is
        stated only by a unit that starts with that subject (not "it … updates the loss")."""
        subject = _first_content_stem(self.misconceptions[owner].wrong)
        if subject not in self.agents:
            return True
        return _first_content_stem(unit.text) == subject

    def _reverses(self, unit: Unit, pol: Polarity) -> bool:
        """Whether the unit moves a concept's topic the other way ("the error goes up").

        Only plain statements count: "it doesn't reduce the loss" denies, it does not say
        the loss should go up.
        """
        if not pol.directed or pol.negated:
            return False
        for ref in self.concept_refs:
            if (
                ref.topic
                and not pol.agrees_with(ref.polarity)
                and self.scores.topical(unit, ref) >= self.rules.reversal
            ):
                return True
        return False

    def _note(self, owner: int, unit: Unit) -> None:
        self.vetoed.add(unit.text)
        idea = self.misconceptions[owner]
        self.found.setdefault(owner, MisconceptionFound(idea.wrong, idea.correction, unit.text))

    def find_misconceptions(self) -> None:
        """Score every unit against the references; units stating a wrong idea are vetoed."""
        for unit in self.readable:
            pol = self.polarity[unit.text]
            top = 0.0
            for ref in self.concept_refs:
                value = _match(self.scores, unit, pol, ref, self.rules)
                key = (unit.text, ref.owner)
                self.best[key] = max(self.best.get(key, 0.0), value)
                top = max(top, value)
            for ref in self.wrong_refs:
                if not self.wrong_role_ok(unit, ref.owner):
                    continue
                value = (
                    _match(self.scores, unit, pol, ref, self.rules)
                    if not pol.negated
                    else (self.scores.full(unit, ref) if pol.agrees_with(ref.polarity) else 0.0)
                )
                # Without a model a misconception is recognised by its own words.
                said = phrase_matches(normalize_tokens(unit.text), ref.text) and (
                    pol.agrees_with(ref.polarity)
                )
                rules = self.rules
                if said or (value >= rules.misconception and value >= top + rules.margin):
                    self._note(ref.owner, unit)
            if self._reverses(unit, pol):
                # "The error goes up" reverses "the loss goes down": it states the listed
                # wrong idea that moves the same way ("training aims for a higher loss").
                self.vetoed.add(unit.text)
                for owner, wrong in enumerate(self.wrong_polarity):
                    if pol.same_direction(wrong):
                        self._note(owner, unit)
                        break

    def _phrase_in(self, unit: Unit, concept: Concept, denied: list[tuple[str, str]]) -> bool:
        if not self.role_ok(unit, concept):
            return False
        tokens = normalize_tokens(unit.text)
        pol = self.polarity[unit.text]
        name_polarity = polarity(concept.name)
        for candidate in concept.phrases or ():
            if not phrase_matches(tokens, candidate):
                continue
            if any(p == candidate and part in unit.text for part, p in denied):
                continue  # a clause of this sentence already said the opposite
            # A phrase must not turn the concept's own name around ("loss goes" in
            # "the loss goes up" for "the loss goes down").
            if pol.agrees_with(polarity(candidate)) and (
                not name_polarity.directed or pol.agrees_with(name_polarity)
            ):
                return True
            denied.append((unit.text, candidate))
        return False

    def by_phrase(self, concept: Concept) -> ConceptResult | None:
        """The shortest unit containing one of the concept's phrases with its polarity."""
        denied: list[tuple[str, str]] = []
        for unit in sorted(self.units, key=lambda u: len(u.text)):
            if unit.text in self.vetoed or not self._phrase_in(unit, concept, denied):
                continue
            if unit.salad:
                if self.salad_hits >= 1:
                    continue
                self.salad_hits += 1
            return ConceptResult(concept.name, True, unit.text, "phrase")
        return None

    def by_meaning(self, index: int, concept: Concept) -> ConceptResult | None:
        """The unit closest in meaning to the concept, when it reaches the threshold."""
        if not self.scores.by_meaning:
            return None
        name_polarity = polarity(concept.name)
        scored = [
            (self.best.get((unit.text, index), 0.0), unit)
            for unit in self.readable
            if unit.text not in self.vetoed
            and unit.text not in self.mixed
            and len(_words(unit.text)) >= MIN_UNIT_WORDS
            and (not name_polarity.directed or self.polarity[unit.text].agrees_with(name_polarity))
            and self.role_ok(unit, concept)
        ]
        if not scored:
            return None
        value, unit = max(scored, key=lambda pair: (pair[0], -len(pair[1].text)))
        if value < self.rules.concept:
            return None
        return ConceptResult(concept.name, True, unit.text, "meaning")


def grade_explanation(
    answer: str,
    concepts: Sequence[Concept],
    misconceptions: Sequence[Misconception] = (),
    *,
    similarity: Similarity | None = None,
    rules: MeaningRules | None = None,
) -> Coverage:
    """Grade a free-text ``answer``: the concepts it states and the misconceptions it states.

    See the module doc for the rules. ``similarity`` is the sentence model (None: phrase
    rules only); ``rules`` its thresholds.
    """
    grading = _Grading(answer, concepts, misconceptions, similarity, rules or MeaningRules())
    grading.find_misconceptions()
    results = [
        grading.by_phrase(concept)
        or grading.by_meaning(index, concept)
        or ConceptResult(concept.name, False)
        for index, concept in enumerate(concepts)
    ]
    return Coverage(
        covered=tuple(r.name for r in results if r.hit),
        missed=tuple(r.name for r in results if not r.hit),
        concepts=tuple(results),
        misconceptions=tuple(grading.found[key] for key in sorted(grading.found)),
        by_meaning=grading.scores.by_meaning,
    )


#: Two concepts of one item whose examples are at least this similar cannot be told apart.
CLOSE_CONCEPTS = 0.9


def close_concepts(
    concepts: Sequence[Concept], similarity: Similarity, threshold: float = CLOSE_CONCEPTS
) -> list[tuple[str, str, float]]:
    """Pairs of concepts so close in meaning that an answer would earn both or neither.

    Two concepts are compared by their closest pair of references (examples or names).
    Returns ``(first name, second name, similarity)`` for every pair at ``threshold`` or
    above; empty without a model.
    """
    refs = [(index, text) for index, c in enumerate(concepts) for text in c.references]
    if len(concepts) < 2 or not refs:
        return []
    texts = [text for _, text in refs]
    rows = similarity(texts, texts)
    if rows is None:
        return []
    closest: dict[tuple[int, int], float] = {}
    for (left, _), row in zip(refs, rows, strict=True):
        for (right, _), value in zip(refs, row, strict=True):
            if left < right:
                closest[(left, right)] = max(closest.get((left, right), -1.0), float(value))
    return [
        (concepts[left].name, concepts[right].name, round(value, 2))
        for (left, right), value in sorted(closest.items())
        if value >= threshold
    ]
