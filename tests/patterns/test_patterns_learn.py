"""Learning from operation + outcome: pattern memory, similar patterns, recommendations."""

from __future__ import annotations

import pytest

from workbench.patterns.service import operation_key
from workbench.store import models as m


def test_learn_updates_usage_confidence_and_last_used(seeded, clock):
    p = seeded.patterns
    op = {"text": "Brainstorm alternatives for the cache layout", "agent": "architect"}
    first = p.learn(op, {"success": True, "time_ms": 40})
    assert first["pattern"] == "divergent" and first["source"] == "fallback"
    clock.advance(60)
    second = p.learn(op, '{"success": false, "errors": ["too slow"]}')
    rows = list(m.PatternMemory.select())
    assert len(rows) == 1 and rows[0].key == operation_key(op["text"])
    row = rows[0]
    assert (row.usage_count, row.successes, row.failures) == (2, 1, 1)
    assert row.confidence == pytest.approx(2 / 4)  # Laplace: (1 + 1) / (2 + 2)
    assert row.last_used == clock.now
    assert second["memory"]["usage_count"] == 2
    assert {"success_pattern", "failure_pattern"} <= {r.type for r in m.Learning.select()}
    # one experience per outcome: a gold one and one that needs improvement
    qualities = sorted(e.quality for e in m.ExperienceBuffer.select())
    assert qualities == ["gold", "needs_improvement"]


def test_given_pattern_wins_over_the_classifier(seeded):
    result = seeded.patterns.learn(
        {"text": "Brainstorm alternatives", "pattern": "critical"}, {"success": True}
    )
    assert result["pattern"] == "critical" and result["source"] == "given"


def test_similar_patterns_come_from_stored_operations(seeded):
    p = seeded.patterns
    p.learn({"text": "Review the database migration for locking risks"}, {"success": True})
    p.learn({"text": "Brainstorm names for the new theme"}, {"success": True})
    result = p.analyze({"text": "Review the schema migration for risks"})
    assert result["similar_backend"] == "vector-memory"
    top = result["similar"][0]
    assert top["operation"] == "Review the database migration for locking risks"
    assert top["similarity"] > 0.3
    scores = [s["similarity"] for s in result["similar"]]
    assert scores == sorted(scores, reverse=True)
    # the learned operations live in the vector tier, searchable like any memory
    hits = seeded.memory.search("database migration locking", namespace="patterns", k=1)
    assert hits[0].text == "Review the database migration for locking risks"
    assert hits[0].key == f"pattern_memory:{top['id']}"


def test_the_fallback_ranks_like_the_vector_tier(seeded):
    """Without a memory tier the documented fallback answers, with the same ranking."""
    p = seeded.patterns
    for text in (
        "Review the database migration for locking risks",
        "Brainstorm names for the new theme",
        "Profile the slow review query",
    ):
        p.learn({"text": text}, {"success": True})  # fmt: skip
    query = "Review the schema migration for risks"
    via_memory = p.similar(query)
    memory, p.memory = p.memory, None
    try:
        assert p.similar_backend == "hashing-cosine"
        fallback = p.similar(query)
    finally:
        p.memory = memory
    assert [s["id"] for s in fallback] == [s["id"] for s in via_memory]
    for a, b in zip(fallback, via_memory, strict=True):
        assert abs(a["similarity"] - b["similarity"]) < 1e-3


def test_recommendations_are_derived_from_stored_outcomes(seeded):
    p = seeded.patterns
    for i in range(3):
        p.learn({"text": f"task {i} alpha", "pattern": "convergent"}, {"success": False})
        p.learn({"text": f"task {i} beta", "pattern": "lateral"}, {"success": True})
    dist = p.distribution()
    assert dist["convergent"]["success_rate"] == 0 and dist["lateral"]["success_rate"] == 1
    assert dist["convergent"]["outcomes"] == 3 and dist["systems"]["success_rate"] is None
    recs = p.learn({"text": "task 9 alpha", "pattern": "convergent"}, {"success": False})
    text = " ".join(recs["recommendations"])
    assert "lateral operations succeeded 100% of 3 times" in text
    assert "a similar operation failed" in text


def test_unrecognised_operation_without_pattern_is_refused_and_nothing_stored(seeded):
    with pytest.raises(ValueError, match="say which pattern was used"):
        seeded.patterns.learn({"text": "zzz qqq"}, {"success": True})
    assert m.PatternMemory.select().count() == 0
    assert m.ExperienceBuffer.select().count() == 0


@pytest.mark.parametrize(
    ("outcome", "fragment"),
    [
        ("nope", "outcome: not valid JSON"),
        ("[]", "outcome: must be a JSON object"),
        ('{"success": 1}', "'success' must be true or false"),
        ('{"success": true, "errors": "x"}', "'errors' must be a list"),
    ],
)
def test_bad_outcomes_are_refused(seeded, outcome, fragment):
    with pytest.raises(ValueError, match=fragment):
        seeded.patterns.learn({"text": "Brainstorm names"}, outcome)
    assert m.PatternMemory.select().count() == 0
