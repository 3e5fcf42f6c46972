"""Execution-strategy selection from recorded outcomes with a Beta posterior per
(strategy, complexity).

Each strategy s at complexity c has success probability θ ~ Beta(α, β) with
α = α₀ + successes and β = β₀ + failures among the recorded outcomes of s at c. The prior
is Beta(1, 1) except the structural default for c (single for TRIVIAL/SIMPLE, sequential
for MODERATE, hierarchical above), which gets Beta(2, 1): with no data the default wins,
and one recorded outcome is worth as much as that head start.

The choice is the strategy with the highest posterior mean α/(α+β) (ties: the default,
then the order of STRATEGIES). Confidence is the posterior probability that the chosen
strategy has the highest θ of all five, P(θ_chosen > θ_other for all others) =
∫ f_chosen(x) Π F_other(x) dx, integrated numerically on a grid — with no data it is the
prior's (1/3), and it grows as outcomes separate the strategies.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from workbench.adaptive import AGENT_ORDER, COMPLEXITIES, STRATEGIES

DEFAULT_FOR = {
    "TRIVIAL": "single",
    "SIMPLE": "single",
    "MODERATE": "sequential",
    "COMPLEX": "hierarchical",
    "VERY_COMPLEX": "hierarchical",
}
GRID = np.linspace(0.0, 1.0, 2001)


@dataclass(frozen=True)
class Posterior:
    strategy: str
    alpha: float
    beta: float
    successes: int
    failures: int

    @property
    def mean(self) -> float:
        return self.alpha / (self.alpha + self.beta)


def posteriors(complexity: str, counts: Mapping[str, tuple[int, int]]) -> list[Posterior]:
    """Posterior of every strategy at a complexity from (successes, failures) counts."""
    if complexity not in COMPLEXITIES:
        raise ValueError(f"complexity must be one of {', '.join(COMPLEXITIES)}")
    out = []
    for strategy in STRATEGIES:
        wins, losses = counts.get(strategy, (0, 0))
        prior_alpha = 2.0 if strategy == DEFAULT_FOR[complexity] else 1.0
        out.append(Posterior(strategy, prior_alpha + wins, 1.0 + losses, wins, losses))
    return out


def _beta_pdf(alpha: float, beta: float) -> np.ndarray:
    log_norm = math.lgamma(alpha + beta) - math.lgamma(alpha) - math.lgamma(beta)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_pdf = log_norm + (alpha - 1) * np.log(GRID) + (beta - 1) * np.log1p(-GRID)
    pdf = np.exp(log_pdf)
    return np.nan_to_num(pdf, nan=0.0, posinf=0.0)


def _integral(values: np.ndarray) -> float:
    return float(np.sum((values[1:] + values[:-1]) * (GRID[1] - GRID[0]) / 2))


def _cdf(pdf: np.ndarray) -> np.ndarray:
    step = GRID[1] - GRID[0]
    cdf = np.concatenate([[0.0], np.cumsum((pdf[1:] + pdf[:-1]) * step / 2)])
    return np.clip(cdf / cdf[-1], 0.0, 1.0) if cdf[-1] > 0 else cdf


def probability_best(chosen: Posterior, others: list[Posterior]) -> float:
    """P(θ_chosen exceeds every other θ), by trapezoidal integration on GRID."""
    pdf = _beta_pdf(chosen.alpha, chosen.beta)
    pdf = pdf / _integral(pdf)
    product = np.ones_like(GRID)
    for other in others:
        product *= _cdf(_beta_pdf(other.alpha, other.beta))
    return min(1.0, max(0.0, _integral(pdf * product)))


@dataclass
class StrategyChoice:
    strategy: str
    confidence: float
    agent_sequence: list[str]
    posteriors: list[Posterior]
    evidence: int
    reason: str

    def as_dict(self) -> dict:
        return {
            "strategy": self.strategy,
            "confidence": self.confidence,
            "agent_sequence": self.agent_sequence,
            "evidence": self.evidence,
            "reason": self.reason,
            "posteriors": [
                {
                    "strategy": p.strategy,
                    "successes": p.successes,
                    "failures": p.failures,
                    "mean": p.mean,
                }
                for p in self.posteriors
            ],
        }


def agent_sequence(strategy: str, agents: list[str]) -> list[str]:
    """Agents in working order; `single` keeps only the first, hierarchical leads with the
    architect when there is one (the coordinator)."""
    ordered = sorted(agents, key=lambda a: (AGENT_ORDER.index(a) if a in AGENT_ORDER else 99, a))
    if strategy == "single":
        return ordered[:1]
    return ordered


def choose(
    complexity: str, agents: list[str], counts: Mapping[str, tuple[int, int]]
) -> StrategyChoice:
    table = posteriors(complexity, counts)
    default = DEFAULT_FOR[complexity]
    best = max(
        table,
        key=lambda p: (p.mean, p.strategy == default, -STRATEGIES.index(p.strategy)),
    )
    others = [p for p in table if p.strategy != best.strategy]
    evidence = sum(p.successes + p.failures for p in table)
    if best.successes + best.failures:
        reason = (
            f"{best.strategy}: {best.successes}/{best.successes + best.failures} recorded "
            f"{complexity} outcomes succeeded (posterior mean {best.mean:.2f})"
        )
    elif evidence:
        reason = (
            f"{best.strategy}: no outcomes of its own yet; the others recorded at "
            f"{complexity} did worse than its prior"
        )
    else:
        reason = f"{best.strategy}: no recorded {complexity} outcomes; structural default"
    return StrategyChoice(
        strategy=best.strategy,
        confidence=probability_best(best, others),
        agent_sequence=agent_sequence(best.strategy, agents),
        posteriors=table,
        evidence=evidence,
        reason=reason,
    )
