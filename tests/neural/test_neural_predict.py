"""Prediction fields, ensembles, quantization reports, the model LRU cache."""

from __future__ import annotations

import numpy as np
import pytest

from tests.neural.helpers import SAMPLES, blobs, make_spec
from workbench.neural import (
    Dataset,
    ModelCache,
    ensemble,
    load_dataset,
    predict,
    quantize_artifact,
    read_inputs,
    train,
)


@pytest.fixture(scope="module")
def trained():
    s = make_spec()
    X, y = blobs()
    ds = Dataset.from_arrays(X, y, s, label_names=["a", "b", "c"])
    return ds, train(s, ds, backend="numpy").artifact


def test_prediction_fields(trained):
    ds, art = trained
    preds = predict(art, ds.X[:5], backend="wasm")
    assert len(preds) == 5
    for p, yi in zip(preds, ds.y[:5], strict=True):
        assert p.prediction == ["a", "b", "c"][yi]
        assert p.confidence == max(p.probabilities.values())
        assert sum(p.probabilities.values()) == pytest.approx(1.0, abs=1e-5)
        assert len(p.reasoning) == 3
        sims = [n.similarity for n in p.reasoning]
        assert sims == sorted(sims, reverse=True) and -1 <= sims[-1] <= sims[0] <= 1.0001
        assert all(n.label in ("a", "b", "c") and n.text.startswith("row ") for n in p.reasoning)
        assert isinstance(p.recommendations, list)
        assert set(p.to_dict()) >= {"prediction", "confidence", "reasoning", "recommendations"}


def test_recommendations_follow_the_numbers(trained):
    ds, art = trained
    # a point between clusters: low confidence / close runner-up
    mid = (ds.X[ds.y == 0].mean(axis=0) + ds.X[ds.y == 1].mean(axis=0)) / 2
    p = predict(art, mid[None, :], backend="numpy")[0]
    if p.confidence < 0.6:
        assert any("below 0.6" in r for r in p.recommendations)
    # the opposite direction of every stored example is far from all of them
    far = -np.sign(ds.X.mean(axis=0)) * 100
    q = predict(art, far[None, :], backend="numpy")[0]
    best = max(n.similarity for n in q.reasoning)
    assert (best < 0.3) == any("far from all stored" in r for r in q.recommendations)


def test_predict_records_from_json_and_csv():
    s = make_spec((24, 12, 3), epochs=30, batch_size=4)
    ds = load_dataset(SAMPLES / "tickets.csv", s)
    art = train(s, ds, backend="numpy").artifact
    rows = read_inputs(SAMPLES / "tickets.csv")
    preds = predict(art, rows[:3], backend="numpy")
    assert preds[0].input.startswith("title=App crashes")
    one = predict(art, read_inputs('{"title": "how do I export", "attachments": 0}'))
    assert one[0].prediction in ("bug", "feature", "question")
    with pytest.raises(ValueError, match=r"input\[0\].words: expected a number"):
        predict(art, {"title": "x", "words": "many"})


def test_regression_prediction_has_no_confidence():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 4)).astype(np.float32)
    s = make_spec((4, 6, 1), out="linear", epochs=20)
    art = train(s, Dataset.from_arrays(X, X[:, 0] * 2, s), backend="numpy").artifact
    lo, hi = art.feature_spec.target_range
    for row in ([100, 0, 0, 0], [0.1, 0, 0, 0]):
        p = predict(art, [row], backend="numpy")[0]
        assert isinstance(p.prediction, float) and p.confidence is None
        outside = not lo <= p.prediction <= hi
        assert outside == any("outside the training target range" in r for r in p.recommendations)
        assert outside == (row[0] == 100)


def test_ensemble_averages_and_refuses_mismatch(trained):
    ds, art = trained
    s2 = make_spec(seed=11, epochs=3)
    art2 = train(s2, ds, backend="numpy").artifact
    out = ensemble([art, art2], ds.X[:4], backend="numpy", names=["m1", "m2"])
    p1 = predict(art, ds.X[:4], backend="numpy")
    p2 = predict(art2, ds.X[:4], backend="numpy")
    for e, a, b in zip(out, p1, p2, strict=True):
        for k in ("a", "b", "c"):
            want = (a.probabilities[k] + b.probabilities[k]) / 2
            assert e.probabilities[k] == pytest.approx(want, abs=2e-6)
        agree = sum(m["prediction"] == e.prediction for m in e.members) / 2
        assert e.agreement == agree
    other = make_spec((4, 8, 2))
    X, y = blobs(k=2)
    art3 = train(other, Dataset.from_arrays(X, y, other), backend="numpy").artifact
    with pytest.raises(ValueError, match="has labels"):
        ensemble([art, art3], ds.X[:1])
    with pytest.raises(ValueError, match="at least two"):
        ensemble([art], ds.X[:1])


def test_quantization_report_is_measured(trained):
    ds, art = trained
    big = make_spec((4, 64, 64, 3), epochs=4)
    art = train(big, ds, backend="numpy").artifact
    qa, rep = quantize_artifact(art, ds)
    assert rep.size_after < rep.size_before == art.size_bytes
    assert rep.size_after == qa.size_bytes
    assert rep.weight_bytes_after < rep.weight_bytes_before / 3
    assert rep.rows_evaluated == len(ds)
    ev = predict(qa, ds.X, backend="numpy")
    acc = np.mean([p.prediction == "abc"[t] for p, t in zip(ev, ds.y, strict=True)])
    assert rep.accuracy_after == pytest.approx(acc)
    assert abs(rep.accuracy_after - rep.accuracy_before) <= 0.05
    again = type(qa).from_bytes(qa.to_bytes())
    assert again.quantized is not None
    np.testing.assert_array_equal(again.weights[0], qa.weights[0])
    with pytest.raises(ValueError, match="only 8"):
        quantize_artifact(art, ds, bits=4)


def test_model_cache_lru():
    c = ModelCache(maxsize=2)
    loads = []

    def loader(key):
        def f():
            loads.append(key)
            return key  # any object stands in for an artifact

        return f

    assert c.get(("a", 1), loader(("a", 1))) == ("a", 1)
    c.get(("b", 1), loader(("b", 1)))
    c.get(("a", 1), loader(("a", 1)))  # hit, a becomes most recent
    c.get(("c", 1), loader(("c", 1)))  # evicts b
    assert ("b", 1) not in c and ("a", 1) in c and len(c) == 2
    assert loads == [("a", 1), ("b", 1), ("c", 1)]
    assert (c.hits, c.misses) == (1, 3)
    assert c.get(("zz", 1)) is None and c.misses == 4
    c.invalidate("a")
    assert c.keys() == [("c", 1)]
    assert c.stats() == {"hits": 1, "misses": 4, "size": 1, "maxsize": 2}
    with pytest.raises(ValueError):
        ModelCache(0)
