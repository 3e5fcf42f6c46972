"""Our MLP training (wasm and numpy backends) against scikit-learn's MLPClassifier.

Dataset: scikit-learn's bundled ``load_digits`` (1797 8x8 digit images, 64 features,
10 classes; no download). Same split, same standardisation, same architecture
(64-128-64-10, relu, softmax), Adam, same learning rate, batch size and number of epochs
(sklearn: ``tol=0`` and ``n_iter_no_change`` larger than the epochs, so it runs exactly
``max_iter`` epochs; ``alpha=0`` since our network has no L2 penalty). Accuracy is on the
held-out 25 %, averaged over several seeds; time is the median wall time of ``fit`` /
``train`` per seed.

The script re-executes itself without ``OPENBLAS_CORETYPE`` / ``OPENBLAS_L2_SIZE`` so
numpy and scikit-learn use OpenBLAS as users run them (this machine's environment pins a
slower core type). Run:  python benchmarks/neural_vs_sklearn.py [--epochs 40] [--seeds 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import warnings

PINNED = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")

if any(k in os.environ for k in PINNED):
    env = {k: v for k, v in os.environ.items() if k not in PINNED}
    os.execve(sys.executable, [sys.executable, *sys.argv], env)

import numpy as np  # noqa: E402

from workbench.neural import Dataset, parse_spec, train  # noqa: E402


def load() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    d = load_digits()
    return d.data.astype(np.float32), d.target.astype(np.int64)


def split(X: np.ndarray, y: np.ndarray, seed: int):
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    Xa, Xb, ya, yb = train_test_split(X, y, test_size=0.25, random_state=seed, stratify=y)
    sc = StandardScaler().fit(Xa)
    return sc.transform(Xa).astype(np.float32), sc.transform(Xb).astype(np.float32), ya, yb


def spec_for(hidden: tuple[int, int], lr: float, bs: int, epochs: int, seed: int):
    return parse_spec(
        {
            "name": "digits",
            "architecture": {
                "type": "feedforward",
                "layers": [
                    {"type": "input", "size": 64},
                    {"type": "hidden", "size": hidden[0], "activation": "relu"},
                    {"type": "hidden", "size": hidden[1], "activation": "relu"},
                    {"type": "output", "size": 10, "activation": "softmax"},
                ],
            },
            "training": {
                "learning_rate": lr,
                "batch_size": bs,
                "epochs": epochs,
                "optimizer": "adam",
                "validation_split": 0.0,
                "seed": seed,
            },
        }
    )


def run_ours(backend: str, Xa, ya, Xb, yb, hidden, lr, bs, epochs, seed):
    from workbench.kernels import backend as get_backend

    spec = spec_for(hidden, lr, bs, epochs, seed)
    ds = Dataset.from_arrays(Xa, ya, spec)
    t0 = time.perf_counter()
    r = train(spec, ds, backend=backend)
    dt = time.perf_counter() - t0
    kb = get_backend(backend)
    acc = float((kb.predict(r.artifact.mlp(), Xb).argmax(axis=1) == yb).mean())
    return acc, dt


def run_sklearn(Xa, ya, Xb, yb, hidden, lr, bs, epochs, seed):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    clf = MLPClassifier(
        hidden_layer_sizes=hidden,
        activation="relu",
        solver="adam",
        alpha=0.0,
        batch_size=bs,
        learning_rate_init=lr,
        max_iter=epochs,
        tol=0.0,
        n_iter_no_change=epochs + 1,
        shuffle=True,
        random_state=seed,
    )
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(Xa, ya)
    dt = time.perf_counter() - t0
    assert clf.n_iter_ == epochs, clf.n_iter_
    return float(clf.score(Xb, yb)), dt


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--hidden", default="128,64")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    hidden = tuple(int(h) for h in a.hidden.split(","))
    X, y = load()
    res: dict[str, dict[str, list[float]]] = {
        k: {"acc": [], "time": []} for k in ("wasm", "numpy", "sklearn")
    }
    # warm-up (wasm module instantiation, imports) outside the timings
    Xa, Xb, ya, yb = split(X, y, 0)
    run_ours("wasm", Xa, ya, Xb, yb, hidden, a.lr, a.batch_size, 1, 0)
    run_sklearn(Xa, ya, Xb, yb, hidden, a.lr, a.batch_size, 1, 0)
    for seed in range(a.seeds):
        Xa, Xb, ya, yb = split(X, y, seed)
        args = (hidden, a.lr, a.batch_size, a.epochs, seed)
        for name in ("wasm", "numpy"):
            acc, dt = run_ours(name, Xa, ya, Xb, yb, *args)
            res[name]["acc"].append(acc)
            res[name]["time"].append(dt)
        acc, dt = run_sklearn(Xa, ya, Xb, yb, *args)
        res["sklearn"]["acc"].append(acc)
        res["sklearn"]["time"].append(dt)
    summary = {
        "dataset": f"sklearn load_digits: {X.shape[0]} samples, {X.shape[1]} features, "
        "10 classes, 25% held out",
        "architecture": f"64-{hidden[0]}-{hidden[1]}-10 relu/softmax, adam lr={a.lr}, "
        f"batch={a.batch_size}, epochs={a.epochs}, seeds={a.seeds}",
        "threads_env": {k: os.environ.get(k) for k in ("OPENBLAS_CORETYPE", "OMP_NUM_THREADS")},
    }
    sk_acc = statistics.mean(res["sklearn"]["acc"])
    sk_t = statistics.median(res["sklearn"]["time"])
    for name, r in res.items():
        acc, t = statistics.mean(r["acc"]), statistics.median(r["time"])
        summary[name] = {
            "held_out_accuracy_mean": round(acc, 4),
            "held_out_accuracy_per_seed": [round(v, 4) for v in r["acc"]],
            "train_time_s_median": round(t, 4),
            "accuracy_minus_sklearn_points": round(100 * (acc - sk_acc), 2),
            "speedup_vs_sklearn": round(sk_t / t, 2),
        }
    if a.json:
        print(json.dumps(summary, indent=2))
        return
    print(summary["dataset"])
    print(summary["architecture"])
    print(f"{'':10}{'accuracy':>10}{'Δ vs sk (pts)':>15}{'time (s)':>10}{'speedup':>9}")
    for name in ("wasm", "numpy", "sklearn"):
        s = summary[name]
        print(
            f"{name:10}{s['held_out_accuracy_mean']:>10.4f}"
            f"{s['accuracy_minus_sklearn_points']:>15.2f}"
            f"{s['train_time_s_median']:>10.3f}{s['speedup_vs_sklearn']:>8.2f}x"
        )


if __name__ == "__main__":
    main()
