"""Hub search on the store's full-text index: triggers keep it in sync, the migration
indexes rows stored before it, query syntax is harmless, and ranking quality on the
labelled query set is at least that of the former hand-written BM25."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import statistics
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbench.engine import Engine
from workbench.hub import search
from workbench.hub.evaluation import (
    BM25Reference,
    expand_grades,
    generated_corpus,
    load_judgements,
    ndcg_at_k,
)
from workbench.store import models as m
from workbench.store.db import open_database
from workbench.store.postgres import is_postgres

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_data" / "hub" / "knowledge.json"
JUDGEMENTS = ROOT / "tests" / "fixtures" / "hub_judgements.json"
# What PostgreSQL's ts_rank_cd is allowed to lose against BM25 (documented in BENCHMARKS.md).
PG_NDCG_SHORTFALL = 0.035
PRIORITY = {"LOW": 1, "MEDIUM": 2, "HIGH": 3, "CRITICAL": 4}


def titles(results: list[dict]) -> list[str]:
    return [r["title"] for r in results]


def fts_in_sync(engine: Engine) -> None:
    """SQLite: FTS5's own check that the index matches the content table."""
    if is_postgres(engine.db):
        return
    engine.db.execute_sql(
        "INSERT INTO knowledge_fts (knowledge_fts, rank) VALUES ('integrity-check', 1)"
    )


@pytest.fixture
def hub(engine):
    engine.hub.create_channel("general")
    return engine.hub


def test_triggers_follow_insert_update_and_delete(engine, hub):
    item = hub.share("general", "solution", "Vacuum the database", "Run VACUUM after mass deletes.")
    assert titles(hub.query("vacuum")) == ["Vacuum the database"]
    hub.update(item["id"], note="renamed", title="Compact the file", content="Reclaim pages.")
    assert hub.query("vacuum") == []
    assert titles(hub.query("compact reclaim")) == ["Compact the file"]
    m.KnowledgeItem.update(tags=json.dumps(["maintenance"])).where(
        m.KnowledgeItem.uid == item["id"]
    ).execute()
    assert titles(hub.query("maintenance")) == ["Compact the file"]
    fts_in_sync(engine)
    m.KnowledgeItem.delete().where(m.KnowledgeItem.uid == item["id"]).execute()
    assert hub.query("compact") == [] and hub.query("maintenance") == []
    fts_in_sync(engine)


def test_imported_items_are_searchable(engine, hub):
    shared = hub.share(
        "general", "solution", "Pin dependency versions", "Lock files keep builds equal."
    )
    doc = hub.export_data()
    doc["items"][0]["id"] = "kb-imported"
    doc["items"][0]["title"] = "Reproducible environments"
    doc["items"][0]["versions"][-1]["title"] = "Reproducible environments"
    m.KnowledgeItem.delete().where(m.KnowledgeItem.uid == shared["id"]).execute()
    assert hub.query("pin dependency") == []
    hub.import_data(doc)
    assert [r["id"] for r in hub.query("reproducible lock files")] == ["kb-imported"]
    fts_in_sync(engine)


def test_the_migration_indexes_rows_stored_before_it(tmp_path):
    path = tmp_path / "old.db"
    db, applied = open_database(path, 5000, migrate_to=9)
    assert 11 not in applied
    now = dt.datetime(2026, 1, 1)
    channel = m.Channel.create(name="general", created=now)
    for i, title in enumerate(["Old lock storms", "Old flaky tests"]):
        m.KnowledgeItem.create(
            uid=f"old-{i}", channel=channel, type="solution", title=title, content="from v9",
            created=now, updated=now,
        )  # fmt: skip
    db.close()
    engine = Engine(path)
    try:
        assert 11 in engine.applied_migrations
        assert titles(engine.hub.query("storms")) == ["Old lock storms"]
        assert len(engine.hub.query("from v9")) == 2
        fts_in_sync(engine)
    finally:
        engine.close()


HOSTILE = [
    '"', '""', '"sqlite', "sqlite*", "*", "NEAR(sqlite lock)", "NEAR", "sqlite AND", "OR",
    "NOT sqlite", "(sqlite", "sqlite)", "((", "title:sqlite", "{title}: lock", "^sqlite",
    "sqlite -lock", "'; DROP TABLE knowledge_items; --", "\x00", "lock\\", "\u00e9t\u00e9",
    "sql_ite", "a" * 5000, "%", "_",
]  # fmt: skip


@pytest.mark.parametrize("text", HOSTILE)
def test_fts_syntax_is_searched_as_text(engine, hub, text):
    hub.share("general", "solution", "SQLite lock storms", "Writers wait on one sqlite lock.")
    results = hub.query(text)
    assert isinstance(results, list)
    if "sqlite" in text.lower():
        assert titles(results) == ["SQLite lock storms"]
    assert m.KnowledgeItem.select().count() == 1


def test_match_expression_quotes_every_term():
    terms = search.query_terms('NEAR("sqlite" lock*) AND the OR (title:wal')
    assert terms == ["near", "sqlite", "lock", "title", "wal"]
    assert search.fts5_match(terms) == '"near" OR "sqlite" OR "lock" OR "title" OR "wal"'
    assert search.query_terms("the and of") == []


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=st.text(max_size=60))
def test_any_text_is_a_valid_query(sqlite_engine, text):
    if not m.Channel.select().exists():
        sqlite_engine.hub.create_channel("general")
        sqlite_engine.hub.share("general", "solution", "Busy timeout", "Writers wait for the lock.")
    assert isinstance(sqlite_engine.hub.query(text, count_views=False), list)


