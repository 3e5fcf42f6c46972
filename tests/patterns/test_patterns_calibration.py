"""Temperature scaling: fitted on a training-split fold, stored with the version."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from tests.test_cli import run_cli
from workbench.engine import Engine
from workbench.neural import registry
from workbench.neural.evaluate import classification_metrics
from workbench.patterns import calibration, classifier
from workbench.patterns.service import model_calibration
from workbench.store import models as m

MODEL = classifier.MODEL_NAME
NAMES = ["a", "b", "c", "d"]


def over_confident(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A constructed model right 55% of the time that says ~0.97 on every row."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, len(NAMES), n)
    right = rng.random(n) < 0.55
    pred = np.where(right, y, (y + rng.integers(1, len(NAMES), n)) % len(NAMES))
    probs = np.full((n, len(NAMES)), 0.01)
    probs[np.arange(n), pred] = 0.97
    return probs, y


def test_calibration_lowers_ece_of_an_over_confident_model():
    fit_p, fit_y = over_confident(200, seed=1)
    test_p, test_y = over_confident(200, seed=2)
    t = calibration.fit_temperature(fit_p, fit_y)
    assert t > 1.5  # over-confidence is cooled
    before, after = calibration.ece_before_after(test_p, test_y, NAMES, t)
    assert before > 0.3 and after < before / 3
    scaled = calibration.scale(test_p, t)
    # accuracy (the ranking) does not move
    assert classification_metrics(scaled, test_y, NAMES)["accuracy"] == pytest.approx(
        classification_metrics(test_p, test_y, NAMES)["accuracy"]
    )


@settings(max_examples=50, deadline=None)
@given(
    arrays(np.float64, (5, 4), elements=st.floats(0.01, 1.0)),
    st.floats(0.05, 20.0),
)
def test_scale_matches_numpy_softmax_of_log_probs(raw, t):
    probs = raw / raw.sum(axis=1, keepdims=True)
    logits = np.log(probs) / t
    want = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(calibration.scale(probs, t), want, rtol=1e-9, atol=1e-12)
    # the ranking does not move: the originally top class is still (one of) the top
    # (ties, e.g. three equal probabilities, may break differently after rounding)
    scaled = calibration.scale(probs, t)
    top = scaled[np.arange(len(probs)), np.argmax(probs, 1)]
    np.testing.assert_allclose(top, scaled.max(axis=1), rtol=1e-12)


def test_fit_temperature_refuses_no_rows():
    with pytest.raises(ValueError, match="at least one row"):
        calibration.fit_temperature(np.zeros((0, 4)), np.zeros(0, np.int64))


def test_calibration_fold_is_from_the_training_split_and_not_trained_on(seeded, tmp_path):
    train, held = classifier.labelled_split()
    fit, calib = classifier.calibration_split(train)
    assert calib and len(fit) + len(calib) == len(train)
    held_texts = {r["operation"] for r in held}
    assert not held_texts & {r["operation"] for r in calib}
    path, n_train, _ = classifier.write_training_file(tmp_path)
    trained_on = {r["operation"] for r in json.loads(path.read_text())["trainingData"]}
    assert n_train == len(fit) and not trained_on & {r["operation"] for r in calib}


def test_stored_temperature_gives_the_shown_confidence(trained):
    champion = registry.alias_target(MODEL, registry.CHAMPION)
    cal = model_calibration(champion)
    assert cal is not None and cal["temperature"] > 0
    assert cal["held_out"] == len(classifier.labelled_split()[1])
    text = "Brainstorm alternatives for the cache layout"
    raw = trained.neural.predict(f"{MODEL}@{champion.version}", [{"operation": text}])[0]
    names = list(raw["probabilities"])
    want = calibration.scale(calibration.probability_matrix([raw], names), cal["temperature"])
    shown = trained.patterns.classify(text)
    assert shown["pattern"] == raw["prediction"]
    assert shown["confidence"] == pytest.approx(want[0].max(), abs=1e-6)
    status = trained.patterns.classifier_status()
    assert status["calibration"] == cal


def test_a_version_without_a_temperature_predicts_as_before(trained):
    champion = registry.alias_target(MODEL, registry.CHAMPION)
    run = m.TrainingRun.get_by_id(champion.training_run_id)
    metrics = json.loads(run.metrics)
    del metrics["calibration"]  # as stored by versions trained before calibration
    run.metrics = json.dumps(metrics)
    run.save()
    text = "Review the migration for risks"
    raw = trained.neural.predict(f"{MODEL}@{champion.version}", [{"operation": text}])[0]
    shown = trained.patterns.classify(text)
    assert shown["confidence"] == raw["confidence"]
    assert shown["probabilities"] == raw["probabilities"]
    assert trained.patterns.classifier_status()["calibration"] is None


def test_cli_status_shows_the_calibration(trained_template, tmp_path):
    from tests.patterns.conftest import copy_store

    db = tmp_path / "cli.db"
    copy_store(trained_template, db)
    result = run_cli("patterns", "status", "--db", str(db))
    assert result.returncode == 0, result.stderr
    with Engine(db) as engine:
        cal = engine.patterns.classifier_status()["calibration"]
    # the fitted temperature is applied only when it lowered the calibration fold's ECE
    shown = "calibrated: temperature " if cal["applied"] else "temperature kept at 1"
    assert shown in result.stdout and "held-out ECE 0." in result.stdout
