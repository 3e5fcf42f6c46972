"""Choosing a strategy from the learned profiles: weighted priorities or a bandit.

Weighted: each strategy's value is `wR * reliability + wS * speed + wQ * quality` with
reliability = success rate, speed = fastest avg time / this avg time (1 for the fastest),
quality = avg score / 100; the weights are normalised to sum 1.

Bandit (Thompson sampling): each strategy's probability of a fully passing execution has a
Beta(1 + passes, 1 + failures) posterior; one draw per strategy from a seeded RNG, the
highest draw wins. Strategies never tried have the flat Beta(1, 1) and so get explored.

For offline evaluation every selector is also a distribution over strategies
(`selector_policy`): a weighted preset puts probability 1 on its pick, the bandit gives
each strategy its posterior probability of being best, estimated by Monte Carlo (20,000
joint draws from the Beta posteriors with a fixed seed, so the same profiles always give
the same numbers). A run with a selector draws each task's strategy from exactly that
distribution, so the probability it logs is the one the choice was made with.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence

PRESETS: dict[str, tuple[float, float, float]] = {
    "production": (0.7, 0.1, 0.2),
    "prototyping": (0.2, 0.6, 0.2),
    "balanced": (0.4, 0.3, 0.3),
}
SELECTORS = (*PRESETS, "bandit")
MC_DRAWS = 20_000
MC_SEED = 0


def parse_priorities(value: str | tuple[float, float, float] | None) -> tuple[float, ...]:
    """A preset name or "R,S,Q" → normalised (reliability, speed, score) weights."""
    if value is None:
        value = "balanced"
    if isinstance(value, str):
        if value in PRESETS:
            weights: tuple[float, ...] = PRESETS[value]
        else:
            try:
                weights = tuple(float(part) for part in value.split(","))
            except ValueError:
                weights = ()
            if len(weights) != 3:
                raise ValueError(
                    f"priorities {value!r}: use {', '.join(PRESETS)} or three numbers R,S,Q"
                )
    else:
        weights = tuple(float(w) for w in value)
    if len(weights) != 3 or any(w < 0 or w != w for w in weights) or sum(weights) <= 0:
        raise ValueError("priorities need three non-negative weights with a positive sum")
    total = sum(weights)
    return tuple(w / total for w in weights)


def select_weighted(
    profiles: Mapping[str, Mapping], priorities: str | tuple[float, float, float] | None = None
) -> dict:
    """Best strategy by weighted priorities, with every candidate's breakdown."""
    w_r, w_s, w_q = parse_priorities(priorities)
    used = {n: p for n, p in profiles.items() if p.get("uses", 0) > 0}
    if not used:
        raise ValueError("no strategy profiles yet: run `workbench pipeline run` first")
    times = [p["avg_exec_ms"] for p in used.values() if p["avg_exec_ms"] > 0]
    fastest = min(times) if times else 0.0
    candidates = {}
    for name, p in used.items():
        speed = fastest / p["avg_exec_ms"] if p["avg_exec_ms"] > 0 and fastest > 0 else 1.0
        parts = {
            "reliability": p["success_rate"],
            "speed": speed,
            "quality": p["avg_score"] / 100.0,
        }
        value = w_r * parts["reliability"] + w_s * parts["speed"] + w_q * parts["quality"]
        candidates[name] = {"score": round(value, 4), **{k: round(v, 4) for k, v in parts.items()}}
    ranked = sorted(candidates, key=lambda n: (-candidates[n]["score"], n))
    best = candidates[ranked[0]]
    reason = (
        f"{ranked[0]}: {w_r:.2f}×reliability {best['reliability']:.2f} + {w_s:.2f}×speed "
        f"{best['speed']:.2f} + {w_q:.2f}×quality {best['quality']:.2f} = {best['score']:.3f}"
    )
    if len(ranked) > 1:
        reason += f"; next {ranked[1]} {candidates[ranked[1]]['score']:.3f}"
    return {
        "method": "weighted",
        "strategy": ranked[0],
        "score": best["score"],
        "reason": reason,
        "weights": {"reliability": w_r, "speed": w_s, "score": w_q},
        "candidates": candidates,
    }


