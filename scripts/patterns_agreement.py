"""Agreement between independent labelling passes, and the operations they agree on.

    python scripts/patterns_agreement.py PASS_A.jsonl PASS_B.jsonl \\
        --author sample_data/patterns/labelling/author.jsonl \\
        --out sample_data/patterns/operations.jsonl \\
        --disagreements sample_data/patterns/labelling/disagreements.jsonl

Each pass is a JSONL file of {"id": n, "pattern": "..."} for the rows of
`sample_data/patterns/labelling/blind.jsonl` ({"id": n, "text": "..."}), labelled by someone
who saw only GUIDE.md and the blind file. `--blind` may be given more than once (the
supplement `blind_extra.jsonl` continues the ids); a pass that did not label a supplement
leaves its rows as disagreements, so they are dropped, never guessed. The script prints
Cohen's kappa for every pair of passes (and for each pass against the author's labels when
given), the confusion between passes, and writes:

- `--out`: the operations every pass labelled the same ({"text", "pattern"} per line, in id
  order). A row is kept only when all passes gave it one label; the author's label never
  overrides the passes (it is reported, not used).
- `--disagreements`: the rows the passes split on (or that some pass left out), with every
  label, to fix by hand or drop.
- `--report`: the figures as JSON.
- `--guide`: the agreement section of GUIDE.md (between its AGREEMENT RESULTS markers)
  rewritten with these figures in Markdown; the rest of the guide is left as it is.

Bad input (a missing file, a line that is not an object with an integer id and a known
pattern, an id given twice, an id not in the blind file) stops with one line on stderr and
exit status 2; nothing is written then.
"""

from __future__ import annotations

import argparse
import sys
from itertools import combinations
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from scripts import agreement  # noqa: E402
from scripts.agreement import (  # noqa: E402  (re-exported: the tests and callers use them)
    END,
    START,
    LabelError,
    cohen_kappa,
    merge,
    read_blind,
)
from workbench.patterns import PATTERNS  # noqa: E402

__all__ = ["END", "START", "LabelError", "cohen_kappa", "confusion", "merge", "read_blind"]

BLIND = REPO / "sample_data" / "patterns" / "labelling" / "blind.jsonl"


def read_labels(path: Path, known_ids: set[int] | None = None) -> dict[int, str]:
    """id -> pattern of one labelling pass; every pattern must be one of PATTERNS."""
    return agreement.read_labels(path, PATTERNS, known_ids)


def confusion(
    a: list[str], b: list[str], labels: tuple[str, ...] = PATTERNS
) -> dict[str, dict[str, int]]:
    """rows: rater a's label, columns: rater b's label, cells: item counts."""
    return agreement.confusion(a, b, labels)


def pair_stats(a: dict[int, str], b: dict[int, str]) -> dict[str, Any]:
    """Kappa, raw agreement and confusion of two passes over the ids both labelled."""
    return agreement.pair_stats(a, b, PATTERNS)


def report(
    texts: dict[int, str],
    passes: dict[str, dict[int, str]],
    author: dict[int, str] | None = None,
) -> dict[str, Any]:
    """All the figures: per-pair statistics, agreed/disagreed counts, per-pattern counts of
    the agreed rows, and (with author labels) each pass and the agreed set against them."""
    names = list(passes)
    agreed, disagreements = merge(texts, [passes[n] for n in names])
    out: dict[str, Any] = {
        "rows": len(texts),
        "passes": {n: len(passes[n]) for n in names},
        "pairs": {
            f"{x} vs {y}": pair_stats(passes[x], passes[y]) for x, y in combinations(names, 2)
        },
        "agreed": len(agreed),
        "disagreed": len(disagreements),
        "agreed_per_pattern": {p: sum(1 for r in agreed if r["pattern"] == p) for p in PATTERNS},
    }
    if author is not None:
        out["vs_author"] = {n: pair_stats(passes[n], author) for n in names}
        text_ids = {t: i for i, t in texts.items()}
        differs = sum(1 for r in agreed if author.get(text_ids[r["text"]]) != r["pattern"])
        out["agreed_but_not_author"] = differs
    return out


