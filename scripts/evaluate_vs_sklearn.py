"""`neural evaluate` next to scikit-learn on the same held-out rows of a catalog model.

Trains the catalog model in a throwaway store (seeded from sample_data/), writes the rows
its training held out to a JSON file, runs `workbench neural evaluate` on that file, and
computes scikit-learn's classification_report, confusion_matrix, accuracy and log_loss
from `neural predict` on the same rows. Needs the `bench` extra (scikit-learn).

    python scripts/evaluate_vs_sklearn.py [--model cicd-engineer] [--epochs N]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from sklearn.metrics import accuracy_score, classification_report, confusion_matrix, log_loss

from workbench.engine import Engine
from workbench.neural import catalog as cat
from workbench.neural import parse_spec


def held_out(records: list[dict], spec: dict) -> list[dict]:
    """The rows training held out (train.split_validation's seeded permutation)."""
    t = parse_spec(spec).training
    n = len(records)
    perm = np.random.default_rng([t.seed, 1]).permutation(n)
    n_val = min(n - 1, max(1, round(n * t.validation_split)))
    return [records[i] for i in sorted(perm[:n_val])]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="cicd-engineer")
    ap.add_argument("--epochs", type=int, default=None)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "store.db"
        with Engine(db) as engine:
            engine.seed()
            summary = engine.neural.train_catalog(args.model, epochs=args.epochs)
            entry = cat.get(args.model)
            path, _n = cat.build_training_file(entry, Path(tmp))
            records = json.loads(path.read_text())["trainingData"]
            rows = held_out(records, entry.spec)
            data = Path(tmp) / "held_out.json"
            data.write_text(json.dumps(rows))
            ref = f"{args.model}@{summary['version']}"
            preds = engine.neural.predict(ref, str(data))
        cmd = [sys.executable, "-m", "workbench", "neural", "evaluate", ref, "--data", str(data)]
        ev = json.loads(subprocess.run([*cmd, "--db", str(db), "--json"], check=True,
                                       capture_output=True, text=True).stdout)  # fmt: skip
        print(f"$ workbench neural evaluate {ref} --data held_out.json   "
              f"({len(rows)} held-out rows of {len(records)})\n")  # fmt: skip
        subprocess.run([*cmd, "--db", str(db)], check=True)
    labels = ev["labels"]
    y_true = [str(r["label"]) for r in rows]
    y_pred = [str(p["prediction"]) for p in preds]
    proba = np.array([[p["probabilities"][n] for n in labels] for p in preds])
    print("\n$ scikit-learn on the same rows (from `neural predict`)\n")
    print(classification_report(y_true, y_pred, labels=labels, digits=4, zero_division=0))
    print("confusion_matrix:", confusion_matrix(y_true, y_pred, labels=labels).tolist())
    print(f"accuracy_score:   {accuracy_score(y_true, y_pred):.4f}")
    print(f"log_loss:         {log_loss(y_true, proba, labels=labels):.4f}")
    m = ev["metrics"]
    print(f"\nneural evaluate:  accuracy {m['accuracy']:.4f}  log loss {m['log_loss']:.4f}  "
          f"ECE {m['ece']:.4f}  confusion {m['confusion']}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
