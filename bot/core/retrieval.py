"""Finding the item of a server's material that answers a member's question.

The tutor answers questions in plain chat only from what the server already has: the
bundled decks and that server's own questions. This module holds the rules, with no I/O
and no model (:mod:`bot.services.ask` loads the items and asks the sentence model):

* what is indexed of an item (:func:`item_fields`: its question, answer, explanation, hint,
  steps, other options and tags; :func:`item_passages` for meaning) and what is shown from it
  (:func:`item_answer`);
* keyword scoring: BM25 over Snowball-stemmed words without stop words
  (:class:`KeywordIndex`), normalised to "how much of the question's weight the item has";
* how keyword and meaning (cosine) scores combine into one ranking (:func:`rank`) and when
  the best one is good enough to answer (:meth:`RetrievalRules.good_enough`);
* follow-ups (:func:`continues_topic`, :func:`merge_queries`, :func:`blend`): a short
  "and why does it go down?" is searched with the previous question's words mixed in at a
  lower weight;
* what the tutor says: the answer with its source and choices (:func:`answer_reply`), "not
  in your decks", "slow down" and the empty or overlong question.

The weights and thresholds were tuned on ``tests/data/grading/ask_questions.yaml``
(``tests/services/test_ask_labelled.py`` checks them).
"""

from __future__ import annotations

import functools
import math
import re
import threading
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import snowballstemmer  # type: ignore[import-untyped,unused-ignore]

from bot.core import actions
from bot.core.content import AnyItem, ChoiceItem, Explain, Flashcard, Practice, Typed, is_blank
from bot.core.replies import Choice, ChoiceStyle, Reply, ReplyBuilder, Tone
from bot.core.sessions import StudyItem

_STOP_TEXT = """
    a about above after again all also am an and any are aren't as at be because been before
    being below between both but by can can't cannot could couldn't did didn't do does doesn't
    doing don't down during each else even ever every few for from further get gets getting
    got had hadn't has hasn't have haven't having he her here hers herself him himself his how
    however i i'd i'll i'm i've if in into is isn't it it's its itself just let let's like me
    mean means meant more most much must my myself need needs no nor not now of off on once only
    or other ought our ours ourselves out over own please pls quite rather really same say says
    shall she should shouldn't so some such tell than thank thanks that that's the their theirs
    them themselves then there there's these they they're thing things this those though through
    thus to too under until up us use used uses using very want wants was wasn't way we we're
    were weren't what what's when where where's whether which while who who's whom whose why
    why's will with won't would wouldn't yeah yes yet you you'd you'll you're you've your yours
    yourself yourselves explain explained understand know go goes going went gone happen happens
    happened anyone someone something anything one ones actually basically exactly kind sort
    okay ok hey hi hello
"""
#: Words that say nothing about the topic: function words and the usual question filler.
STOP_WORDS: frozenset[str] = frozenset(_STOP_TEXT.split())
#: Words that open a follow-up to the previous question ("and why…", "what about…").
FOLLOW_UP_OPENERS: tuple[str, ...] = (
    "and",
    "but",
    "so",
    "then",
    "also",
    "what about",
    "how about",
    "what if",
    "why does it",
    "why is it",
    "how does it",
    "what does it",
)
#: Pronouns that point back at the previous topic.
_BACK_REFERENCES = frozenset({"it", "its", "it's", "that", "this", "they", "them", "those"})

_WORD_RE = re.compile(r"[^\W_]+(?:'[^\W_]+)?")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'"})
_LOCAL = threading.local()


def _stemmer() -> Any:
    """This thread's English stemmer (a Snowball stemmer keeps state while it works)."""
    stemmer: Any = getattr(_LOCAL, "stemmer", None)
    if stemmer is None:
        stemmer = snowballstemmer.stemmer("english")
        _LOCAL.stemmer = stemmer
    return stemmer


@functools.lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """The Snowball English stem of one lower-case word (``"optimizers"`` → ``"optim"``)."""
    return str(_stemmer().stemWord(word))


def words(text: str) -> list[str]:
    """The lower-case words of ``text`` (apostrophes kept inside a word, ``_`` splits)."""
    folded = unicodedata.normalize("NFKC", text).casefold().translate(_APOSTROPHES)
    return _WORD_RE.findall(folded)


