"""Does a real pretrained static embedding help the text models? Held-out accuracy with and
without the model2vec embedding block, and what 5-fold CV on the training rows chooses.

Needs a model2vec model directory built from real pretrained vectors, e.g. the wordllama
wheel's (MIT) token embeddings: `python scripts/make_static_model.py WHEEL DIR`.

Two data sets, each with its fixed held-out split (the same rows the other benchmarks use):
  * patterns: the seeded store's labelled operations (held out: 1 in 5 by text hash);
    base blocks = words, chars, sublinear, IDF and the pattern keyword lexicon;
  * docstrings: the stdlib docstring families of benchmarks/text_vs_sklearn.py.
For each: (1) `selection.select` without an embedder (today's recipe); (2) with the
embedder offered, CV deciding whether the block stays (ablation on the same folds); then the
recipe chosen in (2) is trained on the whole training split both with and without the block
and measured on the held-out rows. Training never sees a held-out row. Accuracies are
properties of the data; times depend on the (shared) machine — the load is printed.

Run:  python benchmarks/text_embeddings.py --embedder /tmp/wordllama-m2v
"""

from __future__ import annotations

import argparse
import os
import sys
import sysconfig
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))


def held_out_accuracy(chosen, texts, labels, held_texts, held_labels, tf_dict) -> float:
    """Train `chosen`'s model on features `tf_dict` (fitted on the training rows), score
    the held-out rows."""
    from workbench.kernels import backend
    from workbench.neural import selection
    from workbench.neural.data import Dataset
    from workbench.neural.spec import parse_spec
    from workbench.neural.textfeatures import TextFeatures

    names = sorted(set(labels))
    recipe = dict(chosen, text_features=tf_dict)
    spec = parse_spec(selection.recipe_spec(recipe, len(names), name="bench"))
    tf = TextFeatures.from_dict(tf_dict).fit(texts)
    y = np.array([names.index(v) for v in labels], np.int32)
    from workbench.neural.train import train

    result = train(spec, Dataset.from_arrays(tf.transform(texts), y, spec, label_names=names))
    probs = backend("wasm").predict(result.artifact.mlp(), tf.transform(held_texts))
    pred = [names[i] for i in np.argmax(probs, axis=1)]
    return float(np.mean([p == g for p, g in zip(pred, held_labels, strict=True)]))


def run(name, texts, labels, held_texts, held_labels, base, spec: str) -> None:
    from workbench.neural import selection
    from workbench.neural.textfeatures import embedder_ref

    print(f"\n== {name}: train {len(texts)}, held-out {len(held_texts)}; "
          f"load {os.getloadavg()[0]:.2f}")  # fmt: skip
    t0 = time.perf_counter()
    plain = selection.select(texts, labels, base)
    t1 = time.perf_counter()
    ref = embedder_ref(spec)
    offered = selection.select(texts, labels, replace(base, embedder=ref))
    t2 = time.perf_counter()
    print(f"CV table with the embedder offered ({ref['spec']}, fingerprint {ref['fingerprint']}):")
    for r in offered["table"]:
        print(f"  {r['stage']:<8} {r['model']:<16} {r['features']:<56} "
              f"{r['cv_accuracy']:.4f} ± {r['cv_std']:.4f}")  # fmt: skip
    kept = "embedding" in offered["features"]
    data = (texts, labels, held_texts, held_labels)
    with_tf = dict(offered["text_features"], embedder=ref)
    without_tf = {k: v for k, v in offered["text_features"].items() if k != "embedder"}
    rows = [
        ("no embedder: CV choice", f"{plain['model']} on {'+'.join(plain['features'])} "
         f"(CV {plain['cv_accuracy']:.4f})"),
        ("embedder offered: CV choice", f"{offered['model']} on {'+'.join(offered['features'])} "
         f"(CV {offered['cv_accuracy']:.4f}) -> block {'KEPT' if kept else 'DROPPED'}"),
        ("held-out accuracy, no embedder (today's recipe)",
         f"{held_out_accuracy(plain, *data, plain['text_features']):.4f}"),
        ("held-out accuracy, chosen recipe + embedding block",
         f"{held_out_accuracy(offered, *data, with_tf):.4f}"),
        ("held-out accuracy, chosen recipe without it",
         f"{held_out_accuracy(offered, *data, without_tf):.4f}"),
        ("time: CV without | with embedder offered", f"{t1 - t0:.1f} s | {t2 - t1:.1f} s"),
    ]  # fmt: skip
    for k, v in rows:
        print(f"{k:<52} {v}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--embedder", required=True, metavar="DIR", help="a model2vec model dir")
    p.add_argument("--only", choices=("patterns", "docstrings"), help="one data set")
    args = p.parse_args()
    spec = f"model2vec:{args.embedder}"
    print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}")
    if args.only in (None, "patterns"):
        from workbench.engine import Engine
        from workbench.patterns import classifier

        root = Path(tempfile.mkdtemp(prefix="wb-bench-emb-"))
        with Engine(root / "store.db") as engine:
            engine.ensure_seeded()
            train, held = classifier.labelled_split()
        run("patterns (labelled operations)",
            [r["operation"] for r in train], [r["label"] for r in train],
            [r["operation"] for r in held], [r["label"] for r in held],
            classifier.text_features(), spec)  # fmt: skip
    if args.only in (None, "docstrings"):
        from text_vs_sklearn import docstrings, held_out

        from workbench.neural.textfeatures import TextFeatures

        rows = docstrings(Path(sysconfig.get_paths()["stdlib"]))
        tr = [r for r in rows if not held_out(r[0])]
        he = [r for r in rows if held_out(r[0])]
        run("docstrings (stdlib families)", [t for t, _ in tr], [g for _, g in tr],
            [t for t, _ in he], [g for _, g in he], TextFeatures(), spec)  # fmt: skip
    print(f"\nload average after {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
