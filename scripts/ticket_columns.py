"""Recompute the numeric columns of sample_data/neural/tickets.csv from each title.

    python scripts/ticket_columns.py            # check: exit 1 and list rows that differ
    python scripts/ticket_columns.py --write    # rewrite the two columns in place

The numbers are derived from the text so nobody has to invent them:

- ``words``: the number of whitespace-separated words in the title;
- ``attachments``: how many attached artefacts the title itself mentions (a screenshot, a
  log, a video or screen recording, a HAR file, a crash dump, a mockup or sketch, a PDF),
  counting each mention once, e.g. "Sync stuck at 99%, logs and screenshot attached" is 2.

tests/neural/test_sample_sets.py runs the check, so a hand edit that breaks it fails.
"""

from __future__ import annotations

import argparse
import csv
import io
import re
import sys
from pathlib import Path

TICKETS = Path(__file__).resolve().parents[1] / "sample_data" / "neural" / "tickets.csv"
COLUMNS = ["title", "attachments", "words", "label"]
ARTEFACT = re.compile(
    r"\b(screenshots?|logs?|logcat|video|screen recording|recording|har file|crash dump|"
    r"mockups?|sketch|pdf)\b",
    re.IGNORECASE,
)


def words(title: str) -> int:
    """Whitespace-separated words of the title."""
    return len(title.split())


def attachments(title: str) -> int:
    """Attached artefacts the title mentions (each mention counts once; "screen recording"
    is one artefact, not a screen and a recording)."""
    return len(ARTEFACT.findall(title))


def recompute(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """The rows with ``words`` and ``attachments`` derived from the title."""
    return [
        {**r, "attachments": str(attachments(r["title"])), "words": str(words(r["title"]))}
        for r in rows
    ]


def read(path: Path = TICKETS) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        if reader.fieldnames != COLUMNS:
            raise ValueError(f"{path}: expected columns {','.join(COLUMNS)}")
        return list(reader)


def render(rows: list[dict[str, str]]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help="rewrite the file in place")
    parser.add_argument("--file", type=Path, default=TICKETS)
    args = parser.parse_args(argv)
    try:
        rows = read(args.file)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    fixed = recompute(rows)
    if args.write:
        args.file.write_text(render(fixed), encoding="utf-8")
        return 0
    wrong = [(i, a, b) for i, (a, b) in enumerate(zip(rows, fixed, strict=True), 2) if a != b]
    for line, have, want in wrong:
        print(
            f"line {line}: {have['title']!r} has attachments={have['attachments']} "
            f"words={have['words']}, the title gives {want['attachments']} and {want['words']}"
        )
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
