"""How learnable the hand-written text sets are, measured with a reference learner.

For each labelled text set in sample_data (the pattern operations and the catalog's
CSVs) this prints the 5-fold stratified cross-validated accuracy of scikit-learn's
TF-IDF (word 1-2-grams + character 3-5-grams, sublinear TF) + logistic regression, beside
the majority-class rate, for the files as they are and (with --before REV) as they were at
a git revision, in the same run. It measures the data, not the workbench recipe: a set the
reference learner cannot separate will not be separated by a small MLP either, and a set
it separates well shows how much room the recipe has. Accuracy does not depend on the
machine (no timings here).

    python benchmarks/sample_sets_reference.py --before 3f94de7
    python benchmarks/sample_sets_reference.py --candidates   # the 1,356 blind rows, author labels

Needs the bench extra (scikit-learn).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import statistics
import subprocess
import sys
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SETS = [  # name, path, text column (None: JSONL operations), label column
    ("pattern operations", "sample_data/patterns/operations.jsonl", None),
    ("sparc phases", "sample_data/neural/sparc_phases.csv", "statement"),
    ("engineering tasks", "sample_data/neural/engineering_tasks.csv", "task"),
    ("ci/cd failures", "sample_data/neural/cicd_failures.csv", "failure"),
    ("tickets (title only)", "sample_data/neural/tickets.csv", "title"),
]


def read_text(path: str, rev: str | None) -> str:
    if rev is None:
        return (REPO / path).read_text(encoding="utf-8")
    return subprocess.run(
        ["git", "show", f"{rev}:{path}"], cwd=REPO, check=True, capture_output=True, text=True
    ).stdout


def load(path: str, column: str | None, rev: str | None) -> tuple[list[str], list[str]]:
    raw = read_text(path, rev)
    if column is None:
        rows = [json.loads(line) for line in raw.splitlines() if line.strip()]
        return [r["text"] for r in rows], [r["pattern"] for r in rows]
    rows = list(csv.DictReader(io.StringIO(raw)))
    return [r[column] for r in rows], [r["label"] for r in rows]


def candidates() -> tuple[list[str], list[str]]:
    base = REPO / "sample_data" / "patterns" / "labelling"
    texts = {
        r["id"]: r["text"] for r in map(json.loads, (base / "blind.jsonl").read_text().splitlines())
    }
    labels = {
        r["id"]: r["pattern"]
        for r in map(json.loads, (base / "author.jsonl").read_text().splitlines())
    }
    ids = sorted(texts)
    return [texts[i] for i in ids], [labels[i] for i in ids]


def cv_accuracy(texts: list[str], labels: list[str], folds: int = 5) -> tuple[float, float]:
    """Mean and standard deviation of stratified k-fold accuracy (fixed shuffle seed)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline, make_union

    features = make_union(
        TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1),
        TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, min_df=2),
    )
    model = make_pipeline(features, LogisticRegression(C=10.0, max_iter=2000))
    smallest = min(Counter(labels).values())
    k = max(2, min(folds, smallest))
    scores = cross_val_score(
        model, texts, labels, cv=StratifiedKFold(k, shuffle=True, random_state=0)
    )
    return float(statistics.mean(scores)), float(statistics.pstdev(scores))


def row(name: str, which: str, texts: list[str], labels: list[str]) -> str:
    counts = Counter(labels)
    majority = max(counts.values()) / len(labels)
    mean, sd = cv_accuracy(texts, labels)
    per = min(counts.values())
    return (
        f"| {name} | {which} | {len(texts)} | {len(counts)} | {per} | "
        f"{majority:.3f} | {mean:.3f} ± {sd:.3f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", help="also measure the files at this git revision")
    parser.add_argument(
        "--candidates", action="store_true", help="also the blind candidates, author labels"
    )
    args = parser.parse_args()
    print("| set | files | rows | classes | smallest class | majority rate | 5-fold CV accuracy |")
    print("|---|---|---|---|---|---|---|")
    for name, path, column in SETS:
        if args.before:
            try:
                texts, labels = load(path, column, args.before)
                print(row(name, f"at {args.before}", texts, labels))
            except subprocess.CalledProcessError:
                print(f"| {name} | at {args.before} | (file absent) | | | | |")
        texts, labels = load(path, column, None)
        print(row(name, "now", texts, labels))
    if args.candidates:
        texts, labels = candidates()
        print(row("pattern candidates", "blind + author labels", texts, labels))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
