"""Blind labelling of the catalog's text sets, and the rows two passes agree on.

    python scripts/labels_agreement.py blind      # (re)build labelling/blind.jsonl + author.jsonl
    python scripts/labels_agreement.py agree \\
        sample_data/neural/labelling/pass1.jsonl sample_data/neural/labelling/pass2.jsonl \\
        --author sample_data/neural/labelling/author.jsonl \\
        --disagreements sample_data/neural/labelling/disagreements.jsonl \\
        --guide sample_data/neural/GUIDE.md --write

The catalog's hand-written sets (sample_data/neural: tickets, engineering_tasks,
sparc_phases, cicd_failures) get the treatment the pattern operations got: every row of
the four sets goes, shuffled with a fixed seed and without its label, into one blind file
({"id", "set", "text"}; ids unique over all sets); the author's labels go into a separate
file ({"id", "pattern"}: the class is written under "pattern", as in the patterns'
labelling files, so both use one format).

`agree` reads two or more independent passes over the blind file and prints, per set (the
classes differ per set) and overall, Cohen's kappa between the passes and of each pass
against the author, and the confusion between the passes. With `--write` it rewrites each
CSV keeping only the rows every pass labelled the same, with that label (the author's label
never overrides the passes: it is reported, not used), in the file's row order and with its
columns (tickets' numeric columns recomputed by ticket_columns.py); `--balance` then drops
rows from the end of the larger classes until every class of a set has as many rows as its
smallest. `--disagreements`, `--report` and `--guide` write the split rows, the figures as
JSON, and the agreement section of the guide (between its AGREEMENT RESULTS markers).

Bad input (a missing file, a line that is not an object with an integer id and a class of
that row's set, an id given twice, an id not in the blind file, a CSV row that is not in
the blind file) stops with one line on stderr and exit status 2; nothing is written then.
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import sys
from collections import Counter
from itertools import combinations
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from scripts import agreement, ticket_columns  # noqa: E402
from scripts.agreement import END, START, LabelError, write_jsonl  # noqa: E402
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


def read_blind_sets(path: Path) -> tuple[dict[int, str], dict[int, str]]:
    """(id -> text, id -> set) of the blind file; every set must be one of SETS."""
    texts = agreement.read_blind(path)
    sets = agreement.read_blind(path, "set")
    for rid, name in sets.items():
        if name not in SETS:
            raise LabelError(f"{path}: id {rid} has set {name!r}, not one of {', '.join(SETS)}")
    return texts, sets


def read_pass(path: Path, sets: dict[int, str]) -> dict[int, str]:
    """id -> class of one pass; each class must belong to that row's set."""
    return agreement.read_labels(path, lambda rid: SETS[sets[rid]][2], set(sets))


def _set_stats(
    name: str,
    ids: set[int],
    texts: dict[int, str],
    passes: dict[str, dict[int, str]],
    author: dict[int, str] | None,
) -> dict[str, Any]:
    classes = SETS[name][2]
    names = list(passes)
    sub = {i: texts[i] for i in ids}
    agreed, split = agreement.merge(sub, [passes[n] for n in names])
    out: dict[str, Any] = {
        "rows": len(ids),
        "classes": list(classes),
        "pairs": {
            f"{x} vs {y}": agreement.pair_stats(passes[x], passes[y], classes, ids)
            for x, y in combinations(names, 2)
        },
        "agreed": len(agreed),
        "disagreed": len(split),
        "agreed_per_class": {c: sum(1 for r in agreed if r["pattern"] == c) for c in classes},
    }
    if author is not None:
        out["vs_author"] = {n: agreement.pair_stats(passes[n], author, classes, ids) for n in names}
        kept = {i: passes[names[0]][i] for i in ids if i not in {d["id"] for d in split}}
        out["agreed_but_not_author"] = sum(1 for i, lab in kept.items() if author.get(i) != lab)
    return out


def _qualified(labels: dict[int, str], sets: dict[int, str]) -> dict[int, str]:
    return {i: f"{sets[i]}:{lab}" for i, lab in labels.items()}


def report(
    texts: dict[int, str],
    sets: dict[int, str],
    passes: dict[str, dict[int, str]],
    author: dict[int, str] | None = None,
) -> dict[str, Any]:
    """All the figures: per set (its own classes) and overall (labels qualified by their
    set, so "architecture" of the tasks and of SPARC stay apart), each pair of passes and
    each pass against the author."""
    names = list(passes)
    out: dict[str, Any] = {
        "rows": len(texts),
        "passes": {n: len(passes[n]) for n in names},
        "sets": {
            name: _set_stats(name, {i for i, s in sets.items() if s == name}, texts, passes, author)
            for name in SETS
            if name in sets.values()
        },
    }
    q = {n: _qualified(p, sets) for n, p in passes.items()}
    every = sorted({f"{s}:{c}" for s, (_, _, cs) in SETS.items() for c in cs})
    overall: dict[str, Any] = {
        "pairs": {
            f"{x} vs {y}": _no_confusion(agreement.pair_stats(q[x], q[y], every))
            for x, y in combinations(names, 2)
        }
    }
    if author is not None:
        qa = _qualified(author, sets)
        overall["vs_author"] = {
            n: _no_confusion(agreement.pair_stats(q[n], qa, every)) for n in names
        }
    overall["agreed"] = sum(st["agreed"] for st in out["sets"].values())
    overall["disagreed"] = sum(st["disagreed"] for st in out["sets"].values())
    out["overall"] = overall
    return out


