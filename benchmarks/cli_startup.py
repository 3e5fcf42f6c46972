"""Read-only CLI calls end to end on the seeded store: `store stats`, `memory search`,
`hub query` and `patterns analyze`, each a fresh `python -m workbench` process, against
`python -c pass` measured in the same run, interleaved (so load hits both alike).

    python benchmarks/cli_startup.py [--runs 15] [--baseline GIT_REF] [--instructions] [--json]
    python benchmarks/cli_startup.py --daemon   # also through `workbench daemon` (its CPU
                                                # column is the client's only)

Prints the median wall time of each command, of `python -c pass`, and their difference
(what workbench itself costs). `--baseline REF` also runs the same commands from the
package as it was at REF (extracted with `git archive`, on its own seeded store), in the
same interleaved loop, so a machine under load compares before and after fairly.
`--instructions` also counts each command's instructions once under valgrind callgrind
(load does not change them: the column to trust on a busy machine). `hooks record` and
`hooks advise` read one Claude Code hook event on stdin (STDIN below).
`--importtime "CMD ARGS"` prints the slowest imports of one command instead
(`python -X importtime`).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shlex
import shutil
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
    "hooks record": ["hooks", "run"],
    "hooks advise": ["hooks", "run", "--advise"],
}


def _hook_event(name: str, **fields: object) -> bytes:
    return json.dumps(
        {"session_id": "startup-bench", "transcript_path": "/tmp/t.jsonl",
         "cwd": "/home/dev/proj", "hook_event_name": name, **fields}
    ).encode()  # fmt: skip


# what the hook commands read on stdin (Claude Code's JSON): a Bash PreToolUse (the call
# made on every tool use) and a prompt asking for advice (benchmarks/hooks_latency.py has
# the full mix of events)
STDIN = {
    "hooks record": _hook_event(
        "PreToolUse", tool_name="Bash", tool_input={"command": "pytest -q"}, tool_use_id="t1"
    ),
    "hooks advise": _hook_event(
        "UserPromptSubmit", prompt="the sqlite writer fails with database is locked"
    ),
}


def env() -> dict[str, str]:
    """The user's environment as a user has it: no WORKBENCH_* settings, and bytecode
    caching on (this machine's agents run with PYTHONDONTWRITEBYTECODE=1, which makes
    every process recompile workbench's sources — a user's install has its .pyc files)."""
    keep = {k: v for k, v in os.environ.items() if not k.startswith("WORKBENCH_")}
    keep.pop("PYTHONDONTWRITEBYTECODE", None)
    keep["WORKBENCH_CONFIG"] = str(Path(tempfile.gettempdir()) / "wb-startup-config.json")
    return keep


def extract(ref: str, dest: Path) -> Path:
    """The workbench package and sample data as of git `ref`, under `dest`."""
    root = Path(__file__).resolve().parents[1]
    archive = subprocess.run(
        ["git", "-C", str(root), "archive", ref, "workbench", "sample_data"],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    dest.mkdir(parents=True, exist_ok=True)
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    return dest


CPU: dict[str, list[float]] = {}


def timed(
    cmd: list[str], environ: dict[str, str], cwd: str, label: str = "", stdin: bytes | None = None
) -> float:
    """Wall time of one process; its CPU time (user + system, which load inflates far
    less than wall time) is kept in CPU[label]. Runs in `cwd` (not the repository, whose
    own `workbench/` directory would shadow a baseline's)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(cmd, env=environ, check=True, stdout=subprocess.DEVNULL, cwd=cwd, input=stdin)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    CPU.setdefault(label, []).append(cpu)
    return wall


def instructions(cmd: list[str], environ: dict[str, str], cwd: str, stdin: bytes | None) -> float:
    """Millions of instructions of one process (valgrind callgrind): what load does not
    change, so before/after compare on a busy machine."""
    out = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *cmd],
        env=environ, capture_output=True, check=True, cwd=cwd, input=stdin,
    )  # fmt: skip
    collected = re.search(rb"Collected : (\d+)", out.stderr)
    if collected is None:
        raise SystemExit(f"valgrind gave no instruction count: {out.stderr[-300:]!r}")
    return int(collected.group(1)) / 1e6


