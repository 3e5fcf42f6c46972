"""Plain helpers shared by the neural tests (importable, unlike conftest)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from workbench.neural import parse_spec

SAMPLES = Path(__file__).resolve().parents[2] / "sample_data" / "neural"


def make_spec(sizes=(4, 8, 3), out="softmax", **training):
    layers = [{"type": "input", "size": sizes[0]}]
    layers += [{"type": "hidden", "size": s, "activation": "relu"} for s in sizes[1:-1]]
    layers.append({"type": "output", "size": sizes[-1], "activation": out})
    tr = {"learning_rate": 0.02, "batch_size": 16, "epochs": 12, "seed": 7}
    tr.update(training)
    return parse_spec({"name": "tiny", "architecture": {"layers": layers}, "training": tr})


def blobs(n=240, d=4, k=3, seed=0, sep=3.0):
    """k well-separated Gaussian clusters in d dimensions."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(k, d)) * sep
    y = rng.integers(0, k, n)
    X = (centers[y] + rng.normal(size=(n, d))).astype(np.float32)
    return X, y