def test_tag_filter_matches_whole_tags(engine, hub):
    hub.share("general", "solution", "A sqlite tip", "About sqlite.", tags=["sqlite"])
    hub.share("general", "solution", "A sql tip", "About sqlite too.", tags=["sql"])
    assert titles(hub.query("sqlite", tag="sql")) == ["A sql tip"]
    assert titles(hub.query("sqlite", tag="SQLite")) == ["A sqlite tip"]
    assert hub.query("sqlite", tag="sq") == []


def test_ties_go_to_priority_then_popularity(engine, hub):
    for priority in ("LOW", "HIGH", "MEDIUM"):
        hub.share("general", "solution", "Same words", "identical text", priority=priority)
    assert [r["priority"] for r in hub.query("identical")] == ["HIGH", "MEDIUM", "LOW"]


# -- ranking quality --------------------------------------------------------------------


def load_corpus(engine: Engine, items: list[dict]) -> None:
    channels = {c.name: c.id for c in m.Channel.select()}
    now = dt.datetime(2026, 1, 1)
    rows = [
        {
            "uid": it["uid"], "channel": channels[it["channel"]], "type": it["type"],
            "title": it["title"], "content": it["content"], "tags": json.dumps(it["tags"]),
            "priority": PRIORITY[it["priority"]], "created": now, "updated": now,
        }
        for it in items
    ]  # fmt: skip
    with engine.db.atomic():
        for start in range(0, len(rows), 500):
            m.KnowledgeItem.insert_many(rows[start : start + 500]).execute()


def mean_ndcg(engine: Engine, corpus: list[dict], judged: list[dict]) -> tuple[float, float]:
    reference = BM25Reference(
        [(it["uid"], it["title"], it["content"], it["tags"], PRIORITY[it["priority"]], 0)
         for it in corpus]
    )  # fmt: skip
    ours, theirs = [], []
    for case in judged:
        grades = expand_grades(case["relevant"], corpus)
        got = [r["id"] for r in engine.hub.query(case["query"], count_views=False)]
        ours.append(ndcg_at_k(got, grades))
        theirs.append(ndcg_at_k(reference.rank(case["query"]), grades))
    return statistics.fmean(ours), statistics.fmean(theirs)


@pytest.mark.parametrize("size", [0, 2000], ids=["seeded", "generated-2000"])
def test_ndcg_at_10_is_not_below_the_former_bm25(engine, size):
    from workbench.seed import _seed_channels

    _seed_channels(dt.datetime(2026, 1, 1))
    samples = json.loads(SAMPLE.read_text(encoding="utf-8"))["items"]
    if size:
        corpus = generated_corpus(samples, size)
    else:  # the seeded store's own 28 items
        corpus = [{**it, "uid": it["id"], "base": it["id"], "tags": sorted(it["tags"])}
                  for it in samples]  # fmt: skip
    load_corpus(engine, corpus)
    judged = load_judgements(JUDGEMENTS)
    assert len(judged) >= 30
    ours, former = mean_ndcg(engine, corpus, judged)
    if is_postgres(engine.db):
        # ts_rank_cd has no IDF: measured 0.974 vs 0.983 (seeded), 0.972 vs 1.0 (2,000 items)
        assert ours >= former - PG_NDCG_SHORTFALL, (ours, former)
    else:
        assert ours >= former - 1e-9, (ours, former)
    assert ours > 0.6  # and the judged set is findable at all


def test_sqlite_has_fts5():
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE t USING fts5(a, tokenize='porter unicode61')")
    conn.close()


@pytest.mark.parametrize("fetch,prefix", [(1, 1), (3, 1), (8, 2), (8, 8), (20, 4), (400, 50)])
def test_the_fast_path_equals_the_full_join(sqlite_engine, monkeypatch, fetch, prefix):
    """Few words, many ties: the candidate fast path returns exactly what the full SQL
    ranking returns, whichever way it decides (complete, provably exact, or fall back)."""
    hub = sqlite_engine.hub
    hub.create_channel("a")
    hub.create_channel("b")
    words = ["lock", "timeout", "cache", "seed"]
    for i in range(40):
        text = " ".join(words[j % 4] for j in range(i % 3, i % 3 + 1 + i % 4))
        item = hub.share("a" if i % 3 else "b", "solution", f"t{i} {words[i % 4]}", text,
                         priority=1 + i % 4, tags=[words[(i + 1) % 4]])  # fmt: skip
        for v in range(i % 5):
            hub.vote(item["id"], f"agent{v}")
    monkeypatch.setattr(search, "FETCH", fetch)
    monkeypatch.setattr(search, "PREFIX", prefix)
    channel_b = m.Channel.get(m.Channel.name == "b").id
    for text in ("lock", "lock timeout", "cache seed", "timeout"):
        for kwargs in ({}, {"channel_id": channel_b}, {"min_priority": 3}, {"tag": "seed"}):
            for limit in (1, 3, 10):
                got = search.ranked_ids(sqlite_engine.db, text, limit=limit, **kwargs)
                where, params = [], []
                if "channel_id" in kwargs:
                    where.append("k.channel_id = ?")
                    params.append(channel_b)
                if "min_priority" in kwargs:
                    where.append("k.priority >= ?")
                    params.append(3)
                if "tag" in kwargs:
                    where.append("EXISTS (SELECT 1 FROM json_each(k.tags) WHERE value = ?)")
                    params.append("seed")
                filters = "".join(f" AND {w}" for w in [*where, "k.state <> 'ARCHIVED'"])
                match = search.fts5_match(search.query_terms(text))
                want = search.sqlite_full_ranking(sqlite_engine.db, match, filters, params, limit)
                assert got == want, (text, kwargs, limit)
