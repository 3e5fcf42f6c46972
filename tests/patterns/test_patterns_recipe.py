"""The pattern classifier's recipe is chosen by CV on the training split and stored with
the version; held-out rows never reach the features; older versions keep predicting."""

from __future__ import annotations

import numpy as np

from tests.patterns.conftest import copy_store
from tests.test_cli import assert_one_line_error, run_cli
from workbench.engine import Engine
from workbench.neural import registry, selection
from workbench.neural.catalog import get
from workbench.patterns import calibration, classifier
from workbench.patterns.service import model_selection

MODEL = classifier.MODEL_NAME


def champion_artifact(engine):
    champion = registry.alias_target(MODEL, registry.CHAMPION)
    return champion, engine.neural.load(f"{MODEL}@{champion.version}")


def test_the_recipe_and_cv_table_are_stored_with_the_version(trained):
    champion, artifact = champion_artifact(trained)
    sel = model_selection(champion)
    assert sel is not None and sel["folds"] == 3
    train, _held = classifier.labelled_split()
    assert sel["rows"] == len(train)  # CV ran on the training split only
    assert {r["stage"] for r in sel["table"]} == {"features", "model"}
    assert sel["cv_accuracy"] == max(
        r["cv_accuracy"] for r in sel["table"] if r["stage"] == "model"
    )
    text = artifact.feature_spec.text
    assert text is not None and text.blocks == sel["features"]
    status = trained.patterns.classifier_status()
    assert status["selection"] == sel


def test_idf_saw_only_the_rows_the_model_trained_on(trained, tmp_path):
    # the file `patterns train` writes, with a recipe that has IDF on (whatever CV chose)
    path, n_fit, _n_held = classifier.write_training_file(tmp_path)
    full = classifier.text_features()
    probe = selection.Candidate(None, 0.1)
    spec = selection.candidate_spec(
        probe, full.size, 6, name="idf-probe", epochs=3, text_features=full.config()
    )
    trained.neural.train(spec, path, name="idf-probe")
    text = trained.neural.load("idf-probe@1").feature_spec.text
    train, held = classifier.labelled_split()
    fit, _calib = classifier.calibration_split(train)
    assert text.idf and text.fitted_rows == n_fit == len(fit)
    assert text.idf_map() == full.fit([r["operation"] for r in fit]).idf_map()
    # fitting on the held-out rows too would give other weights: the check can tell
    leaked = full.fit([r["operation"] for r in fit + held]).idf_map()
    assert text.idf_map() != leaked
    # and buckets only held-out rows fill have no IDF entry (when the split has any)
    seen = full.counts([r["operation"] for r in fit]).sum(axis=0) > 0
    in_held = full.counts([r["operation"] for r in held]).sum(axis=0) > 0
    held_only = np.flatnonzero(in_held & ~seen)
    assert not set(held_only.tolist()) & set(text.idf_index)


def test_predictions_are_reproduced_after_reload(trained):
    text = "Brainstorm alternatives for the cache layout"
    first = trained.patterns.classify(text)
    trained.neural.cache.invalidate()
    again = trained.patterns.classify(text)
    assert again["probabilities"] == first["probabilities"] and again["source"] == "model"


def test_a_version_built_the_old_way_still_loads_and_predicts(trained, tmp_path):
    path, _n, _h = classifier.write_training_file(tmp_path)
    old = trained.neural.train(get(MODEL).spec, path, name=MODEL, epochs=5)  # no text spec
    ref = f"{MODEL}@{old['version']}"
    artifact = trained.neural.load(ref)
    assert artifact.feature_spec.text is None and "text" not in artifact.feature_spec.to_dict()
    registry.set_alias(MODEL, registry.CHAMPION, old["version"])
    trained.neural.cache.invalidate()
    pred = trained.neural.predict(ref, [{"operation": "Audit the token handling"}])[0]
    assert pred["prediction"] in classifier.PATTERNS
    status = trained.patterns.classifier_status()
    assert status["version"] == old["version"] and status["selection"] is None
    assert status["serving"]["model_accuracy"] is not None


def test_a_fitted_temperature_that_worsens_the_fold_is_not_applied(trained, monkeypatch):
    champion, _artifact = champion_artifact(trained)
    monkeypatch.setattr(calibration, "fit_or_keep", lambda p, y, n: (3.0, False, 0.05, 0.2))
    cal = trained.patterns.calibrate(champion.version)
    assert cal["temperature"] == 1.0 and cal["fitted_temperature"] == 3.0
    assert cal["applied"] is False and cal["ece_before"] == cal["ece_after"]
    text = "Review the migration for risks"
    raw = trained.neural.predict(f"{MODEL}@{champion.version}", [{"operation": text}])[0]
    assert trained.patterns.classify(text)["probabilities"] == raw["probabilities"]


def test_fit_or_keep_applies_a_temperature_that_helps():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 3, 300)
    right = rng.random(300) < 0.5
    pred = np.where(right, y, (y + 1) % 3)
    probs = np.full((300, 3), 0.02)
    probs[np.arange(300), pred] = 0.96
    t, applied, before, after = calibration.fit_or_keep(probs, y, ["a", "b", "c"])
    assert applied and t > 1 and after < before


def test_cli_train_refuses_too_few_folds_and_status_shows_the_recipe(trained_template, tmp_path):
    db = tmp_path / "cli.db"
    copy_store(trained_template, db)
    assert_one_line_error(
        run_cli("patterns", "train", "--folds", "1", "--db", str(db)), "folds must be"
    )
    assert_one_line_error(
        run_cli("patterns", "train", "--folds", "100000", "--db", str(db)), "rows for 100000 folds"
    )
    with Engine(db) as engine:
        assert len(engine.neural.versions(MODEL)) == 1  # nothing half-made
    result = run_cli("patterns", "status", "--db", str(db))
    assert result.returncode == 0, result.stderr
    assert "recipe: " in result.stdout and "-fold CV on " in result.stdout
    assert "cv model" in result.stdout and "cv features" in result.stdout
