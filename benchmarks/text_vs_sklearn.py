"""Real text written by others: the workbench's CV-chosen text recipe vs scikit-learn's
TF-IDF + LogisticRegression, in the same run, on the same rows.

The data set is built from the running Python's standard library: the first paragraph of
every module, class and function docstring (read with `ast`, nothing imported) in five
module families — email, xml, asyncio, unittest, http+urllib — labelled by family.
Held out: one text in five by a hash of the text. The workbench side chooses features and
model by 5-fold CV on the training rows only (`neural/selection.py`), trains the chosen
recipe on all training rows with the project's kernels and predicts the held-out rows;
the peer is `TfidfVectorizer(sublinear_tf=True)` + `LogisticRegression(max_iter=2000)`
fitted on the same training rows. Accuracies are properties of the data; times are
machine-dependent (the machine is shared: note the load average printed).

Run:  python benchmarks/text_vs_sklearn.py
"""

from __future__ import annotations

import ast
import hashlib
import os
import sysconfig
import time
from pathlib import Path

import numpy as np

FAMILIES = {
    "email": ["email"],
    "xml": ["xml"],
    "asyncio": ["asyncio"],
    "unittest": ["unittest"],
    "http": ["http", "urllib"],
}
MIN_WORDS = 4
MAX_CHARS = 400


def first_paragraph(doc: str) -> str:
    para = doc.strip().split("\n\n")[0]
    return " ".join(para.split())[:MAX_CHARS]


def docstrings(root: Path) -> list[tuple[str, str]]:
    """(text, family) pairs, deduplicated, in a deterministic order."""
    seen: set[str] = set()
    rows = []
    for family, packages in FAMILIES.items():
        for package in packages:
            for path in sorted((root / package).rglob("*.py")):
                if "test" in path.parts[-2:] and family != "unittest":
                    continue
                try:
                    tree = ast.parse(path.read_text(encoding="utf-8"))
                except (SyntaxError, UnicodeDecodeError):
                    continue
                nodes = [tree] + [
                    n
                    for n in ast.walk(tree)
                    if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
                ]
                for node in nodes:
                    doc = ast.get_docstring(node)
                    if not doc:
                        continue
                    text = first_paragraph(doc)
                    if len(text.split()) < MIN_WORDS or text.lower() in seen:
                        continue
                    seen.add(text.lower())
                    rows.append((text, family))
    return rows


def held_out(text: str) -> bool:
    digest = hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "little") % 5 == 0


def main() -> None:
    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        os.environ.pop(var, None)  # the numpy/scikit-learn peer runs as users run it
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    from workbench.kernels import backend
    from workbench.neural import selection
    from workbench.neural.data import Dataset
    from workbench.neural.spec import parse_spec
    from workbench.neural.textfeatures import TextFeatures
    from workbench.neural.train import train

    rows = docstrings(Path(sysconfig.get_paths()["stdlib"]))
    train_rows = [r for r in rows if not held_out(r[0])]
    held_rows = [r for r in rows if held_out(r[0])]
    names = sorted(FAMILIES)
    counts = {f: sum(1 for _, g in rows if g == f) for f in names}
    print(f"rows {len(rows)} (train {len(train_rows)}, held-out {len(held_rows)}): {counts}")
    print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}")
    texts = [t for t, _ in train_rows]
    labels = [g for _, g in train_rows]
    held_texts = [t for t, _ in held_rows]
    y_held = np.array([names.index(g) for _, g in held_rows])

    t0 = time.perf_counter()
    vec = TfidfVectorizer(sublinear_tf=True)
    clf = LogisticRegression(max_iter=2000)
    clf.fit(vec.fit_transform(texts), labels)
    sk_pred = clf.predict(vec.transform(held_texts))
    sk_time = time.perf_counter() - t0
    sk_acc = float(np.mean([p == g for p, (_, g) in zip(sk_pred, held_rows, strict=True)]))

    t0 = time.perf_counter()
    chosen = selection.select(texts, labels, TextFeatures())
    cv_time = time.perf_counter() - t0
    t1 = time.perf_counter()
    spec = parse_spec(selection.recipe_spec(chosen, len(names), name="docstrings"))
    tf = TextFeatures.from_dict(chosen["text_features"]).fit(texts)
    y = np.array([names.index(g) for g in labels], np.int32)
    result = train(spec, Dataset.from_arrays(tf.transform(texts), y, spec, label_names=names))
    probs = backend("wasm").predict(result.artifact.mlp(), tf.transform(held_texts))
    fit_time = time.perf_counter() - t1
    wb_acc = float(np.mean(np.argmax(probs, axis=1) == y_held))

    print("\nCV table (5-fold on the training rows):")
    for r in chosen["table"]:
        print(f"  {r['stage']:<8} {r['model']:<16} {r['features']:<38} "
              f"{r['cv_accuracy']:.4f} ± {r['cv_std']:.4f}")  # fmt: skip
    print(f"\nchosen: {chosen['model']} on {'+'.join(chosen['features'])}")
    print(f"{'held-out accuracy, workbench (CV-chosen recipe)':<52} {wb_acc:.4f}")
    print(f"{'held-out accuracy, scikit-learn TF-IDF + LogReg':<52} {sk_acc:.4f}")
    print(f"{'difference (workbench - scikit-learn)':<52} {wb_acc - sk_acc:+.4f}")
    print(f"{'time: workbench CV selection':<52} {cv_time:.2f} s")
    print(f"{'time: workbench final fit + predict':<52} {fit_time:.2f} s")
    print(f"{'time: scikit-learn fit + predict':<52} {sk_time:.2f} s")
    print(f"load average after {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