def _no_confusion(stats: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in stats.items() if k != "confusion"}


def format_report(rep: dict[str, Any]) -> str:
    """The report as plain text: overall kappa lines, then per set kappa and confusion."""
    ov = rep["overall"]
    lines = [f"{rep['rows']} rows; labels per pass: {rep['passes']}"]
    for name, st in {**ov["pairs"], **_suffix(ov.get("vs_author", {}))}.items():
        lines.append(f"overall {name}: kappa {st['kappa']}, raw agreement {st['agreement']}")
    lines.append(f"all passes agree on {ov['agreed']} rows, disagree on {ov['disagreed']}")
    for set_name, st in rep["sets"].items():
        lines.append(f"{set_name} ({st['rows']} rows):")
        for name, ps in {**st["pairs"], **_suffix(st.get("vs_author", {}))}.items():
            lines.append(f"  {name}: kappa {ps['kappa']}, raw agreement {ps['agreement']}")
        lines.append(
            f"  agreed {st['agreed']}, disagreed {st['disagreed']}; "
            f"agreed per class: {st['agreed_per_class']}"
        )
        if "agreed_but_not_author" in st:
            lines.append(f"  agreed rows whose label differs from the author's: "
                         f"{st['agreed_but_not_author']}")  # fmt: skip
        for name, ps in st["pairs"].items():
            if not ps["confusion"]:
                continue
            cs = st["classes"]
            lines.append(f"  confusion {name} (rows: first pass, columns: second pass)")
            lines.append("    " + " " * 15 + "".join(f"{c[:6]:>7}" for c in cs))
            for c in cs:
                lines.append(f"    {c:<15}" + "".join(f"{ps['confusion'][c][d]:>7}" for d in cs))
    return "\n".join(lines)


def _suffix(vs_author: dict[str, Any]) -> dict[str, Any]:
    return {f"{n} vs author": st for n, st in vs_author.items()}


def markdown_report(
    rep: dict[str, Any],
    disagreements: list[dict[str, Any]],
    kept: dict[str, dict[str, int]] | None = None,
) -> str:
    """The figures as the Markdown block between the guide's markers: kappa per set and
    overall, the confusion per set, the rows kept, and every split row with its text."""
    names = list(rep["passes"])
    pair_names = [f"{x} vs {y}" for x, y in combinations(names, 2)]
    heads = pair_names + [f"{n} vs author" for n in names if "vs_author" in rep["overall"]]
    lines = [START, "", "Cohen's kappa (raw agreement in brackets):", ""]
    lines.append("| set | rows | " + " | ".join(heads) + " |")
    lines.append("|---" * (len(heads) + 2) + "|")

    def cells(block: dict[str, Any]) -> str:
        stats = {**block["pairs"], **_suffix(block.get("vs_author", {}))}
        return " | ".join(f"{stats[h]['kappa']} ({stats[h]['agreement']})" for h in heads)

    for set_name, st in rep["sets"].items():
        lines.append(f"| {set_name} | {st['rows']} | {cells(st)} |")
    lines.append(f"| all four (class qualified by set) | {rep['rows']} | {cells(rep['overall'])} |")
    lines += ["", "Rows kept in each CSV (the passes agree) and dropped:", ""]
    lines.append(
        "| set | agreed | split (dropped) | agreed but not the author's label | kept per class |"
    )
    lines.append("|---|---|---|---|---|")
    for set_name, st in rep["sets"].items():
        per = kept[set_name] if kept else st["agreed_per_class"]
        per_text = ", ".join(f"{c} {n}" for c, n in per.items())
        lines.append(
            f"| {set_name} | {st['agreed']} | {st['disagreed']} | "
            f"{st.get('agreed_but_not_author', '-')} | {per_text} |"
        )
    for set_name, st in rep["sets"].items():
        for name, ps in st["pairs"].items():
            if not ps["confusion"]:
                continue
            cs = st["classes"]
            lines += ["", f"Confusion, {set_name}, {name} (rows: first pass, columns: second):", ""]
            lines.append("| | " + " | ".join(cs) + " |")
            lines.append("|---" * (len(cs) + 1) + "|")
            for c in cs:
                lines.append(
                    f"| {c} | " + " | ".join(str(ps["confusion"][c][d]) for d in cs) + " |"
                )
    if disagreements:
        lines += ["", "Rows the passes split on (dropped from the CSVs):", ""]
        lines.append("| set | text | " + " | ".join(names) + " | author |")
        lines.append("|---" * (len(names) + 3) + "|")
        for d in disagreements:
            text = d["text"].replace("|", "\\|")
            given = " | ".join(str(x) for x in d["labels"])
            lines.append(f"| {d['set']} | {text} | {given} | {d.get('author', '-')} |")
    lines += ["", END]
    return "\n".join(lines)


