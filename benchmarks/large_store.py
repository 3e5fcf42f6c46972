"""The large store of issue 16: the seeded store plus 10,000 hub items, 100,000 vector
memories and 1,000 pipeline runs (with their executions and trend points), written in
bulk so it takes seconds, not minutes. Used by benchmarks/ui_first_frame.py,
benchmarks/ui_repaint.py and the UI-thread test at those sizes (tests/ui/test_ui_thread.py).

Memories are real: texts from memory_search.make_texts, embedded and quantized by the
vector tier itself (`put_many`), unless `embed=False`, which stores each row with the
int8 code of a cheap deterministic vector instead (the test uses that: the panes show
counts, bytes and the newest rows, and a search over those codes costs what it costs).

    python benchmarks/large_store.py PATH [--hub 10000] [--memories 100000] [--runs 1000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_HUB = ROOT / "sample_data" / "hub" / "knowledge.json"
STRATEGIES = ("conservative", "balanced", "aggressive")
TASKS = ("fizzbuzz", "lru_cache", "rate_limiter", "json_merge")
CHUNK = 500


def _bench_module(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


def _insert(model, rows: list[dict]) -> None:
    for start in range(0, len(rows), CHUNK):
        model.insert_many(rows[start : start + CHUNK]).execute()


def add_hub_items(engine, n: int) -> None:
    """`n` knowledge items grown from the sample ones (workbench.hub.evaluation)."""
    from workbench.hub.evaluation import generated_corpus
    from workbench.store import models as m

    items = json.loads(SAMPLE_HUB.read_text(encoding="utf-8"))
    items = items["items"] if isinstance(items, dict) else items
    channels = {c.name: c.id for c in m.Channel.select()}
    fallback = next(iter(channels.values()))
    priority = {"LOW": 1, "MEDIUM": 2, "HIGH": 3, "CRITICAL": 4}
    rows = [
        {
            "uid": f"large-{i:06d}",
            "channel": channels.get(it["channel"], fallback),
            "type": it["type"],
            "title": it["title"],
            "content": it["content"],
            "tags": json.dumps(it["tags"]),
            "priority": priority.get(it["priority"], 2),
        }
        for i, it in enumerate(generated_corpus(items, n))
    ]
    with engine.db.atomic():
        _insert(m.KnowledgeItem, rows)


def add_memories(engine, n: int, embed: bool = True) -> None:
    """`n` vector memories in namespace `bench`."""
    if embed:
        texts = _bench_module("memory_search").make_texts(n, seed=7)
        vector = engine.memory.vector
        for start in range(0, n, 5000):
            chunk = texts[start : start + 5000]
            vector.put_many(("bench", f"t{start + i}", t, {}) for i, t in enumerate(chunk))
        return
    import numpy as np

    from workbench.store import models as m

    dim = 384
    codes = np.random.default_rng(7).integers(-127, 128, (n, dim), dtype=np.int8)
    now = dt.datetime(2026, 1, 1).isoformat(sep=" ")
    rows = (
        (
            "bench", f"t{i}",
            f"{TASKS[i % len(TASKS)]} note {i}: {STRATEGIES[i % 3]} run kept the cache",
            codes[i].tobytes(), 1 / 127, dim, now, now,
        )
        for i in range(n)
    )  # fmt: skip
    with engine.db.atomic():  # one parameterised statement, many rows (sqlite3 executemany)
        engine.db.cursor().executemany(
            f"INSERT INTO {m.VectorMemory._meta.table_name} (namespace, key, text, "
            "embedding_i8, scale, dim, embedder, metadata, created, updated) "
            "VALUES (?, ?, ?, ?, ?, ?, 'hashing-384', '{}', ?, ?)",
            rows,
        )


def add_runs(engine, n: int) -> None:
    """`n` finished pipeline runs, each 2 tasks × 3 strategies over one iteration, with a
    trend point per strategy (what Runs and Trends list and chart)."""
    from workbench.store import models as m

    start = dt.datetime(2026, 1, 1)
    with engine.db.atomic():
        first = m.PipelineRun.select(m.PipelineRun.id).order_by(m.PipelineRun.id.desc()).first()
        base = first.id if first else 0
        runs = [
            {
                "id": base + r + 1, "status": "completed", "complexity": "easy",
                "iterations": 1, "strategies": json.dumps(list(STRATEGIES)),
                "started": start + dt.timedelta(minutes=r),
                "finished": start + dt.timedelta(minutes=r, seconds=30),
            }
            for r in range(n)
        ]  # fmt: skip
        _insert(m.PipelineRun, runs)
        executions, trend = [], []
        for r in range(n):
            run_id = base + r + 1
            for s, strategy in enumerate(STRATEGIES):
                for t in range(2):
                    passed = (r + s + t) % 4 != 0
                    executions.append(
                        {
                            "run": run_id, "iteration": 1, "task": TASKS[(r + t) % len(TASKS)],
                            "strategy": strategy, "tests_passed": 3 if passed else 1,
                            "tests_total": 3, "lint_ok": passed, "exec_ms": 120.0 + s * 10 + t,
                            "score": 0.9 if passed else 0.3,
                            "status": "passed" if passed else "failed",
                            "created": start + dt.timedelta(minutes=r),
                        }
                    )  # fmt: skip
                trend.append(
                    {
                        "strategy": strategy, "run": run_id, "iteration": 1,
                        "score": 0.5 + 0.3 * ((r + s) % 5) / 4, "success_rate": 0.75,
                        "exec_ms": 120.0 + s * 10, "at": start + dt.timedelta(minutes=r),
                    }
                )  # fmt: skip
        _insert(m.TaskExecution, executions)
        _insert(m.StrategyTrend, trend)


def build(
    path: Path, hub: int = 10_000, memories: int = 100_000, runs: int = 1_000, embed: bool = True
) -> Path:
    """Seed a store at `path` and add the generated rows; returns `path`."""
    from workbench.engine import Engine

    with Engine(path) as engine:
        engine.seed()
        add_hub_items(engine, hub)
        add_memories(engine, memories, embed=embed)
        add_runs(engine, runs)
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path)
    parser.add_argument("--hub", type=int, default=10_000)
    parser.add_argument("--memories", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=1_000)
    parser.add_argument("--no-embed", action="store_true", help="cheap codes, not embeddings")
    args = parser.parse_args()
    started = time.perf_counter()
    build(args.path, args.hub, args.memories, args.runs, embed=not args.no_embed)
    print(f"built {args.path} in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
