"""FedAvg across stores: averaging, the statistics-only recipe, the CLI end to end (every
store gets the model with only its own examples) and one-line errors that store nothing."""

from __future__ import annotations

import contextlib
import csv
import json
import re

import numpy as np
import pytest

from tests.neural.helpers import blobs
from tests.test_cli import assert_one_line_error, run_cli
from workbench.engine import Engine
from workbench.neural import load_dataset, parse_spec
from workbench.neural.artifact import ModelArtifact
from workbench.neural.federated import (
    FederatedClient,
    average,
    merge_feature_spec,
    run_federated,
)
from workbench.store import models as m
from workbench.store.errors import StoreError

SPEC = {
    "name": "fed-blobs",
    "architecture": {
        "layers": [
            {"type": "input", "size": 12},
            {"type": "hidden", "size": 8, "activation": "relu"},
            {"type": "output", "size": 3, "activation": "softmax"},
        ]
    },
    "training": {"learning_rate": 0.05, "batch_size": 16, "epochs": 2, "seed": 3,
                 "validation_split": 0.25},
}  # fmt: skip
NAMES = ["a", "b", "c"]


def write_csv(path, X, y, note=None):
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["x0", "x1", "x2", "x3", *(["note"] if note else []), "label"])
        for i, (row, label) in enumerate(zip(X, y, strict=True)):
            extra = [f"{note} {i}"] if note else []
            writer.writerow([f"{v:.5f}" for v in row] + extra + [NAMES[label]])
    return path


def make_stores(tmp_path, skew=False, n=3):
    """n empty stores and one CSV each; with `skew` each store sees mostly one class."""
    X, y = blobs(n=360, seed=5)
    stores, files = [], []
    for i in range(n):
        if skew:
            mine = np.flatnonzero((y == i) | (np.arange(len(y)) % 10 == i))
        else:
            mine = np.arange(i, len(y), n)
        store = tmp_path / f"store{i}.db"
        Engine(store).close()
        stores.append(store)
        files.append(write_csv(tmp_path / f"data{i}.csv", X[mine], y[mine], note=f"s{i}"))
    (tmp_path / "spec.json").write_text(json.dumps(SPEC))
    return stores, files


def test_average_weights_by_sample_count():
    a = ([np.full((2, 2), 1.0, np.float32)], [np.zeros(2, np.float32)])
    b = ([np.full((2, 2), 5.0, np.float32)], [np.ones(2, np.float32)])
    weights, biases = average([(a, 1), (b, 3)])
    assert np.allclose(weights[0], 4.0) and np.allclose(biases[0], 0.75)
    assert weights[0].dtype == np.float32
    with pytest.raises(ValueError, match="no training rows"):
        average([(a, 0)])


def test_the_shared_recipe_from_statistics_equals_the_centralized_one(tmp_path):
    """Counts, sums and squares per store give exactly the union's standardisation."""
    stores, files = make_stores(tmp_path, skew=True)
    spec = parse_spec(SPEC)
    union = tmp_path / "union.csv"
    rows = [r for f in files for r in csv.DictReader(f.open())]
    with union.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["x0", "x1", "x2", "x3", "note", "label"])
        writer.writeheader()
        writer.writerows({**r, "note": r["note"]} for r in rows)
    central = load_dataset(union, spec).feature_spec
    summaries = []
    for store, file in zip(stores, files, strict=True):
        records = [
            {k: (float(v) if k.startswith("x") else v) for k, v in r.items()}
            for r in csv.DictReader(file.open())
        ]
        summaries.append(FederatedClient(store, spec, records=records).summary())
    merged = merge_feature_spec(spec, summaries, "label")
    assert merged.numeric == central.numeric and merged.hashed == central.hashed == ["note"]
    assert np.allclose(merged.mean, central.mean) and np.allclose(merged.std, central.std)
    assert merged.label_names == central.label_names == NAMES
    # the summaries hold moments and label sets, not rows
    assert set(vars(summaries[0])) == {"rows", "kinds", "count", "total", "squares", "labels",
                                       "array_spec"}  # fmt: skip


