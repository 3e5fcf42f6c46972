"""The pattern classifier on the held-out rows: model vs keyword fallback, ECE before/after.

Seeds a fresh store, then in the same run:
  * "before": the catalog recipe trained on the whole training split (the previous recipe,
    no calibration fold), measured with the neural evaluation function on the held-out rows;
  * "after": `patterns train`: the recipe chosen by 5-fold CV on the training split (text
    feature blocks, then linear softmax vs MLP over an L2/width grid; the CV table is
    printed), trained on the training split less its calibration fold, temperature fitted
    on that fold (kept at 1 when it worsens the fold's ECE), measured the same way, with
    held-out ECE (10 bins) before/after scaling;
  * the keyword fallback's accuracy on the same held-out rows, and which one serves.
Accuracy and ECE are properties of the data and the seeded training, not of the machine.
Run:  python benchmarks/patterns_classifier.py
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from workbench.engine import Engine
from workbench.neural.catalog import get
from workbench.patterns import classifier


def main() -> None:
    root = Path(tempfile.mkdtemp(prefix="wb-bench-patterns-"))
    with Engine(root / "store.db") as engine:
        engine.ensure_seeded()
        train, held = classifier.labelled_split()
        path = root / "whole-training-split.json"
        path.write_text(json.dumps({"trainingData": train, "validationData": held}))
        entry = get(classifier.MODEL_NAME)
        before = engine.neural.train(entry.spec, path, name="bench-whole-split")
        ev_before = engine.neural.evaluate_records(
            f"bench-whole-split@{before['version']}", held, "label"
        )["metrics"]
        after = engine.patterns.train_classifier()
        ev_after = engine.neural.evaluate_records(
            f"{classifier.MODEL_NAME}@{after['version']}", held, "label"
        )["metrics"]
        serving = engine.patterns.serving()
        cal = after["calibration"]
        sel = after["selection"]
        print(f"load average {os.getloadavg()[0]:.2f}")
        print(f"CV table ({sel['folds']}-fold on {sel['rows']} training-split rows):")
        for r in sel["table"]:
            print(f"  {r['stage']:<8} {r['model']:<16} {r['features']:<46} "
                  f"{r['cv_accuracy']:.4f} ± {r['cv_std']:.4f}")  # fmt: skip
        print(f"chosen: {sel['model']} on {'+'.join(sel['features'])}\n")
        rows = [
            ("held-out rows", len(held)),
            (
                "training rows (whole split | less calibration fold)",
                f"{len(train)} | {after['train_rows']}",
            ),  # fmt: skip
            ("model accuracy, whole training split (before)", f"{ev_before['accuracy']:.4f}"),
            ("model accuracy, patterns train (after)", f"{ev_after['accuracy']:.4f}"),
            ("keyword fallback accuracy, same rows", f"{serving['fallback_accuracy']:.4f}"),
            ("serving", serving["source"]),
            ("ECE, whole-split model (uncalibrated)", f"{ev_before['ece']:.4f}"),
            ("ECE, patterns train model before scaling", f"{cal['ece_before']:.4f}"),
            ("ECE, after temperature scaling", f"{cal['ece_after']:.4f}"),
            (
                "temperature served (fitted; calibration fold rows)",
                f"{cal['temperature']:.3f} ({cal['fitted_temperature']:.3f}; {cal['fold_rows']})",
            ),  # fmt: skip
            (
                "calibration fold ECE before | after the fitted T",
                f"{cal['fold_ece_before']} | {cal['fold_ece_after']}"
                + ("" if cal["applied"] else "  -> T kept at 1 (worse on the fold)"),
            ),
        ]
        for name, value in rows:
            print(f"{name:<55} {value}")


if __name__ == "__main__":
    main()
