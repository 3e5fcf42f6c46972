"""The default embedder: deterministic feature hashing, so memory works offline.

Words and character trigrams of each word are hashed (blake2b, stable across processes and
platforms) into 384 signed buckets and the vector is L2-normalised. Texts that share words
or word pieces land close together; nothing is downloaded.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
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
