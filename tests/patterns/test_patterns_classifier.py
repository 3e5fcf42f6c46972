"""The pattern classifier: measured held-out accuracy, the labelled keyword fallback."""

from __future__ import annotations

import json

import pytest

from workbench.patterns import PATTERNS, classifier
from workbench.store import models as m


def test_held_out_split_is_disjoint_deterministic_and_about_a_fifth(seeded):
    train, held = classifier.labelled_split()
    assert len(train) + len(held) == m.LabelledOperation.select().count() >= 300
    assert not {r["operation"] for r in train} & {r["operation"] for r in held}
    assert 0.12 <= len(held) / (len(train) + len(held)) <= 0.28
    assert classifier.labelled_split() == (train, held)
    assert {r["label"] for r in held} == set(PATTERNS)


def test_shown_accuracy_is_the_accuracy_measured_on_the_held_out_split(trained):
    status = trained.patterns.classifier_status()
    assert status["status"] == "trained" and status["version"] == 1
    _train, held = classifier.labelled_split()
    assert status["evaluated_on"] == f"{len(held)} held-out ops"
    _train, held = classifier.labelled_split()
    predictions = trained.neural.predict(
        "adaptive-coordinator@1", [{"operation": r["operation"]} for r in held]
    )
    hits = sum(p["prediction"] == r["label"] for p, r in zip(predictions, held, strict=True))
    assert status["val_accuracy"] == pytest.approx(hits / len(held), abs=1e-9)
    # and better than chance over six classes, or the model learned nothing
    assert status["val_accuracy"] > 1 / len(PATTERNS)


def test_the_training_file_validates_on_exactly_the_held_out_rows(trained, tmp_path):
    path, n_train, n_held = classifier.write_training_file(tmp_path)
    doc = json.loads(path.read_text())
    _train, held = classifier.labelled_split()
    assert doc["validationData"] == held and len(doc["trainingData"]) == n_train
    assert n_held == len(held)


def test_untrained_store_answers_with_the_fallback_and_says_so(seeded):
    status = seeded.patterns.classifier_status()
    assert status["status"] == "untrained" and status["val_accuracy"] is None
    result = seeded.patterns.analyze({"text": "Brainstorm alternatives for the onboarding flow"})
    assert result["source"] == "fallback"
    assert result["pattern"] == "divergent"
    assert any("keyword fallback" in r for r in result["recommendations"])
    # fallback answers are not experience: nothing buffered
    assert m.ExperienceBuffer.select().count() == 0


def test_fallback_accuracy_is_measured_on_the_same_held_out_rows(seeded):
    _train, held = classifier.labelled_split()
    expected = sum(
        classifier.keyword_classify(r["operation"])["pattern"] == r["label"] for r in held
    ) / len(held)
    shown = seeded.patterns.classifier_status()["fallback"]
    assert shown == {"held_out": len(held), "accuracy": round(expected, 4)}


def test_fallback_with_no_keyword_gives_no_pattern():
    result = classifier.keyword_classify("zzz qqq")
    assert result == {**result, "pattern": None, "confidence": None, "source": "fallback"}


def test_fallback_reports_a_keyword_share_never_a_confidence():
    result = classifier.keyword_classify("brainstorm alternatives and explore options")
    scores = classifier.keyword_scores("brainstorm alternatives and explore options")
    assert result["confidence"] is None
    assert result["keyword_share"] == round(scores["divergent"] / sum(scores.values()), 4)


def test_model_answer_has_confidence_probabilities_and_is_buffered_once(trained):
    op = {"text": "Audit the retry logic for hidden failure modes"}
    first = trained.patterns.analyze(op)
    trained.patterns.analyze(json.dumps(op))
    assert first["source"] == "model" and first["version"] == 1
    assert first["pattern"] in PATTERNS
    assert 0 <= first["confidence"] <= 1
    assert sum(first["probabilities"].values()) == pytest.approx(1, abs=1e-3)
    assert first["confidence"] == max(first["probabilities"].values())
    rows = list(m.ExperienceBuffer.select())
    assert len(rows) == 1 and rows[0].source == "prediction"
    assert rows[0].target_model == "adaptive-coordinator"


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("{not json", "operation: not valid JSON"),
        ("[1, 2]", "operation: must be a JSON object"),
        ('{"text": "   "}', "operation: needs a non-empty text"),
        ('{"text": "x", "pattern": "sideways"}', "operation: pattern must be one of"),
    ],
)
def test_bad_operations_are_one_line_errors(seeded, raw, fragment):
    with pytest.raises(ValueError, match=fragment):
        seeded.patterns.analyze(raw)
