"""The tutor answers questions in plain chat, only from the server's own material.

A member asks "why do we need an optimizer?" (a mention or DM on Discord, ``/ask`` in the
console). :class:`AskService` finds the best-matching item among those the member's server
sees (the bundled decks plus its own questions, :func:`bot.storage.scope.visible_in`),
scoring keywords (BM25) and, when the sentence model is there, meaning
(:mod:`bot.core.retrieval` holds the rules). It answers with what that item says, names the
question it came from and offers "Quiz me on this" and "Show a worked problem" (engine
tokens ``qz:``/``wp:``, handled by :class:`~bot.services.actions.ActionService`). When
nothing matches well enough it says so and points to ``/decks``: it never makes things up.

Everything kept between questions is in memory and bounded: the visible items of each
server (reloaded after :attr:`AskLimits.corpus_ttl_s`, so a new question is found within
a minute), the item vectors (by content hash), the last topic of each conversation (for
follow-ups, forgotten after 30 minutes) and each member's recent questions (rate limit).
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from bot import PROJECT_ROOT
from bot.core.clock import SystemClock
from bot.core.deck_files import load_library
from bot.core.learners import Learner
from bot.core.replies import Reply
from bot.core.retrieval import (
    KeywordIndex,
    RetrievalRules,
    Scored,
    answer_reply,
    blend,
    continues_topic,
    item_passages,
    item_terms,
    merge_queries,
    no_match_reply,
    passage_similarity,
    query_weights,
    question_problem,
    rank,
    slow_down_reply,
    top_indexes,
)
from bot.core.sessions import StudyItem
from bot.log import get_logger
from bot.semantic.meaning import SentenceMeaning
from bot.semantic.rules import DEFAULT_ENCODER
from bot.services.decks import DeckService
from bot.services.study_context import StudyContext
from bot.storage import crud
from bot.storage.db import Database

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

log = get_logger(__name__)

K = TypeVar("K")
V = TypeVar("V")


@dataclass(frozen=True, slots=True)
class AskLimits:
    """How much the tutor takes and keeps (all in memory)."""

    #: Longest question, in characters.
    max_chars: int = 500
    #: Questions a member may ask per ``window_s`` seconds.
    per_window: int = 6
    window_s: float = 60.0
    #: A conversation's topic is forgotten after this long.
    topic_ttl_s: float = 30 * 60.0
    #: Conversations, members and servers remembered at most (oldest forgotten first).
    max_topics: int = 5000
    max_members: int = 5000
    max_servers: int = 200
    #: A server's items are reloaded when older than this (new questions show up by then).
    corpus_ttl_s: float = 30.0
    #: Items compared by meaning per question: the best by keywords (all in a small bank).
    candidates: int = 50
    #: Practice problems added to those, for the worked problem.
    practice_candidates: int = 10
    #: Item vectors kept (by content hash).
    max_vectors: int = 20_000


class _Lru(Generic[K, V]):
    """A small least-recently-used map (thread-safe: ranking runs in worker threads)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._data: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        with self._lock:
            value = self._data.get(key)
            if value is not None:
                self._data.move_to_end(key)
            return value

    def put(self, key: K, value: V) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)

    def pop(self, key: K) -> None:
        with self._lock:
            self._data.pop(key, None)


@dataclass(frozen=True, slots=True)
class _Entry:
    """One visible item: the item, its content hash (for the vector cache), its passages."""

    item: StudyItem
    content_hash: str
    passages: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Corpus:
    """The items one server sees, with their keyword index."""

    entries: tuple[_Entry, ...]
    index: KeywordIndex
    practice: tuple[int, ...]
    loaded_at: float


@dataclass(frozen=True, slots=True)
class _Topic:
    """What a conversation was last about: the words searched and when."""

    text: str
    at: float


@dataclass(frozen=True, slots=True)
class _Found:
    """The answer to a question: the best item, a worked problem near it, the topic."""

    best: _Entry
    score: float
    worked: _Entry | None
    topic: str


