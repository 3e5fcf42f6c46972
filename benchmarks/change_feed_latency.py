"""Latency from a commit in another process to the change-feed event.

The writer (a separate Python process) inserts one row at a time, printing the wall time
right after each commit. In this process the watchfiles-based feed (`watch_tables`) and
two polling peers (a thread reading change_log every 50 ms and every 10 ms — what one
would write without a file watcher) each record when they first see each row.

    python benchmarks/change_feed_latency.py [--writes 200] [--gap-ms 25]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import peewee

from workbench.engine import Engine
from workbench.store import models as m
from workbench.store.feed import ChangeFeed, watch_tables

WRITER = """
import sys, time
from workbench.engine import Engine
from workbench.store import models as m
n, gap = int(sys.argv[2]), float(sys.argv[3])
with Engine(sys.argv[1]) as e:
    print("ready", flush=True)
    sys.stdin.readline()
    for i in range(n):
        row = m.Learning.create(type="benchmark", description=str(i))
        print(row.id, time.time(), flush=True)
        time.sleep(gap)
"""


def max_learning_id() -> int:
    return m.Learning.select(peewee.fn.MAX(m.Learning.id)).scalar() or 0


class Seen:
    """First time each row id was observed by one consumer."""

    def __init__(self) -> None:
        self.first_seen: dict[int, float] = {}
        self.high = 0

    def observe(self) -> None:
        now = time.time()
        top = max_learning_id()
        for row_id in range(self.high + 1, top + 1):
            self.first_seen[row_id] = now
        self.high = max(self.high, top)


def run_watcher(db: Path, seen: Seen, stop: threading.Event) -> None:
    feed = ChangeFeed()
    for tables in watch_tables(db, feed, stop_event=stop):
        if "learnings" in tables:
            seen.observe()


def run_poller(interval: float, seen: Seen, stop: threading.Event) -> None:
    feed = ChangeFeed()
    while not stop.wait(interval):
        if "learnings" in feed.poll():
            seen.observe()


def summarize(name: str, seen: Seen, commits: dict[int, float]) -> dict:
    lat = sorted(
        (seen.first_seen[i] - t) * 1000 for i, t in commits.items() if i in seen.first_seen
    )
    missed = len(commits) - len(lat)
    q = statistics.quantiles(lat, n=100)
    return {
        "consumer": name,
        "events": len(lat),
        "missed": missed,
        "p50_ms": round(q[49], 2),
        "p95_ms": round(q[94], 2),
        "max_ms": round(lat[-1], 2),
    }


def run_consumers(
    consumers: dict, target: str, writes: int, gap_ms: float, cwd: str | None = None
) -> list[dict]:
    """Start each consumer thread, let the writer process commit `writes` rows into
    `target`, and summarize what each consumer saw against the commit times."""
    stop = threading.Event()
    seen = {name: Seen() for name in consumers}
    threads = [
        threading.Thread(target=fn, args=(*fargs, seen[name], stop), daemon=True)
        for name, (fn, fargs) in consumers.items()
    ]
    for t in threads:
        t.start()
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, target, str(writes), str(gap_ms / 1000)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=cwd,
    )
    assert writer.stdout.readline().strip() == "ready"
    time.sleep(0.5)  # watchers registered
    writer.stdin.write("go\n")
    writer.stdin.flush()
    commits = {}
    for line in writer.stdout:
        row_id, at = line.split()
        commits[int(row_id)] = float(at)
    writer.wait()
    time.sleep(0.3)
    stop.set()
    for t in threads:
        t.join(timeout=5)
    return [summarize(name, seen[name], commits) for name in consumers]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writes", type=int, default=200)
    parser.add_argument("--gap-ms", type=float, default=25.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.db"
        Engine(db).close()
        Engine(db)  # binds the models in this process
        consumers = {
            "watchfiles feed": (run_watcher, (db,)),
            "poll every 50 ms": (run_poller, (0.05,)),
            "poll every 10 ms": (run_poller, (0.01,)),
        }
        results = run_consumers(consumers, str(db), args.writes, args.gap_ms)

    watcher = results[0]
    for r in results:
        r["p50_vs_watcher"] = round(r["p50_ms"] / watcher["p50_ms"], 2)
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(f"{args.writes} commits from another process, {args.gap_ms:g} ms apart")
    print(
        f"{'consumer':<18} {'events':>6} {'missed':>6} {'p50 ms':>8} {'p95 ms':>8} "
        f"{'max ms':>8} {'p50 / feed':>10}"
    )
    for r in results:
        print(
            f"{r['consumer']:<18} {r['events']:>6} {r['missed']:>6} {r['p50_ms']:>8} "
            f"{r['p95_ms']:>8} {r['max_ms']:>8} {r['p50_vs_watcher']:>10}"
        )


if __name__ == "__main__":
    main()
