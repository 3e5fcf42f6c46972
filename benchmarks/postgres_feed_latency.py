"""Latency from a commit in another process to the change-feed event, on PostgreSQL.

The same writer as `change_feed_latency.py` (a separate process inserting one row at a
time, printing the wall time after each commit) writes a PostgreSQL store; in this process
the LISTEN/NOTIFY feed (`watch_notifications`) and two polling peers (change_log read every
50 ms and every 10 ms) record when they first see each row. The SQLite watchfiles feed is
measured in the same run as the named peer.

    python benchmarks/postgres_feed_latency.py --db postgresql://USER:PW@HOST:PORT/DB
        [--writes 200] [--gap-ms 25]

The store is a fresh schema of that database, dropped afterwards.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import tempfile
import threading
import uuid
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

from workbench.engine import Engine
from workbench.store.feed import ChangeFeed
from workbench.store.postgres import connect_postgres, watch_notifications

_spec = importlib.util.spec_from_file_location(
    "change_feed_latency", Path(__file__).with_name("change_feed_latency.py")
)
sqlite_bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(sqlite_bench)


def run_listener(url: str, seen, stop: threading.Event) -> None:
    feed = ChangeFeed()
    for tables in watch_notifications(url, feed, 5000, stop_event=stop):
        if "learnings" in tables:
            seen.observe()


def measure(target: str, watcher: tuple, writes: int, gap_ms: float, cwd: str) -> list[dict]:
    """Run the writer against `target`; `watcher` is (name, function, its first argument)."""
    Engine(target, cwd=Path(cwd)).close()
    engine = Engine(target, cwd=Path(cwd))  # binds the models in this process
    consumers = {
        watcher[0]: (watcher[1], (watcher[2],)),
        "poll every 50 ms": (sqlite_bench.run_poller, (0.05,)),
        "poll every 10 ms": (sqlite_bench.run_poller, (0.01,)),
    }
    results = sqlite_bench.run_consumers(consumers, target, writes, gap_ms, cwd)
    engine.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="postgresql:// URL of a scratch database")
    parser.add_argument("--writes", type=int, default=200)
    parser.add_argument("--gap-ms", type=float, default=25.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    schema = f"wbbench_{uuid.uuid4().hex[:10]}"
    admin = connect_postgres(args.db, 5000)
    admin.execute_sql(f'CREATE SCHEMA "{schema}"')
    parts = urlsplit(args.db)
    url = urlunsplit(parts._replace(query=urlencode({"options": f"-csearch_path={schema}"})))
    try:
        with tempfile.TemporaryDirectory() as tmp:
            sqlite_results = measure(
                str(Path(tmp) / "bench.db"),
                ("watchfiles feed", sqlite_bench.run_watcher, Path(tmp) / "bench.db"),
                args.writes,
                args.gap_ms,
                tmp,
            )
            pg_results = measure(
                url, ("LISTEN feed", run_listener, url), args.writes, args.gap_ms, tmp
            )
    finally:
        admin.execute_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.close()

    peer = sqlite_results[0]
    rows = [("postgres", r) for r in pg_results] + [("sqlite", r) for r in sqlite_results]
    for _store, r in rows:
        r["p50_vs_sqlite_feed"] = round(r["p50_ms"] / peer["p50_ms"], 2)
    if args.json:
        print(json.dumps([{"store": s, **r} for s, r in rows], indent=2))
        return
    print(f"{args.writes} commits from another process, {args.gap_ms:g} ms apart")
    print(
        f"{'store':<9} {'consumer':<18} {'events':>6} {'missed':>6} {'p50 ms':>8} "
        f"{'p95 ms':>8} {'max ms':>8} {'p50 / sqlite feed':>17}"
    )
    for store, r in rows:
        print(
            f"{store:<9} {r['consumer']:<18} {r['events']:>6} {r['missed']:>6} "
            f"{r['p50_ms']:>8} {r['p95_ms']:>8} {r['max_ms']:>8} {r['p50_vs_sqlite_feed']:>17}"
        )


if __name__ == "__main__":
    main()