def relabelled_sets(
    texts: dict[int, str],
    sets: dict[int, str],
    agreed: dict[int, str],
    folder: Path = NEURAL,
    balance: bool = False,
) -> dict[str, tuple[list[str], list[dict[str, str]]]]:
    """set -> (columns, rows) to write: the CSV's rows in their order, only those whose id
    every pass agreed on, with the agreed label. Every CSV row must be in the blind file (else
    the blind file is stale); blind rows no longer in the CSV (dropped by an earlier run)
    stay out, so a second run changes nothing. With ``balance``, rows are
    dropped from the end of the larger classes down to the smallest class present."""
    out = {}
    for name, (file, column, _) in SETS.items():
        ids = {texts[i]: i for i, s in sets.items() if s == name}
        if not ids:
            continue
        columns, rows = read_set(name, folder)
        for row in rows:
            if row[column] not in ids:
                raise LabelError(
                    f"{file}: {row[column]!r} is not in the blind file (rebuild it with `blind`)"
                )
        kept = [{**r, "label": agreed[ids[r[column]]]} for r in rows if ids[r[column]] in agreed]
        if name == "tickets":
            kept = ticket_columns.recompute(kept)
        if balance and kept:
            counts = Counter(r["label"] for r in kept)
            floor = min(counts.values())
            seen: Counter[str] = Counter()
            keep = []
            for r in kept:
                seen[r["label"]] += 1
                if seen[r["label"]] <= floor:
                    keep.append(r)
            kept = keep
        out[name] = (columns, kept)
    return out


def render_csv(columns: list[str], rows: list[dict[str, str]]) -> str:
    """The CSV text as the sets are written (header, \\n line ends, minimal quoting)."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("blind", help="write labelling/blind.jsonl and labelling/author.jsonl")
    ag = sub.add_parser("agree", help="kappa per set, and the rows the passes agree on")
    ag.add_argument("passes", nargs="+", type=Path, help="two or more label files")
    ag.add_argument("--blind", type=Path, default=LABELLING / "blind.jsonl")
    ag.add_argument("--author", type=Path, help="the author's labels, reported only")
    ag.add_argument("--folder", type=Path, default=NEURAL, help="where the CSVs are")
    ag.add_argument("--write", action="store_true", help="rewrite the CSVs with agreed rows")
    ag.add_argument("--balance", action="store_true", help="with --write: equal classes")
    ag.add_argument("--disagreements", type=Path, help="write the split rows here")
    ag.add_argument("--report", type=Path, help="write the figures as JSON here")
    ag.add_argument("--guide", type=Path, help="fill the agreement section of this guide")
    args = parser.parse_args(argv)
    if args.command == "blind":
        blind, author = build_blind()
        write_jsonl(LABELLING / "blind.jsonl", blind)
        write_jsonl(LABELLING / "author.jsonl", author)
        print(f"{len(blind)} rows from {len(SETS)} sets written to {LABELLING}")
        return 0
    if len(args.passes) < 2:
        print("error: give at least two label files (independent passes)", file=sys.stderr)
        return 2
    try:
        texts, sets = read_blind_sets(args.blind)
        passes: dict[str, dict[int, str]] = {}
        for path in args.passes:
            name = path.stem if path.stem not in passes else str(path)
            passes[name] = read_pass(path, sets)
        author = read_pass(args.author, sets) if args.author else None
        rep = report(texts, sets, passes, author)
        _, split = agreement.merge(texts, list(passes.values()))
        for d in split:
            d["set"] = sets[d["id"]]
            if author is not None:
                d["author"] = author.get(d["id"])
        split.sort(key=lambda d: (list(SETS).index(d["set"]), d["id"]))
        split_ids = {d["id"] for d in split}
        first = passes[next(iter(passes))]
        agreed = {i: first[i] for i in texts if i not in split_ids}
        new_sets = relabelled_sets(texts, sets, agreed, args.folder, args.balance)
        kept = {
            name: {c: sum(1 for r in rows if r["label"] == c) for c in SETS[name][2]}
            for name, (_, rows) in new_sets.items()
        }
        guide = None
        if args.guide:
            try:
                old = args.guide.read_text(encoding="utf-8")
            except OSError as exc:
                raise LabelError(f"{args.guide}: cannot read ({exc.strerror or exc})") from None
            block = markdown_report(rep, split, kept if args.write else None)
            guide = agreement.fill_between_markers(old, block)
    except (LabelError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        if args.disagreements:
            write_jsonl(args.disagreements, split)
        if args.report:
            agreement.write_json(args.report, {**rep, "kept": kept if args.write else None})
        if args.write:
            for name, (columns, rows) in new_sets.items():
                agreement.write_text(args.folder / SETS[name][0], render_csv(columns, rows))
        if guide is not None:
            agreement.write_text(args.guide, guide)
    except OSError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(format_report(rep))  # after the files, so a closed pipe cannot stop them
    if args.write:
        print(f"rows kept per set and class: {kept}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