def terms(text: str) -> list[str]:
    """The stemmed content words of ``text``, stop words left out, in order.

    >>> terms("Why do we need an optimizer?")
    ['optim']
    """
    found = []
    for word in words(text):
        if word in STOP_WORDS:
            continue
        plain = word.removesuffix("'s").replace("'", "")
        if plain and plain not in STOP_WORDS:
            found.append(stem(plain))
    return found


def query_weights(text: str) -> dict[str, float]:
    """A question as weighted terms: each stemmed content word and how often it occurs."""
    return {term: float(count) for term, count in Counter(terms(text)).items()}


# -- what an item says ----------------------------------------------------------------------

#: How much each part of an item counts for keywords: a member's question reads most like
#: the item's own question; the other parts (answer, explanation, hint, steps, the other
#: options: a question about a misconception belongs to the item that rules it out) count once.
FIELD_WEIGHTS: dict[str, float] = {
    "question": 2.0,
    "answer": 1.0,
    "extra": 1.0,
    "options": 1.0,
    "tags": 1.0,
}
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def item_question(content: AnyItem) -> str:
    """What the item asks: its question, front or prompt."""
    return content.prompt


def item_answer(content: AnyItem) -> str:
    """What the tutor says from the item: the back, the model answer, or the right answer
    (in bold) with its explanation."""
    if isinstance(content, Flashcard):
        return content.back
    if isinstance(content, Explain):
        return content.model_answer
    if isinstance(content, ChoiceItem):
        return f"**{content.correct_option}**\n{content.explanation}"
    first = f"**{content.answers[0]}**"
    return f"{first}\n{content.explanation}" if content.explanation else first


def item_fields(content: AnyItem) -> dict[str, list[str]]:
    """The texts indexed for an item, by part (see :data:`FIELD_WEIGHTS`).

    ``answer`` is what :func:`item_answer` shows; ``extra`` the hint, the solution steps,
    the common mistakes and the concept names; ``options`` the wrong options. Code is left
    out (its names say little about the topic).
    """
    fields: dict[str, list[str]] = {
        "question": [item_question(content)],
        "answer": [part for part in item_answer(content).replace("**", "").split("\n") if part],
        "extra": [],
        "options": [],
        "tags": [tag.replace("::", " ") for tag in content.tags or ()],
    }
    if isinstance(content, Explain):
        fields["extra"] = [content.hint, *(concept.name for concept in content.concepts)]
    elif isinstance(content, ChoiceItem):
        right = content.correct_index
        fields["options"] = [o for i, o in enumerate(content.options) if i != right]
        if isinstance(content, Practice):
            fields["extra"] = [content.hint, *content.steps, *content.mistakes]
    elif isinstance(content, Typed) and content.hint:
        fields["extra"] = [content.hint]
    return fields


def item_terms(content: AnyItem, weights: Mapping[str, float] = FIELD_WEIGHTS) -> dict[str, float]:
    """An item's keyword terms and their weighted counts (:data:`FIELD_WEIGHTS`)."""
    counts: dict[str, float] = {}
    for name, texts in item_fields(content).items():
        weight = weights.get(name, 0.0)
        if weight <= 0.0:
            continue
        for text in texts:
            for term in terms(text):
                counts[term] = counts.get(term, 0.0) + weight
    return counts


def sentences(text: str) -> list[str]:
    """``text`` split after ``.``, ``!`` and ``?``."""
    return [part.strip() for part in _SENTENCE_END.split(text) if part.strip()]


def item_passages(content: AnyItem) -> list[str]:
    """The sentences a question is compared with by meaning; the item's question first."""
    passages = [item_question(content)]
    for name, texts in item_fields(content).items():
        if name != "question":
            passages.extend(sentence for text in texts for sentence in sentences(text))
    return list(dict.fromkeys(passages))


def passage_similarity(cosines: Sequence[float]) -> float:
    """One similarity from a question's cosines to an item's passages (its question first):
    the mean of the question's and the best passage's, so a question matching one detail
    of an item still finds it, and one phrased like the item's question most of all."""
    if not cosines:
        return 0.0
    return (cosines[0] + max(cosines)) / 2.0


# -- keywords ---------------------------------------------------------------------------------


