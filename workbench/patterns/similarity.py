"""Similar operations. With a memory tier (the engine gives one), learned operations live
in the vector tier's `patterns` namespace, keyed `pattern_memory:<id>`, and a search there
answers (int8 scan, f32 re-rank). Without one, the documented fallback:

`rank` embeds the query and the candidates with the memory package's deterministic
HashingEmbedder (word and character n-gram feature hashing, L2-normalized) and orders the
candidates by cosine similarity. It scans every candidate, which is fine for the few
thousand pattern-memory rows a store holds; a vector-memory index can replace it behind
the same signature.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from workbench.memory.embedder import HashingEmbedder

BACKEND = "hashing-cosine"
MEMORY_BACKEND = "vector-memory"
NAMESPACE = "patterns"


def key_of(row_id: int) -> str:
    return f"pattern_memory:{row_id}"


def row_id(key: str) -> int | None:
    prefix, _, number = key.partition(":")
    return int(number) if prefix == "pattern_memory" and number.isdigit() else None


@lru_cache(maxsize=1)
def _embedder() -> HashingEmbedder:
    return HashingEmbedder()


def rank(query: str, texts: Sequence[str]) -> list[tuple[int, float]]:
    """(index into texts, cosine similarity), most similar first; ties by index."""
    if not texts:
        return []
    vectors = _embedder().embed([query, *texts]).astype(np.float64)
    sims = vectors[1:] @ vectors[0]
    order = sorted(range(len(texts)), key=lambda i: (-sims[i], i))
    return [(i, float(sims[i])) for i in order]
