"""Knowledge-hub relevance queries at N stored items: latency of `hub.query` (BM25 in
Python over title, content and tags, with the hub's filters) against SQLite FTS5's own
bm25() ranking over the same texts, measured in the same run, and how much their top 10
agree.

Items are generated deterministically from the 28 sample items: each is a sample item's
title and content with words from two other items mixed in and a numbered suffix, so
texts overlap the way a grown knowledge base does. Queries are titles of sample items
with a word dropped, and a few multi-word topics. The FTS5 peer gets the same weights
(title 2, content 1, tags 2) through bm25(weights), its tokenizer is `porter`; it runs
over its own table in the same SQLite file.

    python benchmarks/hub_query.py [--n 10000] [--queries 40] [--json]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from workbench.engine import Engine
from workbench.store import models as m

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data" / "hub" / "knowledge.json"
TOPICS = ["sqlite lock timeout", "flaky tests seed", "sandbox subprocess timeout",
          "embedding cache", "training loss validation"]  # fmt: skip


def corpus(n: int) -> list[dict]:
    items = json.loads(SAMPLE.read_text(encoding="utf-8"))["items"]
    out = []
    for i in range(n):
        base, a, b = items[i % 28], items[(i * 7 + 3) % 28], items[(i * 11 + 5) % 28]
        extra = a["content"].split()[(i % 5) :: 6] + b["title"].split()[:: 2 + i % 2]
        out.append(
            {
                "channel": base["channel"],
                "type": base["type"],
                "title": f"{base['title']} ({i})",
                "content": base["content"] + " " + " ".join(extra),
                "tags": base["tags"],
                "priority": base["priority"],
            }
        )
    return out


def build(engine: Engine, items: list[dict]) -> None:
    engine.seed(ROOT / "tests" / "fixtures" / "seed")
    channels = {c.name: c.id for c in m.Channel.select()}
    now = dt.datetime(2026, 1, 1)
    rows = [
        {
            "uid": f"bench-{i:06d}", "channel": channels[it["channel"]], "type": it["type"],
            "title": it["title"], "content": it["content"], "tags": json.dumps(sorted(it["tags"])),
            "priority": {"LOW": 1, "MEDIUM": 2, "HIGH": 3, "CRITICAL": 4}[it["priority"]],
            "created": now, "updated": now,
        }
        for i, it in enumerate(items)
    ]  # fmt: skip
    with engine.db.atomic():
        for start in range(0, len(rows), 500):
            m.KnowledgeItem.insert_many(rows[start : start + 500]).execute()
    db = engine.db
    db.execute_sql(
        "CREATE VIRTUAL TABLE bench_fts USING fts5(uid UNINDEXED, title, content, tags, "
        "tokenize='porter')"
    )
    db.execute_sql(
        "INSERT INTO bench_fts (uid, title, content, tags) "
        "SELECT uid, title, content, tags FROM knowledge_items"
    )


def fts_query(engine: Engine, text: str, k: int = 10) -> list[str]:
    words = [w for w in "".join(c if c.isalnum() else " " for c in text.lower()).split()]
    match = " OR ".join(f'"{w}"' for w in words)
    sql = (
        "SELECT uid FROM bench_fts WHERE bench_fts MATCH ? "
        "ORDER BY bm25(bench_fts, 0.0, 2.0, 1.0, 2.0) LIMIT ?"
    )
    return [r[0] for r in engine.db.execute_sql(sql, (match, k)).fetchall()]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=40)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    items = json.loads(SAMPLE.read_text(encoding="utf-8"))["items"]
    queries = [" ".join(it["title"].split()[1:]) for it in items] + TOPICS
    queries = (queries * (args.queries // len(queries) + 1))[: args.queries]
    with tempfile.TemporaryDirectory() as tmp:
        engine = Engine(Path(tmp) / "bench.db")
        try:
            started = time.perf_counter()
            build(engine, corpus(args.n))
            build_s = time.perf_counter() - started
            hub = engine.hub
            started = time.perf_counter()
            hub.query(queries[0], count_views=False)
            first_s = time.perf_counter() - started
            ours, peer, overlap = [], [], []
            for q in queries:
                started = time.perf_counter()
                got = [r["id"] for r in hub.query(q, count_views=False)]
                ours.append(time.perf_counter() - started)
                started = time.perf_counter()
                want = fts_query(engine, q)
                peer.append(time.perf_counter() - started)
                overlap.append(len(set(got) & set(want)) / max(1, len(want)))
        finally:
            engine.close()
    report = {
        "n": args.n,
        "queries": len(queries),
        "build_s": round(build_s, 2),
        "first_query_ms": round(first_s * 1000, 1),
        "hub_query_median_ms": round(statistics.median(ours) * 1000, 2),
        "fts5_median_ms": round(statistics.median(peer) * 1000, 2),
        "ratio_hub_over_fts5": round(statistics.median(ours) / statistics.median(peer), 1),
        "top10_overlap_with_fts5": round(statistics.fmean(overlap), 3),
    }
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"hub query over {report['n']} items ({report['queries']} queries)")
        print(f"  first query (cold)   {report['first_query_ms']:>9.1f} ms")
        print(f"  hub.query median     {report['hub_query_median_ms']:>9.2f} ms")
        print(f"  FTS5 bm25 median     {report['fts5_median_ms']:>9.2f} ms")
        print(f"  ratio hub / FTS5     {report['ratio_hub_over_fts5']:>9.1f}x")
        print(f"  top-10 overlap       {report['top10_overlap_with_fts5']:>9.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
