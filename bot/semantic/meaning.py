"""One shared, lazily loaded sentence encoder with a cache of the vectors it made.

:class:`SentenceMeaning` is what services hold: ``similarities(texts, references)`` is the
``Similarity`` the grader takes (:mod:`bot.core.grading`), ``vectors(texts)`` is for the
tutor's retrieval. The model loads on first use (or on :meth:`SentenceMeaning.warm`), once,
under a lock, so a thread pool can share it. If it cannot be loaded the failure is logged
once and :attr:`SentenceMeaning.available` turns False: grading falls back to the phrase
rules and retrieval to keywords; nothing else breaks.

Calls are CPU-bound and block: services run them with ``asyncio.to_thread``.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from bot.core.content import Explain
from bot.core.grading import Coverage, MeaningRules, grade_explanation, split_units
from bot.semantic.rules import DEFAULT_ENCODER, RULES

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    from bot.semantic.encoders import Encoder

log = logging.getLogger(__name__)

#: Vectors kept (about 1 KB each at 256 dimensions).
DEFAULT_CACHE_SIZE = 20_000


def _load(name: str) -> Encoder:
    from bot.semantic.encoders import load_encoder

    return load_encoder(name)


class SentenceMeaning:
    """A lazily loaded encoder plus an LRU cache of text → unit vector."""

    def __init__(
        self,
        encoder: str = DEFAULT_ENCODER,
        *,
        cache_size: int = DEFAULT_CACHE_SIZE,
        loader: Callable[[str], Encoder] | None = None,
    ) -> None:
        self.encoder_name = encoder
        self._loader = loader or _load
        self._encoder: Encoder | None = None
        #: ``off`` turns the model off: phrase rules and keywords only.
        self._failed = encoder == "off"
        self._lock = threading.Lock()
        self._cache: OrderedDict[str, NDArray[np.float32]] = OrderedDict()
        self._cache_size = cache_size
        #: The thresholds the grader uses with this model.
        self.rules = RULES.get(encoder, MeaningRules())

    @property
    def loaded(self) -> bool:
        """Whether the model is in memory."""
        return self._encoder is not None

    @property
    def available(self) -> bool:
        """False once loading the model failed (it is not tried again)."""
        return not self._failed

    def warm(self) -> bool:
        """Load the model now; True when it is ready."""
        return self._get() is not None

    def _get(self) -> Encoder | None:
        if self._encoder is not None or self._failed:
            return self._encoder
        with self._lock:
            if self._encoder is None and not self._failed:
                try:
                    self._encoder = self._loader(self.encoder_name)
                except (ImportError, OSError, ValueError, RuntimeError) as error:
                    self._failed = True
                    log.error(
                        "The sentence model could not be loaded (%s); grading uses the "
                        "phrase rules only and the tutor searches by keywords.",
                        error,
                    )
        return self._encoder

    def vectors(self, texts: Sequence[str]) -> NDArray[np.float32] | None:
        """Unit vectors of ``texts`` (one row each), or None without a model."""
        encoder = self._get()
        if encoder is None:
            return None
        with self._lock:
            fresh: dict[str, NDArray[np.float32]] = {}
            missing = [text for text in dict.fromkeys(texts) if text not in self._cache]
            if missing:
                fresh = dict(zip(missing, encoder.embed(missing), strict=True))
            rows = []
            for text in texts:
                row = fresh.get(text)
                if row is None:
                    row = self._cache[text]
                    self._cache.move_to_end(text)
                rows.append(row)
            self._cache.update(fresh)
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        import numpy as np  # numpy (~16 MB) loads with the model, not with the bot

        if not rows:
            return np.zeros((0, 1), dtype=np.float32)
        return np.stack(rows)

    def similarities(
        self, texts: Sequence[str], references: Sequence[str]
    ) -> list[list[float]] | None:
        """Cosine similarity of every text to every reference (rows: texts), or None."""
        if not texts or not references:
            return [[0.0] * len(references) for _ in texts]
        left = self.vectors(texts)
        right = self.vectors(references)
        if left is None or right is None:
            return None
        result: list[list[float]] = (left @ right.T).astype(float).tolist()
        return result

    def grade(self, content: Explain, answer: str) -> Coverage:
        """Grade an explanation by meaning (phrase rules only when the model is unavailable)."""
        return grade_explanation(
            answer,
            content.concepts,
            content.misconceptions or (),
            similarity=self.similarities if self.available else None,
            rules=self.rules,
        )

    def prepare(self, answer: str) -> None:
        """Load the model and embed the answer's sentences now, so grading later is quick.

        Blocking: services call it with ``asyncio.to_thread`` before the answer is stored.
        """
        if not self.available:
            return
        units = [unit.text for unit in split_units(answer) if not unit.salad]
        if units:
            self.vectors(units)
