"""Memory by key: `engine.memory.get(ns, key)` (a primary-key read through the engine)
against two peers measured in the same run over the same store: a bare sqlite3 SELECT on
the (namespace, key) unique index (the floor: no engine, no JSON decoding), and
`engine.memory.search` for the same text (what an agent had to do before keys existed).

Entries are N notes spread over 20 namespaces; keys are read in a fixed shuffled order.

    python benchmarks/memory_keyed.py [--n 10000] [--reads 2000] [--json]
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

from workbench.engine import Engine


def p50_us(samples: list[float]) -> float:
    return statistics.median(samples) * 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--reads", type=int, default=2000)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "keyed.db"
        keys = [(f"agent-{i % 20}", f"note-{i}") for i in range(args.n)]
        with Engine(db) as engine:
            memory = engine.memory
            memory.vector.put_many(
                [(ns, key, f"{ns} remembers {key}: step {i} of the plan", {})
                 for i, (ns, key) in enumerate(keys)]
            )  # fmt: skip
            order = [keys[rng.randrange(len(keys))] for _ in range(args.reads)]
            get_s = []
            for ns, key in order:
                t = time.perf_counter()
                memory.keyed.get(ns, key)
                get_s.append(time.perf_counter() - t)
            search_s = []
            for ns, key in order[: max(1, args.reads // 10)]:
                t = time.perf_counter()
                memory.vector.search(f"{ns} remembers {key}", ns, 1)
                search_s.append(time.perf_counter() - t)
        conn = sqlite3.connect(db)
        sql_s = []
        for ns, key in order:
            t = time.perf_counter()
            conn.execute(
                "SELECT text, metadata FROM vector_memory WHERE namespace = ? AND key = ? "
                "AND (expires IS NULL OR expires > ?)", (ns, key, "2026-01-01"),
            ).fetchone()  # fmt: skip
            sql_s.append(time.perf_counter() - t)
        conn.close()
    report = {
        "n": args.n,
        "reads": args.reads,
        "get_p50_us": round(p50_us(get_s), 1),
        "sqlite3_select_p50_us": round(p50_us(sql_s), 1),
        "search_p50_us": round(p50_us(search_s), 1),
        "get_vs_sqlite3": round(p50_us(get_s) / p50_us(sql_s), 2),
        "search_vs_get": round(p50_us(search_s) / p50_us(get_s), 1),
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"{args.n} entries, {args.reads} reads (p50)")
    print(f"  memory.get          {report['get_p50_us']:>9.1f} µs  "
          f"({report['get_vs_sqlite3']}x a bare sqlite3 SELECT)")  # fmt: skip
    print(f"  sqlite3 SELECT      {report['sqlite3_select_p50_us']:>9.1f} µs")
    print(f"  memory.search (k=1) {report['search_p50_us']:>9.1f} µs  "
          f"({report['search_vs_get']}x memory.get)")  # fmt: skip


if __name__ == "__main__":
    main()
