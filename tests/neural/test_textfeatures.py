"""Text features chosen by measurement: deterministic, IDF from training rows only,
reproduced after reload, older versions untouched, bad specs refused in one line."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest

from tests.test_cli import assert_one_line_error, run_cli
from workbench.engine import Engine
from workbench.neural import selection
from workbench.neural.data import FeatureSpec, load_dataset
from workbench.neural.spec import parse_spec
from workbench.neural.textfeatures import TextFeatures, char_grams, word_grams
from workbench.neural.train import train

TRAIN = [
    ("fix the crash when the cache is empty", "fix"),
    ("fix a typo in the login page", "fix"),
    ("repair the broken retry loop", "fix"),
    ("fix flaky upload test", "fix"),
    ("brainstorm names for the new service", "ideas"),
    ("brainstorm ways to onboard users", "ideas"),
    ("list ideas for the dashboard", "ideas"),
    ("explore options for caching", "ideas"),
    ("audit the token handling", "review"),
    ("review the payment code for risks", "review"),
    ("audit permissions on the bucket", "review"),
    ("review error handling in the parser", "review"),
]
HELD_ONLY = "zyxquorble"
HELD = [(f"{HELD_ONLY} the cache", "fix")]
KEYWORDS = {"review": ["audit", "review"], "fix": ["fix", "repair"], "ideas": ["brainstorm"]}


def test_grams_are_words_and_padded_characters():
    assert word_grams("Fix the bug") == ["fix", "the", "bug", "fix the", "the bug"]
    grams = char_grams("ab cd", 3, 3)
    assert grams == [" ab", "ab ", " cd", "cd "]


def test_extraction_is_deterministic_and_survives_a_round_trip():
    texts = [t for t, _ in TRAIN]
    a = TextFeatures(word_dim=64, char_dim=128, keywords=KEYWORDS).fit(texts)
    b = TextFeatures(word_dim=64, char_dim=128, keywords=KEYWORDS).fit(texts)
    assert a.to_dict() == b.to_dict()
    X = a.transform(texts)
    assert X.shape == (len(texts), 64 + 128 + 3)
    np.testing.assert_array_equal(X, a.transform(texts))
    # stored as JSON with sorted keys (the keyword lexicon reordered): same encoding
    stored = json.loads(json.dumps(a.to_dict(), sort_keys=True))
    np.testing.assert_array_equal(TextFeatures.from_dict(stored).transform(texts), X)
    # each hashed block is L2-normalised; the keyword block counts hits per class
    np.testing.assert_allclose(np.linalg.norm(X[:, :64], axis=1), 1.0, rtol=1e-5)
    kw = X[0, 192:]  # "fix the crash...": classes in sorted order fix, ideas, review
    assert kw[0] > 0 and kw[1] == 0 and kw[2] == 0


def test_idf_is_learned_from_the_training_rows_only():
    tf = TextFeatures(word_dim=4096, char_dim=0, sublinear=False)
    fitted = tf.fit([t for t, _ in TRAIN])
    assert fitted.fitted_rows == len(TRAIN)
    held_bucket = int(np.flatnonzero(tf.counts([HELD_ONLY]))[0])
    train_buckets = set(np.flatnonzero(tf.counts([t for t, _ in TRAIN]).sum(axis=0)).tolist())
    assert held_bucket not in train_buckets  # no collision hides the check
    assert held_bucket not in fitted.idf_map(), "a held-out-only token got an IDF entry"
    leaky = tf.fit([t for t, _ in TRAIN + HELD])
    assert held_bucket in leaky.idf_map()
    # a bucket with no IDF entry contributes nothing at prediction time
    assert not fitted.transform([HELD_ONLY]).any()
    # rarer words weigh more: "the" (in many rows) against "typo" (in one)
    idf = fitted.idf_map()
    the, typo = (int(np.flatnonzero(tf.counts([w]))[0]) for w in ("the", "typo"))
    assert idf[typo] > idf[the]


def test_a_training_file_fits_idf_on_training_data_not_validation_data(tmp_path):
    doc = {
        "trainingData": [{"text": t, "label": y} for t, y in TRAIN],
        "validationData": [{"text": t, "label": y} for t, y in HELD],
    }
    path = tmp_path / "d.json"
    path.write_text(json.dumps(doc))
    tf = TextFeatures(word_dim=256, char_dim=0)
    cfg = tf.config()
    spec = parse_spec(selection.candidate_spec(selection.Candidate(None, 0.01), 256, 3,
                                               text_features=cfg))  # fmt: skip
    ds = load_dataset(path, spec)
    assert ds.feature_spec.text.fitted_rows == len(TRAIN)
    assert ds.feature_spec.text.idf_map() == tf.fit([t for t, _ in TRAIN]).idf_map()


def test_weight_decay_shrinks_weights_and_is_validated():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 8)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int32)
    from workbench.neural.data import Dataset

    norms = []
    for wd in (0.0, 0.5):
        spec = parse_spec(selection.candidate_spec(selection.Candidate(None, wd), 8, 2,
                                                   epochs=20))  # fmt: skip
        res = train(spec, Dataset.from_arrays(X, y, spec), backend="numpy")
        norms.append(float(np.linalg.norm(res.artifact.weights[0])))
    assert norms[1] < norms[0] * 0.8
    bad = selection.candidate_spec(selection.Candidate(None, 0.1), 8, 2)
    bad["training"]["weight_decay"] = -1
    with pytest.raises(ValueError, match="weight_decay"):
        parse_spec(bad)


def test_cross_validation_needs_a_row_per_fold():
    with pytest.raises(ValueError, match=r"3 rows for 5 folds") as err:
        selection.select(["a b", "c d", "e f"], ["x", "y", "x"], TextFeatures(64, 64), folds=5)
    assert "\n" not in str(err.value)
    with pytest.raises(ValueError, match="folds must be an integer >= 2"):
        selection.stratified_folds(["x", "y"], 1)
    folds = selection.stratified_folds([y for _, y in TRAIN], 4)
    assert sorted(np.concatenate(folds).tolist()) == list(range(len(TRAIN)))
    assert all(len(f) == 3 for f in folds)  # classes dealt evenly


def test_selection_keeps_only_blocks_that_help_and_records_the_table():
    texts, labels = [t for t, _ in TRAIN], [y for _, y in TRAIN]
    grid = (selection.Candidate(None, 0.01), selection.Candidate(16, 0.01))
    out = selection.select(texts, labels, TextFeatures(64, 128, keywords=KEYWORDS), folds=3,
                           grid=grid, epochs=15, backend="numpy")  # fmt: skip
    stages = [r["stage"] for r in out["table"]]
    assert stages.count("model") == len(grid) and "features" in stages
    best = max(r["cv_accuracy"] for r in out["table"] if r["stage"] == "model")
    assert out["cv_accuracy"] == best
    full = next(r for r in out["table"] if r["stage"] == "features")
    chosen = "+".join(out["features"])
    feature_rows = {
        r["features"]: r["cv_accuracy"] for r in out["table"] if r["stage"] == "features"
    }
    assert feature_rows[chosen] >= full["cv_accuracy"]
    assert feature_rows[chosen] == max(feature_rows.values())
    # the chosen config is a valid, unfitted text-feature spec
    assert TextFeatures.from_dict(out["text_features"]).idf_index == []


def test_a_spec_from_a_newer_workbench_is_refused_in_one_line():
    fs = FeatureSpec(64 + 6, hashed=["text"], text=TextFeatures(64, 0, keywords=None))
    d = fs.to_dict()
    d["input_size"] = 64
    d["text"]["version"] = 99
    with pytest.raises(ValueError, match="newer workbench") as err:
        FeatureSpec.from_dict(d)
    assert "\n" not in str(err.value)
    old = FeatureSpec(64, hashed=["text"]).to_dict()
    assert "text" not in old and FeatureSpec.from_dict(old).text is None


@pytest.fixture
def text_model(tmp_path):
    """A store with a small text model trained on the CV-chosen recipe."""
    doc = {"trainingData": [{"text": t, "label": y} for t, y in TRAIN]}
    data = tmp_path / "d.json"
    data.write_text(json.dumps(doc))
    engine = Engine(tmp_path / "s.db")
    tf = TextFeatures(128, 256, keywords=KEYWORDS)
    spec = selection.candidate_spec(selection.Candidate(None, 0.01), tf.size, 3,
                                    name="tm", epochs=15, text_features=tf.config())  # fmt: skip
    engine.neural.train(spec, data, name="tm")
    yield engine, tmp_path
    engine.close()


def test_a_reloaded_version_reproduces_its_predictions(text_model):
    engine, tmp_path = text_model
    inputs = [{"text": "fix the retry crash"}, {"text": "brainstorm dashboard ideas"}]
    first = engine.neural.predict("tm@1", inputs)
    assert engine.neural.load("tm@1").feature_spec.text is not None
    engine.neural.cache.invalidate()
    assert engine.neural.predict("tm@1", inputs) == first
    out = tmp_path / "tm.clf"
    engine.neural.export("tm@1", out)
    engine.neural.import_(out, name="tm-copy")
    assert [p["probabilities"] for p in engine.neural.predict("tm-copy@1", inputs)] == [
        p["probabilities"] for p in first
    ]


def test_an_import_with_a_newer_feature_spec_is_one_line_and_stores_nothing(text_model):
    engine, tmp_path = text_model
    good = tmp_path / "tm.clf"
    engine.neural.export("tm@1", good)
    with zipfile.ZipFile(good) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        weights = zf.read("weights.npz")
    manifest["feature_spec"]["text"]["version"] = 2
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("manifest.json", json.dumps(manifest))
        zf.writestr("weights.npz", weights)
    bad = tmp_path / "newer.clf"
    bad.write_bytes(buf.getvalue())
    engine.close()
    result = run_cli(
        "neural", "import", str(bad), "--name", "newer", "--db", str(tmp_path / "s.db")
    )
    assert_one_line_error(result, "newer workbench")
    engine2 = Engine(tmp_path / "s.db")
    try:
        assert all(m["name"] != "newer" for m in engine2.neural.models())
    finally:
        engine2.close()
