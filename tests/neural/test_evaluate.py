"""`neural evaluate`: the one evaluation function, checked against `predict` on the same
rows, on drifted, one-class and unseen-label files, bad input, storage and the CLI."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.test_cli import assert_one_line_error, run_cli
from workbench.neural.evaluate import (
    classification_metrics,
    expected_calibration_error,
    regression_metrics,
    reliability,
)
from workbench.store import models as m

FEATURES = ["alpha", "beta", "gamma", "delta"]
LABELS = np.array(["high", "low", "mid"])


def _spec(name: str = "evalnet", out: int = 3, objective_act: str = "softmax") -> dict:
    return {
        "name": name,
        "architecture": {
            "layers": [
                {"type": "input", "size": 4},
                {"type": "hidden", "size": 12, "activation": "relu"},
                {"type": "output", "size": out, "activation": objective_act},
            ]
        },
        "training": {"learning_rate": 0.02, "batch_size": 16, "epochs": 25, "seed": 3},
    }


def _rows(n: int, seed: int, scale: float = 1.0, shift: float = 0.0):
    rng = np.random.default_rng(seed)
    centers = np.array([[3, 0, 40, -2], [0, 3, 10, 2], [-3, -3, 25, 0]], float)
    y = rng.integers(0, 3, n)
    X = centers[y] + rng.normal(size=(n, 4)) * np.array([1.5, 1.5, 12, 1.5])
    return X * scale + shift, y


def _write(path: Path, X, y, extra: dict | None = None, labels=LABELS) -> Path:
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(FEATURES + ["label"] + list(extra or {}))
        for i, (row, lab) in enumerate(zip(X, y, strict=True)):
            cells = [f"{v:.5f}" for v in row] + [labels[lab] if labels is not None else lab]
            w.writerow(cells + [v[i] for v in (extra or {}).values()])
    return path


@pytest.fixture
def trained(engine, tmp_path):
    X, y = _rows(300, 0)
    data = _write(tmp_path / "train.csv", X, y)
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps(_spec()))
    engine.neural.train(spec, data, backend="numpy")
    Xh, yh = _rows(120, 1)
    held = _write(tmp_path / "held.csv", Xh, yh)
    return engine, held, tmp_path


def _independent(engine, ref: str, path: Path):
    """Accuracy, confusion matrix and ECE recomputed by hand from `predict` output."""
    preds = engine.neural.predict(ref, str(path))
    with path.open(newline="") as f:
        truth = [r["label"] for r in csv.DictReader(f)]
    names = sorted(preds[0]["probabilities"])
    k = len(names)
    cm = [[0] * k for _ in range(k)]
    conf, correct = [], []
    for p, t in zip(preds, truth, strict=True):
        cm[names.index(t)][names.index(p["prediction"])] += 1
        conf.append(max(p["probabilities"].values()))
        correct.append(p["prediction"] == t)
    acc = sum(correct) / len(truth)
    ece = 0.0
    for b in range(10):
        idx = [i for i, c in enumerate(conf) if b / 10 < c <= (b + 1) / 10 or (b == 0 and c == 0)]
        if idx:
            ece += (
                len(idx)
                / len(conf)
                * abs(
                    sum(correct[i] for i in idx) / len(idx) - sum(conf[i] for i in idx) / len(idx)
                )
            )
    return acc, cm, ece, names


def test_evaluate_equals_an_independent_recomputation_from_predict(trained):
    engine, held, _ = trained
    ev = engine.neural.evaluate("evalnet", held)
    acc, cm, ece, names = _independent(engine, "evalnet", held)
    assert ev["labels"] == names
    assert ev["metrics"]["accuracy"] == pytest.approx(acc, abs=1e-12)
    assert ev["metrics"]["confusion"] == cm
    # predict rounds probabilities to 6 places; the ECE differs by less than that
    assert ev["metrics"]["ece"] == pytest.approx(ece, abs=2e-6)
    assert ev["rows"] == ev["evaluated"] == 120
    assert 0 < acc < 1 or acc == 1.0


def test_a_drifted_file_gives_the_same_predictions_as_predict_and_names_the_drift(trained):
    engine, _held, tmp = trained
    Xh, yh = _rows(120, 1)
    Xd = Xh.copy()
    Xd[:, 2] = Xd[:, 2] * 1.15 + 6.0  # only gamma drifts
    drifted = _write(tmp / "drifted.csv", Xd, yh)
    ev = engine.neural.evaluate("evalnet", drifted)
    acc, cm, _ece, _ = _independent(engine, "evalnet", drifted)
    assert ev["metrics"]["confusion"] == cm
    assert ev["metrics"]["accuracy"] == pytest.approx(acc)
    top = ev["drift"]["features"][0]
    assert top["feature"] == "gamma"
    stored = m.NeuralModel.get(m.NeuralModel.name == "evalnet")
    art_fs = engine.neural.load("evalnet").feature_spec
    j = art_fs.numeric.index("gamma")
    expected = (float(np.round(Xd[:, 2], 5).mean()) - art_fs.mean[j]) / art_fs.std[j]
    assert top["shift_sd"] == pytest.approx(expected, rel=1e-9)
    assert abs(top["shift_sd"]) > 5 * max(abs(d["shift_sd"]) for d in ev["drift"]["features"][1:])
    assert stored.id == ev["model_id"]


def test_one_class_file_evaluates_and_says_so(trained):
    engine, _held, tmp = trained
    X, y = _rows(120, 2)
    keep = y == 1
    path = _write(tmp / "one.csv", X[keep], y[keep])
    ev = engine.neural.evaluate("evalnet", path)
    per = {c["label"]: c for c in ev["metrics"]["per_class"]}
    assert per["low"]["support"] == int(keep.sum())
    assert per["high"]["support"] == per["mid"]["support"] == 0
    assert per["high"]["recall"] is None
    assert any("only one class (low)" in n for n in ev["notes"])
    acc, _cm, _ece, _ = _independent(engine, "evalnet", path)
    assert ev["metrics"]["accuracy"] == pytest.approx(acc)


def test_unseen_labels_are_counted_and_reported_by_line(trained):
    engine, _held, tmp = trained
    X, y = _rows(10, 3)
    labels = np.array(["high", "low", "mid", "unheard"])
    y[[2, 7]] = 3
    path = _write(tmp / "unseen.csv", X, y, labels=labels)
    ev = engine.neural.evaluate("evalnet", path)
    assert ev["unknown_label"]["count"] == 2
    assert ev["unknown_label"]["where"] == ["line 4 ('unheard')", "line 9 ('unheard')"]
    assert ev["evaluated"] == 8 and ev["rows"] == 10


def test_rows_missing_a_feature_are_reported_and_encoded_like_predict(trained):
    engine, _held, tmp = trained
    X, y = _rows(6, 4)
    path = _write(tmp / "gaps.csv", X, y)
    lines = path.read_text().splitlines()
    cells = lines[3].split(",")
    cells[1] = ""
    lines[3] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n")
    ev = engine.neural.evaluate("evalnet", path)
    assert ev["missing_feature"] == {"count": 1, "where": ["line 4 (beta)"]}
    acc, cm, _ece, _ = _independent(engine, "evalnet", path)
    assert ev["metrics"]["confusion"] == cm


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("alpha,beta,label\n1,2,high\n", "missing column(s) gamma, delta"),
        ("alpha,beta,gamma,delta\n1,2,3,4\n", "no label column 'label'"),
        ("", "empty file"),
        ("alpha,beta,gamma,delta,label\n", "no data rows"),
        ("alpha,beta,gamma,delta,label\n1,2,3,4,nope\n", "no row has a label the model knows"),
        ("alpha,beta,gamma,delta,label\n1,x,3,4,high\n", "expected a number"),
    ],
)
def test_bad_files_give_one_clear_line_and_write_nothing(trained, content, fragment):
    engine, _held, tmp = trained
    path = tmp / "bad.csv"
    path.write_text(content)
    before = m.Evaluation.select().count()
    with pytest.raises(ValueError, match=None) as err:
        engine.neural.evaluate("evalnet", path)
    assert fragment in str(err.value)
    assert "\n" not in str(err.value)
    assert m.Evaluation.select().count() == before


def test_extra_columns_are_ignored_and_said(trained):
    engine, held, tmp = trained
    X, y = _rows(20, 5)
    path = _write(tmp / "extra.csv", X, y, extra={"notes": ["x"] * 20})
    ev = engine.neural.evaluate("evalnet", path)
    assert ev["notes"] == ["ignored column(s) the model does not use: notes"]
    plain = _write(tmp / "plain.csv", X, y)
    assert engine.neural.evaluate("evalnet", plain)["metrics"] == ev["metrics"]


def test_evaluations_are_stored_per_version_and_data_hash(trained):
    engine, held, _ = trained
    first = engine.neural.evaluate("evalnet", held)
    again = engine.neural.evaluate("evalnet@1", held)
    rows = list(m.Evaluation.select())
    assert len(rows) == 1 and rows[0].id == again["evaluation_id"]
    assert rows[0].accuracy == pytest.approx(first["metrics"]["accuracy"])
    assert engine.neural.evaluations("evalnet")[0]["metrics"] == first["metrics"]


def test_quantize_before_and_after_equal_two_evaluate_calls(trained):
    engine, held, _ = trained
    q = engine.neural.quantize("evalnet", data=held)
    before = engine.neural.evaluate(f"evalnet@{q['source_version']}", held)
    after = engine.neural.evaluate(f"evalnet@{q['version']}", held)
    assert q["accuracy_before"] == before["metrics"]["accuracy"]
    assert q["accuracy_after"] == after["metrics"]["accuracy"]
    assert q["loss_before"] == pytest.approx(before["metrics"]["log_loss"])
    acc, _cm, _ece, _ = _independent(engine, f"evalnet@{q['version']}", held)
    assert q["accuracy_after"] == pytest.approx(acc)


def test_quantize_on_a_drifted_file_uses_the_models_scaling(trained):
    """The old quantize re-standardized the held-out file and hid the drift."""
    engine, _held, tmp = trained
    Xh, yh = _rows(120, 1)
    drifted = _write(tmp / "drift.csv", Xh * 1.15 + 0.5, yh)
    q = engine.neural.quantize("evalnet", data=drifted)
    acc, _cm, _ece, _ = _independent(engine, "evalnet@1", drifted)
    assert q["accuracy_before"] == pytest.approx(acc)


def test_two_versions_compare_on_the_same_data(trained):
    engine, held, tmp = trained
    spec = tmp / "spec2.json"
    spec2 = _spec()
    spec2["training"]["epochs"] = 2
    spec.write_text(json.dumps(spec2))
    X, y = _rows(300, 0)
    engine.neural.train(spec, _write(tmp / "train2.csv", X, y), backend="numpy")
    a = engine.neural.evaluate("evalnet@1", held)
    b = engine.neural.evaluate("evalnet@2", held)
    cmp = engine.neural.compare_evaluations("evalnet@1", "evalnet@2")
    d = cmp["differences"]
    assert d["accuracy"] == pytest.approx(b["metrics"]["accuracy"] - a["metrics"]["accuracy"])
    for pc, ca, cb in zip(d["per_class"], a["metrics"]["per_class"], b["metrics"]["per_class"],
                          strict=True):  # fmt: skip
        assert pc["f1"] == pytest.approx(cb["f1"] - ca["f1"])
    other = _write(tmp / "other.csv", *_rows(30, 9))
    engine.neural.evaluate("evalnet@1", other)
    assert cmp["data_hash"] == a["data_hash"]
    with pytest.raises(ValueError, match="pick two different versions"):
        engine.neural.compare_evaluations("evalnet@1", "evalnet@1")


def test_regression_and_reconstruction_models_evaluate(engine, tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 4))
    target = X @ np.array([1.0, -2.0, 0.5, 0.0]) + 0.1 * rng.normal(size=200)
    path = tmp_path / "reg.csv"
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(FEATURES + ["label"])
        w.writerows(
            [[*(f"{v:.5f}" for v in r), f"{t:.5f}"] for r, t in zip(X, target, strict=True)]
        )
    spec = _spec("regnet", out=1, objective_act="linear")
    spec["training"]["epochs"] = 40
    (tmp_path / "reg.json").write_text(json.dumps(spec))
    engine.neural.train(tmp_path / "reg.json", path, backend="numpy")
    ev = engine.neural.evaluate("regnet", path)
    preds = np.array([p["prediction"] for p in engine.neural.predict("regnet", str(path))])
    t = np.round(target, 5)
    assert ev["metrics"]["mae"] == pytest.approx(np.abs(preds - t).mean(), rel=1e-5)
    assert ev["metrics"]["r2"] == pytest.approx(
        1 - ((preds - t) ** 2).sum() / ((t - t.mean()) ** 2).sum(), rel=1e-5
    )


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 40).flatmap(
        lambda n: st.tuples(
            st.lists(st.lists(st.floats(0.01, 1.0), min_size=3, max_size=3), min_size=n,
                     max_size=n),
            st.lists(st.integers(0, 2), min_size=n, max_size=n),
        )
    )
)  # fmt: skip
def test_classification_metrics_match_plain_loops(case):
    raw, y = case
    P = np.array(raw)
    P = P / P.sum(axis=1, keepdims=True)
    y = np.array(y)
    mt = classification_metrics(P, y, ["a", "b", "c"])
    pred = [int(np.argmax(r)) for r in P]
    assert mt["accuracy"] == pytest.approx(
        sum(p == t for p, t in zip(pred, y, strict=True)) / len(y)
    )
    for i in range(3):
        tp = sum(1 for p, t in zip(pred, y, strict=True) if p == i and t == i)
        npred = pred.count(i)
        assert mt["per_class"][i]["precision"] == (tp / npred if npred else None)
        assert mt["per_class"][i]["support"] == int((y == i).sum())
    assert mt["log_loss"] == pytest.approx(-np.mean(np.log(P[np.arange(len(y)), y])))
    bins = reliability(P, y)
    assert sum(b["count"] for b in bins) == len(y)
    assert mt["ece"] == pytest.approx(expected_calibration_error(bins))
    assert 0 <= mt["ece"] <= 1


def test_regression_metrics_match_numpy():
    p, t = np.array([1.0, 2.0, 4.0]), np.array([1.5, 2.0, 3.0])
    r = regression_metrics(p, t)
    assert r["mae"] == pytest.approx(0.5)
    assert r["rmse"] == pytest.approx(np.sqrt((0.25 + 0 + 1) / 3))
    assert r["r2"] == pytest.approx(1 - 1.25 / ((t - t.mean()) ** 2).sum())


def test_cli_evaluate_json_and_tables(trained):
    engine, held, _ = trained
    db = str(engine.store_target)  # a path, or the PostgreSQL URL
    engine.close()
    res = run_cli("neural", "evaluate", "evalnet", "--data", str(held), "--json", "--db", db)
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["name"] == "evalnet" and out["evaluated"] == 120
    res = run_cli("neural", "evaluate", "evalnet", "--data", str(held), "--db", db)
    assert res.returncode == 0
    assert "accuracy" in res.stdout and "confusion matrix" in res.stdout
    assert f"{out['metrics']['accuracy']:.4f}" in res.stdout


def test_cli_evaluate_bad_input_is_one_line(trained):
    engine, _held, tmp = trained
    db = str(engine.store_target)  # a path, or the PostgreSQL URL
    engine.close()
    (tmp / "e.csv").write_text("")
    assert_one_line_error(
        run_cli("neural", "evaluate", "evalnet", "--data", str(tmp / "e.csv"), "--db", db),
        "empty file",
    )
    assert_one_line_error(
        run_cli("neural", "evaluate", "nosuch", "--data", str(tmp / "e.csv"), "--db", db),
        "nosuch",
    )
