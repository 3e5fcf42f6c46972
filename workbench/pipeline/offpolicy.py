"""Would another selector have done better? Off-policy estimates from the logged executions.

A *decision point* is one (run, iteration, task): a run without a selector executed every
strategy of the run there (each with inclusion probability 1); a run with a selector
executed one strategy, drawn with the probability it logged (`selection.selector_policy`).
A *target* is a selector as it would act now (a distribution π over strategies) or one
fixed strategy. For each target and each reward (score 0..100, success 0/1):

    IPS_i = Σ_{a logged at i} π(a) · r_ia / p_ia
    DR_i  = Σ_a π(a) · q̂_i(a)  +  Σ_{a logged at i} π(a) · (r_ia − q̂_i(a)) / p_ia

and the estimate is the mean over decision points. q̂_i(a) is the mean reward of strategy a
on the same task at the *other* decision points (leave-one-out), else a's mean elsewhere,
else the overall mean: any model keeps DR unbiased when the propensities are right, a good
one shrinks its variance. Intervals: percentile bootstrap over decision points (90%).
Effective sample size: (Σw)² / Σw² over the logged executions' weights w = π(a)/p(a).

An estimate is withheld, with a plain statement why, when the log cannot support it: a
strategy the target may pick was never tried, the log could not have picked what the
target picks at some decision points (a deterministic logger), the effective sample size
is below `MIN_ESS`, or there are fewer than `MIN_POINTS` decision points.

The targets' distributions come from the profiles learned from this same log, so the
estimate of a selector's *current* pick is in-sample (optimistic when the log is short).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

METRICS = ("score", "success")
MIN_ESS = 10.0
MIN_POINTS = 5
SUPPORT_TOLERANCE = 1e-9
INTERVAL = 0.90


@dataclass
class DecisionPoint:
    """One (run, iteration, task): what was logged there and with which probabilities."""

    key: tuple
    task: str
    rewards: dict[str, dict[str, float]] = field(default_factory=dict)  # strategy → metric
    propensity: dict[str, float] = field(default_factory=dict)  # logged strategy → p
    support: dict[str, float] = field(default_factory=dict)  # could-have-logged → p


def decision_points(
    rows: Iterable[Mapping], run_strategies: Mapping[int, Sequence[str]]
) -> list[DecisionPoint]:
    """Group execution rows (run_id, iteration, task, strategy, score, status, selector,
    propensity, probabilities) into decision points, in a stable order."""
    points: dict[tuple, DecisionPoint] = {}
    for row in rows:
        key = (row["run_id"], row["iteration"], row["task"])
        point = points.get(key)
        if point is None:
            point = points[key] = DecisionPoint(key=key, task=row["task"])
            if row.get("selector"):
                support = json.loads(row.get("probabilities") or "{}")
                point.support = {k: float(v) for k, v in support.items()}
            else:  # every strategy of the run ran here
                point.support = {s: 1.0 for s in run_strategies.get(row["run_id"], ())}
        name = row["strategy"]
        p = float(row.get("propensity") or 1.0) if row.get("selector") else 1.0
        if p <= 0:
            continue  # cannot happen with logged draws; never divide by it
        point.support.setdefault(name, p)
        point.propensity[name] = p
        point.rewards[name] = {
            "score": float(row.get("score") or 0.0),
            "success": 1.0 if row.get("status") == "passed" else 0.0,
        }
    return [points[k] for k in sorted(points, key=lambda k: tuple(map(str, k)))]


class RewardModel:
    """Leave-one-out means: q̂_i(a) from the other decision points only."""

    def __init__(self, points: Sequence[DecisionPoint]) -> None:
        self.task_sum: dict = defaultdict(float)
        self.task_n: dict = defaultdict(int)
        self.arm_sum: dict = defaultdict(float)
        self.arm_n: dict = defaultdict(int)
        self.all_sum: dict = defaultdict(float)
        self.all_n = 0
        for point in points:
            for arm, reward in point.rewards.items():
                self.all_n += 1
                self.task_n[(point.task, arm)] += 1
                self.arm_n[arm] += 1
                for metric, value in reward.items():
                    self.task_sum[(point.task, arm, metric)] += value
                    self.arm_sum[(arm, metric)] += value
                    self.all_sum[metric] += value

    def predict(self, point: DecisionPoint, arm: str, metric: str) -> float:
        own = point.rewards.get(arm, {}).get(metric)
        mine = 0 if own is None else 1
        n = self.task_n[(point.task, arm)] - mine
        if n > 0:
            return (self.task_sum[(point.task, arm, metric)] - (own or 0.0)) / n
        n = self.arm_n[arm] - mine
        if n > 0:
            return (self.arm_sum[(arm, metric)] - (own or 0.0)) / n
        own_all = sum(r[metric] for r in point.rewards.values())
        n = self.all_n - len(point.rewards)
        return (self.all_sum[metric] - own_all) / n if n > 0 else 0.0


def contributions(
    points: Sequence[DecisionPoint], policy: Mapping[str, float], model: RewardModel
) -> dict[str, np.ndarray]:
    """Per decision point: the IPS and DR terms of each metric, and the logged weights."""
    out = {f"{est}_{metric}": np.zeros(len(points)) for est in ("ips", "dr") for metric in METRICS}
    for i, point in enumerate(points):
        for metric in METRICS:
            ips = 0.0
            dm = sum(pi * model.predict(point, a, metric) for a, pi in policy.items() if pi > 0)
            correction = 0.0
            for arm, p in point.propensity.items():
                pi = policy.get(arm, 0.0)
                if pi <= 0:
                    continue
                reward = point.rewards[arm][metric]
                ips += pi * reward / p
                correction += pi * (reward - model.predict(point, arm, metric)) / p
            out[f"ips_{metric}"][i] = ips
            out[f"dr_{metric}"][i] = dm + correction
    return out


def effective_sample_size(points: Sequence[DecisionPoint], policy: Mapping[str, float]) -> float:
    weights = np.array(
        [policy.get(a, 0.0) / p for point in points for a, p in point.propensity.items()]
    )
    if weights.size == 0 or weights.sum() <= 0:
        return 0.0
    return float(weights.sum() ** 2 / (weights**2).sum())


SHORT_REASONS = (
    ("too few decision points", "too few points"),
    ("never tried", "never tried"),
    ("could not have picked", "no overlap"),
    ("effective sample size", "ESS too small"),
)


def short_reason(note: str | None) -> str | None:
    """A few words for a table cell."""
    if note is None:
        return None
    return next((short for key, short in SHORT_REASONS if key in note), "no estimate")


def support_problem(points: Sequence[DecisionPoint], policy: Mapping[str, float]) -> str | None:
    """Why the log cannot support an estimate of `policy`, or None when it can."""
    if len(points) < MIN_POINTS:
        return f"too few decision points ({len(points)} < {MIN_POINTS})"
    tried = {a for point in points for a in point.propensity}
    never = sorted(a for a, pi in policy.items() if pi > 0 and a not in tried)
    if never:
        return f"{', '.join(never)} never tried: the log says nothing about it"
    uncovered = sum(
        1
        for point in points
        if sum(pi for a, pi in policy.items() if point.support.get(a, 0.0) > 0)
        < 1 - SUPPORT_TOLERANCE
    )
    if uncovered:
        return (
            f"too little overlap: at {uncovered} of {len(points)} decision points the log "
            "could not have picked what this selector picks"
        )
    ess = effective_sample_size(points, policy)
    if ess < MIN_ESS:
        return f"too little overlap: effective sample size {ess:.1f} < {MIN_ESS:g}"
    return None


def estimate(
    points: Sequence[DecisionPoint],
    targets: Mapping[str, Mapping[str, float]],
    bootstrap: int = 1000,
    seed: int = 0,
    interval: float = INTERVAL,
) -> dict[str, dict]:
    """IPS and DR estimates with bootstrap intervals for every target policy."""
    if bootstrap < 10:
        raise ValueError("bootstrap needs at least 10 resamples")
    model = RewardModel(points)
    n = len(points)
    rng = np.random.default_rng(seed)
    # one set of resamples for every target, so their intervals are comparable
    counts = rng.multinomial(n, np.full(n, 1.0 / n), size=bootstrap) if n else None
    lo_q, hi_q = (1 - interval) / 2 * 100, (1 + interval) / 2 * 100
    out = {}
    for name, policy in targets.items():
        problem = support_problem(points, policy)
        entry: dict = {
            "policy": {a: round(p, 4) for a, p in sorted(policy.items()) if p > 0},
            "decision_points": n,
            "ess": round(effective_sample_size(points, policy), 2),
            "supported": problem is None,
            "note": problem,
            "reason": short_reason(problem),
            "ips": None,
            "dr": None,
        }
        if problem is None and counts is not None:
            terms = contributions(points, policy, model)
            for est in ("ips", "dr"):
                entry[est] = {}
                for metric in METRICS:
                    values = terms[f"{est}_{metric}"]
                    boot = counts @ values / n
                    low, high = np.percentile(boot, [lo_q, hi_q])
                    entry[est][metric] = {
                        "estimate": float(values.mean()),
                        "low": float(low),
                        "high": float(high),
                    }
        out[name] = entry
    return out


def format_evaluation(result: Mapping) -> str:
    """The evaluate-selectors table as plain text."""
    lines = [
        f"Offline evaluation · {result['decision_points']} decision points · "
        f"{result['executions']} executions · {int(result['interval'] * 100)}% bootstrap "
        f"intervals ({result['bootstrap']} resamples)",
        f"{'target':<22}{'picks now':<16}{'DR score':<22}{'DR success':<22}"
        f"{'IPS score':<11}{'ESS':>7}",
    ]
    for name, e in result["targets"].items():
        pick = e.get("pick") or "—"
        if e["dr"] is None:
            lines.append(f"{name:<22}{pick:<16}{e['note']}")
            continue
        dr, ips = e["dr"], e["ips"]
        sc = dr["score"]
        score = f"{sc['estimate']:.1f} [{sc['low']:.1f}, {sc['high']:.1f}]"
        success = (
            f"{dr['success']['estimate']:.0%} [{dr['success']['low']:.0%}, "
            f"{dr['success']['high']:.0%}]"
        )
        lines.append(
            f"{name:<22}{pick:<16}{score:<22}{success:<22}"
            f"{ips['score']['estimate']:<11.1f}{e['ess']:>7.1f}"
        )
    if result.get("statement"):
        lines.append(result["statement"])
    return "\n".join(lines)


# -- a simulated environment with known true values (tests and benchmarks) ----------------


def simulate(
    seed: int,
    points: int = 400,
    strategies: Sequence[str] = ("alpha", "beta", "gamma"),
    tasks: int = 12,
    floor: float = 0.1,
) -> tuple[list[dict], dict[str, dict[str, float]], dict[str, dict[str, float]]]:
    """A logged bandit over synthetic tasks with known reward means.

    Each task × strategy has a pass probability μ and a quality q; an execution passes
    with probability μ and scores 70·passed + 30·Beta(5q, 5(1−q)). The logging selector
    draws each decision point's strategy from a random distribution with every
    probability ≥ `floor` (like an exploring bandit) and logs that probability.

    Returns (rows, targets, true values): targets are each fixed strategy and a mixture;
    true values are their exact expected score and success rate.
    """
    rng = np.random.default_rng(seed)
    k = len(strategies)
    mu = 1 / (1 + np.exp(-(rng.normal(0, 1.2, (tasks, k)) + rng.normal(0, 0.8, k))))
    quality = rng.uniform(0.2, 0.9, (tasks, k))
    rows = []
    for i in range(points):
        t = int(rng.integers(tasks))
        probs = rng.dirichlet(np.full(k, 1.0)) * (1 - k * floor) + floor
        a = int(rng.choice(k, p=probs))
        passed = bool(rng.random() < mu[t, a])
        score = 70.0 * passed + 30.0 * rng.beta(5 * quality[t, a], 5 * (1 - quality[t, a]))
        rows.append(
            {"run_id": 1, "iteration": i, "task": f"task{t}", "strategy": strategies[a],
             "score": float(score), "status": "passed" if passed else "failed",
             "selector": "bandit", "propensity": float(probs[a]),
             "probabilities": json.dumps(dict(zip(strategies, map(float, probs), strict=True)))}
        )  # fmt: skip
    targets = {s: {x: float(x == s) for x in strategies} for s in strategies}
    mix = rng.dirichlet(np.full(k, 1.0))
    targets["mixture"] = dict(zip(strategies, map(float, mix), strict=True))
    truth = {}
    for name, policy in targets.items():
        pi = np.array([policy[s] for s in strategies])
        success = float((mu @ pi).mean())  # tasks are drawn uniformly
        score = float(((70 * mu + 30 * quality) @ pi).mean())
        truth[name] = {"score": score, "success": success}
    return rows, targets, truth


def coverage(
    seeds: Iterable[int], points: int = 400, bootstrap: int = 1000
) -> dict[str, float | int]:
    """Share of (seed, target, metric) whose 90% interval covers the true value."""
    hits = {"dr": 0, "ips": 0}
    total = 0
    errors = {"dr": [], "ips": []}
    for seed in seeds:
        rows, targets, truth = simulate(seed, points)
        found = decision_points(rows, {})
        result = estimate(found, targets, bootstrap=bootstrap, seed=seed)
        for name, entry in result.items():
            for metric in METRICS:
                total += 1
                for est in ("dr", "ips"):
                    if entry[est] is None:
                        continue
                    e = entry[est][metric]
                    hits[est] += e["low"] <= truth[name][metric] <= e["high"]
                    scale = 100.0 if metric == "score" else 1.0
                    errors[est].append(abs(e["estimate"] - truth[name][metric]) / scale)
    return {
        "intervals": total,
        "dr_coverage": hits["dr"] / total if total else 0.0,
        "ips_coverage": hits["ips"] / total if total else 0.0,
        "dr_mean_abs_error": float(np.mean(errors["dr"])) if errors["dr"] else 0.0,
        "ips_mean_abs_error": float(np.mean(errors["ips"])) if errors["ips"] else 0.0,
    }
