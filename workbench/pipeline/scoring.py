"""Scoring, profile learning, trends, validation and recommendations.

Score of one execution (0..100):

    score = 100 * (0.70 * pass_rate + 0.15 * lint + 0.15 * speed)

    pass_rate = tests_passed / tests_total        (0 when no test report: crash/timeout)
    lint      = 1 / (1 + lint_errors)             (1 when ruff finds nothing; 0 if no ruff)
    speed     = 1 - min(1, exec_ms / (timeout_s * 1000))

A run that produced no test report (timeout, crash, error, cancelled) scores 0.

Profiles learn by exponential moving average per iteration: for each strategy the
iteration's mean success rate (executions whose tests all passed), mean score and mean
time are folded in with learning rate 0.4 when at least one of its executions was real
(a test report was obtained) and 0.1 otherwise; a profile's first observation is taken as
is. Each update appends a trend point. `improvement_rate` compares the mean score of the
last 5 trend points with the mean of the older ones (percent); `improving` is recent >
older. Validation compares before/after success rate, time (lower is better) and score:
a change beyond ±5% is improved/declined, inside the band unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

W_PASS, W_LINT, W_SPEED = 0.70, 0.15, 0.15
LR_REAL, LR_OTHER = 0.4, 0.1
RECENT_POINTS = 5
BAND_PCT = 5.0
NO_REPORT = ("timeout", "crash", "error", "cancelled")


def score(
    tests_passed: int,
    tests_total: int,
    lint_errors: int,
    exec_ms: float,
    timeout_s: float,
    status: str = "passed",
) -> float:
    """The one documented score formula (see the module docstring)."""
    if status in NO_REPORT or tests_total <= 0:
        return 0.0
    pass_rate = tests_passed / tests_total
    lint = 0.0 if lint_errors < 0 else 1.0 / (1.0 + lint_errors)
    speed = 1.0 - min(1.0, max(0.0, exec_ms) / (timeout_s * 1000.0))
    return round(100.0 * (W_PASS * pass_rate + W_LINT * lint + W_SPEED * speed), 2)


@dataclass
class Performance:
    """One strategy's aggregate over a batch of executions (one iteration)."""

    success_rate: float
    avg_score: float
    avg_exec_ms: float
    executions: int
    real_executions: int
    passes: int
    failures: int


def aggregate(executions: Iterable[Mapping]) -> Performance:
    rows = list(executions)
    n = len(rows)
    passes = sum(1 for r in rows if r["status"] == "passed")
    real = sum(1 for r in rows if r.get("real", r["status"] not in NO_REPORT))
    return Performance(
        success_rate=passes / n if n else 0.0,
        avg_score=sum(r["score"] for r in rows) / n if n else 0.0,
        avg_exec_ms=sum(r["exec_ms"] for r in rows) / n if n else 0.0,
        executions=n,
        real_executions=real,
        passes=passes,
        failures=n - passes,
    )


def ema(old: float, new: float, rate: float) -> float:
    return old * (1.0 - rate) + new * rate


def learning_rate(perf: Performance) -> float:
    return LR_REAL if perf.real_executions > 0 else LR_OTHER


def update_profile(profile: Mapping, perf: Performance) -> dict:
    """New profile values after folding one iteration's performance in."""
    first = profile.get("uses", 0) == 0
    rate = 1.0 if first else learning_rate(perf)
    return {
        "success_rate": ema(profile.get("success_rate", 0.0), perf.success_rate, rate),
        "avg_score": ema(profile.get("avg_score", 0.0), perf.avg_score, rate),
        "avg_exec_ms": ema(profile.get("avg_exec_ms", 0.0), perf.avg_exec_ms, rate),
        "uses": profile.get("uses", 0) + perf.executions,
        "real_executions": profile.get("real_executions", 0) + perf.real_executions,
        "passes": profile.get("passes", 0) + perf.passes,
        "failures": profile.get("failures", 0) + perf.failures,
    }


def improvement(scores: Sequence[float]) -> tuple[bool, float | None]:
    """(improving, improvement rate in %): mean of the last 5 points vs the older ones."""
    if len(scores) <= RECENT_POINTS:
        return False, None
    recent = scores[-RECENT_POINTS:]
    older = scores[:-RECENT_POINTS]
    recent_mean = sum(recent) / len(recent)
    older_mean = sum(older) / len(older)
    rate = None if older_mean == 0 else round((recent_mean - older_mean) / older_mean * 100, 1)
    return recent_mean > older_mean, rate


METRICS = (("success_rate", True), ("exec_ms", False), ("score", True))


def validate(before: Mapping[str, float] | None, after: Mapping[str, float]) -> dict:
    """Compare before/after success_rate, exec_ms (lower is better) and score in ±5% bands.

    `change` is signed so that positive always means better (for time: faster).
    """
    result: dict = {"improved": [], "declined": [], "unchanged": [], "baseline": before is not None}
    if before is None:
        result["unchanged"] = [{"metric": k, "change": 0.0} for k, _ in METRICS]
        result["overall_improvement"] = False
        return result
    for key, higher_better in METRICS:
        old, new = float(before.get(key, 0.0)), float(after.get(key, 0.0))
        if old == 0:
            change = 0.0 if new == 0 else (100.0 if higher_better else -100.0)
        else:
            change = (new - old) / abs(old) * 100.0
            if not higher_better:
                change = -change
        entry = {"metric": key, "before": old, "after": new, "change": round(change, 1) + 0.0}
        if change > BAND_PCT:
            result["improved"].append(entry)
        elif change < -BAND_PCT:
            result["declined"].append(entry)
        else:
            result["unchanged"].append(entry)
    result["overall_improvement"] = len(result["improved"]) > len(result["declined"])
    return result


def overall(profiles: Mapping[str, Mapping]) -> dict[str, float] | None:
    """Mean of the profiles' metrics (the validation input); None when nothing is known."""
    used = [p for p in profiles.values() if p.get("uses", 0) > 0]
    if not used:
        return None
    return {
        "success_rate": sum(p["success_rate"] for p in used) / len(used),
        "exec_ms": sum(p["avg_exec_ms"] for p in used) / len(used),
        "score": sum(p["avg_score"] for p in used) / len(used),
    }


def recommendations(profiles: Mapping[str, Mapping]) -> list[str]:
    """Plain advice derived from the profiles only."""
    used = {name: p for name, p in profiles.items() if p.get("uses", 0) > 0}
    if not used:
        return ["no executions yet: run `workbench pipeline run`"]
    out = []
    best = max(used, key=lambda n: used[n]["avg_score"])
    out.append(f"{best} performing best ({used[best]['avg_score']:.1f} score)")
    most_reliable = max(used, key=lambda n: used[n]["success_rate"])
    if most_reliable != best:
        out.append(
            f"{most_reliable} is the most reliable "
            f"({used[most_reliable]['success_rate']:.0%} success): prefer it for production"
        )
    fastest = min(p["avg_exec_ms"] for p in used.values())
    for name, p in sorted(used.items()):
        if p["success_rate"] < 0.5:
            out.append(f"{name} unreliable ({p['success_rate']:.0%} success): avoid it")
        if fastest > 0 and p["avg_exec_ms"] > 1.25 * fastest:
            out.append(f"{name} needs optimization ({p['avg_exec_ms']:.0f}ms avg)")
    return out