def test_federate_through_the_cli_registers_in_every_store(tmp_path):
    stores, files = make_stores(tmp_path, skew=True)
    result = run_cli(
        "neural", "federate", "--stores", ",".join(map(str, stores)),
        "--model", str(tmp_path / "spec.json"), "--data", ",".join(map(str, files)),
        "--rounds", "4", "--local-epochs", "2", "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert [r["round"] for r in report["history"]] == [1, 2, 3, 4]
    for round_report in report["history"]:
        assert len(round_report["clients"]) == 3
        for client in round_report["clients"]:
            assert 0.0 <= client["global_val_accuracy"] <= 1.0
            assert client["local_val_accuracy"] is not None
    first, last = report["history"][0], report["history"][-1]
    assert last["val_accuracy"] > 0.9  # well-separated blobs
    assert last["val_accuracy"] >= first["val_accuracy"]
    pooled = sum(c["global_val_accuracy"] * c["n_held_out"] for c in last["clients"])
    assert abs(pooled / sum(c["n_held_out"] for c in last["clients"]) - last["val_accuracy"]) < 1e-9
    assert [s["n_held_out"] for s in report["stores"]] == [c["n_held_out"] for c in last["clients"]]

    weights = None
    for index, store in enumerate(stores):
        with Engine(store):
            row = m.NeuralModel.get(m.NeuralModel.name == "fed-blobs")
            assert row.status == "trained" and json.loads(row.tags) == ["federated"]
            assert row.val_accuracy == last["clients"][index]["global_val_accuracy"]
            rounds = m.TrainingHistory.select().where(m.TrainingHistory.model == row)
            assert [h.epoch for h in rounds.order_by(m.TrainingHistory.epoch)] == [1, 2, 3, 4]
            artifact = ModelArtifact.from_bytes(row.weights)
            # one global model everywhere, but each store's reasoning shows only its own rows
            if weights is None:
                weights = artifact.weights
            assert all(np.array_equal(a, b) for a, b in zip(weights, artifact.weights, strict=True))
            notes = {t.split("note=")[1].split(" ")[0] for t in artifact.examples.texts}
            assert notes == {f"s{index}"}
    predicted = run_cli(
        "neural", "predict", "--db", str(stores[0]), "--model", "fed-blobs", "--json",
        "--input", json.dumps({"x0": 0.1, "x1": 0.2, "x2": 0.3, "x3": 0.4, "note": "s0 1"}),
    )  # fmt: skip
    assert predicted.returncode == 0, predicted.stderr
    assert json.loads(predicted.stdout)[0]["prediction"] in NAMES


def test_human_output_shows_rounds_and_registrations(tmp_path):
    stores, files = make_stores(tmp_path, n=2)
    result = run_cli(
        "neural", "federate", "--stores", ",".join(map(str, stores)),
        "--model", str(tmp_path / "spec.json"), "--data", ",".join(map(str, files)),
        "--rounds", "2",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "round   2  held-out accuracy" in result.stderr
    assert f"registered fed-blobs@1 in {stores[1]}" in result.stdout


TWO_CLASSES = {**SPEC, "architecture": {"layers": [{"type": "input", "size": 8},
                                                  {"type": "output", "size": 2}]}}  # fmt: skip


@contextlib.contextmanager
def open_store(path):
    with Engine(path) as engine:
        yield engine


@pytest.mark.parametrize(
    ("stores", "data", "options", "fragment"),
    [
        ("{s0}", "{d0}", {}, "at least two stores"),
        ("{s0},{s0}", "{d0},{d1}", {}, "is listed twice"),
        ("{s0},{tmp}/nope.db", "{d0},{d1}", {}, "does not exist"),
        ("{s0},{s1}", "{d0}", {}, "1 files for 2 stores"),
        ("{s0},{s1}", "{d0},{tmp}/missing.csv", {}, "no such file"),
        ("{s0},{s1}", "{d0},{tmp}/spec.json", {}, "spec.json: expected a list of records"),
        ("{s0},{s1}", "{d0},{tmp}/nolabel.csv", {}, "row 0 has no label 'label'"),
        ("{s0},{s1}", "{d0},{d1}", {"rounds": 0}, "--rounds must be >= 1"),
        ("{s0},{s1}", "{d0},{d1}", {"local_epochs": 0}, "--local-epochs must be >= 1"),
        ("{s0},{s1}", "{d0},{d1}", {"name": "bad name"}, "model name 'bad name'"),
        ("{s0},{s1}", "{d0},{d1}", {"model": TWO_CLASSES}, "output layer has 2 units"),
    ],
)
def test_bad_input_is_named_and_stores_nothing(tmp_path, stores, data, options, fragment):
    paths, files = make_stores(tmp_path, n=2)
    (tmp_path / "nolabel.csv").write_text("x0,x1\n" + "1,2\n" * 8)
    values = {"s0": paths[0], "s1": paths[1], "d0": files[0], "d1": files[1], "tmp": tmp_path}
    options = {"rounds": 1, "model": SPEC, **options}
    with pytest.raises((ValueError, StoreError), match=re.escape(fragment)):
        run_federated(
            stores.format(**values).split(","), options.pop("model"), open_store,
            data=data.format(**values).split(","), **options,
        )  # fmt: skip
    for store in paths:
        with Engine(store):
            assert m.NeuralModel.select().count() == 0


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--stores", "{s0}", "--data", "{d0}"], "at least two stores"),
        (["--stores", "{s0},{s1}"], "--model needs --data"),
        (["--stores", "{s0},{s1}", "--data", "{d0},{d1}", "--db", "{s0}"], "not --db"),
    ],
)
def test_cli_bad_input_is_one_line(tmp_path, args, fragment):
    stores, files = make_stores(tmp_path, n=2)
    values = {"s0": stores[0], "s1": stores[1], "d0": files[0], "d1": files[1]}
    filled = [a.format(**values) for a in args]
    result = run_cli("neural", "federate", "--model", str(tmp_path / "spec.json"), *filled)
    assert_one_line_error(result, fragment)


def test_catalog_recipes_read_each_stores_own_rows(tmp_path):
    stores = []
    for name in ("a", "b"):
        engine = Engine(tmp_path / f"{name}.db")
        engine.seed()
        if name == "b":  # b's labelled operations differ from a's: half of them are gone
            ids = [r.id for r in m.LabelledOperation.select().order_by(m.LabelledOperation.id)]
            m.LabelledOperation.delete().where(m.LabelledOperation.id.in_(ids[::2])).execute()
        engine.close()
        stores.append(str(tmp_path / f"{name}.db"))
    result = run_cli(
        "neural", "federate", "--stores", ",".join(stores), "--catalog", "adaptive-coordinator",
        "--rounds", "2", "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    sizes = [s["n_train"] + s["n_held_out"] for s in report["stores"]]
    assert sizes[1] < sizes[0]  # each store trained on what it holds
    assert all(s["source"].startswith("labelled_operations") for s in report["stores"])
    assert [r["version"] for r in report["registered"]] == [1, 1]
    shared = run_cli("neural", "federate", "--stores", ",".join(stores), "--catalog", "sparc-coord")
    assert_one_line_error(shared, "not a store's own rows")