def format_report(rep: dict[str, Any]) -> str:
    """The report as plain text: kappa lines, then each pair's confusion table."""
    lines = [f"{rep['rows']} rows; labels per pass: {rep['passes']}"]
    for name, st in rep["pairs"].items():
        lines.append(
            f"{name}: kappa {st['kappa']}, raw agreement {st['agreement']} over {st['items']} rows"
        )
    for name, st in rep.get("vs_author", {}).items():
        lines.append(f"{name} vs author: kappa {st['kappa']}, raw agreement {st['agreement']}")
    lines.append(
        f"all passes agree on {rep['agreed']} rows, disagree on {rep['disagreed']}; "
        f"agreed per pattern: {rep['agreed_per_pattern']}"
    )
    if "agreed_but_not_author" in rep:
        lines.append(
            f"agreed rows whose label differs from the author's: {rep['agreed_but_not_author']}"
        )
    for name, st in rep["pairs"].items():
        if not st["confusion"]:
            continue
        lines.append(f"confusion {name} (rows: first pass, columns: second pass)")
        lines.append("  " + " " * 11 + "".join(f"{p[:5]:>6}" for p in PATTERNS))
        for p in PATTERNS:
            lines.append(f"  {p:<11}" + "".join(f"{st['confusion'][p][q]:>6}" for q in PATTERNS))
    return "\n".join(lines)


def markdown_report(rep: dict[str, Any]) -> str:
    """The figures as the Markdown block that goes between the guide's markers."""
    lines = [START, "", "| passes | rows both labelled | Cohen's kappa | raw agreement |"]
    lines.append("|---|---|---|---|")
    for name, st in rep["pairs"].items():
        lines.append(f"| {name} | {st['items']} | {st['kappa']} | {st['agreement']} |")
    for name, st in rep.get("vs_author", {}).items():
        lines.append(f"| {name} vs author | {st['items']} | {st['kappa']} | {st['agreement']} |")
    per = ", ".join(f"{p} {n}" for p, n in rep["agreed_per_pattern"].items())
    lines += [
        "",
        f"Of {rep['rows']} candidate rows, all passes agree on {rep['agreed']} (kept in "
        f"`operations.jsonl`: {per}) and disagree on {rep['disagreed']} (dropped).",
    ]
    if "agreed_but_not_author" in rep:
        lines.append(
            f"On {rep['agreed_but_not_author']} kept rows the passes agree with each other "
            "but not with the author; the passes' label is kept."
        )
    for name, st in rep["pairs"].items():
        if not st["confusion"]:
            continue
        lines += ["", f"Confusion, {name} (rows: first pass, columns: second pass):", ""]
        lines.append("| | " + " | ".join(PATTERNS) + " |")
        lines.append("|---" * (len(PATTERNS) + 1) + "|")
        for p in PATTERNS:
            cells = " | ".join(str(st["confusion"][p][q]) for q in PATTERNS)
            lines.append(f"| {p} | {cells} |")
    lines += ["", END]
    return "\n".join(lines)


def fill_guide(guide: str, rep: dict[str, Any]) -> str:
    """The guide text with its agreement block replaced (or filled the first time)."""
    return agreement.fill_between_markers(guide, markdown_report(rep))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("passes", nargs="+", type=Path, help="two or more label files")
    parser.add_argument("--blind", type=Path, action="append",
                        help="a blind file (id, text); repeat for a supplement (default: "
                        "labelling/blind.jsonl)")  # fmt: skip
    parser.add_argument("--author", type=Path, action="append",
                        help="the author's labels, reported only; repeatable")  # fmt: skip
    parser.add_argument("--out", type=Path, help="write the agreed operations here")
    parser.add_argument("--disagreements", type=Path, help="write the split rows here")
    parser.add_argument("--report", type=Path, help="write the figures as JSON here")
    parser.add_argument("--guide", type=Path, help="fill the agreement section of this guide")
    args = parser.parse_args(argv)
    if len(args.passes) < 2:
        print("error: give at least two label files (independent passes)", file=sys.stderr)
        return 2
    try:
        texts: dict[int, str] = {}
        for path in args.blind or [BLIND]:
            part = read_blind(path)
            if clash := sorted(set(part) & set(texts)):
                raise LabelError(f"{path}: id {clash[0]} is also in another blind file")
            texts.update(part)
        ids = set(texts)
        passes: dict[str, dict[int, str]] = {}
        for path in args.passes:
            name = path.stem if path.stem not in passes else str(path)
            passes[name] = read_labels(path, ids)
        author = None
        for path in args.author or []:
            author = {**(author or {}), **read_labels(path, ids)}
        rep = report(texts, passes, author)
        guide = fill_guide(args.guide.read_text(encoding="utf-8"), rep) if args.guide else None
    except LabelError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: {args.guide}: cannot read ({exc.strerror or exc})", file=sys.stderr)
        return 2
    agreed, disagreements = merge(texts, list(passes.values()))
    try:
        if args.out:
            agreement.write_jsonl(args.out, agreed)
        if args.disagreements:
            agreement.write_jsonl(args.disagreements, disagreements)
        if args.report:
            agreement.write_json(args.report, rep)
        if guide is not None:
            agreement.write_text(args.guide, guide)
    except OSError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(format_report(rep))  # after the files, so a closed pipe cannot stop them
    return 0


if __name__ == "__main__":
    sys.exit(main())
