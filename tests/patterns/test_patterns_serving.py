"""The better of model and keyword fallback serves, measured on the same held-out rows."""

from __future__ import annotations

import json
import shutil

import pytest

from tests.patterns.conftest import copy_store
from tests.test_cli import run_cli
from workbench.neural import registry
from workbench.neural.catalog import get
from workbench.patterns import PATTERNS, classifier
from workbench.store import models as m

MODEL = classifier.MODEL_NAME


@pytest.mark.parametrize(
    ("model", "fallback", "serves"),
    [
        (0.6, 0.3, "model"),
        (0.2, 0.3, "fallback"),
        (0.3, 0.3, "fallback"),  # a tie is not better: keywords need no model
        (None, 0.3, "fallback"),  # an unmeasured model never serves
        (0.4, None, "model"),
        (None, None, "fallback"),
    ],
)
def test_served_source_rule(model, fallback, serves):
    assert classifier.served_source(model, fallback) == serves


def deploy_scrambled_model(engine, tmp_path) -> int:
    """A model trained on rotated labels (every training row mislabelled): measurably
    worse than the keyword fallback on the true held-out labels. Deployed as champion."""
    train, held = classifier.labelled_split()
    rotate = {p: PATTERNS[(i + 1) % len(PATTERNS)] for i, p in enumerate(PATTERNS)}
    path = tmp_path / "scrambled.json"
    path.write_text(
        json.dumps(
            {
                "trainingData": [{**r, "label": rotate[r["label"]]} for r in train],
                "validationData": held,
            }
        ),
        encoding="utf-8",
    )
    summary = engine.neural.train(get(MODEL).spec, path, name=MODEL, epochs=20)
    assert summary["status"] == "trained"
    registry.set_alias(MODEL, registry.CHAMPION, summary["version"])
    return summary["version"]


def test_a_model_worse_than_keywords_does_not_serve(trained, tmp_path):
    # the fixture's honest model beats the keywords: it serves
    serving = trained.patterns.serving()
    assert serving["source"] == "model"
    assert serving["model_accuracy"] > serving["fallback_accuracy"]
    version = deploy_scrambled_model(trained, tmp_path)
    serving = trained.patterns.serving()
    assert serving["version"] == version and serving["source"] == "fallback"
    assert serving["model_accuracy"] < serving["fallback_accuracy"]
    # both figures come from the same held-out rows, through the evaluation function
    _train, held = classifier.labelled_split()
    ev = trained.neural.evaluate_records(f"{MODEL}@{version}", held, "label")
    assert serving["model_accuracy"] == pytest.approx(ev["metrics"]["accuracy"], abs=1e-4)
    assert serving["fallback_accuracy"] == classifier.keyword_accuracy(held)
    assert serving["held_out"] == len(held)

    result = trained.patterns.analyze({"text": "Brainstorm alternatives for the cache"})
    assert result["source"] == "fallback" and result["pattern"] == "divergent"
    assert result["model_version"] == version and result["version"] is None
    assert result["model_accuracy"] == serving["model_accuracy"]
    assert result["fallback_accuracy"] == serving["fallback_accuracy"]
    assert any("keyword fallback" in r and "measured" in r for r in result["recommendations"])
    # a fallback answer is not buffered as the model's experience
    assert not m.ExperienceBuffer.select().where(m.ExperienceBuffer.source == "prediction").count()

    status = trained.patterns.classifier_status()
    assert status["version"] == version and status["serving"]["source"] == "fallback"


def test_status_and_analyze_say_who_serves_through_the_cli(trained_template, tmp_path):
    db = tmp_path / "cli.db"
    copy_store(trained_template, db)
    result = run_cli("patterns", "status", "--db", str(db))
    assert result.returncode == 0, result.stderr
    assert "serving: model" in result.stdout and "keyword fallback 0." in result.stdout
    status = json.loads(run_cli("patterns", "status", "--db", str(db), "--json").stdout)
    serving = status["serving"]
    assert serving["source"] == "model" and serving["model_accuracy"] is not None
    op = '{"text": "Brainstorm alternatives for the cache layout"}'
    result = run_cli("patterns", "analyze", "--operation", op, "--db", str(db))
    assert result.returncode == 0, result.stderr
    assert "served by model: model 0." in result.stdout
    shutil.rmtree(tmp_path / "cli-learning", ignore_errors=True)


def test_continuous_gate_refuses_a_candidate_the_fallback_beats(trained, tmp_path):
    candidate = deploy_scrambled_model(trained, tmp_path)
    registry.set_alias(MODEL, registry.CHAMPION, 1)
    gates, measured = trained.patterns.loop.evaluate(MODEL, 1, candidate)
    gate = {g["name"]: g for g in gates}["beats_fallback"]
    assert gate["passed"] is False and gate["value"] < 0
    assert measured["fallback_accuracy"] > measured["candidate_accuracy"]
    # the honest champion, measured against itself, passes the same gate
    gates, _ = trained.patterns.loop.evaluate(MODEL, 1, 1)
    assert {g["name"]: g for g in gates}["beats_fallback"]["passed"] is True
