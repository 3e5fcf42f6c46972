"""Continuous learning's gate figures come from the evaluation function: each equals what
`neural predict` (or `neural ensemble`) gives on the same held-out rows."""

from __future__ import annotations

import pytest

from tests.patterns.test_patterns_continuous import MODEL, fill_gold, lenient
from workbench.patterns import classifier


def _hits(preds: list[dict], held: list[dict]) -> list[bool]:
    return [p["prediction"] == r["label"] for p, r in zip(preds, held, strict=True)]


def test_gate_accuracies_and_forgetting_equal_predict_on_the_held_out_rows(trained):
    lenient(trained, threshold=5)
    fill_gold(trained, 6)
    run = trained.patterns.trigger(MODEL)
    _train, held = classifier.labelled_split()
    inputs = [{"operation": r["operation"]} for r in held]
    cand = _hits(trained.neural.predict(f"{MODEL}@{run['candidate_version']}", inputs), held)
    champ = _hits(trained.neural.predict(f"{MODEL}@{run['previous_version']}", inputs), held)
    assert run["candidate_accuracy"] == pytest.approx(sum(cand) / len(held), abs=1e-4)
    assert run["champion_accuracy"] == pytest.approx(sum(champ) / len(held), abs=1e-4)
    lost = sum(1 for a, b in zip(champ, cand, strict=True) if a and not b)
    gate = {g["name"]: g for g in run["gates"]}
    assert gate["forgetting"]["value"] == pytest.approx(lost / max(1, sum(champ)), abs=1e-4)


def test_ensemble_gate_equals_neural_ensemble_on_the_held_out_rows(trained):
    lenient(trained, threshold=1, mode="ensemble")
    fill_gold(trained, 3)
    run = trained.patterns.trigger(MODEL)
    _train, held = classifier.labelled_split()
    refs = [f"{MODEL}@{run['candidate_version']}", f"{MODEL}@{run['previous_version']}"]
    ens = trained.neural.ensemble(refs, [{"operation": r["operation"]} for r in held])
    expected = sum(_hits(ens, held)) / len(held)
    # in ensemble mode the accuracy gate measures the ensemble
    gate = {g["name"]: g for g in run["gates"]}
    assert gate["held_out_accuracy"]["value"] == pytest.approx(expected, abs=1e-4)
