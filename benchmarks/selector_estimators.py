"""Offline selector evaluation on a simulated environment with known true values.

Many seeds of `offpolicy.simulate` (12 tasks × 3 strategies with known pass probabilities
and score means, an exploring logger with every probability >= 0.1): for each seed, each
target (three fixed strategies and a mixture) and each reward (score, success), does the
90% bootstrap interval cover the true value? The peer is inverse-propensity scoring on the
same logs: the ratio says how much closer doubly-robust gets to the truth.

    python benchmarks/selector_estimators.py [--seeds 200] [--points 400] [--bootstrap 1000]
"""

from __future__ import annotations

import argparse
import time

from workbench.pipeline.offpolicy import coverage


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=200)
    parser.add_argument("--points", type=int, default=400)
    parser.add_argument("--bootstrap", type=int, default=1000)
    args = parser.parse_args()
    started = time.perf_counter()
    found = coverage(range(args.seeds), points=args.points, bootstrap=args.bootstrap)
    took = time.perf_counter() - started
    print(f"{args.seeds} seeds × {args.points} decision points, {found['intervals']} intervals "
          f"(90% percentile bootstrap, {args.bootstrap} resamples), {took:.1f} s")  # fmt: skip
    print(f"  doubly robust   coverage {found['dr_coverage']:.1%}   "
          f"mean |error| {found['dr_mean_abs_error']:.4f}")  # fmt: skip
    print(f"  IPS (peer)      coverage {found['ips_coverage']:.1%}   "
          f"mean |error| {found['ips_mean_abs_error']:.4f}")  # fmt: skip
    ratio = found["ips_mean_abs_error"] / found["dr_mean_abs_error"]
    print(f"  IPS error / DR error: {ratio:.2f}x")


if __name__ == "__main__":
    main()
