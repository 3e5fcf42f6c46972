"""Commit in another process → the row in the open Hub pane, driving the real app.

The app runs headless under Textual's Pilot over a seeded store (plus `--hub-items` more
knowledge items), following the store through the change feed as it does in a terminal.
A second process, started once, commits one CRITICAL knowledge item per request and
reports the wall-clock time of its commit; the app side polls (every ~1 ms) for that item
in the Hub pane's items table and then waits for the screen's next refresh. Latency =
(row shown and screen refreshed) − (commit in the other process). Also reported: the
first frame, from `run_test` entry to the app's first refresh.

    python benchmarks/ui_repaint.py [--n 30] [--hub-items 0] [--large] [--store PATH]
                                    [--window-ms 50] [--json]

`--large` runs over the large store of issue 16 instead (benchmarks/large_store.py: 10k
hub items, 100k memories, 1,000 runs). Each event is also split into stages, from
wall-clock marks taken in the app: feed (commit → StoreChanged posted), coalesce (→ the
flush after the next frame), read (→ the Hub read back from its worker), apply (the
table sync on the UI thread), paint (→ the screen's next refresh). Load on a shared
machine inflates those wall-clock times; the UI thread's own CPU time (`time.thread_time`)
for the apply, and from the apply to the refreshed screen (paint: layout, rendering,
compositing, plus the poller's ~1 ms wake-ups), is reported beside them.

`--window-ms W` also measures, in the same run, the app as it coalesced before (a fixed
W ms timer after the first change instead of the next frame).

`--pty` measures the same path in a real terminal instead: `python -m workbench --db STORE`
on a pseudo-terminal (120×40) whose output feeds the `pyte` emulator (as
benchmarks/ui_first_frame.py does); after `6`, latency = (the emulated screen first shows
"Live item N") − (commit in the other process). That counts the frame written to the
terminal; it has no stages (the app runs in its own process, unpatched).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from textual.widgets import DataTable

from workbench.engine import Engine
from workbench.store import models as m
from workbench.ui.app import StoreChanged, WorkbenchApp
from workbench.ui.hub import HubPane

STAGES = ("feed", "coalesce", "read", "apply", "paint")


def large_store(path: Path) -> Path:
    """The issue's large store (benchmarks/large_store.py, cheap codes for memories)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "large_store", Path(__file__).with_name("large_store.py")
    )
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module.build(path, embed=False)


def mark_stages(app: WorkbenchApp, marks: dict[str, float]) -> None:
    """Record when each stage of one commit → repaint ends (first occurrence after
    `marks` was cleared), by wrapping the app's and the Hub pane's own methods."""

    def first(name: str) -> None:
        marks.setdefault(name, time.time())

    post, flush = app.post_message, app._flush_changes

    def posted(message) -> bool:
        if isinstance(message, StoreChanged):  # the change-feed worker posts it
            first("feed")
        return post(message)

    def flushed() -> None:
        first("coalesce")
        flush()

    flushed.__name__ = "_flush_changes"  # fixed_window recognises the flush by name
    app.post_message = posted
    app._flush_changes = flushed
    apply = getattr(HubPane, "_apply_hub", None)  # absent in builds that read in place
    if apply is None:
        return

    def applied(self, data) -> None:
        first("read")
        cpu = time.thread_time()
        apply(self, data)
        first("apply")
        # CPU of the UI thread, which load on a shared machine does not inflate as it does
        # wall-clock times: the apply itself, and from here to the refreshed screen
        marks.setdefault("apply_cpu", time.thread_time() - cpu)
        marks.setdefault("cpu_at_apply", time.thread_time())

    HubPane._apply_hub = applied


WRITER = """
import sys, time
from workbench.engine import Engine
from workbench.store import models as m
engine = Engine(sys.argv[1])
channel = m.Channel.get(m.Channel.name == "debugging")
print("ready", flush=True)
for line in sys.stdin:
    i = int(line)
    m.KnowledgeItem.create(uid=f"{sys.argv[2]}-{i:04d}", channel=channel, type="discovery",
                           title=f"Live item {i}", content="seen live", priority=4,
                           useful_votes=1)  # ranks first: the pane shows the top 500 items
    print(repr(time.time()), flush=True)
"""


