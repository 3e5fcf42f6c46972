"""The hub's former hand-written Okapi BM25 over title, content and tags, kept as the
reference that the store's full-text ranking (`search`) is measured against (nDCG@10 on
the labelled query set in tests/hub and benchmarks/hub_query.py); `terms` also serves
task analysis. Queries themselves run in the store.

    score(q, d) = Σ_{t ∈ q} idf(t) · tf(t,d) · (k1 + 1) / (tf(t,d) + k1 · (1 − b + b · |d|/avgdl))
    idf(t)      = ln(1 + (N − n(t) + 0.5) / (n(t) + 0.5))

with k1 = 1.2 and b = 0.75. A document is its title and tags counted twice (they name what
an item is about) plus its content; N is the number of candidate items, n(t) how many of
them contain t, |d| a document's length in terms and avgdl the mean length. Terms are
lower-case words with a small stop-word list removed and a plural `s` folded, so "queries"
and "query" do not match each other but "tests" and "test" do.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

K1 = 1.2
B = 0.75
FIELD_WEIGHT = {"title": 2, "tags": 2, "content": 1}
WORD = re.compile(r"[a-z0-9]+")
_STOP_TEXT = (
    "a an and are as at be by for from has have in is it its of on or that the this to was "
    "were will with when which what how do does not no"
)
STOP_WORDS = frozenset(_STOP_TEXT.split())


def terms(text: str) -> list[str]:
    """Lower-case words without stop words; a trailing plural `s` is folded."""
    out = []
    for word in WORD.findall(text.lower()):
        if word in STOP_WORDS:
            continue
        if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        out.append(word)
    return out


def document_terms(title: str, content: str, tags: Sequence[str]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for field, text in (("title", title), ("content", content), ("tags", " ".join(tags))):
        for term in terms(text):
            counts[term] += FIELD_WEIGHT[field]
    return counts


def bm25_scores(
    query: str, documents: Sequence[Counter[str]], lengths: Sequence[int] | None = None
) -> list[float]:
    """BM25 score of every document for the query (0.0 where no query term occurs);
    `lengths` are the documents' term totals when the caller has them already."""
    query_terms = list(dict.fromkeys(terms(query)))
    n_docs = len(documents)
    if not query_terms or n_docs == 0:
        return [0.0] * n_docs
    if lengths is None:
        lengths = [sum(d.values()) for d in documents]
    avgdl = sum(lengths) / n_docs or 1.0
    idf = {}
    for term in query_terms:
        containing = sum(1 for d in documents if term in d)
        idf[term] = math.log(1.0 + (n_docs - containing + 0.5) / (containing + 0.5))
    scores = []
    for doc, length in zip(documents, lengths, strict=True):
        score = 0.0
        norm = K1 * (1.0 - B + B * length / avgdl)
        for term in query_terms:
            tf = doc.get(term, 0)
            if tf:
                score += idf[term] * tf * (K1 + 1.0) / (tf + norm)
        scores.append(score)
    return scores
