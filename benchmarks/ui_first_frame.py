"""The UI's first frame: process start → the first painted frame, in a real terminal.

Each sample spawns `python -m workbench --db STORE` on a pseudo-terminal (120×40,
TERM=xterm-256color) and feeds everything the app writes to a terminal emulator (`pyte`,
the `bench` extra). Timed from just before the spawn to the moment the emulated screen
first shows the tab bar with all seven panes ("1 Runs" … "7 Agents"): the first frame.
Also reported: when the Runs pane's list shows its count ("Pipeline runs · N", read from
the store after the first frame), and, for the Models pane, when its catalog list is
filled (after pressing 4: its read runs in a worker). Then `q`, and the process must exit.

Peers in the same run, interleaved sample by sample so load hits all alike:
`python -c pass` (start → exit), and a bare Textual app (a Header, one Static and a
Footer) timed the same way to its first frame — what any Textual app pays to start.

Stores: the seeded store (`workbench init`) and the large one of issue 16 (seeded +
10,000 hub items + 100,000 vector memories + 1,000 pipeline runs; benchmarks/large_store.py).

    python benchmarks/ui_first_frame.py [--runs 7] [--large-only | --seeded-only] [--json]
    python benchmarks/ui_first_frame.py --pilot [--runs 5] [--baseline REF]  # cost per test app
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import resource
import select
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

import pyte

sys.path.insert(0, str(Path(__file__).resolve().parent))
import large_store  # noqa: E402
from cli_startup import extract as extract_ref  # noqa: E402

COLS, ROWS = 120, 40
TABS = ("1 Runs", "7 Agents")
BARE_APP = """
from textual.app import App
from textual.widgets import Footer, Header, Static

class Bare(App):
    BINDINGS = [("q", "quit", "Quit")]
    def compose(self):
        yield Header()
        yield Static("1 Runs  7 Agents")
        yield Footer()

Bare().run()
"""


# --pilot: what each UI test pays to build an app (in-process, Pilot, no terminal): CPU from
# `run_test` entry to the first `pause()`, then for `4` (the Models pane mounted and read in
# place), per app, median over apps built one after another in one process.
PILOT_CHILD = """
import asyncio, json, statistics, sys, time
from pathlib import Path
from workbench.engine import Engine
from workbench.ui.app import WorkbenchApp

async def one(engine, settings):
    app = WorkbenchApp(engine, watch=False, theme="workbench-dark", settings_path=settings,
                       load_in_workers=False)
    c0 = time.process_time()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        c1 = time.process_time()
        await pilot.press("4")
        await pilot.pause()
        c2 = time.process_time()
    return (c1 - c0) * 1000, (c2 - c1) * 1000

async def main():
    engine = Engine(sys.argv[1])
    out = [await one(engine, Path(sys.argv[2])) for _ in range(int(sys.argv[3]) + 1)][1:]
    engine.close()
    print(json.dumps({"mount": [o[0] for o in out], "models": [o[1] for o in out]}))

asyncio.run(main())
"""


def child_env(config: Path) -> dict[str, str]:
    """As a user runs it: bytecode caching on, no WORKBENCH_* settings, a real TERM."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKBENCH_")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(TERM="xterm-256color", COLUMNS=str(COLS), LINES=str(ROWS))
    env["WORKBENCH_CONFIG"] = str(config)
    return env


CPU_MS: dict[str, list[float]] = {}  # each workbench child's user+sys CPU (start to exit)


