"""The learning engine: learnings, confidence levels from occurrences, evidence, relevance."""

from __future__ import annotations

import pytest

from workbench.patterns.learning import Interaction, level_for
from workbench.store import models as m


def interaction(success=True, **kw):
    base = {
        "agent": "coder",
        "task": "parse csv files",
        "success": success,
        "actions": ["read spec", "write parser"],
    }
    return {**base, **kw}


@pytest.mark.parametrize(
    ("n", "level"),
    [
        (1, "low"),
        (2, "low"),
        (3, "medium"),
        (4, "medium"),
        (5, "high"),
        (9, "high"),
        (10, "very_high"),
        (40, "very_high"),
    ],
)
def test_levels_come_from_occurrence_counts(n, level):
    assert level_for(n) == level


def test_repeated_interactions_raise_occurrences_level_and_confidence(seeded):
    p = seeded.patterns
    for _ in range(3):
        p.record_interaction(interaction(True, time_ms=100))
    p.record_interaction(interaction(False, errors=["ValueError: bad quote"]))
    ok = p.learnings("success_pattern")
    bad = p.learnings("failure_pattern")
    assert len(ok) == 1 and len(bad) == 1
    assert ok[0]["occurrences"] == 3 and ok[0]["level"] == "medium"
    assert ok[0]["confidence"] == pytest.approx(0.75)
    assert bad[0]["confidence"] == pytest.approx(0.25) and bad[0]["level"] == "low"
    assert "ValueError: bad quote" in bad[0]["description"]
    assert [e["success"] for e in ok[0]["evidence"]] == [True, True, True]
    assert bad[0]["evidence"][0]["errors"] == ["ValueError: bad quote"]


def test_error_recovery_optimization_task_strategy_and_best_practice(seeded, clock):
    p = seeded.patterns
    p.record_interaction(interaction(True, time_ms=300))
    touched = p.record_interaction(interaction(True, time_ms=200, errors=["timeout once"]))
    types = {t["type"] for t in touched}
    assert {"success_pattern", "error_recovery", "optimization", "task_strategy"} <= types
    opt = next(t for t in touched if t["type"] == "optimization")
    assert "200 ms" in opt["description"] and "300 ms" in opt["description"]
    assert not p.learnings("best_practice")
    for _ in range(3):
        p.record_interaction(interaction(True, time_ms=250))
    best = p.learnings("best_practice")
    assert len(best) == 1 and "5/5" in best[0]["description"]
    by_type = p.learnings_by_type()
    assert by_type["success_pattern"]["high"] == 1
    assert sum(by_type["task_strategy"].values()) == 1


def test_a_slower_success_is_no_optimization(seeded):
    p = seeded.patterns
    p.record_interaction(interaction(True, time_ms=100))
    touched = p.record_interaction(interaction(True, time_ms=150))
    assert "optimization" not in {t["type"] for t in touched}


def test_relevant_learnings_rank_similar_tasks_first(seeded):
    p = seeded.patterns
    p.record_interaction(interaction(True, task="parse csv files with quoted fields"))
    p.record_interaction(
        {"agent": "ops", "task": "rotate tls certificates", "success": False, "actions": ["x"]}
    )
    found = p.relevant_learnings("parse a csv file")
    assert found and found[0]["task"] == "parse csv files with quoted fields"
    assert all(f["similarity"] > 0 for f in found)
    assert p.relevant_learnings("   ") == []


def test_min_level_filters(seeded):
    p = seeded.patterns
    p.record_interaction(interaction(True))
    assert p.learnings(min_level="medium") == []
    with pytest.raises(ValueError, match="level must be one of"):
        p.learnings(min_level="huge")


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({"task": "t", "success": True}, "'agent' must be a non-empty string"),
        ({"agent": "a", "task": "t", "success": "yes"}, "'success' must be true or false"),
        ({"agent": "a", "task": "t", "success": True, "actions": "x"}, "'actions' must be"),
        ({"agent": "a", "task": "t", "success": True, "time_ms": -1}, "'time_ms' must be"),
        ({"agent": "a", "task": "t", "success": True, "iterations": 0}, "'iterations' must"),
    ],
)
def test_bad_interactions_are_refused_and_nothing_is_stored(seeded, data, fragment):
    with pytest.raises(ValueError, match=fragment):
        Interaction.parse(data)
    with pytest.raises(ValueError):
        seeded.patterns.record_interaction(data)
    assert m.Learning.select().count() == 0
