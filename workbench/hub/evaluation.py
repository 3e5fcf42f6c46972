"""Measuring hub ranking quality: nDCG@k on a judged query set, the former hand-written
BM25 as the reference ranking, and a deterministic generated corpus that grows the 28
sample items to any size. Used by tests/hub and benchmarks/hub_query.py.

    DCG@k  = Σ_{i<k} (2^rel_i − 1) / log2(i + 2)       nDCG@k = DCG@k / ideal DCG@k

where rel_i is the judged grade of the i-th result (0 if unjudged) and the ideal DCG ranks
every judged item of the corpus by grade.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path

from workbench.hub.relevance import bm25_scores, document_terms


def load_judgements(path: str | Path) -> list[dict]:
    """[{"query": str, "relevant": {uid: grade}}] from a judgements file."""
    return json.loads(Path(path).read_text(encoding="utf-8"))["queries"]


def ndcg_at_k(ranked: Sequence[str], grades: Mapping[str, int], k: int = 10) -> float:
    gains = [grades.get(uid, 0) for uid in ranked[:k]]
    dcg = sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(gains))
    ideal = sorted(grades.values(), reverse=True)[:k]
    best = sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / best if best else 0.0


def generated_corpus(items: Sequence[dict], n: int) -> list[dict]:
    """`n` items grown from the sample `items`: item i is sample i mod len(items) (its
    `base` uid) with words of two other samples mixed into its content and a numbered
    title, so texts overlap the way a grown knowledge base does."""
    count = len(items)
    out = []
    for i in range(n):
        base, a, b = items[i % count], items[(i * 7 + 3) % count], items[(i * 11 + 5) % count]
        extra = a["content"].split()[(i % 5) :: 6] + b["title"].split()[:: 2 + i % 2]
        out.append(
            {
                "uid": f"gen-{i:06d}",
                "base": base["id"],
                "channel": base["channel"],
                "type": base["type"],
                "title": f"{base['title']} ({i})",
                "content": base["content"] + " " + " ".join(extra),
                "tags": sorted(base["tags"]),
                "priority": base["priority"],
            }
        )
    return out


def expand_grades(grades: Mapping[str, int], corpus: Sequence[dict]) -> dict[str, int]:
    """Grades for a generated corpus: each item gets its base sample's grade."""
    return {it["uid"]: grades[it["base"]] for it in corpus if it["base"] in grades}


class BM25Reference:
    """The former `hub.query` order over (uid, title, content, tags, priority, popularity)
    rows: BM25 score, then priority, popularity and uid; items scoring 0 left out."""

    def __init__(self, docs: Sequence[tuple[str, str, str, list[str], int, int]]) -> None:
        self.docs = list(docs)
        self.counts = [document_terms(d[1], d[2], d[3]) for d in self.docs]
        self.lengths = [sum(c.values()) for c in self.counts]

    def rank(self, query: str, k: int = 10) -> list[str]:
        scores = bm25_scores(query, self.counts, self.lengths)
        hits = [(s, d) for s, d in zip(scores, self.docs, strict=True) if s > 0]
        hits.sort(key=lambda pair: (-pair[0], -pair[1][4], -pair[1][5], pair[1][0]))
        return [d[0] for _, d in hits[:k]]
