"""The trainable catalog trained one model after another vs in parallel worker processes.

Both runs start from copies of one freshly seeded store, in the same invocation, and train
the same models with the same seeds (the results are checked equal). Run:
    python benchmarks/catalog_parallel.py [--workers 2] [--epochs N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

from workbench.engine import Engine


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=None, help="default: each recipe's own")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="wb-bench-catalog-"))
    seed = root / "seed.db"
    with Engine(seed) as engine:
        engine.ensure_seeded()
        names = [e["name"] for e in engine.neural.catalog() if e["trainable"]]
    shutil.copy(seed, root / "serial.db")
    shutil.copy(seed, root / "parallel.db")

    with Engine(root / "serial.db") as engine:
        start = time.perf_counter()
        serial = [engine.neural.train_catalog(n, epochs=args.epochs) for n in names]
        serial_s = time.perf_counter() - start
    with Engine(root / "parallel.db") as engine:
        start = time.perf_counter()
        parallel = engine.train_catalog_models(names, workers=args.workers, epochs=args.epochs)
        parallel_s = time.perf_counter() - start
    same = all(
        a["val_accuracy"] == b["val_accuracy"] and a["epochs_run"] == b["epochs_run"]
        for a, b in zip(serial, parallel, strict=True)
    )
    print(f"{len(names)} trainable catalog models, {os.cpu_count()} cores, "
          f"load {os.getloadavg()[0]:.1f}")  # fmt: skip
    print(f"serial (one process)      {serial_s:7.2f} s")
    print(f"parallel ({args.workers} workers)    {parallel_s:7.2f} s   "
          f"{serial_s / parallel_s:.2f}x")  # fmt: skip
    print(f"same held-out accuracies and epochs: {same}")
    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