def add_items(engine: Engine, n: int) -> None:
    channel = m.Channel.get(m.Channel.name == "general")
    now = dt.datetime(2026, 1, 1)
    rows = [
        {"uid": f"bulk-{i:06d}", "channel": channel.id, "type": "discovery",
         "title": f"Bulk item {i}", "content": f"filler text number {i}", "priority": 1,
         "created": now, "updated": now}
        for i in range(n)
    ]  # fmt: skip
    with engine.db.atomic():
        for start in range(0, len(rows), 500):
            m.KnowledgeItem.insert_many(rows[start : start + 500]).execute()


def fixed_window(app: WorkbenchApp, window_s: float) -> None:
    """The former coalescing: the flush runs `window_s` after the first change of a burst
    instead of after the next refresh (only the app's own flush is redirected)."""
    after_refresh = app.call_after_refresh

    def schedule(callback, *args, **kwargs) -> bool:
        if getattr(callback, "__name__", "") == "_flush_changes":
            app.set_timer(window_s, callback)
            return True
        return after_refresh(callback, *args, **kwargs)

    app.call_after_refresh = schedule


async def measure(db: Path, n: int, window_ms: float | None = None) -> dict:
    engine = Engine(db)
    app = WorkbenchApp(engine, watch=True, theme="workbench-dark")
    prefix = "live" if window_ms is None else f"window{window_ms:g}"
    if window_ms is not None:
        fixed_window(app, window_ms / 1000)
    first_frame: list[float] = []
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(db), prefix],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert writer.stdout is not None and writer.stdin is not None
    assert (await asyncio.to_thread(writer.stdout.readline)).strip() == "ready"
    latencies = []
    stages: dict[str, list[float]] = {name: [] for name in STAGES}
    cpu: dict[str, list[float]] = {"apply": [], "paint": []}  # UI thread CPU (ms)
    marks: dict[str, float] = {}
    mark_stages(app, marks)
    started = time.perf_counter()
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            first_frame.append(time.perf_counter() - started)
            await pilot.press("6")
            table = app.query_one("#hub-pane #hub-items", DataTable)
            await pilot.pause(0.5)  # the watcher is registered
            for i in range(n):
                uid = f"{prefix}-{i:04d}"
                marks.clear()
                writer.stdin.write(f"{i}\n")
                writer.stdin.flush()
                committed = asyncio.create_task(asyncio.to_thread(writer.stdout.readline))
                deadline = time.time() + 10
                while uid not in table.rows and time.time() < deadline:
                    await asyncio.sleep(0.001)
                refreshed = asyncio.get_running_loop().create_future()
                app.call_after_refresh(
                    lambda f=refreshed: f.done() or f.set_result((time.time(), time.thread_time()))
                )
                shown, cpu_shown = await refreshed
                commit_at = float((await committed).strip())
                if uid in table.rows:
                    latencies.append(shown - commit_at)
                    marks["paint"] = shown
                    at = commit_at
                    for name in STAGES:
                        if name in marks:
                            stages[name].append(max(0.0, marks[name] - at) * 1000)
                            at = max(at, marks[name])
                    if "cpu_at_apply" in marks:
                        cpu["apply"].append(marks["apply_cpu"] * 1000)
                        cpu["paint"].append((cpu_shown - marks["cpu_at_apply"]) * 1000)
                await pilot.pause(0.05)
    finally:
        writer.stdin.close()
        writer.wait(timeout=30)
        engine.close()
    return {
        **latency_summary(latencies, n),
        "first_frame_s": round(first_frame[0], 3) if first_frame else None,
        "stages_p50_ms": {name: round(statistics.median(v), 1) for name, v in stages.items() if v},
        "ui_cpu_p50_ms": {name: round(statistics.median(v), 1) for name, v in cpu.items() if v},
    }


def latency_summary(latencies: list[float], n: int) -> dict:
    """Events seen of `n` commits, and their p50/p90 in ms (both modes report these)."""
    ms = sorted(x * 1000 for x in latencies)
    return {
        "events": len(ms),
        "missed": n - len(ms),
        "p50_ms": round(statistics.median(ms), 1) if ms else None,
        "p90_ms": round(ms[int(0.9 * (len(ms) - 1))], 1) if ms else None,
    }


