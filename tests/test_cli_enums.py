"""Enum values are accepted in any case on the CLI (and listed in --help)."""

from __future__ import annotations

import json

import pytest

from tests.test_cli import run_cli
from workbench.cli import build_parser
from workbench.cli.common import choice


def test_share_takes_type_and_priority_in_any_case(tmp_path):
    """(Priorities are checked by the hub itself, in any case, with a one-line error.)"""
    db = str(tmp_path / "w.db")
    assert run_cli("init", "--db", db).returncode == 0
    done = run_cli(
        "hub", "share", "--db", db, "--channel", "warnings", "--type", "WARNING",
        "--title", "Disk fills during soak tests", "--content", "Rotate logs hourly.",
        "--priority", "high", "--json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    item = json.loads(done.stdout)
    assert item["type"] == "warning" and item["priority"] == "HIGH"
    found = run_cli("hub", "query", "--db", db, "disk soak", "--min-priority", "High", "--json")
    assert [r["id"] for r in json.loads(found.stdout)] == [item["id"]]


@pytest.mark.parametrize(
    ("argv", "attr", "expected"),
    [
        (["memory", "store", "--text", "x", "--tier", "EPISODIC"], "tier", "episodic"),
        (["pipeline", "run", "--complexity", "Easy"], "complexity", "easy"),
        (["neural", "predict", "--model", "m", "--input", "{}"], None, None),
        (["learn", "trigger", "--mode", "FRESH"], "mode", "fresh"),
    ],
)
def test_every_choice_option_is_case_insensitive(argv, attr, expected):
    args = build_parser().parse_args(argv)
    if attr:
        assert getattr(args, attr) == expected


def test_unknown_choice_names_the_choices(capsys):
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args(["pipeline", "run", "--complexity", "extreme"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "'extreme' is not one of easy, medium, hard" in err


def test_help_lists_the_values():
    done = run_cli("hub", "share", "--help")
    assert "discovery|solution|warning|optimization|pattern|best_practice" in done.stdout
    assert "LOW|MEDIUM|HIGH|CRITICAL" in done.stdout


def test_choice_keeps_the_canonical_spelling():
    assert choice(("LOW", "HIGH"))("high") == "HIGH"
    assert choice(("easy",))(" EASY ") == "easy"