def slowest_imports(cmd: list[str], environ: dict[str, str], cwd: str, top: int = 25) -> str:
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "workbench", *cmd],
        env=environ, capture_output=True, text=True, check=True, cwd=cwd,
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
    parser.add_argument("--baseline", metavar="GIT_REF", help="also time the code at this ref")
    parser.add_argument(
        "--importtime", metavar="ARGS", help='one command\'s slowest imports, e.g. "hub query x"'
    )
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="also count each command's instructions once (valgrind callgrind)",
    )
    parser.add_argument(
        "--daemon",
        action="store_true",
        help="also time each command through `workbench daemon` (a server in a temp dir)",
    )
    args = parser.parse_args()
    if args.instructions and shutil.which("valgrind") is None:
        parser.error("--instructions needs valgrind on PATH")
    environ = env()
    variants = {"": environ}
    with tempfile.TemporaryDirectory() as tmp:
        if args.baseline:
            base_env = dict(environ)
            base_env["PYTHONPATH"] = str(extract(args.baseline, Path(tmp) / "baseline"))
            variants[f"[{args.baseline}] "] = base_env
        dbs = {}
        for label, environ_ in variants.items():
            dbs[label] = str(Path(tmp) / f"seeded{len(dbs)}.db")
            subprocess.run(
                [sys.executable, "-m", "workbench", "init", "--db", dbs[label]],
                env=environ_, check=True, stdout=subprocess.DEVNULL, cwd=tmp,
            )  # fmt: skip
        db = dbs[""]
        if args.daemon:  # the same store, the same code, through the command server
            socket_dir = tempfile.mkdtemp(prefix="wbd-", dir="/tmp")  # short: a socket path
            daemon_env = {**environ, "WORKBENCH_DAEMON": "1", "WORKBENCH_DAEMON_DIR": socket_dir}
            subprocess.run(
                [sys.executable, "-m", "workbench", "daemon", "start", "--idle", "900"],
                env=daemon_env, check=True, stdout=subprocess.DEVNULL, cwd=tmp,
            )  # fmt: skip
            variants["[daemon] "] = daemon_env
            dbs["[daemon] "] = db
        if args.importtime:
            cmd = shlex.split(args.importtime)
            timed([sys.executable, "-m", "workbench", *cmd, "--db", db], environ, tmp)  # .pyc
            print(slowest_imports([*cmd, "--db", db], environ, tmp))
            return 0
        times: dict[str, list[float]] = {"python -c pass": []}
        for label, environ_ in variants.items():  # warm-up: .pyc written, page cache filled
            for name, cmd in COMMANDS.items():
                full = [sys.executable, "-m", "workbench", *cmd, "--db", dbs[label]]
                timed(full, environ_, tmp, "warm-up", STDIN.get(name))
        for _ in range(args.runs):
            wall = timed([sys.executable, "-c", "pass"], environ, tmp, "python -c pass")
            times["python -c pass"].append(wall)
            for name, cmd in COMMANDS.items():
                for label, environ_ in variants.items():
                    full = [sys.executable, "-m", "workbench", *cmd, "--db", dbs[label]]
                    times.setdefault(label + name, []).append(
                        timed(full, environ_, tmp, label + name, STDIN.get(name))
                    )
        counts: dict[str, float] = {}
        if args.instructions:
            bare = [sys.executable, "-c", "pass"]
            counts["python -c pass"] = instructions(bare, environ, tmp, None)
            for name, cmd in COMMANDS.items():
                for label, environ_ in variants.items():
                    full = [sys.executable, "-m", "workbench", *cmd, "--db", dbs[label]]
                    counts[label + name] = instructions(full, environ_, tmp, STDIN.get(name))
        if args.daemon:
            subprocess.run(
                [sys.executable, "-m", "workbench", "daemon", "stop"],
                env=variants["[daemon] "], stdout=subprocess.DEVNULL, cwd=tmp,
            )  # fmt: skip
            shutil.rmtree(variants["[daemon] "]["WORKBENCH_DAEMON_DIR"], ignore_errors=True)
    medians = {name: statistics.median(t) * 1000 for name, t in times.items()}
    base = medians["python -c pass"]
    report = {
        "runs": args.runs,
        "load_avg": [round(x, 2) for x in os.getloadavg()],
        "median_ms": {k: round(v, 1) for k, v in medians.items()},
        "over_python_ms": {k: round(v - base, 1) for k, v in medians.items() if v is not base},
        "cpu_median_ms": {k: round(statistics.median(CPU[k]) * 1000, 1) for k in medians},
        "instructions_m": {k: round(v, 1) for k, v in counts.items()},
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"CLI start-up, median of {args.runs} runs, load {report['load_avg'][0]}")
    print(f"  {'':<34} {'wall':>9} {'over pass':>10} {'cpu':>9} {'instructions':>16}")
    floor = counts.get("python -c pass")
    for name, ms in report["median_ms"].items():
        extra = report["over_python_ms"].get(name)
        over = f"{extra:+9.1f}" if extra is not None else ""
        cpu = report["cpu_median_ms"][name]
        n = counts.get(name)
        ins = f"{n:8.1f} M ({n / floor:.1f}x)" if n is not None and floor else ""
        print(f"  {name:<34} {ms:7.1f}ms {over:>10} {cpu:7.1f}ms {ins:>16}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
