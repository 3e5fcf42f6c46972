"""Read-only CLI calls end to end on the seeded store: `store stats`, `memory search`,
`hub query` and `patterns analyze`, each a fresh `python -m workbench` process, against
`python -c pass` measured in the same run, interleaved (so load hits both alike).

    python benchmarks/cli_startup.py [--runs 15] [--json]

Prints the median wall time of each command, of `python -c pass`, and their difference
(what workbench itself costs). With `--importtime CMD...` it prints the slowest imports of
one command instead (`python -X importtime`).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COMMANDS = {
    "store stats": ["store", "stats"],
    "store stats --json": ["store", "stats", "--json"],
    "memory search": ["memory", "search", "retry with backoff"],
    "hub query": ["hub", "query", "sqlite lock timeout"],
    "patterns analyze": ["patterns", "analyze", "--operation", '{"text": "compare two designs"}'],
}


def env() -> dict[str, str]:
    """The user's environment as a user has it: no WORKBENCH_* settings, and bytecode
    caching on (this machine's agents run with PYTHONDONTWRITEBYTECODE=1, which makes
    every process recompile workbench's sources — a user's install has its .pyc files)."""
    keep = {k: v for k, v in os.environ.items() if not k.startswith("WORKBENCH_")}
    keep.pop("PYTHONDONTWRITEBYTECODE", None)
    keep["WORKBENCH_CONFIG"] = str(Path(tempfile.gettempdir()) / "wb-startup-config.json")
    return keep


def timed(cmd: list[str], environ: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, env=environ, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def slowest_imports(cmd: list[str], environ: dict[str, str], top: int = 25) -> str:
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "workbench", *cmd],
        env=environ, capture_output=True, text=True, check=True,
    )  # fmt: skip
    rows = []
    for line in out.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            _, cumulative, name = (part.strip() for part in line[12:].split("|"))
            if cumulative.isdigit():
                rows.append((int(cumulative), name))
    rows.sort(reverse=True)
    return "\n".join(f"{us / 1000:8.1f} ms  {name}" for us, name in rows[:top])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--importtime", metavar="ARGS", help='one command\'s slowest imports, e.g. "hub query x"'
    )
    args = parser.parse_args()
    environ = env()
    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "seeded.db")
        subprocess.run(
            [sys.executable, "-m", "workbench", "init", "--db", db],
            env=environ, check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        if args.importtime:
            cmd = shlex.split(args.importtime)
            timed([sys.executable, "-m", "workbench", *cmd, "--db", db], environ)  # .pyc
            print(slowest_imports([*cmd, "--db", db], environ))
            return 0
        times: dict[str, list[float]] = {"python -c pass": []}
        for cmd in COMMANDS.values():  # warm-up: .pyc files written, page cache filled
            timed([sys.executable, "-m", "workbench", *cmd, "--db", db], environ)
        for _ in range(args.runs):
            times["python -c pass"].append(timed([sys.executable, "-c", "pass"], environ))
            for name, cmd in COMMANDS.items():
                full = [sys.executable, "-m", "workbench", *cmd, "--db", db]
                times.setdefault(name, []).append(timed(full, environ))
    medians = {name: statistics.median(t) * 1000 for name, t in times.items()}
    base = medians["python -c pass"]
    report = {
        "runs": args.runs,
        "load_avg": [round(x, 2) for x in os.getloadavg()],
        "median_ms": {k: round(v, 1) for k, v in medians.items()},
        "over_python_ms": {k: round(v - base, 1) for k, v in medians.items() if v is not base},
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"CLI start-up, median of {args.runs} runs, load {report['load_avg'][0]}")
    for name, ms in report["median_ms"].items():
        extra = report["over_python_ms"].get(name)
        tail = f"   (+{extra:.1f} ms over python -c pass)" if extra is not None else ""
        print(f"  {name:<22} {ms:8.1f} ms{tail}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
