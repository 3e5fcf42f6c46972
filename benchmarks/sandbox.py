"""Sandbox cost per execution: isolation levels and the warm pool, on the bundled easy bank.

All in one run, on the same tasks (the 10 easy tasks, `balanced` strategy):

- latency: executions one at a time, `exec_ms` as the pipeline records it (the sandbox's
  wall time, from launch to exit), p50 and p90, for
  `limits` cold (the sandbox before namespaces: the peer), `bwrap` cold, `unshare` cold,
  and the warm pool under `bwrap` and `unshare`;
- throughput: whole pipeline runs (`PipelineService.run`, 2 workers, lint and store writes
  included) cold vs warm, executions per second of run wall time (pool start-up included).

    python benchmarks/sandbox.py [--rounds 5] [--iterations 4] [--json]

Modes that do not work on this machine are reported as unavailable. The load average is
printed with the figures: on a shared machine every number here moves with it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from workbench.engine import Engine
from workbench.pipeline import isolation
from workbench.pipeline.isolation import IsolationError
from workbench.pipeline.pool import WarmPool
from workbench.pipeline.sandbox import run_sandboxed
from workbench.pipeline.tasks import load_tasks


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def latency(mode: str, pooled: bool, rounds: int) -> dict:
    try:
        iso = isolation.detect(mode)
    except IsolationError as exc:
        return {"available": False, "why": str(exc)}
    tasks = load_tasks(None, "easy")
    pool = WarmPool(1, iso) if pooled else None
    try:
        if pool is not None:
            pool.warm()
        times, statuses = [], []
        for _ in range(rounds):
            for task in tasks:
                result = run_sandboxed(
                    task, "balanced", task.source(), lint=False, isolation=iso, pool=pool
                )
                times.append(result.exec_ms)
                statuses.append(result.status)
    finally:
        if pool is not None:
            pool.close()
    return {
        "available": True,
        "executions": len(times),
        "passed": statuses.count("passed"),
        "p50_ms": round(statistics.median(times), 1),
        "p90_ms": round(pct(times, 0.9), 1),
    }


def throughput(warm: bool, iterations: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="wb-bench-") as tmp, Engine(Path(tmp) / "b.db") as e:
        began = time.perf_counter()
        report = e.pipeline.run(
            complexity="easy", strategies=["balanced"], iterations=iterations, workers=2,
            warm_pool=warm,
        )  # fmt: skip
        wall = time.perf_counter() - began
        config = e.pipeline.runs()[0]["config"]
    n = report["total_executions"]
    times = [x["exec_ms"] for x in report["executions"]]
    return {
        "isolation": config["isolation"],
        "warm_pool": config["warm_pool"],
        "executions": n,
        "passed": sum(1 for x in report["executions"] if x["status"] == "passed"),
        "wall_s": round(wall, 2),
        "executions_per_s": round(n / wall, 1),
        "p50_ms": round(statistics.median(times), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="passes over the easy bank")
    parser.add_argument("--iterations", type=int, default=4, help="iterations per run")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    load_before = os.getloadavg()
    rows = {
        "limits cold (peer)": latency("limits", False, args.rounds),
        "bwrap cold": latency("bwrap", False, args.rounds),
        "unshare cold": latency("unshare", False, args.rounds),
        "bwrap warm pool": latency("bwrap", True, args.rounds),
        "unshare warm pool": latency("unshare", True, args.rounds),
    }
    runs = {
        "cold": throughput(False, args.iterations),
        "warm pool": throughput(True, args.iterations),
    }
    report = {"latency": rows, "pipeline": runs, "load_before": load_before,
              "load_after": os.getloadavg(), "cpus": os.cpu_count()}  # fmt: skip
    if args.json:
        print(json.dumps(report, indent=2))
        return
    peer = rows["limits cold (peer)"].get("p50_ms")
    print(f"latency per execution, easy bank × {args.rounds} (exec_ms, one at a time)")
    for name, row in rows.items():
        if not row["available"]:
            print(f"  {name:<20} unavailable: {row['why']}")
            continue
        ratio = f"{row['p50_ms'] / peer:5.2f}× peer" if peer else ""
        print(f"  {name:<20} p50 {row['p50_ms']:7.1f} ms  p90 {row['p90_ms']:7.1f} ms  "
              f"{ratio}  ({row['passed']}/{row['executions']} passed)")  # fmt: skip
    print(f"pipeline runs, easy bank × {args.iterations} iterations, 2 workers")
    for name, row in runs.items():
        print(f"  {name:<10} [{row['isolation']}] {row['executions_per_s']:5.1f} executions/s  "
              f"p50 {row['p50_ms']:.1f} ms  wall {row['wall_s']} s  "
              f"({row['passed']}/{row['executions']} passed)")  # fmt: skip
    print(f"load average before {load_before[0]:.2f}, after {report['load_after'][0]:.2f} "
          f"({report['cpus']} CPUs)")  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
