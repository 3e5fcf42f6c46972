"""The catalog's trainable text models: previous recipe vs the CV-chosen one, same rows.

Seeds a fresh store; for every catalog model over hand-written labelled text
(sample_data/neural CSVs and the labelled operations) it trains, in the same run:
  * "before": the entry's preset recipe (hashed words, one MLP, early stopping) on the
    whole record set, which holds out its seeded 20% split by itself;
  * "after": `neural train --catalog` — features and model chosen by 5-fold CV on the
    training part of that same split, trained there, measured on the same held-out rows;
and prints both held-out accuracies, the majority-class rate of those rows, the chosen
recipe and the medians. Accuracies are properties of the data, not of the machine.
Run:  python benchmarks/catalog_text.py [--embedder DIR]
(`--embedder`: a model2vec directory, e.g. from scripts/make_static_model.py, offered to
the "after" recipe's CV as one more feature block; the CV keeps it only where it helps.)
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
from collections import Counter
from pathlib import Path

from workbench.engine import Engine
from workbench.neural import catalog as cat


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--embedder", help="a model2vec directory offered to the CV recipe")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="wb-bench-catalog-text-"))
    print(f"load average {os.getloadavg()[0]:.2f}")
    before, after = [], []
    with Engine(root / "store.db") as engine:
        engine.ensure_seeded()
        print(f"{'model':<22} {'held':>4} {'majority':>8} {'before':>7} {'after':>7}  recipe")
        for entry in cat.ENTRIES:
            if not cat.is_text_model(entry):
                continue
            records = cat.build_records(entry)
            _train, held = cat.held_out_split(records, entry.spec)
            majority = Counter(r["label"] for r in held).most_common(1)[0][1] / len(held)
            path, _n = cat.build_training_file(entry, root / "old")
            spec, _dropped = cat.fitted_spec(entry, records)
            old = engine.neural.train(spec, path, name=f"old-{entry.name}")
            new = engine.neural.train_catalog(entry.name, embedder=args.embedder)
            assert new["held_out_rows"] == len(held)
            before.append(old["val_accuracy"])
            after.append(new["val_accuracy"])
            sel = new["selection"]
            print(
                f"{entry.name:<22} {len(held):>4} {majority:>8.3f} {old['val_accuracy']:>7.3f} "
                f"{new['val_accuracy']:>7.3f}  {sel['model']} on {'+'.join(sel['features'])} "
                f"(CV {sel['cv_accuracy']:.3f})"
            )
    print(f"{'median':<22} {'':>4} {'':>8} {statistics.median(before):>7.3f} "
          f"{statistics.median(after):>7.3f}")  # fmt: skip
    print(f"load average after {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