def measure_pty(db: Path, n: int) -> dict:
    """Commit in another process → the row on an emulated terminal's screen."""
    import fcntl
    import select
    import struct
    import termios

    import pyte

    cols, rows = 120, 40
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKBENCH_")}
    env.update(TERM="xterm-256color", COLUMNS=str(cols), LINES=str(rows))
    env["WORKBENCH_CONFIG"] = str(db.with_name("config.json"))  # not the user's settings
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    screen = pyte.Screen(cols, rows)
    stream = pyte.ByteStream(screen)
    app = subprocess.Popen(
        [sys.executable, "-m", "workbench", "--db", str(db)], stdin=slave, stdout=slave,
        stderr=slave, env=env, close_fds=True, start_new_session=True,
    )  # fmt: skip
    os.close(slave)
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(db), "pty"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert writer.stdout is not None and writer.stdin is not None

    def read_until(shows: str, timeout: float = 30) -> float | None:
        """Feed the terminal's output to the emulator until `shows` is on screen."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if select.select([master], [], [], 0.05)[0]:
                stream.feed(os.read(master, 65536))
                if shows in "\n".join(screen.display):
                    return time.time()
        return None

    latencies: list[float] = []
    try:
        assert writer.stdout.readline().strip() == "ready"
        if read_until("7 Agents") is None:
            raise RuntimeError("the app never showed its first frame")
        os.write(master, b"6")
        if read_until("Items · ") is None:
            raise RuntimeError("the Hub pane never showed its items")
        time.sleep(0.5)  # the watcher is registered
        for i in range(n):
            writer.stdin.write(f"{i}\n")
            writer.stdin.flush()
            commit_at = float(writer.stdout.readline().strip())
            shown = read_until(f"Live item {i}", timeout=10)
            if shown is not None:
                latencies.append(shown - commit_at)
            time.sleep(0.05)
    finally:
        os.write(master, b"q")
        writer.stdin.close()
        writer.wait(timeout=30)
        try:
            app.wait(timeout=15)
        except subprocess.TimeoutExpired:
            app.kill()
            app.wait()
        os.close(master)
    return latency_summary(latencies, n)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=30)
    parser.add_argument("--hub-items", type=int, default=0)
    parser.add_argument("--large", action="store_true", help="the issue's large store")
    parser.add_argument(
        "--store", type=Path, help="a copy of this store instead of building one (A/B runs)"
    )
    parser.add_argument("--pty", action="store_true", help="in a real terminal (pyte)")
    parser.add_argument("--window-ms", type=float, help="also measure a fixed window")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "ui.db"
        if args.store is not None:
            shutil.copyfile(args.store, db)
        elif args.large:
            large_store(db)
        else:
            with Engine(db) as engine:
                engine.seed()
                add_items(engine, args.hub_items)
        report = {
            "store": str(args.store)
            if args.store
            else "large (10k hub, 100k memories, 1,000 runs)"
            if args.large
            else "seeded",
            "hub_items_added": args.hub_items,
            "load_avg": os.getloadavg()[0],
        }
        if args.pty:
            report["pty"] = measure_pty(db, args.n)
        else:
            report["next_frame"] = asyncio.run(measure(db, args.n))
        if args.window_ms is not None:
            report[f"window_{args.window_ms:g}ms"] = asyncio.run(
                measure(db, args.n, args.window_ms)
            )
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"commit in another process -> row in the Hub pane, {args.n} commits, "
              f"{report['store']} store (+{args.hub_items} hub items), "
              f"load {report['load_avg']:.2f}")  # fmt: skip
        for name, r in report.items():
            if isinstance(r, dict):
                first = f"   first frame {r['first_frame_s']} s" if "first_frame_s" in r else ""
                print(f"  {name:<14} p50 {r['p50_ms']} ms   p90 {r['p90_ms']} ms   "
                      f"missed {r['missed']}{first}")  # fmt: skip
                if "stages_p50_ms" not in r:
                    continue
                split = "  ".join(f"{k} {v}" for k, v in r["stages_p50_ms"].items())
                print(f"  {'':<14} stages p50 (ms): {split}")
                split = "  ".join(f"{k} {v}" for k, v in r["ui_cpu_p50_ms"].items())
                print(f"  {'':<14} UI-thread CPU p50 (ms): {split}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