class RateLimiter:
    """At most ``limit`` events per ``window_s`` seconds per key (a sliding window)."""

    def __init__(
        self, limit: int, window_s: float, *, max_keys: int, clock: Callable[[], float]
    ) -> None:
        self.limit = limit
        self.window_s = window_s
        self.clock = clock
        self._events: _Lru[str, deque[float]] = _Lru(max_keys)

    def wait(self, key: str) -> float:
        """Seconds until ``key`` may go again (0: now, and the event is counted)."""
        now = self.clock()
        events = self._events.get(key) or deque()
        while events and now - events[0] >= self.window_s:
            events.popleft()
        if len(events) >= self.limit:
            self._events.put(key, events)
            return events[0] + self.window_s - now
        events.append(now)
        self._events.put(key, events)
        return 0.0


class AskService:
    """Answers questions from the material a member's server sees."""

    def __init__(
        self,
        context: StudyContext,
        *,
        meaning: SentenceMeaning,
        rules: RetrievalRules | None = None,
        limits: AskLimits | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.context = context
        self.meaning = meaning
        self.rules = rules or RetrievalRules()
        self.limits = limits or AskLimits()
        self.clock = clock
        lim = self.limits
        self._rate = RateLimiter(
            lim.per_window, lim.window_s, max_keys=lim.max_members, clock=clock
        )
        self._topics: _Lru[str, _Topic] = _Lru(lim.max_topics)
        self._corpora: _Lru[int | None, _Corpus] = _Lru(lim.max_servers)
        self._vectors: _Lru[tuple[str, str], NDArray[np.float32]] = _Lru(lim.max_vectors)
        self._load_lock = asyncio.Lock()

    # -- the use case ----------------------------------------------------------------------

    async def ask(self, learner: Learner, question: str, *, conversation: str) -> Reply:
        """Answer ``question`` from the server's material, or say it isn't covered.

        ``conversation`` is the adapter's key for the exchange (``discord:<channel id>``,
        ``console:<user>``): a short follow-up there continues the previous topic.
        """
        text = " ".join(question.split())
        problem = question_problem(text, self.limits.max_chars)
        if problem is not None:
            return problem
        wait = self._rate.wait(f"{learner.platform}:{learner.external_id}")
        if wait > 0:
            return slow_down_reply(wait)
        corpus = await self._corpus(learner.guild_id)
        topic = self._topic(conversation)
        found = await asyncio.to_thread(self._find, corpus, text, topic)
        if found is None:
            log.info("ask: no match in guild %s", learner.guild_id)
            return no_match_reply()
        self._topics.put(conversation, _Topic(found.topic, self.clock()))
        log.info(
            "ask: item %s (score %.2f) in guild %s",
            found.best.item.id,
            found.score,
            learner.guild_id,
        )
        return answer_reply(found.best.item, found.worked.item.id if found.worked else None)

    async def best_item(self, guild_id: int | None, question: str) -> tuple[str | None, float]:
        """The id (deck slug) of the item that answers ``question`` in a server and its
        score, or None and the best score when nothing is good enough (for benchmarks)."""
        corpus = await self._corpus(guild_id)
        text = " ".join(question.split())
        best, score = await asyncio.to_thread(self._best, corpus, text)
        return (best.item.content.id if best is not None else None), score

    def _topic(self, conversation: str) -> str | None:
        """The conversation's last topic, if it is recent."""
        topic = self._topics.get(conversation)
        if topic is None:
            return None
        if self.clock() - topic.at > self.limits.topic_ttl_s:
            self._topics.pop(conversation)
            return None
        return topic.text

    # -- the server's items ----------------------------------------------------------------

    async def _corpus(self, guild_id: int | None) -> _Corpus:
        """The items ``guild_id`` sees, loaded at most every :attr:`AskLimits.corpus_ttl_s`."""
        cached = self._corpora.get(guild_id)
        if cached is not None and self.clock() - cached.loaded_at < self.limits.corpus_ttl_s:
            return cached
        async with self._load_lock:
            cached = self._corpora.get(guild_id)
            if cached is not None and self.clock() - cached.loaded_at < self.limits.corpus_ttl_s:
                return cached
            async with self.context.db.session() as session:
                rows = await crud.active_items(session, guild_id=guild_id)
                found = [(self.context.items.of_row(row), row.content_hash) for row in rows]
            corpus = await asyncio.to_thread(_build_corpus, found, self.clock())
            self._corpora.put(guild_id, corpus)
            log.debug("ask: %d items loaded for guild %s", len(corpus.entries), guild_id)
            return corpus

    # -- ranking (in a worker thread: the model blocks) -------------------------------------

    def _find(self, corpus: _Corpus, text: str, previous: str | None) -> _Found | None:
        """The best item for ``text``; a follow-up is searched with the previous topic's
        words mixed in (at :attr:`RetrievalRules.follow_up_weight`), else on its own."""
        if previous is not None and continues_topic(text, corpus.index):
            weight = self.rules.follow_up_weight
            merged = self._search(corpus, [(text, 1.0), (previous, weight)])
            if self._good(merged):
                return self._found(corpus, merged, f"{text} {previous}"[: self.limits.max_chars])
        alone = self._search(corpus, [(text, 1.0)])
        return self._found(corpus, alone, text) if self._good(alone) else None

    def _best(self, corpus: _Corpus, text: str) -> tuple[_Entry | None, float]:
        ranked = self._search(corpus, [(text, 1.0)])
        if not ranked[0]:
            return None, 0.0
        best = ranked[0][0]
        entry = corpus.entries[best.index] if self._good(ranked) else None
        return entry, best.score

    def _good(self, ranked: tuple[list[Scored], bool]) -> bool:
        scored, with_meaning = ranked
        return bool(scored) and self.rules.good_enough(scored[0].score, with_meaning=with_meaning)

    def _found(self, corpus: _Corpus, ranked: tuple[list[Scored], bool], topic: str) -> _Found:
        scored, with_meaning = ranked
        best = scored[0]
        worked = next(
            (
                corpus.entries[s.index]
                for s in scored
                if s.index != best.index
                and corpus.entries[s.index].item.kind == "practice"
                and self.rules.related(s.score, with_meaning=with_meaning)
            ),
            None,
        )
        return _Found(corpus.entries[best.index], best.score, worked, topic)

    def _search(
        self, corpus: _Corpus, queries: Sequence[tuple[str, float]]
    ) -> tuple[list[Scored], bool]:
        """Candidates ranked for the weighted ``queries``; whether meaning was used."""
        if not corpus.entries:
            return [], False
        query: dict[str, float] = {}
        for text, weight in queries:
            query = merge_queries(query, query_weights(text), weight)
        keyword = corpus.index.coverage(query)
        candidates = self._candidates(corpus, keyword)
        cosine = self._cosines(corpus, candidates, queries)
        return rank(candidates, keyword, cosine, self.rules), cosine is not None

    def _candidates(self, corpus: _Corpus, keyword: dict[int, float]) -> list[int]:
        """Every item of a small bank; else the best by keywords plus some practice items."""
        limit = self.limits.candidates
        if len(corpus.entries) <= limit:
            return list(range(len(corpus.entries)))
        chosen = top_indexes(keyword, limit)
        practice = {i: keyword[i] for i in corpus.practice if i in keyword}
        extra = top_indexes(practice, self.limits.practice_candidates)
        return list(dict.fromkeys([*chosen, *extra]))

    def _cosines(
        self, corpus: _Corpus, candidates: list[int], queries: Sequence[tuple[str, float]]
    ) -> dict[int, float] | None:
        """Each candidate's similarity in meaning to the queries (None without a model)."""
        if not candidates:
            return {}
        asked = self.meaning.vectors([text for text, _weight in queries])
        if asked is None:
            return None
        matrices = self._item_vectors([corpus.entries[i] for i in candidates])
        if matrices is None:
            return None
        per_query: list[dict[int, float]] = []
        for row in range(len(queries)):
            vector = asked[row]
            per_query.append(
                {
                    index: passage_similarity((matrix @ vector).tolist())
                    for index, matrix in zip(candidates, matrices, strict=True)
                }
            )
        combined = per_query[0]
        for (_text, weight), scores in zip(queries[1:], per_query[1:], strict=True):
            combined = blend(combined, scores, weight)
        return combined

    def _item_vectors(self, entries: list[_Entry]) -> list[NDArray[np.float32]] | None:
        """Each entry's passage vectors (one row each), embedding only uncached items."""
        name = self.meaning.encoder_name
        found = {e.content_hash: self._vectors.get((name, e.content_hash)) for e in entries}
        missing = [e for e in entries if found[e.content_hash] is None]
        if missing:
            vectors = self.meaning.vectors([p for entry in missing for p in entry.passages])
            if vectors is None:
                return None
            start = 0
            for entry in missing:
                end = start + len(entry.passages)
                found[entry.content_hash] = vectors[start:end]
                self._vectors.put((name, entry.content_hash), vectors[start:end])
                start = end
        return [matrix for e in entries if (matrix := found[e.content_hash]) is not None]


async def evaluate_questions(
    questions: Sequence[tuple[str, str | None]],
    *,
    model: str = DEFAULT_ENCODER,
    content_dir: Path | None = None,
) -> dict[str, Any]:
    """How well the tutor finds answers: top-1 accuracy over the ``(question, item id)``
    pairs with an id, and the share of those without one (None) that get no match.

    For benchmarks and the labelled test: the bundled decks of ``content_dir`` (default:
    the repository's ``content/``) go into a temporary SQLite database, as a DM sees them.
    ``model`` is the sentence encoder (``off`` or ``phrases``: keywords only). Also gives
    the median time of one search (model loaded, item vectors cached) and every miss.
    """
    library = load_library(content_dir or PROJECT_ROOT / "content")
    meaning = SentenceMeaning("off" if model in ("off", "phrases") else model)
    meaning.warm()
    with tempfile.TemporaryDirectory(prefix="ask-eval-") as folder:
        db = Database(f"sqlite+aiosqlite:///{Path(folder) / 'eval.db'}")
        await db.connect()
        try:
            await DeckService(db).sync_content(library)
            ask = AskService(StudyContext(db, clock=SystemClock()), meaning=meaning)
            await ask.best_item(None, "warm up")
            found = []
            for text, _item in questions:
                started = time.perf_counter()
                slug, score = await ask.best_item(None, text)
                found.append((slug, score, time.perf_counter() - started))
        finally:
            await db.close()
    answerable = [(q, f) for q, f in zip(questions, found, strict=True) if q[1] is not None]
    unanswerable = [f for q, f in zip(questions, found, strict=True) if q[1] is None]
    right = sum(f[0] == q[1] for q, f in answerable)
    return {
        "model": meaning.encoder_name if meaning.available else "off",
        "answerable": len(answerable),
        "top1": round(right / len(answerable), 3) if answerable else None,
        "unanswerable": len(unanswerable),
        "no_match": (
            round(sum(f[0] is None for f in unanswerable) / len(unanswerable), 3)
            if unanswerable
            else None
        ),
        "p50_ms": round(statistics.median(f[2] for f in found) * 1000, 2) if found else None,
        "misses": [
            {"text": q[0], "item": q[1], "found": f[0], "score": round(f[1], 3)}
            for q, f in zip(questions, found, strict=True)
            if f[0] != q[1]
        ],
    }


def _build_corpus(found: Sequence[tuple[StudyItem, str]], now: float) -> _Corpus:
    """Index the items a server sees."""
    entries = tuple(
        _Entry(item, content_hash, tuple(item_passages(item.content)))
        for item, content_hash in found
    )
    index = KeywordIndex([item_terms(entry.item.content) for entry in entries])
    practice = tuple(i for i, entry in enumerate(entries) if entry.item.kind == "practice")
    return _Corpus(entries, index, practice, now)
