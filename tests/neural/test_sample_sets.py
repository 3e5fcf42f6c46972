"""The hand-written text sets in sample_data/neural: enough rows per class, no
near-duplicates (they would sit on both sides of a held-out split), and numeric columns
that are computed from the text rather than typed in."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest

from scripts import near_duplicates as nd
from scripts import ticket_columns as tc

SAMPLES = Path(__file__).resolve().parents[2] / "sample_data" / "neural"
SETS = [
    ("sparc_phases.csv", "statement"),
    ("engineering_tasks.csv", "task"),
    ("cicd_failures.csv", "failure"),
    ("tickets.csv", "title"),
]


def rows_of(file: str) -> list[dict[str, str]]:
    with (SAMPLES / file).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.parametrize(("file", "column"), SETS)
def test_every_class_has_sixty_rows_and_classes_are_equal(file: str, column: str) -> None:
    counts = Counter(r["label"] for r in rows_of(file))
    assert min(counts.values()) >= 60
    assert max(counts.values()) == min(counts.values())


@pytest.mark.parametrize(("file", "column"), SETS)
def test_no_near_duplicate_texts(file: str, column: str) -> None:
    texts = [r[column] for r in rows_of(file)]
    assert len({nd.normalize(t) for t in texts}) == len(texts)
    assert nd.near_duplicates(texts, threshold=nd.THRESHOLD) == []


def test_ticket_numbers_are_computed_from_the_title() -> None:
    rows = tc.read()
    assert rows == tc.recompute(rows)
    assert tc.main([]) == 0


def test_ticket_column_rules() -> None:
    assert tc.words("Sync stuck at 99%, logs and screenshot attached") == 8
    assert tc.attachments("Sync stuck at 99%, logs and screenshot attached") == 2
    assert tc.attachments("Voice messages have no sound (screen recording)") == 1
    assert tc.attachments("How do I turn off email notifications?") == 0


def test_ticket_check_reports_a_typed_in_number(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "tickets.csv"
    bad.write_text("title,attachments,words,label\nCrash on save (log attached),3,5,bug\n")
    assert tc.main(["--file", str(bad)]) == 1
    assert "the title gives 1 and 5" in capsys.readouterr().out
    bad.write_text("title,label\nx,bug\n")
    assert tc.main(["--file", str(bad)]) == 2
