"""Blind labelling of the catalog's text sets, and the rows two passes agree on.

    python scripts/labels_agreement.py blind      # (re)build labelling/blind.jsonl + author.jsonl

The catalog's hand-written sets (sample_data/neural: tickets, engineering_tasks,
sparc_phases, cicd_failures) get the treatment the pattern operations got: every row of
the four sets goes, shuffled with a fixed seed and without its label, into one blind file
({"id", "set", "text"}; ids unique over all sets); the author's labels go into a separate
file ({"id", "pattern"}: the class is written under "pattern", as in the patterns'
labelling files, so both use one format).
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from workbench.fsutil import atomic_write  # noqa: E402
from workbench.neural.catalog import CICD_CAUSES, DOMAINS, SPARC_PHASES  # noqa: E402

NEURAL = REPO / "sample_data" / "neural"
LABELLING = NEURAL / "labelling"
SEED = 20261204

#: set name -> (CSV file, text column, classes in the guide's order)
SETS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "tickets": ("tickets.csv", "title", ("bug", "feature", "question")),
    "engineering_tasks": ("engineering_tasks.csv", "task", DOMAINS),
    "sparc_phases": ("sparc_phases.csv", "statement", SPARC_PHASES),
    "cicd_failures": ("cicd_failures.csv", "failure", CICD_CAUSES),
}


def read_set(name: str, folder: Path = NEURAL) -> tuple[list[str], list[dict[str, str]]]:
    """(columns, rows) of one set's CSV, as written (every column kept)."""
    file = SETS[name][0]
    with (folder / file).open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames or []), list(reader)


def build_blind(
    folder: Path = NEURAL, seed: int = SEED
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(blind, author): every row of every set in one seeded shuffle, ids 1..n in that
    order; the blind rows carry the set and text only, the author rows the label."""
    items = []
    for name, (_, column, _) in SETS.items():
        for row in read_set(name, folder)[1]:
            items.append((name, row[column], row["label"]))
    random.Random(seed).shuffle(items)
    blind = [{"id": i, "set": s, "text": t} for i, (s, t, _) in enumerate(items, 1)]
    author = [{"id": i, "pattern": lab} for i, (_, _, lab) in enumerate(items, 1)]
    return blind, author


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    """One JSON object a line, written atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(path, "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("blind", help="write labelling/blind.jsonl and labelling/author.jsonl")
    args = parser.parse_args(argv)
    if args.command == "blind":
        blind, author = build_blind()
        write_jsonl(LABELLING / "blind.jsonl", blind)
        write_jsonl(LABELLING / "author.jsonl", author)
        print(f"{len(blind)} rows from {len(SETS)} sets written to {LABELLING}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
