"""Which versions can form an ensemble (the Models pane asks before it marks one): the
same classes and the same input, said in one line when not."""

from __future__ import annotations

import json

import pytest

from tests.neural.helpers import SAMPLES, blobs, make_spec
from workbench.neural import Dataset, train
from workbench.neural.predict import ensemble, ensemble_mismatch
from workbench.neural.registry import RegistryError

SPEC = SAMPLES / "code-review.model.json"
DATA = SAMPLES / "code_review.json"
MODEL = "code-review-classifier"


def _array_model(d: int = 4, k: int = 3, labels=("a", "b", "c"), seed: int = 7):
    spec = make_spec((d, 8, k), epochs=2, seed=seed)
    X, y = blobs(d=d, k=k)
    return train(spec, Dataset.from_arrays(X, y, spec, label_names=list(labels)), backend="numpy")


def test_array_models_same_width_and_labels_agree_else_one_line():
    a = _array_model().artifact
    b = _array_model(seed=11).artifact
    assert ensemble_mismatch([a, b], ["a@1", "b@1"]) is None
    wide = _array_model(d=5).artifact
    assert ensemble_mismatch([a, wide], ["a@1", "w@1"]) == "w@1 reads 5 numbers, a@1 reads 4"
    relabelled = _array_model(labels=("x", "y", "z")).artifact
    problem = ensemble_mismatch([a, relabelled], ["a@1", "r@1"])
    assert problem == "r@1 has labels ['x', 'y', 'z'], a@1 has ['a', 'b', 'c']"
    # the averaging itself refuses the same mismatch with the same words
    with pytest.raises(ValueError, match=r"^ensemble: r@1 has labels"):
        ensemble([a, relabelled], [[0.0] * 4], names=["a@1", "r@1"], backend="numpy")


def _variant(tmp_path, name: str, rename: dict[str, str]):
    """The sample data with fields or labels renamed."""
    doc = json.loads(DATA.read_text())
    for part in doc.values():
        for row in part:
            for old, new in rename.items():
                if old in row:
                    row[new] = row.pop(old)
                if row.get("label") == old:
                    row["label"] = new
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(doc))
    return path


def test_versions_of_a_stored_model(fixture_engine, tmp_path):
    neural = fixture_engine.neural
    for epochs in (2, 3):
        neural.train(SPEC, DATA, epochs=epochs)
    assert neural.ensemble_problem([f"{MODEL}@1", f"{MODEL}@2"]) is None
    neural.train(SPEC, _variant(tmp_path, "fields", {"code": "snippet"}), epochs=2, name=MODEL)
    problem = neural.ensemble_problem([f"{MODEL}@1", f"{MODEL}@3"])
    assert problem is not None and problem.startswith(f"{MODEL}@3 reads fields [")
    assert "'snippet'" in problem and "\n" not in problem
    neural.train(
        SPEC, _variant(tmp_path, "labels", {"sql_injection": "sqli"}), epochs=2, name=MODEL
    )
    problem = neural.ensemble_problem([f"{MODEL}@1", f"{MODEL}@2", f"{MODEL}@4"])
    assert problem is not None and problem.startswith(f"{MODEL}@4 has labels [")
    with pytest.raises(RegistryError, match="unknown model version"):
        neural.ensemble_problem([f"{MODEL}@1", f"{MODEL}@99"])
