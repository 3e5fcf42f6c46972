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


class Embedder(Protocol):
    name: str
    dim: int

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


class HashingEmbedder:
    """Signed feature hashing of words (weight 1) and character trigrams (weight 0.5)."""

    def __init__(self, dim: int = 384, ngram: int = 3) -> None:
        if dim <= 0 or ngram <= 0:
            raise ValueError("embedder dim and ngram must be positive")
        self.dim = dim
        self.ngram = ngram
        self.name = f"hashing-{dim}"

    def _features(self, text: str) -> list[tuple[str, float]]:
        features: list[tuple[str, float]] = []
        for word in WORD.findall(text.lower()):
            features.append(("w:" + word, 1.0))
            padded = f"<{word}>"
            for i in range(max(1, len(padded) - self.ngram + 1)):
                features.append(("c:" + padded[i : i + self.ngram], 0.5))
        return features

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for feature, weight in self._features(text):
                digest = int.from_bytes(
                    hashlib.blake2b(feature.encode(), digest_size=8).digest(), "little"
                )
                sign = 1.0 if (digest >> 63) & 1 else -1.0
                out[row, digest % self.dim] += sign * weight
            norm = float(np.linalg.norm(out[row]))
            if norm > 0:
                out[row] /= norm
        return out
