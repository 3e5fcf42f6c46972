"""Fuzz every importer and parser long: hypothesis with thousands of inputs per target,
then atheris (coverage-guided, libFuzzer) for a while per target where it installs.

    python scripts/fuzz.py                      # 3000 hypothesis inputs per target
    python scripts/fuzz.py --examples 500 --targets clf,hub-json
    python scripts/fuzz.py --atheris-runs 20000 # also atheris, N inputs per target

Each input must end in "ok" or a clean one-line error that wrote nothing (see
tests/fuzz/targets.py). Prints one row per target: inputs run, ok, error, failures, time.
A failure prints the smallest failing input hypothesis found; exit status 1 if any.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import tempfile
import time
import traceback
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from hypothesis import HealthCheck, given, settings  # noqa: E402

from tests.fuzz import targets  # noqa: E402


def run_hypothesis(fz: targets.Fuzzing, name: str, examples: int) -> dict:
    target, inputs = targets.strategies(fz)[name]
    seen = {"ok": 0, "error": 0}

    @settings(max_examples=examples, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(inputs)
    def check(data: bytes) -> None:
        seen[target(fz, data)] += 1

    began = time.perf_counter()
    failure = ""
    try:
        check()
    except Exception as exc:  # report it: the point of the script
        failure = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    return {"engine": "hypothesis", "target": name, "ok": seen["ok"], "error": seen["error"],
            "failure": failure, "seconds": time.perf_counter() - began}  # fmt: skip


def atheris_worker(name: str, runs: int, seen) -> None:
    """One target under atheris in a child process: libFuzzer exits the process when its
    -runs are done, or on the first uncaught exception (a crash: printed, exit non-zero)."""
    import atheris

    tmp = Path(tempfile.mkdtemp(prefix="wb-atheris-"))
    fz = targets.Fuzzing(tmp)
    corpus = tmp / "corpus"
    corpus.mkdir()
    for index, sample in enumerate(targets.seeds(fz)[name]):
        (corpus / f"seed-{index}").write_bytes(sample)
    target = targets.TARGETS[name]
    atheris.instrument_all()  # coverage feedback from every loaded module (workbench too)

    def one(data: bytes) -> None:
        seen[0 if target(fz, data) == "ok" else 1] += 1

    atheris.Setup([sys.argv[0], f"-runs={runs}", "-max_len=262144", str(corpus)], one)
    atheris.Fuzz()


def run_atheris(name: str, runs: int) -> dict:
    ctx = multiprocessing.get_context("fork")
    seen = ctx.Array("q", 2)
    began = time.perf_counter()
    proc = ctx.Process(target=atheris_worker, args=(name, runs, seen))
    proc.start()
    proc.join()
    failure = "" if proc.exitcode == 0 else f"exit {proc.exitcode} (see the crash above)"
    return {"engine": "atheris", "target": name, "ok": seen[0], "error": seen[1],
            "failure": failure, "seconds": time.perf_counter() - began}  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=3000, help="hypothesis inputs per target")
    parser.add_argument("--targets", default=",".join(targets.TARGETS))
    parser.add_argument("--atheris-runs", type=int, default=0, help="0: skip atheris")
    args = parser.parse_args()
    names = [n for n in args.targets.split(",") if n]
    unknown = set(names) - set(targets.TARGETS)
    if unknown:
        parser.error(f"unknown targets: {', '.join(sorted(unknown))}")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        fz = targets.Fuzzing(Path(tmp))
        for name in names:
            rows.append(run_hypothesis(fz, name, args.examples))
            print_row(rows[-1])
        fz.close()
    if args.atheris_runs:
        try:
            import atheris  # noqa: F401
        except ImportError as exc:
            print(f"atheris: not installed ({exc}); skipped")
        else:
            for name in names:
                rows.append(run_atheris(name, args.atheris_runs))
                print_row(rows[-1])
    total = sum(r["ok"] + r["error"] for r in rows)
    failed = [r for r in rows if r["failure"]]
    print(f"total inputs: {total}; targets failing: {len(failed)}")
    for row in failed:
        print(f"FAIL {row['engine']} {row['target']}: {row['failure']}")
    return 1 if failed else 0


def print_row(row: dict) -> None:
    print(f"{row['engine']:<10} {row['target']:<13} inputs {row['ok'] + row['error']:>6}  "
          f"ok {row['ok']:>6}  error {row['error']:>6}  {row['seconds']:7.1f} s  "
          f"{'FAIL' if row['failure'] else 'pass'}", flush=True)  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
