"""Catalog models trained in parallel processes equal the same models trained one by one."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from tests.test_cli import run_cli
from workbench.engine import Engine

MODELS = ["sparc-coord", "backend-dev"]


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    path = tmp_path_factory.mktemp("catalog") / "seed.db"
    with Engine(path) as engine:
        engine.ensure_seeded()
    return path


def copy_store(seeded, tmp_path, name):
    target = tmp_path / name
    shutil.copy(seeded, target)
    return target


def weights(engine: Engine, name: str) -> list[np.ndarray]:
    artifact = engine.neural.load(f"{name}@1")
    return [*artifact.weights, *artifact.biases]


def test_parallel_training_equals_serial_training(seeded, tmp_path):
    with Engine(copy_store(seeded, tmp_path, "serial.db")) as serial:
        alone = {name: serial.neural.train_catalog(name, epochs=3) for name in MODELS}
        serial_weights = {name: weights(serial, name) for name in MODELS}
    done: list[str] = []
    with Engine(copy_store(seeded, tmp_path, "parallel.db")) as parallel:
        results = parallel.train_catalog_models(
            ",".join(MODELS), workers=2, epochs=3, on_done=lambda r: done.append(r["name"])
        )
        assert [r["name"] for r in results] == MODELS
        assert sorted(done) == sorted(MODELS)
        for result in results:
            assert result["status"] == "trained"
            assert result["val_accuracy"] == alone[result["name"]]["val_accuracy"]
            for a, b in zip(weights(parallel, result["name"]), serial_weights[result["name"]],
                            strict=True):  # fmt: skip
                np.testing.assert_array_equal(a, b)
        # each training is its own run with its own history
        runs = parallel.neural.training_progress(MODELS, since=parallel.clock().min)
        assert all(state["epochs_done"] == 3 for state in runs.values())


def test_unknown_name_fails_before_any_process_starts(seeded, tmp_path):
    with (
        Engine(copy_store(seeded, tmp_path, "x.db")) as engine,
        pytest.raises(ValueError, match="unknown catalog model 'nope'"),
    ):
        engine.train_catalog_models("sparc-coord,nope", workers=2)


def test_all_means_every_trainable_model(seeded, tmp_path, monkeypatch):
    captured = {}

    def fake_train_many(names, **kwargs):
        captured["names"] = list(names)
        return []

    monkeypatch.setattr("workbench.neural.parallel.train_many", fake_train_many)
    with Engine(copy_store(seeded, tmp_path, "all.db")) as engine:
        engine.train_catalog_models("all", workers=1)
        trainable = [e["name"] for e in engine.neural.catalog() if e["trainable"]]
    assert captured["names"] == trainable and len(trainable) >= 10


def test_cli_trains_several_catalog_models_through_the_entry_point(seeded, tmp_path):
    db = str(copy_store(seeded, tmp_path, "cli.db"))
    done = run_cli("neural", "train", "--db", db, "--catalog", "sparc-coord,specification",
                   "--workers", "2", "--epochs", "2", "--json")  # fmt: skip
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert [(r["name"], r["status"], r["epochs_run"]) for r in rows] == [
        ("sparc-coord", "trained", 2), ("specification", "trained", 2)]  # fmt: skip
    text = run_cli("neural", "train", "--db", db, "--catalog", "sparc-coord,specification",
                   "--epochs", "1")  # fmt: skip
    assert text.returncode == 0 and "sparc-coord" in text.stdout and "trained" in text.stdout


def test_workers_without_catalog_is_refused(seeded, tmp_path):
    done = run_cli("neural", "train", "--db", str(copy_store(seeded, tmp_path, "w.db")),
                   "--model", "x.json", "--data", "y.csv", "--workers", "2")  # fmt: skip
    assert done.returncode == 2 and "--workers/--executor" in done.stderr


def test_dask_local_workers_train_in_their_own_processes(seeded, tmp_path):
    pytest.importorskip("distributed")
    with Engine(copy_store(seeded, tmp_path, "dask.db")) as engine:
        results = engine.train_catalog_models(
            "sparc-coord", workers=1, executor="dask-local:1", epochs=2
        )
        assert [(r["name"], r["status"], r["epochs_run"]) for r in results] == [
            ("sparc-coord", "trained", 2)
        ]
        assert (
            engine.neural.training_progress(["sparc-coord"], engine.clock().min)["sparc-coord"][
                "epochs_done"
            ]
            == 2
        )