class KeywordIndex:
    """BM25 over weighted term counts, with an inverted index (only documents that share a
    word with the question are scored)."""

    def __init__(
        self,
        documents: Sequence[Mapping[str, float]],
        *,
        k1: float = 1.2,
        b: float = 0.75,
        unknown_weight: float = 0.6,
    ) -> None:
        self.k1 = k1
        self.b = b
        #: How much a question word no item has counts, relative to a word one item has.
        self.unknown_weight = unknown_weight
        self.size = len(documents)
        self.lengths = [sum(doc.values()) for doc in documents]
        self.average_length = (sum(self.lengths) / self.size) if self.size else 0.0
        postings: dict[str, list[tuple[int, float]]] = {}
        for index, doc in enumerate(documents):
            for term, count in doc.items():
                postings.setdefault(term, []).append((index, count))
        self.postings = postings

    def knows(self, term: str) -> bool:
        """Whether some document has ``term``."""
        return term in self.postings

    def idf(self, term: str) -> float:
        """How telling ``term`` is: high for rare words (BM25's inverse document frequency)."""
        found = len(self.postings.get(term, ()))
        if not found:
            return self.unknown_weight * self.idf_of(1)
        return self.idf_of(found)

    def idf_of(self, found: int) -> float:
        """The inverse document frequency of a word in ``found`` documents."""
        return math.log(1.0 + (self.size - found + 0.5) / (found + 0.5))

    def scores(self, query: Mapping[str, float]) -> dict[int, float]:
        """BM25 of every document with at least one query term, by document index."""
        totals: dict[int, float] = {}
        average = self.average_length or 1.0
        for term, weight in query.items():
            idf = self.idf(term)
            for index, count in self.postings.get(term, ()):
                norm = self.k1 * (1.0 - self.b + self.b * self.lengths[index] / average)
                gain = weight * idf * count * (self.k1 + 1.0) / (count + norm)
                totals[index] = totals.get(index, 0.0) + gain
        return totals

    def coverage(self, query: Mapping[str, float]) -> dict[int, float]:
        """BM25 scaled to 0–1 by its bound: how much of the question's weight a document
        matches, and how often. Question words no item has count against every document,
        so an off-topic question scores low everywhere."""
        bound = sum(weight * self.idf(term) for term, weight in query.items()) * (self.k1 + 1.0)
        if bound <= 0.0:
            return {}
        return {index: min(1.0, score / bound) for index, score in self.scores(query).items()}


def top_indexes(scores: Mapping[int, float], limit: int) -> list[int]:
    """The ``limit`` best-scoring indexes (ties: lower index first)."""
    return sorted(scores, key=lambda index: (-scores[index], index))[:limit]


# -- combining and deciding ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RetrievalRules:
    """How keyword and meaning scores make one score, and when it is good enough."""

    #: Share of the keyword score in the combined score (the rest is meaning).
    keyword_weight: float = 0.65
    #: Cosine similarities are mapped from ``meaning_floor … meaning_ceiling`` onto 0–1.
    meaning_floor: float = 0.2
    meaning_ceiling: float = 0.9
    #: The best item is answered from at this combined score (with the model) …
    threshold: float = 0.3
    #: … or at this keyword score (without it).
    keyword_threshold: float = 0.24
    #: Weight of the previous question's words in a follow-up.
    follow_up_weight: float = 0.5
    #: A worked problem is offered when it scores at least this share of the threshold.
    related_share: float = 0.5

    def meaning_score(self, cosine: float) -> float:
        """A cosine similarity mapped onto 0–1."""
        span = self.meaning_ceiling - self.meaning_floor
        return min(1.0, max(0.0, (cosine - self.meaning_floor) / span))

    def combine(self, keyword: float, cosine: float | None) -> float:
        """One score from a keyword score (0–1) and a cosine similarity (None: no model)."""
        if cosine is None:
            return keyword
        weight = self.keyword_weight
        return weight * keyword + (1.0 - weight) * self.meaning_score(cosine)

    def good_enough(self, score: float, *, with_meaning: bool) -> bool:
        """Whether an item scoring ``score`` answers the question."""
        return score >= (self.threshold if with_meaning else self.keyword_threshold)

    def related(self, score: float, *, with_meaning: bool) -> bool:
        """Whether an item is close enough to offer as a related worked problem."""
        bar = self.threshold if with_meaning else self.keyword_threshold
        return score >= bar * self.related_share


@dataclass(frozen=True, slots=True)
class Scored:
    """One candidate's scores: keyword (0–1), cosine (None without a model), combined."""

    index: int
    keyword: float
    cosine: float | None
    score: float


