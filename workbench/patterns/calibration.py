"""Temperature scaling for the pattern classifier's confidence.

A small network trained on a few hundred rows is over-confident: it says 0.95 where it is
right half the time. One temperature T, fitted by minimising log loss on a calibration fold
of the training split that the model did not train on (never the held-out rows), divides
the log-probabilities: p_T ∝ p^(1/T). The ranking, so the predicted pattern and the
accuracy, does not change; only the confidence does. ECE before/after comes from the
neural evaluation function's metrics (10 equal-width bins).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from workbench.neural.evaluate import classification_metrics, log_loss

T_MIN, T_MAX = 0.05, 20.0
GRID = 241  # log-spaced candidates, then one golden-section refinement around the best


def scale(probs: np.ndarray, temperature: float) -> np.ndarray:
    """Probabilities at temperature T (rows renormalised); T=1 returns them unchanged."""
    p = np.asarray(probs, np.float64)
    if temperature == 1.0:
        return p
    logp = np.log(np.clip(p, 1e-15, 1.0)) / temperature
    logp -= logp.max(axis=1, keepdims=True)
    e = np.exp(logp)
    return e / e.sum(axis=1, keepdims=True)


def fit_temperature(probs: np.ndarray, y: np.ndarray) -> float:
    """The T in [T_MIN, T_MAX] with the lowest log loss on (probs, y): a log-spaced grid,
    then golden-section search between the best point's neighbours (deterministic)."""
    p = np.asarray(probs, np.float64)
    y = np.asarray(y, np.int64)
    if p.ndim != 2 or p.shape[0] == 0 or p.shape[0] != y.shape[0]:
        raise ValueError("calibration: needs at least one row with a label")
    grid = np.geomspace(T_MIN, T_MAX, GRID)
    losses = [log_loss(scale(p, t), y) for t in grid]
    i = int(np.argmin(losses))
    lo, hi = np.log(grid[max(0, i - 1)]), np.log(grid[min(GRID - 1, i + 1)])
    g = (np.sqrt(5) - 1) / 2
    for _ in range(40):
        a, b = hi - g * (hi - lo), lo + g * (hi - lo)
        if log_loss(scale(p, np.exp(a)), y) <= log_loss(scale(p, np.exp(b)), y):
            hi = b
        else:
            lo = a
    return round(float(np.exp((lo + hi) / 2)), 6)


def probability_matrix(predictions: Sequence[dict[str, Any]], names: Sequence[str]) -> np.ndarray:
    """Rows of `probabilities` dicts (as predict returns them) in `names` order."""
    return np.array([[p["probabilities"][n] for n in names] for p in predictions], np.float64)


def ece_before_after(
    probs: np.ndarray, y: np.ndarray, names: Sequence[str], temperature: float
) -> tuple[float | None, float | None]:
    """ECE (10 bins) of raw and temperature-scaled probabilities on the same rows."""
    before = classification_metrics(probs, y, names)["ece"]
    after = classification_metrics(scale(probs, temperature), y, names)["ece"]
    return before, after


def fit_or_keep(
    probs: np.ndarray, y: np.ndarray, names: Sequence[str]
) -> tuple[float, bool, float | None, float | None]:
    """Fit T on the calibration fold and check it there: (fitted T, applied, fold ECE
    before, fold ECE after). `applied` is False when the fitted T makes the fold's ECE
    worse; the caller then keeps T=1 and says so."""
    fitted = fit_temperature(probs, y)
    before, after = ece_before_after(probs, y, names, fitted)
    applied = before is None or after is None or after <= before
    rnd = lambda v: None if v is None else round(float(v), 4)  # noqa: E731
    return fitted, applied, rnd(before), rnd(after)
