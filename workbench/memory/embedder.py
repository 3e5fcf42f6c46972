"""The default embedder: deterministic feature hashing, so memory works offline.

Words and character trigrams of each word are hashed (blake2b, stable across processes and
platforms) into 384 signed buckets and the vector is L2-normalised. Texts that share words
or word pieces land close together; nothing is downloaded.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

WORD = re.compile(r"[a-z0-9]+")
WORD_CACHE = 200_000  # memoised words (a few hundred bytes each), cleared when full


class Embedder(Protocol):
    """Texts to L2-normalised float32 rows. ``expensive`` embedders get their f32 vectors
    stored for the search re-rank; cheap ones are re-run on the candidates instead."""

    name: str
    dim: int
    expensive: bool

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


class HashingEmbedder:
    """Signed feature hashing of words (weight 1) and character trigrams (weight 0.5)."""

    expensive = False  # ~0.05 ms a text: re-embedding candidates beats storing f32

    def __init__(self, dim: int = 384, ngram: int = 3) -> None:
        if dim <= 0 or ngram <= 0:
            raise ValueError("embedder dim and ngram must be positive")
        self.dim = dim
        self.ngram = ngram
        self.name = f"hashing-{dim}"
        self._words: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def _features(self, text: str) -> list[tuple[str, float]]:
        features: list[tuple[str, float]] = []
        for word in WORD.findall(text.lower()):
            features.append(("w:" + word, 1.0))
            padded = f"<{word}>"
            for i in range(max(1, len(padded) - self.ngram + 1)):
                features.append(("c:" + padded[i : i + self.ngram], 0.5))
        return features

    def _word_slots(self, word: str) -> tuple[np.ndarray, np.ndarray]:
        """Buckets and signed weights of a word's features, memoised: hashing dominates the
        cost and vocabularies repeat (every search re-embeds its candidates' text)."""
        cached = self._words.get(word)
        if cached is None:
            buckets, weights = [], []
            for feature, weight in self._features(word):
                digest = int.from_bytes(
                    hashlib.blake2b(feature.encode(), digest_size=8).digest(), "little"
                )
                buckets.append(digest % self.dim)
                weights.append(weight if (digest >> 63) & 1 else -weight)
            cached = (np.array(buckets, np.int64), np.array(weights, np.float64))
            if len(self._words) >= WORD_CACHE:
                self._words.clear()
            self._words[word] = cached
        return cached

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        rows, buckets, weights = [], [], []
        for row, text in enumerate(texts):
            for word in WORD.findall(text.lower()):
                b, w = self._word_slots(word)
                rows.append(row)
                buckets.append(b)
                weights.append(w)
        n = len(texts)
        if not buckets:
            return np.zeros((n, self.dim), dtype=np.float32)
        lengths = [len(b) for b in buckets]
        flat = np.concatenate(buckets) + np.repeat(np.array(rows, np.int64) * self.dim, lengths)
        sums = np.bincount(flat, np.concatenate(weights), minlength=n * self.dim)
        out = sums.reshape(n, self.dim)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        np.divide(out, norms, out=out, where=norms > 0)
        return out.astype(np.float32)


MODEL2VEC_FILES = ("model.safetensors", "tokenizer.json", "config.json")
FINGERPRINT_BYTES = 1 << 20  # the start of each model file names the model (see name)


class Model2VecEmbedder:
    """Static sentence embeddings from a model2vec model on disk (`--embedder
    model2vec:PATH`): better neighbours than hashing for paraphrases, still no network.

    The path must be a local model directory: model2vec itself would take an unknown path
    for a Hugging Face repository and download it, which the workbench never does.
    """

    expensive = True  # a tokenizer pass per text: keep f32 for the re-rank

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path).expanduser()
        if not self.path.is_dir():
            raise ValueError(f"model2vec model {self.path}: not a directory")
        missing = [f for f in MODEL2VEC_FILES if not (self.path / f).is_file()]
        if missing:
            raise ValueError(f"{self.path} is not a model2vec model (missing {', '.join(missing)})")
        try:
            from model2vec import StaticModel
        except ImportError:
            raise ValueError(
                "the model2vec embedder needs the embeddings extra: "
                "pip install 'workbench[embeddings]'"
            ) from None
        try:
            self._model = StaticModel.from_pretrained(self.path, normalize=True)
        except Exception as exc:  # safetensors/tokenizers raise their own types
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ValueError(f"{self.path} is not a readable model2vec model: {first}") from None
        self.dim = int(self._model.dim)
        self.name = f"model2vec-{self._fingerprint()}-{self.dim}"

    def _fingerprint(self) -> str:
        """Stable across copies of the same model, different for another model: a stored
        vector made by one model is never compared with a query made by another."""
        digest = hashlib.blake2b(digest_size=6)
        for file in MODEL2VEC_FILES:
            with open(self.path / file, "rb") as fh:
                digest.update(fh.read(FINGERPRINT_BYTES))
            digest.update(str((self.path / file).stat().st_size).encode())
        return digest.hexdigest()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        out = np.asarray(self._model.encode(list(texts), show_progress_bar=False), np.float32)
        # texts with no known token come back as zeros (or NaN after normalising): zeros
        out = np.nan_to_num(out, nan=0.0)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        np.divide(out, norms, out=out, where=norms > 0)
        return out


EMBEDDERS = ("hashing", "hashing:DIM", "model2vec:PATH")


def make_embedder(spec: str | None) -> Embedder:
    """The embedder a spec names: `hashing` (default), `hashing:DIM` or `model2vec:PATH`."""
    spec = (spec or "hashing").strip()
    kind, _, arg = spec.partition(":")
    kind = kind.lower()
    if kind == "hashing":
        if not arg:
            return HashingEmbedder()
        if not arg.isdigit() or int(arg) <= 0:
            raise ValueError(f"embedder {spec!r}: hashing:DIM needs a positive integer")
        return HashingEmbedder(dim=int(arg))
    if kind == "model2vec":
        if not arg:
            raise ValueError("embedder 'model2vec' needs a path: model2vec:PATH")
        return Model2VecEmbedder(arg)
    raise ValueError(f"unknown embedder {spec!r}: use one of {', '.join(EMBEDDERS)}")