def in_terminal(
    argv: list[str], env: dict[str, str], marks: dict[str, callable], keys=(), cwd=None
):
    """Run `argv` on a pty; return {mark: seconds from spawn until `marks[mark](screen)`
    first held}. `keys` are (after_mark, bytes) pairs typed once that mark is seen; `q`
    ends the app after the last mark (or after 60 s)."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
    screen = pyte.Screen(COLS, ROWS)
    stream = pyte.ByteStream(screen)
    started = time.perf_counter()
    proc = subprocess.Popen(
        argv, stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True,
        start_new_session=True, cwd=cwd,
    )  # fmt: skip
    os.close(slave)
    seen: dict[str, float] = {}
    pending_keys = list(keys)
    deadline = started + 60
    try:
        while len(seen) < len(marks) and time.perf_counter() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if not ready:
                if proc.poll() is not None:
                    break
                continue
            try:
                data = os.read(master, 65536)
            except OSError:
                break
            now = time.perf_counter()
            stream.feed(data)
            for name, check in marks.items():
                if name not in seen and check(screen):
                    seen[name] = now - started
            for after, key in list(pending_keys):
                if after in seen:
                    os.write(master, key)
                    pending_keys.remove((after, key))
        os.write(master, b"q")
        end = time.time() + 15
        while proc.poll() is None and time.time() < end:
            if select.select([master], [], [], 0.2)[0]:
                try:
                    os.read(master, 65536)
                except OSError:
                    break
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        os.close(master)
    return seen


def text_of(screen: pyte.Screen) -> str:
    return "\n".join(screen.display)


def first_frame(screen: pyte.Screen) -> bool:
    text = text_of(screen)
    return all(tab in text for tab in TABS)


def runs_filled(screen: pyte.Screen) -> bool:
    return "Pipeline runs · " in text_of(screen)


def models_filled(screen: pyte.Screen) -> bool:
    """The Models list shows its catalog categories (coordination is the first)."""
    return "coordination" in text_of(screen).lower()


def timed_pass(env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], env=env, check=True)
    return time.perf_counter() - started


def summary(values: list[float]) -> dict:
    ms = sorted(v * 1000 for v in values)
    if not ms:
        return {"n": 0}
    return {
        "n": len(ms),
        "p50_ms": round(statistics.median(ms), 1),
        "min_ms": round(ms[0], 1),
        "max_ms": round(ms[-1], 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--seeded-only", action="store_true")
    which.add_argument("--large-only", action="store_true")
    parser.add_argument(
        "--baseline", metavar="GIT_REF", help="also time the code at this ref, interleaved"
    )
    parser.add_argument(
        "--pilot", action="store_true", help="per-app cost in a Pilot test, not a terminal"
    )
    args = parser.parse_args()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        env = child_env(tmp_path / "config.json")
        variants = {"workbench": (env, None)}
        if args.baseline:
            code = extract_ref(args.baseline, tmp_path / "baseline")
            # run outside the repository, whose own workbench/ would shadow the baseline's
            variants[f"baseline {args.baseline}"] = ({**env, "PYTHONPATH": str(code)}, tmp)
        stores: dict[str, Path] = {}
        if not args.large_only or args.pilot:
            stores["seeded"] = tmp_path / "seeded.db"
            subprocess.run(
                [sys.executable, "-m", "workbench", "--db", str(stores["seeded"]), "init"],
                env=env, check=True, stdout=subprocess.DEVNULL, cwd=tmp,
            )  # fmt: skip
        if args.pilot:
            return pilot_costs(args, variants, stores["seeded"], tmp_path / "config.json")
        if not args.seeded_only:
            stores["large"] = large_store.build(tmp_path / "large.db")
        bare = tmp_path / "bare_app.py"
        bare.write_text(BARE_APP, encoding="utf-8")
        results: dict[str, list[float]] = {}

        def add(name: str, value: float | None) -> None:
            if value is not None:
                results.setdefault(name, []).append(value)

        marks = {"first frame": first_frame, "runs list": runs_filled, "models": models_filled}
        for warm in range(args.runs + 1):  # the first round writes .pyc files: not counted
            record = add if warm else (lambda name, value: None)
            record("python -c pass", timed_pass(env))
            seen = in_terminal([sys.executable, str(bare)], env, {"first frame": first_frame})
            record("bare Textual app: first frame", seen.get("first frame"))
            for label, db in stores.items():
                argv = [sys.executable, "-m", "workbench", "--db", str(db)]
                for name, (env_, cwd) in variants.items():
                    before = resource.getrusage(resource.RUSAGE_CHILDREN)
                    seen = in_terminal(argv, env_, marks, keys=[("runs list", b"4")], cwd=cwd)
                    after = resource.getrusage(resource.RUSAGE_CHILDREN)
                    for mark in marks:
                        record(f"{name} {label}: {mark}", seen.get(mark))
                    if warm:  # CPU of the whole session: start, first frame, `4`, `q`, exit
                        cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
                        CPU_MS.setdefault(f"{name} {label}", []).append(cpu * 1000)
    report = {
        "runs": args.runs,
        "load_avg_before": [round(x, 2) for x in load_before],
        "load_avg_after": [round(x, 2) for x in os.getloadavg()],
        "results": {name: summary(values) for name, values in results.items()},
        "cpu_p50_ms": {k: round(statistics.median(v), 1) for k, v in CPU_MS.items()},
    }
    base = report["results"]["python -c pass"].get("p50_ms")
    bare_ms = report["results"].get("bare Textual app: first frame", {}).get("p50_ms")
    for r in report["results"].values():
        if base and r.get("p50_ms"):
            r["x_python_pass"] = round(r["p50_ms"] / base, 2)
        if bare_ms and r.get("p50_ms"):
            r["x_bare_textual"] = round(r["p50_ms"] / bare_ms, 2)
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(
        f"UI first frame in a pty ({COLS}x{ROWS}), median of {args.runs}, load "
        f"{report['load_avg_before'][0]} -> {report['load_avg_after'][0]}"
    )
    for name, r in report["results"].items():
        print(
            f"  {name:<38} p50 {r.get('p50_ms')!s:>8} ms  (min {r.get('min_ms')}, max "
            f"{r.get('max_ms')}, n {r['n']})  x pass {r.get('x_python_pass')}  "
            f"x bare Textual {r.get('x_bare_textual')}"
        )
    for name, ms in report["cpu_p50_ms"].items():
        print(f"  CPU (user+sys) of a whole session, {name:<28} p50 {ms} ms")
    return 0


def pilot_costs(args: argparse.Namespace, variants: dict, db: Path, settings: Path) -> int:
    """`--pilot`: each variant in its own process, rounds interleaved; CPU ms per app."""
    load_before = os.getloadavg()
    found: dict[str, dict[str, list[float]]] = {}
    for _round in range(3):
        for name, (env_, cwd) in variants.items():
            out = subprocess.run(
                [sys.executable, "-c", PILOT_CHILD, str(db), str(settings), str(args.runs)],
                env=env_, cwd=cwd, capture_output=True, text=True, check=True,
            )  # fmt: skip
            for key, values in json.loads(out.stdout.splitlines()[-1]).items():
                found.setdefault(name, {}).setdefault(key, []).extend(values)
    print(
        f"Pilot app cost (120x40, seeded store), {args.runs} apps x 3 rounds, load "
        f"{load_before[0]:.2f} -> {os.getloadavg()[0]:.2f}"
    )
    for name, costs in found.items():
        print(
            f"  {name:<24} CPU run_test -> first pause p50 "
            f"{statistics.median(costs['mount']):7.1f} ms   `4` (Models mounted, read) p50 "
            f"{statistics.median(costs['models']):7.1f} ms"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
