"""Performance optimizer: metrics per agent and task category, bottlenecks, prioritized
recommendations, agent comparison and trends — all from recorded executions.

A pair (agent, category) is judged only with at least MIN_RUNS executions. Each
recommendation compares a pair with the best other agent on the same category (also with
≥ MIN_RUNS runs); the expected improvement is the measured gap:

- AGENT_SELECTION   success rate: best − this (percentage points), when ≥ 0.10;
- EXECUTION_SPEED   median time: 1 − best/this, when ≥ 0.20;
- ERROR_REDUCTION   errors per run: this − best (absolute), when ≥ 0.25;
- ITERATION_REDUCTION mean iterations: 1 − best/this, when ≥ 0.25.

Priority (1–10) = 1 + ⌊9 · min(1, gap / FULL_GAP[type]) · min(1, runs / FULL_RUNS) + ½⌋,
where runs is the smaller run count of the two agents compared: a bigger measured gap
over more runs ranks higher. FULL_GAP is the gap that alone earns the top priority
(success rate 0.5, time and iterations 0.75 relative, errors 2 per run); FULL_RUNS = 10.

A bottleneck is a pair whose median time is ≥ 1.5× its category's median over all agents,
whose success rate is < 0.6, or whose errors per run are ≥ 1.
Trend per (agent, category): the last TREND_WINDOW runs against the runs before them.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

MIN_RUNS = 5
FULL_RUNS = 10
TREND_WINDOW = 5
FULL_GAP = {
    "AGENT_SELECTION": 0.5,
    "EXECUTION_SPEED": 0.75,
    "ERROR_REDUCTION": 2.0,
    "ITERATION_REDUCTION": 0.75,
}
SLOW_FACTOR = 1.5
LOW_SUCCESS = 0.6
HIGH_ERRORS = 1.0


@dataclass(frozen=True)
class Execution:
    agent: str
    category: str
    duration_s: float
    iterations: int
    success: bool
    errors: int


def _metrics(runs: Sequence[Execution]) -> dict:
    times = sorted(r.duration_s for r in runs)
    n = len(runs)
    return {
        "runs": n,
        "success_rate": sum(r.success for r in runs) / n,
        "mean_s": statistics.fmean(times),
        "median_s": statistics.median(times),
        "p90_s": times[min(n - 1, int(0.9 * n))],
        "mean_iterations": statistics.fmean(r.iterations for r in runs),
        "errors_per_run": sum(r.errors for r in runs) / n,
    }


def _groups(executions: Sequence[Execution]) -> dict[tuple[str, str], list[Execution]]:
    groups: dict[tuple[str, str], list[Execution]] = defaultdict(list)
    for e in executions:
        groups[(e.agent, e.category)].append(e)
    return groups


def metrics(executions: Sequence[Execution]) -> list[dict]:
    """One row per (agent, category), sorted by agent then category."""
    return [
        {"agent": agent, "category": category, **_metrics(runs)}
        for (agent, category), runs in sorted(_groups(executions).items())
    ]


def agent_summary(executions: Sequence[Execution], agent: str) -> dict | None:
    runs = [e for e in executions if e.agent == agent]
    return {"agent": agent, **_metrics(runs)} if runs else None


def bottlenecks(executions: Sequence[Execution]) -> list[dict]:
    by_category: dict[str, list[float]] = defaultdict(list)
    for e in executions:
        by_category[e.category].append(e.duration_s)
    found = []
    for row in metrics(executions):
        if row["runs"] < MIN_RUNS:
            continue
        category_median = statistics.median(by_category[row["category"]])
        reasons = []
        if category_median > 0 and row["median_s"] >= SLOW_FACTOR * category_median:
            reasons.append(
                f"median {row['median_s']:.1f} s is {row['median_s'] / category_median:.1f}× "
                f"the {row['category']} median ({category_median:.1f} s)"
            )
        if row["success_rate"] < LOW_SUCCESS:
            reasons.append(f"success rate {row['success_rate']:.0%}")
        if row["errors_per_run"] >= HIGH_ERRORS:
            reasons.append(f"{row['errors_per_run']:.1f} errors per run")
        if reasons:
            found.append({"agent": row["agent"], "category": row["category"], "reasons": reasons})
    return found


def priority(kind: str, gap: float, runs: int) -> int:
    weight = min(1.0, gap / FULL_GAP[kind]) * min(1.0, runs / FULL_RUNS)
    return max(1, min(10, 1 + int(9 * weight + 0.5)))


def recommendations(executions: Sequence[Execution], min_priority: int = 1) -> list[dict]:
    """Measured-gap recommendations, highest priority first."""
    rows = [r for r in metrics(executions) if r["runs"] >= MIN_RUNS]
    by_category: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_category[r["category"]].append(r)
    out = []
    for row in rows:
        peers = [p for p in by_category[row["category"]] if p["agent"] != row["agent"]]
        if not peers:
            continue
        out.extend(_compare_with_peers(row, peers))
    out = [r for r in out if r["priority"] >= min_priority]
    return sorted(out, key=lambda r: (-r["priority"], -r["gap"], r["agent"], r["category"]))


def _compare_with_peers(row: dict, peers: list[dict]) -> list[dict]:
    found = []
    agent, category, runs = row["agent"], row["category"], row["runs"]

    def add(kind: str, gap: float, peer: dict, title: str, expected: str) -> None:
        found.append(
            {
                "type": kind,
                "agent": agent,
                "category": category,
                "priority": priority(kind, gap, min(runs, peer["runs"])),
                "gap": round(gap, 4),
                "title": title,
                "expected_improvement": expected,
                "based_on": f"{runs} runs of {agent}, {peer['runs']} of {peer['agent']}",
            }
        )

    best = max(peers, key=lambda p: (p["success_rate"], -p["median_s"]))
    gap = best["success_rate"] - row["success_rate"]
    if gap >= 0.10:
        add(
            "AGENT_SELECTION",
            gap,
            best,
            f"Route {category} tasks from {agent} to {best['agent']}",
            f"success rate +{gap * 100:.0f} points "
            f"({row['success_rate']:.0%} → {best['success_rate']:.0%})",
        )
    fastest = min(peers, key=lambda p: p["median_s"])
    if row["median_s"] > 0:
        gap = 1 - fastest["median_s"] / row["median_s"]
        if gap >= 0.20:
            add(
                "EXECUTION_SPEED",
                gap,
                fastest,
                f"Speed up {agent} on {category} (as fast as {fastest['agent']})",
                f"median time −{gap:.0%} ({row['median_s']:.1f} s → {fastest['median_s']:.1f} s)",
            )
    cleanest = min(peers, key=lambda p: p["errors_per_run"])
    gap = row["errors_per_run"] - cleanest["errors_per_run"]
    if gap >= 0.25:
        add(
            "ERROR_REDUCTION",
            gap,
            cleanest,
            f"Cut errors of {agent} on {category} (as few as {cleanest['agent']})",
            f"−{gap:.2f} errors per run ({row['errors_per_run']:.2f} → "
            f"{cleanest['errors_per_run']:.2f})",
        )
    leanest = min(peers, key=lambda p: p["mean_iterations"])
    if row["mean_iterations"] > 0:
        gap = 1 - leanest["mean_iterations"] / row["mean_iterations"]
        if gap >= 0.25:
            add(
                "ITERATION_REDUCTION",
                gap,
                leanest,
                f"Fewer iterations for {agent} on {category}",
                f"iterations −{gap:.0%} ({row['mean_iterations']:.1f} → "
                f"{leanest['mean_iterations']:.1f})",
            )
    return found


def compare(executions: Sequence[Execution], first: str, second: str) -> dict:
    """Two agents side by side: overall and on every category both ran."""
    a = {r["category"]: r for r in metrics(executions) if r["agent"] == first}
    b = {r["category"]: r for r in metrics(executions) if r["agent"] == second}
    if not a:
        raise ValueError(f"no recorded executions for agent {first!r}")
    if not b:
        raise ValueError(f"no recorded executions for agent {second!r}")
    shared = sorted(set(a) & set(b))
    return {
        "agents": [first, second],
        "overall": [agent_summary(executions, first), agent_summary(executions, second)],
        "categories": [
            {
                "category": c,
                first: a[c],
                second: b[c],
                "faster": first if a[c]["median_s"] < b[c]["median_s"] else second,
                "more_successful": first
                if a[c]["success_rate"] > b[c]["success_rate"]
                else second
                if b[c]["success_rate"] > a[c]["success_rate"]
                else "tie",
            }
            for c in shared
        ],
    }


def trends(executions: Sequence[Execution]) -> list[dict]:
    """Per (agent, category), in recorded order: the last TREND_WINDOW runs against the
    earlier ones (per category, so a change of task mix is not read as a trend)."""
    out = []
    for (agent, category), runs in sorted(_groups(executions).items()):
        row = {"agent": agent, "category": category, "runs": len(runs)}
        if len(runs) <= TREND_WINDOW:
            out.append({**row, "direction": "no data"})
            continue
        before, after = _metrics(runs[:-TREND_WINDOW]), _metrics(runs[-TREND_WINDOW:])
        success_delta = after["success_rate"] - before["success_rate"]
        time_change = after["mean_s"] / before["mean_s"] - 1 if before["mean_s"] > 0 else 0.0
        if success_delta > 0.05 or (abs(success_delta) <= 0.05 and time_change < -0.1):
            direction = "improving"
        elif success_delta < -0.05 or (abs(success_delta) <= 0.05 and time_change > 0.1):
            direction = "degrading"
        else:
            direction = "flat"
        out.append(
            {
                **row,
                "direction": direction,
                "success_rate_before": before["success_rate"],
                "success_rate_recent": after["success_rate"],
                "mean_s_before": before["mean_s"],
                "mean_s_recent": after["mean_s"],
            }
        )
    return out
