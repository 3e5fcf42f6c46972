"""BM25 relevance on a small corpus, and the query filters."""

from __future__ import annotations

import math

import pytest

from workbench.hub.relevance import K1, B, bm25_scores, document_terms, terms

CORPUS = [
    ("SQLite busy timeout", "Set a busy timeout so writers wait for the lock.", ["sqlite"]),
    ("Flaky tests", "Seed the random generator so flaky tests replay exactly.", ["testing"]),
    ("Parameterized queries", "Never format SQL strings; pass parameters to sqlite.", ["sql"]),
    ("Cache embeddings", "Embedding the same text twice wastes time; cache by hash.", ["perf"]),
]


def docs():
    return [document_terms(t, c, tags) for t, c, tags in CORPUS]


def test_terms_drop_stop_words_and_fold_plurals():
    assert terms("The tests and the Queries of SQLite") == ["test", "querie", "sqlite"]


def test_ranking_on_a_small_corpus():
    scores = bm25_scores("sqlite lock timeout", docs())
    ranked = sorted(range(len(CORPUS)), key=lambda i: -scores[i])
    assert ranked[:2] == [0, 2]  # both name sqlite; only the first the lock and timeout
    assert scores[1] == scores[3] == 0.0


def test_title_and_tags_weigh_more_than_content():
    scores = bm25_scores("cache", docs())
    assert scores[3] > 0
    title_doc = document_terms("cache", "other words here", [])
    content_doc = document_terms("other words", "cache here", [])
    weighted = bm25_scores("cache", [title_doc, content_doc])
    assert weighted[0] > weighted[1] > 0


def test_formula_by_hand_for_one_term():
    documents = docs()
    n_docs, containing = len(documents), sum(1 for d in documents if "flaky" in d)
    idf = math.log(1 + (n_docs - containing + 0.5) / (containing + 0.5))
    lengths = [sum(d.values()) for d in documents]
    avgdl = sum(lengths) / n_docs
    tf = documents[1]["flaky"]
    expected = idf * tf * (K1 + 1) / (tf + K1 * (1 - B + B * lengths[1] / avgdl))
    assert bm25_scores("flaky", documents)[1] == pytest.approx(expected)


def test_empty_query_or_corpus_scores_zero():
    assert bm25_scores("the and of", docs()) == [0.0] * len(CORPUS)
    assert bm25_scores("sqlite", []) == []


@pytest.fixture
def hub(engine):
    hub = engine.hub
    hub.create_channel("general")
    hub.create_channel("warnings")
    for title, content, tags in CORPUS:
        hub.share("general", "solution", title, content, tags=tags, priority="LOW")
    hub.share("warnings", "warning", "SQLite lock storms", "Many sqlite writers: one lock.",
              tags=["sqlite"], priority="CRITICAL")  # fmt: skip
    return hub


def test_query_ranks_and_filters(hub):
    results = hub.query("sqlite lock")
    assert results[0]["title"] == "SQLite lock storms"
    assert [r["score"] for r in results] == sorted((r["score"] for r in results), reverse=True)
    assert {r["title"] for r in hub.query("sqlite", channel="general")} == {
        "SQLite busy timeout",
        "Parameterized queries",
    }
    assert [r["title"] for r in hub.query("sqlite", min_priority="HIGH")] == ["SQLite lock storms"]
    assert [r["title"] for r in hub.query("sqlite", tag="sql")] == ["Parameterized queries"]
    assert hub.query("quantum entanglement") == []


def test_query_counts_a_view_for_each_result(hub):
    first = hub.query("flaky tests")[0]
    assert first["views"] == 1
    assert hub.item(first["id"])["views"] == 1
    assert hub.query("flaky tests", count_views=False)[0]["views"] == 1


def test_query_hides_archived_items(hub):
    uid = hub.query("flaky")[0]["id"]
    hub.archive(uid)
    assert hub.query("flaky") == []
    assert hub.query("flaky", include_archived=True)[0]["id"] == uid
