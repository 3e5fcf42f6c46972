"""Text relevance for hub queries: Okapi BM25 over title, content and tags.

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


class TermIndex:
    """Term counts per document with an inverted index over them, so a query only touches
    the documents that contain its terms. Documents are keyed by id and carry a version
    key; `put` replaces a document whose key changed. Scores equal `bm25_scores` over the
    documents asked about."""

    def __init__(self) -> None:
        self.docs: dict[int, tuple[object, Counter[str], int]] = {}
        self.postings: dict[str, dict[int, int]] = {}

    def has(self, doc_id: int, key: object) -> bool:
        entry = self.docs.get(doc_id)
        return entry is not None and entry[0] == key

    def put(self, doc_id: int, key: object, counts: Counter[str]) -> None:
        self.remove(doc_id)
        self.docs[doc_id] = (key, counts, sum(counts.values()))
        for term, tf in counts.items():
            self.postings.setdefault(term, {})[doc_id] = tf

    def remove(self, doc_id: int) -> None:
        entry = self.docs.pop(doc_id, None)
        if entry is None:
            return
        for term in entry[1]:
            posting = self.postings.get(term)
            if posting is not None:
                posting.pop(doc_id, None)
                if not posting:
                    del self.postings[term]

    def scores(self, query: str, doc_ids: Sequence[int]) -> dict[int, float]:
        """BM25 of the documents among `doc_ids` that contain a query term (the others
        score 0); N, n(t) and avgdl are taken over `doc_ids` only."""
        query_terms = list(dict.fromkeys(terms(query)))
        if not query_terms or not doc_ids:
            return {}
        wanted = set(doc_ids)
        docs = self.docs
        avgdl = sum(docs[d][2] for d in doc_ids) / len(doc_ids) or 1.0
        out: dict[int, float] = {}
        for term in query_terms:
            matches = [(d, tf) for d, tf in self.postings.get(term, {}).items() if d in wanted]
            if not matches:
                continue
            idf = math.log(1.0 + (len(doc_ids) - len(matches) + 0.5) / (len(matches) + 0.5))
            for d, tf in matches:
                norm = K1 * (1.0 - B + B * docs[d][2] / avgdl)
                out[d] = out.get(d, 0.0) + idf * tf * (K1 + 1.0) / (tf + norm)
        return out
