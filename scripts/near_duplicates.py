"""Find near-duplicate texts in a hand-written data set before it is labelled or trained on.

    python scripts/near_duplicates.py sample_data/patterns/labelling/blind.jsonl
    python scripts/near_duplicates.py sample_data/neural/tickets.csv --field text
    python scripts/near_duplicates.py FILE --threshold 0.5 --show 20

Two rows count as near-duplicates when the Jaccard overlap of their character 5-gram sets
(after lower-casing, dropping punctuation and squeezing spaces) reaches the threshold, or
when their normalized texts are equal. Near-duplicates inflate held-out accuracy (the same
sentence lands on both sides of the split), so a grown data set is checked with this before
it is committed. Exit status 1 when any pair reaches the threshold.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from pathlib import Path

NGRAM = 5
THRESHOLD = 0.6


def normalize(text: str) -> str:
    """Lower case, punctuation to spaces, runs of spaces to one: wording is what counts."""
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text.lower()).split())


def char_ngrams(text: str, n: int = NGRAM) -> frozenset[str]:
    """The set of character n-grams of the normalized text (padded, so short texts have one)."""
    norm = f" {normalize(text)} "
    if len(norm) <= n:
        return frozenset({norm})
    return frozenset(norm[i : i + n] for i in range(len(norm) - n + 1))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    """|a ∩ b| / |a ∪ b| (1.0 for two empty sets)."""
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


def near_duplicates(
    texts: list[str], threshold: float = THRESHOLD, n: int = NGRAM
) -> list[tuple[float, int, int]]:
    """Every pair (similarity, i, j) with i < j whose n-gram Jaccard is >= threshold, most
    similar first. Candidate pairs come from an inverted index of n-grams, so only pairs that
    share at least one n-gram are compared."""
    grams = [char_ngrams(t, n) for t in texts]
    index: dict[str, list[int]] = {}
    for i, g in enumerate(grams):
        for gram in g:
            index.setdefault(gram, []).append(i)
    pairs: list[tuple[float, int, int]] = []
    for i, g in enumerate(grams):
        shared: dict[int, int] = {}
        for gram in g:
            for j in index[gram]:
                if j > i:
                    shared[j] = shared.get(j, 0) + 1
        for j, common in shared.items():
            union = len(g) + len(grams[j]) - common
            sim = common / union if union else 1.0
            if sim >= threshold:
                pairs.append((round(sim, 4), i, j))
    pairs.sort(key=lambda p: (-p[0], p[1], p[2]))
    return pairs


def max_similarity(texts: list[str], n: int = NGRAM) -> float:
    """The highest n-gram Jaccard between any two texts (0.0 for fewer than two)."""
    pairs = near_duplicates(texts, threshold=0.0, n=n)
    return pairs[0][0] if pairs else 0.0


def read_texts(path: Path, field: str) -> list[str]:
    """The `field` of every row of a JSONL or CSV file (one-line errors for bad rows)."""
    texts: list[str] = []
    if path.suffix == ".csv":
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            if field not in (reader.fieldnames or []):
                raise ValueError(f"{path}: no column {field!r} (columns: {reader.fieldnames})")
            texts = [row[field] for row in reader]
        return texts
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}:{lineno}: invalid JSON ({exc.msg})") from None
        if not isinstance(row, dict) or not isinstance(row.get(field), str):
            raise ValueError(f"{path}:{lineno}: needs a string field {field!r}")
        texts.append(row[field])
    return texts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "files", nargs="+", type=Path, help="JSONL or CSV files, checked as one set"
    )
    parser.add_argument("--field", default="text", help="the text field or column (default text)")
    parser.add_argument("--threshold", type=float, default=THRESHOLD)
    parser.add_argument("--show", type=int, default=10, help="how many pairs to print")
    args = parser.parse_args(argv)
    texts: list[str] = []
    try:
        for path in args.files:
            texts.extend(read_texts(path, args.field))
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    norm = [normalize(t) for t in texts]
    exact = len(norm) - len(set(norm))
    pairs = near_duplicates(texts, threshold=min(args.threshold, 0.2))
    top = f"{pairs[0][0]:.3f}" if pairs else "below 0.2"
    flagged = [p for p in pairs if p[0] >= args.threshold]
    print(
        f"{len(texts)} rows, {exact} exact duplicates after normalizing, "
        f"{len(flagged)} pairs with char-{NGRAM}-gram Jaccard >= {args.threshold}, "
        f"{sum(1 for p in pairs if p[0] >= 0.4)} pairs >= 0.4, highest pair {top}"
    )
    for sim, i, j in pairs[: args.show]:
        print(f"  {sim:.3f}  {texts[i]!r}\n         {texts[j]!r}")
    return 1 if flagged or exact else 0


if __name__ == "__main__":
    sys.exit(main())