def rank(
    candidates: Iterable[int],
    keyword: Mapping[int, float],
    cosine: Mapping[int, float] | None,
    rules: RetrievalRules,
) -> list[Scored]:
    """The candidates, best first (ties: lower index first)."""
    scored = []
    for index in candidates:
        kw = keyword.get(index, 0.0)
        cos = None if cosine is None else cosine.get(index, 0.0)
        scored.append(Scored(index, kw, cos, rules.combine(kw, cos)))
    scored.sort(key=lambda entry: (-entry.score, entry.index))
    return scored


# -- follow-ups -----------------------------------------------------------------------------


def merge_queries(
    current: Mapping[str, float], previous: Mapping[str, float], weight: float
) -> dict[str, float]:
    """The current question's terms plus the previous one's at ``weight``."""
    merged = dict(current)
    for term, value in previous.items():
        merged[term] = merged.get(term, 0.0) + weight * value
    return merged


def blend(
    current: Mapping[int, float], previous: Mapping[int, float], weight: float
) -> dict[int, float]:
    """Per-item similarities to the current question mixed with the previous one's."""
    return {
        index: (value + weight * previous.get(index, 0.0)) / (1.0 + weight)
        for index, value in current.items()
    }


def looks_like_follow_up(text: str) -> bool:
    """Whether ``text`` reads as a follow-up: it opens with "and", "what about", … or is
    short and points back ("why does it go down?")."""
    folded = " ".join(words(text))
    if any(folded == opener or folded.startswith(opener + " ") for opener in FOLLOW_UP_OPENERS):
        return True
    content = terms(text)
    return len(content) <= 2 and any(word in _BACK_REFERENCES for word in words(text))


def continues_topic(text: str, index: KeywordIndex) -> bool:
    """Whether ``text`` is searched with the previous question mixed in: it reads as a
    follow-up and, if it names anything, names something the material has ("and what about
    pizza?" is a new question, not more of the last one)."""
    if not looks_like_follow_up(text):
        return False
    content = terms(text)
    return not content or any(index.knows(term) for term in content)


# -- what the tutor says ----------------------------------------------------------------------

#: The field naming the question an answer comes from.
SOURCE_FIELD = "The question this comes from"


def question_problem(text: str, max_chars: int) -> Reply | None:
    """A friendly reply for an empty or overlong question, else None."""
    if not text or is_blank(text):
        return Reply(
            title="Ask me something",
            text='Ask me a question about your decks, like "why do we need an optimizer?".',
            tone=Tone.WARNING,
            private=True,
        )
    if len(text) > max_chars:
        return Reply(
            title="That's a long one",
            text=f"Keep your question under {max_chars} characters — one "
            "question at a time works best.",
            tone=Tone.WARNING,
            private=True,
        )
    return None


def answer_reply(item: StudyItem, worked_id: int | None) -> Reply:
    """What ``item`` says, the question it comes from, and the choices: "Quiz me on this"
    and, with ``worked_id``, "Show a worked problem" (else a line saying there is none)."""
    content = item.content
    out = ReplyBuilder(title=f"From {item.deck}", text=item_answer(content))
    out.add_field(SOURCE_FIELD, item_question(content))
    out.media = content.image or ""
    quiz = actions.QuizItem(item.id).token()
    out.choices.append(Choice("quiz", "Quiz me on this", quiz, style=ChoiceStyle.PRIMARY))
    if worked_id is not None:
        worked = actions.WorkedProblem(worked_id).token()
        out.choices.append(Choice("worked", "Show a worked problem", worked))
        out.footer = "Answered from your decks. Ask a follow-up, or pick one below."
    else:
        out.footer = (
            "Answered from your decks. There's no worked problem on this yet — /practice "
            "has others."
        )
    return out.build()


def no_match_reply() -> Reply:
    """Nothing in the material answers the question: say so, never guess."""
    return Reply(
        title="Not in your decks",
        text="I couldn't find that in this server's study material, and I'd rather not "
        "guess. Type /decks to see what's covered, or ask it another way.",
    )


def slow_down_reply(wait_s: float) -> Reply:
    """Too many questions in a short time: when the next one is welcome."""
    seconds = max(1, math.ceil(wait_s))
    return Reply(
        text=f"Slow down a little — you can ask me again in {seconds} s.",
        tone=Tone.WARNING,
        private=True,
    )
