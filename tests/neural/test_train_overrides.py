"""`neural train` hyper-parameter flags: they override the spec, land in the run config,
and a flag the spec cannot honour is refused before anything is written."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.test_cli import assert_one_line_error, run_cli

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "sample_data" / "neural" / "code-review.model.json"
DATA = ROOT / "sample_data" / "neural" / "code_review.json"


def runs(db: Path) -> list[dict]:
    if not db.exists():
        return []
    with sqlite3.connect(db) as conn:
        return [json.loads(c) for (c,) in conn.execute("SELECT config FROM training_runs")]


def test_flags_override_the_spec_and_are_recorded(tmp_path):
    db = tmp_path / "s.db"
    done = run_cli("neural", "train", "--db", str(db), "--model", str(SPEC), "--data", str(DATA),
                   "--epochs", "3", "--learning-rate", "0.02", "--batch-size", "4",
                   "--patience", "2", "--min-delta", "0.001", "--validation-split", "0.25",
                   "--json")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["epochs_run"] == 3
    (config,) = runs(db)
    assert config["overrides"] == {"epochs": 3, "learning_rate": 0.02, "batch_size": 4,
                                   "patience": 2, "min_delta": 0.001,
                                   "validation_split": 0.25}  # fmt: skip
    training = config["spec"]["training"]
    assert (training["learning_rate"], training["batch_size"], training["epochs"]) == (0.02, 4, 3)
    assert training["validation_split"] == 0.25
    assert training["early_stopping"]["patience"] == 2
    assert training["early_stopping"]["min_delta"] == 0.001
    # the spec file on disk is untouched
    assert json.loads(SPEC.read_text())["training"]["learning_rate"] == 0.005


def test_patience_adds_early_stopping_to_a_spec_without_it(tmp_path):
    spec = json.loads(SPEC.read_text())
    spec["training"].pop("early_stopping", None)
    path = tmp_path / "plain.model.json"
    path.write_text(json.dumps(spec))
    db = tmp_path / "s.db"
    assert_one_line_error(
        run_cli(
            "neural",
            "train",
            "--db",
            str(db),
            "--model",
            str(path),
            "--data",
            str(DATA),
            "--min-delta",
            "0.01",
        ),  # fmt: skip
        "--min-delta needs early stopping",
    )
    done = run_cli("neural", "train", "--db", str(db), "--model", str(path), "--data", str(DATA),
                   "--epochs", "2", "--patience", "1", "--json")  # fmt: skip
    assert done.returncode == 0, done.stderr
    es = runs(db)[-1]["spec"]["training"]["early_stopping"]
    assert (es["enabled"], es["patience"], es["monitor"]) == (True, 1, "val_loss")


@pytest.mark.parametrize(
    ("flags", "fragment"),
    [
        (("--validation-split", "0"), "--validation-split 0 conflicts"),
        (("--learning-rate", "-1"), "learning_rate must be > 0"),
        (("--batch-size", "0"), "batch_size"),
        (("--validation-split", "1.5"), "validation_split"),
        (("--resume", "--learning-rate", "0.1"), "drop --learning-rate"),
    ],
)
def test_conflicting_or_bad_flags_are_refused_and_nothing_is_stored(tmp_path, flags, fragment):
    db = tmp_path / "s.db"
    assert_one_line_error(
        run_cli(
            "neural", "train", "--db", str(db), "--model", str(SPEC), "--data", str(DATA), *flags
        ),  # fmt: skip
        fragment,
    )
    assert runs(db) == []
