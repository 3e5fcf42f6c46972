"""Run the kill -9 scenarios many times at random kill points and print a table.

    python scripts/fault_suite.py                  # 10 runs of each scenario
    python scripts/fault_suite.py --runs 30 --scenarios pipeline,training --seed 7

The scenarios live in tests/faults/scenarios.py (the test suite runs one fast instance of
each). Here the kill point is drawn per run: after 1..N committed rows for the pipeline,
training and memory import, at a random fraction of a full run for the hub import and the
consolidation (which commit in one transaction, so we cannot wait for a row). Exit status 1
if any check failed in any run.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.faults import scenarios  # noqa: E402


def kill_point(name: str, rng: random.Random) -> dict:
    """Arguments of one run of a scenario: where to kill it."""
    if name == "pipeline":
        return {"executions": rng.randint(1, 12)}
    if name == "training":
        return {"epochs_before_kill": rng.randint(1, 16)}
    if name == "memory-import":
        return {"lines": 40_000, "rows_before_kill": rng.choice([2000, 8000, 16000, 30000])}
    if name in ("hub-import", "consolidation"):
        return {"fraction": round(rng.uniform(0.3, 1.1), 2)}
    return {}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--scenarios", default=",".join(scenarios.SCENARIOS))
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    names = [n for n in args.scenarios.split(",") if n]
    unknown = set(names) - set(scenarios.SCENARIOS)
    if unknown:
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    rng = random.Random(args.seed)
    failures: dict[str, Counter] = defaultdict(Counter)
    outcomes: dict[str, Counter] = defaultdict(Counter)
    passed: Counter = Counter()
    seconds: Counter = Counter()
    for name in names:
        for run in range(args.runs):
            point = kill_point(name, rng)
            began = time.monotonic()
            with tempfile.TemporaryDirectory() as tmp:
                try:
                    outcome = scenarios.SCENARIOS[name](Path(tmp), **point)
                except AssertionError as exc:  # setup or wait failed: count it, go on
                    outcome = {"ok": False, "checks": {f"harness: {exc}"[:80]: False}}
            seconds[name] += time.monotonic() - began
            passed[name] += outcome["ok"]
            for check, ok in outcome["checks"].items():
                if not ok:
                    failures[name][check] += 1
            if "outcome" in outcome:
                outcomes[name][outcome["outcome"]] += 1
            status = (
                "ok"
                if outcome["ok"]
                else "FAIL " + ", ".join(c for c, ok in outcome["checks"].items() if not ok)
            )
            print(f"{name:<14} run {run + 1:>3} {point} -> {status}", flush=True)
    print()
    print(f"{'scenario':<14} {'runs':>4} {'passed':>6} {'s/run':>6}  outcomes / failed checks")
    for name in names:
        detail = ", ".join(f"{k}: {v}" for k, v in sorted(outcomes[name].items()))
        failed = ", ".join(f"{k} x{v}" for k, v in failures[name].items())
        print(f"{name:<14} {args.runs:>4} {passed[name]:>6} {seconds[name] / args.runs:>6.1f}  "
              f"{detail}{'; FAILED ' + failed if failed else ''}")  # fmt: skip
    return 0 if sum(passed.values()) == args.runs * len(names) else 1


if __name__ == "__main__":
    sys.exit(main())
