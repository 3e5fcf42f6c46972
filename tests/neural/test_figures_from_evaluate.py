"""Every "how good" figure equals `neural predict` on the same rows: the catalog's measured
accuracy, federated learning's held-out accuracy, and an ensemble given labelled data."""

from __future__ import annotations

import contextlib
import json

import numpy as np
import pytest

from tests.neural.test_federated import SPEC, make_stores
from workbench.engine import Engine
from workbench.neural import catalog as cat
from workbench.neural import parse_spec, registry
from workbench.neural.federated import run_federated
from workbench.store import models as m


@pytest.fixture
def seeded(tmp_path):
    eng = Engine(tmp_path / "seeded.db")
    eng.seed()
    yield eng
    eng.close()


def held_out_records(records: list[dict], spec: dict) -> list[dict]:
    """The rows training held out: split_validation's seeded permutation (other rows would
    not reproduce the figures compared below)."""
    t = parse_spec(spec).training
    n = len(records)
    perm = np.random.default_rng([t.seed, 1]).permutation(n)
    n_val = min(n - 1, max(1, round(n * t.validation_split)))
    return [records[i] for i in sorted(perm[:n_val])]


def test_catalog_accuracy_equals_predict_on_its_held_out_rows(seeded, tmp_path):
    name = "cicd-engineer"
    summary = seeded.neural.train_catalog(name, epochs=3, backend="numpy")
    entry = cat.get(name)
    path, _n = cat.build_training_file(entry, tmp_path)
    records = json.loads(path.read_text())["trainingData"]
    held = held_out_records(records, entry.spec)
    label = "label"
    preds = seeded.neural.predict(f"{name}@{summary['version']}", held)
    hits = sum(str(p["prediction"]) == str(r[label]) for p, r in zip(preds, held, strict=True))
    shown = next(r for r in seeded.neural.catalog() if r["name"] == name)
    assert shown["val_rows"] == len(held)
    assert shown["val_accuracy"] == pytest.approx(hits / len(held), abs=1e-9)
    # and the evaluation function, given those rows, says the same
    ev = seeded.neural.evaluate_records(f"{name}@{summary['version']}", held, label)
    assert ev["metrics"]["accuracy"] == pytest.approx(shown["val_accuracy"], abs=1e-9)


def test_federated_held_out_accuracy_equals_predict_on_each_stores_rows(tmp_path):
    stores, files = make_stores(tmp_path)

    @contextlib.contextmanager
    def open_store(path):
        with Engine(path) as engine, engine.guard():
            yield engine

    result = run_federated(stores, SPEC, open_store, rounds=2, data=[str(f) for f in files],
                           backend="numpy", name="fed-eval")  # fmt: skip
    last = result["history"][-1]
    total_hits = total = 0
    for store, file, client in zip(stores, files, last["clients"], strict=True):
        with Engine(store) as engine:
            ref = f"fed-eval@{registry.resolve('fed-eval').version}"
            lines = file.read_text().splitlines()
            header = lines[0].split(",")
            records = [dict(zip(header, ln.split(","), strict=True)) for ln in lines[1:]]
            held = held_out_records(records, SPEC)
            preds = engine.neural.predict(ref, held)
            hits = sum(p["prediction"] == r["label"] for p, r in zip(preds, held, strict=True))
            assert client["global_val_accuracy"] == pytest.approx(hits / len(held), abs=1e-6)
            total_hits, total = total_hits + hits, total + len(held)
    assert last["val_accuracy"] == pytest.approx(total_hits / total, abs=1e-6)


def test_ensemble_with_labelled_data_equals_neural_ensemble(engine, tmp_path):
    from tests.neural.test_evaluate import _rows, _spec, _write

    X, y = _rows(300, 0)
    data = _write(tmp_path / "train.csv", X, y)
    for seed in (3, 4):
        spec = _spec()
        spec["training"]["seed"] = seed
        (tmp_path / f"s{seed}.json").write_text(json.dumps(spec))
        engine.neural.train(tmp_path / f"s{seed}.json", data, backend="numpy")
    held = _write(tmp_path / "held.csv", *_rows(90, 1))
    refs = ["evalnet@1", "evalnet@2"]
    ev = engine.neural.evaluate_ensemble(refs, held)
    preds = engine.neural.ensemble(refs, str(held))
    truth = [ln.rsplit(",", 1)[1] for ln in held.read_text().splitlines()[1:]]
    hits = sum(p["prediction"] == t for p, t in zip(preds, truth, strict=True))
    assert ev["metrics"]["accuracy"] == pytest.approx(hits / len(truth), abs=1e-12)
    assert ev["predictions"] == [p["prediction"] for p in preds]
    assert m.Evaluation.select().count() == 0  # measured on the spot, not a version's
