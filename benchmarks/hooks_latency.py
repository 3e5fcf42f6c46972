"""`workbench hooks run` end to end: process start → exit, as Claude Code runs it.

Each call is a fresh process of the installed `workbench` console script with one hook
event on stdin, timed from `subprocess.run` to its return. Measured, in the same run:

- `python -c pass`: the interpreter's own start-up, the floor any Python hook pays;
- record: alternating PreToolUse / PostToolUse of a Bash call (new tool_use_id each pair),
  what runs on every tool call of the agent;
- advise: UserPromptSubmit with `--advise` (hub BM25 query, relevant learnings, vector
  memory search, an agent_advice row when something is relevant);
- stop: a Stop event (outcome derivation and the learning feed: episode, execution,
  pattern memory), once per agent turn.

Children run without `PYTHONDONTWRITEBYTECODE` (this machine's environment sets it, which
makes every call compile the workbench's sources again; an installed package has its .pyc
files), after one `compileall` of the package.

Stores: the seeded store (`workbench init`), and the seeded store plus 100,000 vector
memories (benchmarks/memory_search.py's generator) and 10,000 hub items
(benchmarks/hub_query.py's generator).

    python benchmarks/hooks_latency.py [--calls 40] [--memories 100000] [--hub 10000] [--json]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from workbench.engine import Engine

ROOT = Path(__file__).resolve().parents[1]
PROMPTS = [
    "the sqlite writer fails with database is locked, add a busy timeout",
    "make the flaky tests deterministic with a fixed seed",
    "the sandbox subprocess times out on the embedding cache task",
    "training loss goes up on validation after epoch 3, add early stopping",
    "refactor the rate limiter to use a token bucket",
]


def load(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def build_large(path: Path, memories: int, hub: int) -> None:
    """Seeded store + generated vector memories and hub items (benchmarks/large_store.py's
    generators, written in bulk)."""
    large_store = load("large_store")
    with Engine(path) as engine:
        engine.seed()
        large_store.add_memories(engine, memories)
        large_store.add_hub_items(engine, hub)


# as users run it: bytecode caching on (see the module docstring)
CHILD_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
CPU_MS: dict[str, list[float]] = {}  # user+sys CPU of each child, by what was measured


def timed(
    command: list[str],
    stdin: bytes | None = None,
    what: str = "",
    env: dict[str, str] | None = None,
    cwd: str | None = None,
) -> tuple[float, bytes]:
    """Wall ms from start to exit (and the child's CPU ms, kept in CPU_MS[what])."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(
        command, input=stdin, capture_output=True, check=False, env=env or CHILD_ENV, cwd=cwd
    )
    elapsed = (time.perf_counter() - start) * 1000.0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000.0
    CPU_MS.setdefault(what, []).append(cpu)
    if done.returncode != 0:
        raise SystemExit(f"{command[0]} exited {done.returncode}: {done.stderr[-300:]!r}")
    return elapsed, done.stdout


def event(session: str, name: str, **fields) -> bytes:
    return json.dumps(
        {
            "session_id": session,
            "transcript_path": "/tmp/t.jsonl",
            "cwd": "/home/dev/proj",
            "hook_event_name": name,
            **fields,
        }  # fmt: skip
    ).encode()


