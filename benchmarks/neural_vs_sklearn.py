"""Our MLP training (wasm and numpy backends) against scikit-learn's MLPClassifier.

Datasets (scikit-learn's own, no download): ``digits`` (bundled ``load_digits``: 1797 8x8
digit images, 64 features, 10 classes; the issue's bar), ``breast_cancer`` (569 rows, 30
features, 2 classes) and ``make_classification`` (10,000 generated rows, 40 features,
5 classes). Same split, same standardisation, same architecture (inputs-128-64-classes,
relu, softmax), Adam, same learning rate, batch size and number of epochs (sklearn:
``tol=0`` and ``n_iter_no_change`` larger than the epochs, so it runs exactly ``max_iter``
epochs; ``alpha=0`` since our network has no L2 penalty). Accuracy is on the held-out
25 %, averaged over several seeds; time is the median wall time of ``fit`` / ``train``
per seed. The four contenders run one after another inside each seed, so they share the
host's load. ``wasm`` is the default (a batch step on two threads when that measures
faster, epoch by epoch); ``wasm-1t`` is the same kernels held to one thread
(``WORKBENCH_TRAIN_THREADS=1``).

The script re-executes itself without ``OPENBLAS_CORETYPE`` / ``OPENBLAS_L2_SIZE`` so
numpy and scikit-learn use OpenBLAS as users run them (this machine's environment pins a
slower core type). Run:
    python benchmarks/neural_vs_sklearn.py [--epochs 40] [--seeds 5] [--datasets digits,...]
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

DATASETS = ("digits", "breast_cancer", "make_classification")


def load(name: str = "digits") -> tuple[np.ndarray, np.ndarray]:
    """(X float32, y int64) of one of DATASETS."""
    from sklearn import datasets

    if name == "make_classification":
        X, y = datasets.make_classification(
            n_samples=10_000, n_features=40, n_informative=20, n_redundant=10,
            n_classes=5, n_clusters_per_class=2, random_state=0,
        )  # fmt: skip
        return X.astype(np.float32), y.astype(np.int64)
    d = datasets.load_digits() if name == "digits" else datasets.load_breast_cancer()
    return d.data.astype(np.float32), d.target.astype(np.int64)


def split(X: np.ndarray, y: np.ndarray, seed: int):
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    Xa, Xb, ya, yb = train_test_split(X, y, test_size=0.25, random_state=seed, stratify=y)
    sc = StandardScaler().fit(Xa)
    return sc.transform(Xa).astype(np.float32), sc.transform(Xb).astype(np.float32), ya, yb


def spec_for(
    hidden: tuple[int, int], lr: float, bs: int, epochs: int, seed: int, n_in: int, n_out: int
):
    return parse_spec(
        {
            "name": "bench",
            "architecture": {
                "type": "feedforward",
                "layers": [
                    {"type": "input", "size": n_in},
                    {"type": "hidden", "size": hidden[0], "activation": "relu"},
                    {"type": "hidden", "size": hidden[1], "activation": "relu"},
                    {"type": "output", "size": n_out, "activation": "softmax"},
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

    n_out = int(max(ya.max(), yb.max())) + 1
    spec = spec_for(hidden, lr, bs, epochs, seed, Xa.shape[1], n_out)
    ds = Dataset.from_arrays(Xa, ya, spec)
    name = "wasm" if backend.startswith("wasm") else backend
    saved = os.environ.get("WORKBENCH_TRAIN_THREADS")
    if backend == "wasm-1t":
        os.environ["WORKBENCH_TRAIN_THREADS"] = "1"
    try:
        t0 = time.perf_counter()
        r = train(spec, ds, backend=name)
        dt = time.perf_counter() - t0
    finally:
        if saved is None:
            os.environ.pop("WORKBENCH_TRAIN_THREADS", None)
        else:
            os.environ["WORKBENCH_TRAIN_THREADS"] = saved
    kb = get_backend(name)
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


CONTENDERS = ("wasm", "wasm-1t", "numpy", "sklearn")


def bench(name: str, a: argparse.Namespace, hidden: tuple[int, int]) -> dict:
    X, y = load(name)
    res: dict[str, dict[str, list[float]]] = {k: {"acc": [], "time": []} for k in CONTENDERS}
    # warm-up (wasm module instantiation, imports) outside the timings
    Xa, Xb, ya, yb = split(X, y, 0)
    run_ours("wasm", Xa, ya, Xb, yb, hidden, a.lr, a.batch_size, 1, 0)
    run_sklearn(Xa, ya, Xb, yb, hidden, a.lr, a.batch_size, 1, 0)
    for seed in range(a.seeds):
        Xa, Xb, ya, yb = split(X, y, seed)
        args = (hidden, a.lr, a.batch_size, a.epochs, seed)
        for who in CONTENDERS:
            if who == "sklearn":
                acc, dt = run_sklearn(Xa, ya, Xb, yb, *args)
            else:
                acc, dt = run_ours(who, Xa, ya, Xb, yb, *args)
            res[who]["acc"].append(acc)
            res[who]["time"].append(dt)
    n_cls = int(y.max()) + 1
    summary: dict = {
        "dataset": f"sklearn {name}: {X.shape[0]} samples, {X.shape[1]} features, "
        f"{n_cls} classes, 25% held out",
        "architecture": f"{X.shape[1]}-{hidden[0]}-{hidden[1]}-{n_cls} relu/softmax, adam "
        f"lr={a.lr}, batch={a.batch_size}, epochs={a.epochs}, seeds={a.seeds}",
    }
    sk_acc = statistics.mean(res["sklearn"]["acc"])
    sk_t = statistics.median(res["sklearn"]["time"])
    for who, r in res.items():
        acc, t = statistics.mean(r["acc"]), statistics.median(r["time"])
        summary[who] = {
            "held_out_accuracy_mean": round(acc, 4),
            "held_out_accuracy_per_seed": [round(v, 4) for v in r["acc"]],
            "train_time_s_median": round(t, 4),
            "accuracy_minus_sklearn_points": round(100 * (acc - sk_acc), 2),
            "speedup_vs_sklearn": round(sk_t / t, 2),
        }
    return summary


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--hidden", default="128,64")
    ap.add_argument("--datasets", default=",".join(DATASETS))
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    hidden = tuple(int(h) for h in a.hidden.split(","))
    names = [n.strip() for n in a.datasets.split(",") if n.strip()]
    bad = [n for n in names if n not in DATASETS]
    if bad:
        ap.error(f"--datasets: unknown {', '.join(bad)} (choose from {', '.join(DATASETS)})")
    out = {
        "threads_env": {k: os.environ.get(k) for k in ("OPENBLAS_CORETYPE", "OMP_NUM_THREADS")},
        "cpus": os.cpu_count(),
        "load_before": [round(v, 2) for v in os.getloadavg()],
        "results": [bench(n, a, hidden) for n in names],  # type: ignore[arg-type]
        "load_after": [round(v, 2) for v in os.getloadavg()],
    }
    if a.json:
        print(json.dumps(out, indent=2))
        return
    print(f"load average before {out['load_before']}, after {out['load_after']}")
    for summary in out["results"]:
        print()
        print(summary["dataset"])
        print(summary["architecture"])
        print(f"{'':10}{'accuracy':>10}{'Δ vs sk (pts)':>15}{'time (s)':>10}{'speedup':>9}")
        for who in CONTENDERS:
            s = summary[who]
            print(
                f"{who:10}{s['held_out_accuracy_mean']:>10.4f}"
                f"{s['accuracy_minus_sklearn_points']:>15.2f}"
                f"{s['train_time_s_median']:>10.3f}{s['speedup_vs_sklearn']:>8.2f}x"
            )


if __name__ == "__main__":
    main()