def posterior(passes: int, failures: int) -> dict:
    """Beta posterior of a strategy's pass probability: mean and a 90% credible interval."""
    a, b = 1 + passes, 1 + failures
    rng = random.Random(0)
    draws = sorted(rng.betavariate(a, b) for _ in range(2000))
    return {
        "alpha": a,
        "beta": b,
        "mean": a / (a + b),
        "low": draws[int(0.05 * len(draws))],
        "high": draws[int(0.95 * len(draws)) - 1],
    }


def select_bandit(
    profiles: Mapping[str, Mapping],
    strategies: list[str] | None = None,
    seed: int | None = 0,
) -> dict:
    """Thompson sampling over Beta(1 + passes, 1 + failures) posteriors."""
    names = sorted(set(strategies or []) | set(profiles))
    if not names:
        raise ValueError("no strategies to choose from")
    rng = random.Random(seed)
    candidates = {}
    for name in names:
        p = profiles.get(name, {})
        passes, failures = int(p.get("passes", 0)), int(p.get("failures", 0))
        post = posterior(passes, failures)
        post["sample"] = rng.betavariate(post["alpha"], post["beta"])
        candidates[name] = post
    best = max(names, key=lambda n: candidates[n]["sample"])
    c = candidates[best]
    reason = (
        f"{best}: Thompson draw {c['sample']:.3f} from Beta({c['alpha']}, {c['beta']}) "
        f"(mean {c['mean']:.2f}, 90% interval {c['low']:.2f}–{c['high']:.2f}), "
        f"highest of {len(names)}"
    )
    return {
        "method": "bandit",
        "strategy": best,
        "score": round(c["sample"], 4),
        "reason": reason,
        "seed": seed,
        "candidates": candidates,
    }


def thompson_probabilities(
    profiles: Mapping[str, Mapping], strategies: Sequence[str], draws: int = MC_DRAWS
) -> dict[str, float]:
    """P(strategy has the highest pass probability) under the Beta posteriors (Monte Carlo,
    fixed seed). Never exactly 0: each strategy gets at least one win in `draws`."""
    import numpy as np  # here: the Runs pane (first UI frame) imports this module

    names = sorted(set(strategies))
    if not names:
        raise ValueError("no strategies to choose from")
    rng = np.random.default_rng(MC_SEED)
    samples = np.stack(
        [
            rng.beta(
                1 + int(profiles.get(n, {}).get("passes", 0)),
                1 + int(profiles.get(n, {}).get("failures", 0)),
                draws,
            )
            for n in names
        ]  # fmt: skip
    )
    wins = np.bincount(samples.argmax(axis=0), minlength=len(names)).astype(float)
    wins = np.maximum(wins, 1.0)
    wins /= wins.sum()
    return {n: float(w) for n, w in zip(names, wins, strict=True)}


def selector_policy(
    selector: str, profiles: Mapping[str, Mapping], strategies: Sequence[str]
) -> dict[str, float]:
    """The selector as a distribution over `strategies` (what it would do now)."""
    names = list(dict.fromkeys(strategies))
    if selector == "bandit":
        return thompson_probabilities(profiles, names)
    if selector not in PRESETS:
        raise ValueError(f"selector {selector!r}: one of {', '.join(SELECTORS)}")
    mine = {n: p for n, p in profiles.items() if n in names}
    if not any(p.get("uses", 0) > 0 for p in mine.values()):
        raise ValueError(
            f"selector {selector} needs a profile of {', '.join(names)}: "
            "run them without a selector first"
        )
    pick = select_weighted(mine, selector)["strategy"]
    return {n: float(n == pick) for n in names}
