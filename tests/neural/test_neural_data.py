"""Loaders: JSON/CSV/NPZ, text hashing, errors naming the row/key/line, no pickle."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.neural.helpers import SAMPLES, make_spec
from workbench.neural import data_hash, featurize, load_dataset, read_inputs
from workbench.neural.data import FeatureSpec


def test_sample_json_with_text_hashing():
    spec = make_spec((32, 8, 3))
    ds = load_dataset(SAMPLES / "code_review.json", spec)
    assert ds.X.dtype == np.float32 and ds.X.shape == (18, 32)
    assert ds.label_names == ["plaintext_secret", "safe", "sql_injection"]
    assert ds.feature_spec.numeric == ["review_rounds"]
    assert ds.feature_spec.hashed == ["code", "context"]
    assert ds.validation is not None and len(ds.validation) == 3
    assert ds.texts[0].startswith("code=db.query")
    # prediction inputs are encoded exactly like training rows
    doc = json.loads((SAMPLES / "code_review.json").read_text())
    again = featurize(doc["trainingData"], ds.feature_spec)
    np.testing.assert_array_equal(again, ds.X)


def test_sample_csv_numeric_and_text_columns():
    spec = make_spec((24, 8, 3))
    ds = load_dataset(SAMPLES / "tickets.csv", spec)
    assert ds.feature_spec.numeric == ["attachments", "words"]
    assert ds.feature_spec.hashed == ["title"]
    assert ds.label_names == ["bug", "feature", "question"]
    rows = read_inputs(SAMPLES / "tickets.csv")
    np.testing.assert_array_equal(featurize(rows, ds.feature_spec), ds.X)


def test_width_must_match_input(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("a,b,label\n1,2,x\n3,4,y\n")
    with pytest.raises(
        ValueError, match=r"2 numeric features \(a, b\) but .*layers\[0\].size is 4"
    ):
        load_dataset(p, make_spec((4, 8, 2)))
    with pytest.raises(ValueError, match="needs room beyond the numeric ones"):
        load_dataset(SAMPLES / "tickets.csv", make_spec((2, 8, 3)))


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_json_errors_name_record_and_key(tmp_path):
    spec = make_spec((2, 4, 2))
    bad = {"trainingData": [{"a": 1, "b": 2, "label": "x"}, {"a": 1, "b": [1, 2], "label": "y"}]}
    p = write(tmp_path, "d.json", json.dumps(bad))
    with pytest.raises(ValueError, match=r"trainingData\[1\].b: nested value \(list\)"):
        load_dataset(p, spec)
    bad = {"trainingData": [{"a": 1, "b": 2, "label": "x"}, {"a": 1, "b": 3}]}
    p = write(tmp_path, "d.json", json.dumps(bad))
    with pytest.raises(ValueError, match=r"trainingData\[1\]: missing label key 'label'"):
        load_dataset(p, spec)
    p = write(tmp_path, "d.json", '{"trainingData": [')
    with pytest.raises(ValueError, match="invalid JSON at line 1"):
        load_dataset(p, spec)
    bad = {"trainingData": [{"a": 1, "b": 2, "label": "x"}, {"a": 1, "b": 3, "label": "y"}]}
    bad["validationData"] = [{"a": 1, "b": 1, "label": "z"}]
    p = write(tmp_path, "d.json", json.dumps(bad))
    with pytest.raises(ValueError, match=r"validationData\[0\]: label 'z' does not occur"):
        load_dataset(p, spec)
    with pytest.raises(ValueError, match="the data has 2 classes .* set architecture"):
        load_dataset(p, make_spec((2, 4, 3)))


def test_csv_errors_name_line_and_column(tmp_path):
    spec = make_spec((2, 4, 2))
    p = write(tmp_path, "d.csv", "a,b,label\n1,2,x\n3,4,y\n5,6\n")
    with pytest.raises(ValueError, match="d.csv line 4: expected 3 fields, got 2"):
        load_dataset(p, spec)
    p = write(tmp_path, "d.csv", "a,b,label\n1,2,x\n3,4,y\n5,abc,x\n7,8,y\n")
    with pytest.raises(ValueError, match="d.csv line 4, column 'b': 'abc' is not a finite"):
        load_dataset(p, spec)
    p = write(tmp_path, "d.csv", "a,b,label\n1,2,x\n3,4,\n")
    with pytest.raises(ValueError, match="d.csv line 3, column 'label': empty label"):
        load_dataset(p, spec)
    p = write(tmp_path, "d.csv", "a,b,kind\n1,2,x\n")
    with pytest.raises(ValueError, match="no label column 'label'"):
        load_dataset(p, spec)
    p = write(tmp_path, "d.csv", "a,b,label\n1,2,1.5\n3,4,2\n")
    ds = load_dataset(p, make_spec((2, 4, 1), out="linear"))
    assert ds.y.tolist() == [[1.5], [2.0]]


def test_npz_arrays_and_pickle_refused(tmp_path):
    spec = make_spec((3, 4, 2))
    p = tmp_path / "d.npz"
    np.savez(p, X=np.ones((5, 3)), y=np.array(["u", "v", "u", "v", "u"]))
    ds = load_dataset(p, spec)
    assert ds.label_names == ["u", "v"] and ds.y.tolist() == [0, 1, 0, 1, 0]
    evil = tmp_path / "evil.npz"
    np.savez(evil, X=np.array([{"a": 1}] * 3, dtype=object), y=np.zeros(3, int))
    with pytest.raises(ValueError, match="pickled Python objects; refused"):
        load_dataset(evil, spec)
    np.savez(p, X=np.ones((5, 4)), y=np.zeros(5, int))
    with pytest.raises(ValueError, match="X has 4 features but architecture.layers\\[0\\].size"):
        load_dataset(p, spec)
    np.savez(p, X=np.ones((5, 3)), y=np.full(5, 7))
    with pytest.raises(ValueError, match="labels must be in \\[0, 1\\]"):
        load_dataset(p, spec)


def test_data_hash_is_sha256_of_bytes(tmp_path):
    import hashlib

    p = write(tmp_path, "x.csv", "a,label\n1,x\n")
    assert data_hash(p) == hashlib.sha256(p.read_bytes()).hexdigest()


FS = FeatureSpec(16, numeric=["n"], hashed=["t"], mean=[1.0], std=[2.0], label_names=["a", "b"])


@settings(max_examples=40, deadline=None)
@given(st.text(max_size=40), st.floats(-1e6, 1e6))
def test_featurize_is_deterministic_and_bounded(text, num):
    rec = {"t": text, "n": num}
    a, b = featurize(rec, FS), featurize([rec, rec], FS)
    np.testing.assert_array_equal(a[0], b[1])
    assert a.shape == (1, 16) and a.dtype == np.float32
    # float32 features: absolute error up to float32 eps of the input
    assert a[0, 0] == pytest.approx((num - 1.0) / 2.0, rel=1e-6, abs=2e-7 * max(1.0, abs(num)))
    block = a[0, 1:]
    assert np.linalg.norm(block) == pytest.approx(1.0, abs=1e-5) or not block.any()
    assert FeatureSpec.from_dict(FS.to_dict()) == FS
