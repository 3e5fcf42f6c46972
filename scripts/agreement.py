"""Shared code of the labelling-agreement scripts (patterns_agreement.py for the pattern
operations, labels_agreement.py for the catalog's text sets): reading blind and label
files, Cohen's kappa, confusion tables and the merge that keeps only the rows every pass
labelled the same. One copy, so both scripts compute the figures the same way."""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from workbench.fsutil import atomic_write  # noqa: E402

START, END = "<!-- AGREEMENT RESULTS -->", "<!-- /AGREEMENT RESULTS -->"


class LabelError(ValueError):
    """A labelling file that cannot be used (the message names the file and line)."""


def read_jsonl(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """(line number, object) for each non-blank line; every object needs an integer id."""
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


def read_blind(path: Path, field: str | None = None) -> dict[int, str]:
    """id -> text of a blind file (with ``field``: id -> that string field instead)."""
    key = field or "text"
    texts: dict[int, str] = {}
    for lineno, row in read_jsonl(path):
        text = row.get(key)
        if not isinstance(text, str) or not text.strip():
            raise LabelError(f"{path}:{lineno}: needs a non-empty string '{key}'")
        if row["id"] in texts:
            raise LabelError(f"{path}:{lineno}: id {row['id']} appears twice")
        texts[row["id"]] = text
    return texts


def read_labels(
    path: Path,
    classes: Sequence[str] | Callable[[int], Sequence[str]],
    known_ids: set[int] | None = None,
) -> dict[int, str]:
    """id -> label of one labelling pass (the label sits under "pattern"). ``classes`` is
    the allowed labels, or a function giving them for an id (when each row's set has its
    own classes)."""
    labels: dict[int, str] = {}
    for lineno, row in read_jsonl(path):
        rid = row["id"]
        if known_ids is not None and rid not in known_ids:
            raise LabelError(f"{path}:{lineno}: id {rid} is not in the blind file")
        allowed = classes(rid) if callable(classes) else classes
        label = row.get("pattern")
        if isinstance(label, str):
            label = label.strip().lower()
        if label not in allowed:
            raise LabelError(
                f"{path}:{lineno}: pattern must be one of {', '.join(allowed)} (got {label!r})"
            )
        if rid in labels:
            raise LabelError(f"{path}:{lineno}: id {rid} is labelled twice")
        labels[rid] = label
    return labels


def cohen_kappa(a: list[str], b: list[str]) -> float:
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
    expected = sum(ca[c] * cb[c] for c in set(ca) | set(cb)) / (n * n)
    if expected == 1.0:
        return 1.0
    return (observed - expected) / (1.0 - expected)


def confusion(a: list[str], b: list[str], labels: Sequence[str]) -> dict[str, dict[str, int]]:
    """rows: rater a's label, columns: rater b's label, cells: item counts."""
    table = {x: dict.fromkeys(labels, 0) for x in labels}
    for x, y in zip(a, b, strict=True):
        table[x][y] += 1
    return table


def pair_stats(
    a: dict[int, str], b: dict[int, str], labels: Sequence[str], ids: set[int] | None = None
) -> dict[str, Any]:
    """Kappa, raw agreement and confusion of two passes over the ids both labelled (within
    ``ids`` when given)."""
    common = set(a) & set(b)
    keys = sorted(common if ids is None else common & ids)
    la, lb = [a[i] for i in keys], [b[i] for i in keys]
    if not keys:
        return {"items": 0, "kappa": None, "agreement": None, "confusion": None}
    return {
        "items": len(keys),
        "kappa": round(cohen_kappa(la, lb), 4),
        "agreement": round(sum(1 for x, y in zip(la, lb, strict=True) if x == y) / len(keys), 4),
        "confusion": confusion(la, lb, labels),
    }


def merge(
    texts: dict[int, str], passes: list[dict[int, str]]
) -> tuple[list[dict[str, str]], list[dict[str, Any]]]:
    """(agreed, disagreements): a row is kept, with the shared label, only when every pass
    labelled it and all gave the same label; every other id becomes a disagreement listing
    each pass's label (None where a pass left it out). Both in id order."""
    agreed: list[dict[str, str]] = []
    disagreements: list[dict[str, Any]] = []
    for rid in sorted(texts):
        given = [p.get(rid) for p in passes]
        if given and given[0] is not None and all(g == given[0] for g in given):
            agreed.append({"text": texts[rid], "pattern": given[0]})
        else:
            disagreements.append({"id": rid, "text": texts[rid], "labels": given})
    return agreed, disagreements


def fill_between_markers(text: str, block: str) -> str:
    """``text`` with the part between the AGREEMENT RESULTS markers replaced by ``block``
    (which carries the markers itself); the rest is left as it is."""
    if START not in text:
        raise LabelError(f"the guide has no {START} marker")
    head, _, rest = text.partition(START)
    tail = rest.partition(END)[2] if END in rest else rest
    return head + block + tail


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    """One JSON object a line, written atomically (a failed write leaves the old file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(path, "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def write_json(path: Path, data: Any) -> None:
    """Indented JSON, written atomically."""
    with atomic_write(path, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=2)
        fh.write("\n")


def write_text(path: Path, text: str) -> None:
    """Text, written atomically."""
    with atomic_write(path, "w", encoding="utf-8") as fh:
        fh.write(text)
