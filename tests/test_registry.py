"""Model registry: versions, aliases, rollback, resolution, deletion."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from workbench.neural import registry as reg
from workbench.store import models as m


def trained(name: str, accuracy: float, weights: bytes = b"w") -> m.NeuralModel:
    model, _run = reg.start_version(
        name, architecture={"layers": [4, 2]}, run_config={"epochs": 1}, data_hash="abc"
    )
    reg.record_epoch(model, SimpleNamespace(epoch=1, loss=0.5, accuracy=accuracy))
    return reg.finish_version(
        model, weights=weights, metrics={"accuracy": accuracy, "val_accuracy": accuracy}
    )


def test_versions_are_numbered_and_linked_to_their_runs(engine):
    first = trained("clf", 0.7)
    second = trained("clf", 0.8, weights=b"second")
    assert (first.version, second.version) == (1, 2)
    run = m.TrainingRun.get_by_id(second.training_run_id)
    assert (run.model_name, run.model_version, run.status, run.data_hash) == (
        "clf",
        2,
        "completed",
        "abc",
    )
    listed = reg.versions("clf")
    assert [v["version"] for v in listed] == [1, 2]
    assert listed[0]["aliases"] == ["champion"]  # the first final version becomes champion
    assert listed[1]["size_bytes"] == len(b"second")
    assert reg.history(second.id) == [
        {"epoch": 1, "loss": 0.5, "accuracy": 0.8, "val_loss": None, "val_accuracy": None}
    ]


def test_resolution_and_rollback_move_only_the_alias(engine):
    trained("clf", 0.7, b"v1")
    trained("clf", 0.9, b"v2")
    reg.rollback("clf", 2)
    assert reg.resolve("clf").version == 2
    assert reg.resolve("clf@champion").version == 2
    assert reg.resolve("clf@1").version == 1
    reg.rollback("clf", 1)
    row, weights = reg.load_weights("clf")
    assert (row.version, weights) == (1, b"v1")
    assert reg.get_version("clf", 2).weights == b"v2"  # versions are untouched


def test_unfinished_versions_cannot_be_aliased_or_loaded(engine):
    model, _ = reg.start_version("wip", architecture={})
    with pytest.raises(reg.RegistryError, match="has no trained version yet"):
        reg.resolve("wip")
    with pytest.raises(reg.RegistryError, match="aliases need a final version"):
        reg.set_alias("wip", "best", 1)
    with pytest.raises(reg.RegistryError, match="has no weights"):
        reg.load_weights("wip@1")
    reg.abandon_version(model, "failed", "loss became NaN")
    run = m.TrainingRun.get_by_id(model.training_run_id)
    assert (run.status, run.metrics) == ("failed", '{"reason": "loss became NaN"}')


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ("nope", "unknown model 'nope'"),
        ("clf@9", "unknown model version clf@9"),
        ("clf@staging", "unknown alias clf@staging"),
        ("clf@", "nothing after '@'"),
        ("../etc", "model name '../etc' must be"),
        ("", "model name '' must be"),
    ],
)
def test_bad_references_are_one_line_errors(engine, reference, message):
    trained("clf", 0.5)
    with pytest.raises(reg.RegistryError, match=message):
        reg.resolve(reference)


def test_numeric_alias_is_refused(engine):
    trained("clf", 0.5)
    with pytest.raises(reg.RegistryError, match="cannot be a number"):
        reg.set_alias("clf", "2", 1)


def test_delete_a_version_or_all(engine):
    trained("clf", 0.5)
    trained("clf", 0.6)
    assert reg.delete("clf@1") == [1]
    assert [v["version"] for v in reg.versions("clf")] == [2]
    assert reg.next_version("clf") == 3  # numbers are never reused while versions remain
    assert reg.delete("clf") == [2]
    assert not m.TrainingHistory.select().exists()
    assert not m.ModelAlias.select().exists()
    with pytest.raises(reg.RegistryError, match="unknown model"):
        reg.versions("clf")
