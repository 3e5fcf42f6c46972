"""FedAvg across stores against centralized training on the union of their data.

Dataset: scikit-learn's bundled ``load_digits`` (1797 8x8 images, 64 features, 10 classes;
no download; the `bench` extra). A stratified 25 % is a test set no one trains on; the
rest is dealt to ``--stores`` workbench stores as each store's own CSV file:

- IID: a seeded random deal, equal sizes;
- non-IID (label skew): for every class a Dirichlet(``--alpha``) share per store, so a
  store sees a few classes often and others rarely or never.

FedAvg runs `workbench.neural.federated` exactly as `workbench neural federate` does
(statistics-only featurization, each store holding out the spec's validation split,
``--rounds`` rounds of ``--local-epochs``). Centralized trains the same spec with the
ordinary `train` on the union file for rounds × local-epochs epochs (same budget of
passes over the data, also holding out the validation split). "Local only" trains each
store alone with the same budget: what a store gets without federation. All accuracies
are on the shared test set, averaged over ``--seeds`` seeds.

Run:  python benchmarks/federated.py [--stores 3] [--rounds 20] [--local-epochs 2]
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import statistics
import tempfile
from pathlib import Path

import numpy as np

from workbench.engine import Engine
from workbench.kernels import backend as get_backend
from workbench.neural import featurize, load_dataset, parse_spec, train
from workbench.neural.federated import federate, load_clients
from workbench.neural.train import evaluate

COLUMNS = [f"p{i}" for i in range(64)]


def digits():
    from sklearn.datasets import load_digits

    d = load_digits()
    return d.data.astype(np.float32), d.target.astype(np.int64)


def deal(y: np.ndarray, stores: int, skew: bool, alpha: float, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    if not skew:
        return [np.sort(part) for part in np.array_split(rng.permutation(len(y)), stores)]
    parts: list[list[int]] = [[] for _ in range(stores)]
    for label in np.unique(y):
        rows = rng.permutation(np.flatnonzero(y == label))
        shares = rng.dirichlet([alpha] * stores)
        cuts = (np.cumsum(shares)[:-1] * len(rows)).astype(int)
        for store, chunk in enumerate(np.split(rows, cuts)):
            parts[store].extend(chunk.tolist())
    return [np.sort(np.array(p, dtype=np.int64)) for p in parts]


def write_csv(path: Path, X: np.ndarray, y: np.ndarray) -> Path:
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow([*COLUMNS, "label"])
        for row, label in zip(X, y, strict=True):
            writer.writerow([*(f"{v:g}" for v in row), int(label)])
    return path


def spec_for(hidden: int, lr: float, batch: int, seed: int) -> dict:
    return {
        "name": "digits-fed",
        "architecture": {"layers": [
            {"type": "input", "size": 64},
            {"type": "hidden", "size": hidden, "activation": "relu"},
            {"type": "output", "size": 10, "activation": "softmax"},
        ]},
        "training": {"learning_rate": lr, "batch_size": batch, "epochs": 1, "optimizer": "adam",
                     "validation_split": 0.2, "seed": seed},
    }  # fmt: skip


def test_accuracy(artifact, X_test: np.ndarray, y_test: np.ndarray, backend: str) -> float:
    records = [dict(zip(COLUMNS, map(float, row), strict=True)) for row in X_test]
    X = featurize(records, artifact.feature_spec)
    index = {name: i for i, name in enumerate(artifact.feature_spec.label_names)}
    y = np.array([index[str(v)] for v in y_test], np.int32)
    _loss, acc = evaluate(get_backend(backend), artifact.mlp(), X, y, "classification")
    return float(acc)


@contextlib.contextmanager
def open_store(path: Path):
    with Engine(path) as engine, engine.guard():
        yield engine


def one_seed(a: argparse.Namespace, skew: bool, seed: int, X, y) -> dict:
    from sklearn.model_selection import train_test_split

    X_pool, X_test, y_pool, y_test = train_test_split(
        X, y, test_size=0.25, random_state=seed, stratify=y
    )
    spec = parse_spec(spec_for(a.hidden, a.lr, a.batch_size, seed))
    budget = a.rounds * a.local_epochs
    with tempfile.TemporaryDirectory(prefix="wb-fed-bench-") as tmp:
        root = Path(tmp)
        parts = deal(y_pool, a.stores, skew, a.alpha, seed)
        stores, files = [], []
        for i, rows in enumerate(parts):
            store = root / f"store{i}.db"
            Engine(store).close()
            stores.append(store)
            files.append(write_csv(root / f"store{i}.csv", X_pool[rows], y_pool[rows]))
        clients = load_clients(stores, spec, open_store, data=files)
        curve: list[float] = []
        artifact, report = federate(
            clients, spec, rounds=a.rounds, local_epochs=a.local_epochs, backend=a.backend,
            on_round=lambda r: curve.append(r["val_accuracy"]),
        )  # fmt: skip
        fed = test_accuracy(artifact, X_test, y_test, a.backend)
        union = write_csv(root / "union.csv", X_pool, y_pool)
        central = train(spec, load_dataset(union, spec), backend=a.backend, epochs=budget)
        cen = test_accuracy(central.artifact, X_test, y_test, a.backend)
        local = []
        for file in files:
            try:
                alone = train(spec, load_dataset(file, spec), backend=a.backend, epochs=budget)
            except ValueError:  # a store lacking classes cannot train the 10-way model alone
                local.append(None)
                continue
            local.append(test_accuracy(alone.artifact, X_test, y_test, a.backend))
    return {
        "fedavg": fed,
        "centralized": cen,
        "local_only": local,
        "store_sizes": [len(p) for p in parts],
        "store_classes": [len(np.unique(y_pool[p])) for p in parts],
        "held_out_curve": curve,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--stores", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--local-epochs", type=int, default=2)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--alpha", type=float, default=0.3, help="Dirichlet label-skew strength")
    ap.add_argument("--hidden", type=int, default=64)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--backend", choices=("wasm", "numpy"), default="wasm")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    X, y = digits()
    out: dict = {
        "dataset": "sklearn load_digits, 1797 x 64, 10 classes; stratified 25% test set",
        "setup": f"{a.stores} stores, 64-{a.hidden}-10 relu/softmax, adam lr={a.lr}, "
        f"batch {a.batch_size}, FedAvg {a.rounds} rounds x {a.local_epochs} local epochs vs "
        f"centralized {a.rounds * a.local_epochs} epochs, {a.seeds} seeds, backend {a.backend}",
    }
    for split, skew in (("iid", False), ("non_iid", True)):
        runs = [one_seed(a, skew, seed, X, y) for seed in range(a.seeds)]
        fed = statistics.mean(r["fedavg"] for r in runs)
        cen = statistics.mean(r["centralized"] for r in runs)
        locals_ = [v for r in runs for v in r["local_only"] if v is not None]
        curve = [round(v, 4) for v in runs[0]["held_out_curve"]]
        out[split] = {
            "fedavg_test_accuracy": round(fed, 4),
            "centralized_test_accuracy": round(cen, 4),
            "gap_centralized_minus_fedavg": round(cen - fed, 4),
            "local_only_test_accuracy_mean": round(statistics.mean(locals_), 4)
            if locals_ else None,
            "local_only_untrainable_stores": sum(v is None for r in runs for v in r["local_only"]),
            "store_sizes": [r["store_sizes"] for r in runs],
            "store_classes": [r["store_classes"] for r in runs],
            "fedavg_held_out_accuracy_by_round_seed0": curve,
        }  # fmt: skip
    if a.json:
        print(json.dumps(out, indent=2))
        return
    print(out["dataset"])
    print(out["setup"])
    print(f"{'split':<9} {'FedAvg':>8} {'central':>8} {'gap':>8} {'local only':>11}")
    for split in ("iid", "non_iid"):
        r = out[split]
        local = r["local_only_test_accuracy_mean"]
        shown = "—" if local is None else f"{local:.4f}"
        print(
            f"{split:<9} {r['fedavg_test_accuracy']:>8.4f} {r['centralized_test_accuracy']:>8.4f} "
            f"{r['gap_centralized_minus_fedavg']:>8.4f} {shown:>11}"
        )
        curve = r["fedavg_held_out_accuracy_by_round_seed0"]
        marks = sorted({0, len(curve) // 4, len(curve) // 2, len(curve) - 1})
        steps = ", ".join(f"r{i + 1} {curve[i]:.3f}" for i in marks)
        print(f"          FedAvg held-out accuracy by round (seed 0): {steps}")
        print(f"          classes per store: {r['store_classes']}")
        total = sum(len(c) for c in r["store_classes"])
        untrainable = r["local_only_untrainable_stores"]
        print(
            f"          local only: {total - untrainable} of {total} stores could train the "
            "10-class model alone (the others lack a class)"
        )


if __name__ == "__main__":
    main()