def measure(db: Path, calls: int, exe: str, baseline: tuple[dict, str] | None = None) -> dict:
    """`baseline` = (env, cwd) of the code at another commit (`--baseline`): its calls run
    interleaved with this tree's, call by call, on a copy of the same store."""
    variants: dict[str, tuple[list[str], dict | None, str | None]] = {
        "": ([exe, "hooks", "run", "--db", str(db)], None, None)
    }
    if baseline is not None:
        base_db = db.with_name(db.stem + "-baseline.db")
        shutil.copyfile(db, base_db)
        base_cmd = [sys.executable, "-m", "workbench", "hooks", "run", "--db", str(base_db)]
        variants["baseline "] = (base_cmd, *baseline)
    times: dict[str, list[float]] = {"python -c pass": []}
    answered = dict.fromkeys(variants, 0)
    session = f"bench-{os.getpid()}-{time.time_ns()}"
    CPU_MS.clear()
    for hook, env, cwd in variants.values():  # warm the page cache
        timed(hook, event(session, "SessionStart", source="startup"), env=env, cwd=cwd)
    for i in range(calls):
        times["python -c pass"].append(
            timed([sys.executable, "-c", "pass"], what="python -c pass")[0]
        )
        tool = {"command": f"pytest -q tests/test_{i}.py"}
        pre = event(session, "PreToolUse", tool_name="Bash", tool_input=tool, tool_use_id=f"t{i}")
        post = event(
            session, "PostToolUse", tool_name="Bash", tool_input=tool, tool_use_id=f"t{i}",
            tool_response={"stdout": "3 passed in 0.1s", "stderr": "", "interrupted": False},
        )  # fmt: skip
        prompt = event(session, "UserPromptSubmit", prompt=PROMPTS[i % len(PROMPTS)])
        for label, (hook, env, cwd) in variants.items():
            for ev in (pre, post):
                what = label + "record"
                times.setdefault(what, []).append(timed(hook, ev, what, env, cwd)[0])
            what = label + "advise"
            elapsed, out = timed([*hook, "--advise"], prompt, what, env, cwd)
            times.setdefault(what, []).append(elapsed)
            answered[label] += bool(out.strip())
            if i % 4 == 3:
                stop_event = event(session, "Stop", stop_hook_active=False)
                what = label + "stop"
                times.setdefault(what, []).append(timed(hook, stop_event, what, env, cwd)[0])
    with Engine(db) as engine:
        errors = engine.agents.recording_errors()
        if errors:
            raise SystemExit(f"recording errors during the benchmark: {errors[:2]}")

    def summary(values: list[float]) -> dict:
        q = statistics.quantiles(values, n=20)
        return {"p50_ms": round(statistics.median(values), 1), "p95_ms": round(q[18], 1),
                "n": len(values)}  # fmt: skip

    out: dict = {key: summary(values) for key, values in times.items()}
    out["advise_answered"] = ", ".join(
        f"{label or 'this tree '}{n}/{calls}" for label, n in answered.items()
    )
    base = out["python -c pass"]["p50_ms"]
    for key in times:
        out[key]["x_python_pass"] = round(out[key]["p50_ms"] / base, 2)
        out[key]["cpu_p50_ms"] = round(statistics.median(CPU_MS[key]), 1)
        out[key]["cpu_x_python_pass"] = round(
            out[key]["cpu_p50_ms"] / statistics.median(CPU_MS["python -c pass"]), 2
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=40)
    parser.add_argument("--memories", type=int, default=100_000)
    parser.add_argument("--hub", type=int, default=10_000)
    parser.add_argument("--seeded-only", action="store_true", help="skip the large store")
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--baseline", metavar="GIT_REF", help="also time the code at this ref, interleaved"
    )
    args = parser.parse_args()
    exe = shutil.which("workbench")
    if exe is None:
        raise SystemExit("the `workbench` console script is not on PATH (pip install -e .)")
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(ROOT / "workbench")],
        check=True,
        env=CHILD_ENV,
    )
    results = {"load_before": os.getloadavg()}
    with tempfile.TemporaryDirectory() as tmp:
        baseline = None
        if args.baseline:
            code = load("cli_startup").extract(args.baseline, Path(tmp) / "baseline")
            subprocess.run([sys.executable, "-m", "compileall", "-q", str(code)], check=True)
            # run outside the repository, whose own workbench/ would shadow the baseline's
            baseline = ({**CHILD_ENV, "PYTHONPATH": str(code)}, tmp)
        seeded = Path(tmp) / "seeded.db"
        with Engine(seeded) as engine:
            engine.seed()
        results["seeded store"] = measure(seeded, args.calls, exe, baseline)
        if args.seeded_only:
            return report(results, args.json)
        large = Path(tmp) / "large.db"
        t0 = time.perf_counter()
        build_large(large, args.memories, args.hub)
        results["build_large_s"] = round(time.perf_counter() - t0, 1)
        label = f"seeded + {args.memories:,} memories + {args.hub:,} hub items"
        results[label] = measure(large, args.calls, exe, baseline)
    report(results, args.json)


def report(results: dict, as_json: bool) -> None:
    results["load_after"] = os.getloadavg()
    if as_json:
        print(json.dumps(results, indent=2))
        return
    for name, res in results.items():
        if not isinstance(res, dict):
            print(f"{name}: {res}")
            continue
        print(f"\n{name}  (advice given on {res['advise_answered']} prompts)")
        print(
            f"  {'':26}{'p50 ms':>9}{'p95 ms':>9}{'× pass':>8}{'CPU p50 ms':>12}{'CPU × pass':>11}"
        )
        for key, r in res.items():
            if not isinstance(r, dict):
                continue
            print(
                f"  {key:26}{r['p50_ms']:>9.1f}{r['p95_ms']:>9.1f}{r['x_python_pass']:>8.2f}"
                f"{r['cpu_p50_ms']:>12.1f}{r['cpu_x_python_pass']:>11.2f}"
            )


if __name__ == "__main__":
    main()
