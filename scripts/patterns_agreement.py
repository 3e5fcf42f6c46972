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
import json
import sys
from collections import Counter
from itertools import combinations
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from workbench.fsutil import atomic_write  # noqa: E402
from workbench.patterns import PATTERNS  # noqa: E402

BLIND = REPO / "sample_data" / "patterns" / "labelling" / "blind.jsonl"
START, END = "<!-- AGREEMENT RESULTS -->", "<!-- /AGREEMENT RESULTS -->"


class LabelError(ValueError):
    """A labelling file that cannot be used (the message names the file and line)."""


def _read_jsonl(path: Path) -> list[tuple[int, dict[str, Any]]]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise LabelError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise LabelError(f"{path}: not UTF-8 text") from None
    rows = []
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise LabelError(f"{path}:{lineno}: invalid JSON ({exc.msg})") from None
        if not isinstance(row, dict):
            raise LabelError(f"{path}:{lineno}: each line must be a JSON object")
        rid = row.get("id")
        if not isinstance(rid, int) or isinstance(rid, bool):
            raise LabelError(f"{path}:{lineno}: needs an integer 'id'")
        rows.append((lineno, row))
    return rows


def read_blind(path: Path) -> dict[int, str]:
    """id -> text of the blind file."""
    texts: dict[int, str] = {}
    for lineno, row in _read_jsonl(path):
        text = row.get("text")
        if not isinstance(text, str) or not text.strip():
            raise LabelError(f"{path}:{lineno}: needs a non-empty string 'text'")
        if row["id"] in texts:
            raise LabelError(f"{path}:{lineno}: id {row['id']} appears twice")
        texts[row["id"]] = text
    return texts


def read_labels(path: Path, known_ids: set[int] | None = None) -> dict[int, str]:
    """id -> pattern of one labelling pass; every pattern must be one of PATTERNS."""
    labels: dict[int, str] = {}
    for lineno, row in _read_jsonl(path):
        pattern = row.get("pattern")
        if isinstance(pattern, str):
            pattern = pattern.strip().lower()
        if pattern not in PATTERNS:
            raise LabelError(
                f"{path}:{lineno}: pattern must be one of {', '.join(PATTERNS)} (got {pattern!r})"
            )
        rid = row["id"]
        if rid in labels:
            raise LabelError(f"{path}:{lineno}: id {rid} is labelled twice")
        if known_ids is not None and rid not in known_ids:
            raise LabelError(f"{path}:{lineno}: id {rid} is not in the blind file")
        labels[rid] = pattern
    return labels


def cohen_kappa(a: list[str], b: list[str], labels: tuple[str, ...] = PATTERNS) -> float:
    """Cohen's kappa of two raters over the same items: (p_o - p_e) / (1 - p_e), where p_e
    comes from each rater's own label frequencies. 1.0 when both raters used one and the
    same label throughout (p_e = 1, no disagreement possible)."""
    if len(a) != len(b):
        raise ValueError("cohen_kappa: the two raters must label the same items")
    n = len(a)
    if n == 0:
        raise ValueError("cohen_kappa: no items labelled by both raters")
    observed = sum(1 for x, y in zip(a, b, strict=True) if x == y) / n
    ca, cb = Counter(a), Counter(b)
    cats = set(labels) | set(ca) | set(cb)
    expected = sum(ca[c] * cb[c] for c in cats) / (n * n)
    if expected == 1.0:
        return 1.0
    return (observed - expected) / (1.0 - expected)


def confusion(
    a: list[str], b: list[str], labels: tuple[str, ...] = PATTERNS
) -> dict[str, dict[str, int]]:
    """rows: rater a's label, columns: rater b's label, cells: item counts."""
    table = {x: dict.fromkeys(labels, 0) for x in labels}
    for x, y in zip(a, b, strict=True):
        table[x][y] += 1
    return table


def merge(
    texts: dict[int, str], passes: list[dict[int, str]]
) -> tuple[list[dict[str, str]], list[dict[str, Any]]]:
    """(agreed, disagreements): an operation is kept, with the shared label, only when every
    pass labelled it and all gave the same label; every other id becomes a disagreement
    listing each pass's label (None where a pass left it out). Both in id order."""
    agreed: list[dict[str, str]] = []
    disagreements: list[dict[str, Any]] = []
    for rid in sorted(texts):
        given = [p.get(rid) for p in passes]
        if given and given[0] is not None and all(g == given[0] for g in given):
            agreed.append({"text": texts[rid], "pattern": given[0]})
        else:
            disagreements.append({"id": rid, "text": texts[rid], "labels": given})
    return agreed, disagreements


def pair_stats(a: dict[int, str], b: dict[int, str]) -> dict[str, Any]:
    """Kappa, raw agreement and confusion of two passes over the ids both labelled."""
    ids = sorted(set(a) & set(b))
    la, lb = [a[i] for i in ids], [b[i] for i in ids]
    if not ids:
        return {"items": 0, "kappa": None, "agreement": None, "confusion": None}
    return {
        "items": len(ids),
        "kappa": round(cohen_kappa(la, lb), 4),
        "agreement": round(sum(1 for x, y in zip(la, lb, strict=True) if x == y) / len(ids), 4),
        "confusion": confusion(la, lb),
    }


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
    if START not in guide:
        raise LabelError(f"the guide has no {START} marker")
    head, _, rest = guide.partition(START)
    tail = rest.partition(END)[2] if END in rest else rest
    return head + markdown_report(rep) + tail


def _write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    with atomic_write(path, "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


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
            _write_jsonl(args.out, agreed)
        if args.disagreements:
            _write_jsonl(args.disagreements, disagreements)
        if args.report:
            with atomic_write(args.report, "w", encoding="utf-8") as fh:
                json.dump(rep, fh, indent=2)
                fh.write("\n")
        if guide is not None:
            with atomic_write(args.guide, "w", encoding="utf-8") as fh:
                fh.write(guide)
    except OSError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(format_report(rep))  # after the files, so a closed pipe cannot stop them
    return 0


if __name__ == "__main__":
    sys.exit(main())
