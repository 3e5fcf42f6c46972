"""Episodic limits and replay, semantic facts, the working LRU, consolidation."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.conftest import _backend_params, store_target
from workbench.engine import Engine
from workbench.memory.consolidation import ConsolidationPolicy
from workbench.memory.service import MemoryService
from workbench.memory.working import WorkingMemory
from workbench.store import models as m

T0 = dt.datetime(2026, 1, 15, 9, 0, 0)


class Clock:
    def __init__(self, now: dt.datetime = T0) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture(**_backend_params())
def eng(request, tmp_path, clock):
    backend = getattr(request, "param", "sqlite")
    with (
        store_target(backend, tmp_path, "tiers.db") as target,
        Engine(target, clock=clock, cwd=tmp_path) as engine,
    ):
        yield engine


def service(eng, clock, **kwargs) -> MemoryService:
    """A service whose scheduled consolidation never fires unless a test asks for it."""
    kwargs.setdefault("policy", ConsolidationPolicy(schedule=dt.timedelta(days=365)))
    return MemoryService(eng.db, clock=clock, **kwargs)


def test_capacity_eviction_is_returned_and_recorded(eng, clock):
    memory = service(eng, clock, capacity=5)
    memory.consolidate("manual")  # so no scheduled run interferes
    for i in range(5):
        assert memory.record("s1", "action", f"step {i}")["evicted"] == []
    result = memory.record("s1", "action", "step 5")
    assert result["evicted"] == [
        {
            "reason": "capacity",
            "count": 1,
            "oldest": "2026-01-15 09:00:00",
            "newest": "2026-01-15 09:00:00",
            "sessions": ["s1"],
        }
    ]
    assert [r["text"] for r in memory.timeline()][-1] == "step 1"
    assert memory.episodic.count() == 5
    event = memory.events(1)[0]
    assert (event["tier"], event["action"], event["reason"], event["count"]) == (
        "episodic", "evict", "capacity", 1,
    )  # fmt: skip
    assert event["detail"]["limit"] == 5


def test_age_eviction_drops_only_old_events(eng, clock):
    memory = service(eng, clock, max_age=dt.timedelta(days=7))
    memory.consolidate("manual")
    memory.record("old", "observation", "long ago")
    clock.now = T0 + dt.timedelta(days=6)
    memory.record("mid", "observation", "recently")
    clock.now = T0 + dt.timedelta(days=7, minutes=1)
    result = memory.record("new", "observation", "now")
    (eviction,) = result["evicted"]
    assert eviction["reason"] == "age" and eviction["count"] == 1
    assert eviction["sessions"] == ["old"]
    assert {r["session"] for r in memory.timeline()} == {"mid", "new"}
    assert memory.events(1)[0]["reason"] == "age"


def test_sequence_and_validation(eng, clock):
    memory = service(eng, clock)
    assert memory.record("s", "action")["sequence"] == 1
    assert memory.record("s", "action")["sequence"] == 2
    with pytest.raises(ValueError, match="already has an event 2"):
        memory.record("s", "action", sequence=2)
    with pytest.raises(ValueError, match="outcome must be one of"):
        memory.record("s", "action", outcome="meh")
    with pytest.raises(ValueError, match="context"):
        memory.record("s", "action", context=["x"])
    assert memory.episodic.count() == 2


def test_replay_sampling_modes(eng, clock):
    memory = service(eng, clock)
    memory.consolidate("manual")
    for i in range(40):
        clock.now = T0 + dt.timedelta(hours=3 * i)
        memory.record(f"s{i % 4}", "result", f"e{i}", outcome="failure" if i < 4 else "success")
    uniform = memory.replay(10, "uniform", seed=1)
    assert len({r["id"] for r in uniform}) == 10
    assert memory.replay(10, "uniform", seed=1) == uniform  # seeded: reproducible
    failures = sum(
        r["outcome"] == "failure" for s in range(30) for r in memory.replay(4, "failure", seed=s)
    )
    assert failures > 30 * 4 * (4 / 40) * 2  # weighted 4×: far above the 10% base rate
    recent = [int(r["text"][1:]) for s in range(30) for r in memory.replay(4, "recency", seed=s)]
    assert sum(recent) / len(recent) > 25  # uniform draws: 19.5 ± 1 (5 σ below)
    assert len(memory.replay(100)) == 40
    with pytest.raises(ValueError, match="replay mode"):
        memory.replay(3, "loudest")


def test_semantic_put_reinforces_the_same_statement(eng, clock):
    memory = service(eng, clock)
    first = memory.store("semantic", "WAL lets readers run during a write", key="sqlite")
    again = memory.store(
        "semantic", "WAL lets readers run during a write", meta={"confidence": 1.0}
    )
    assert first["created"] and not again["created"]
    assert not first["confidence_given"]  # stored without one: a prior, not a measure
    assert again["evidence_count"] == 2
    # the first confidence anyone gives replaces the prior instead of averaging with it
    assert again["confidence"] == pytest.approx(1.0) and again["confidence_given"]
    third = memory.store(
        "semantic", "WAL lets readers run during a write", meta={"confidence": 0.7}
    )
    assert third["confidence"] == pytest.approx((1.0 * 2 + 0.7) / 3)
    with pytest.raises(ValueError, match="confidence"):
        memory.store("semantic", "x", meta={"confidence": 2})
    with pytest.raises(ValueError, match="kind"):
        memory.store("semantic", "x", namespace="hunch")


def test_working_memory_stays_within_its_byte_bound():
    working = WorkingMemory(max_bytes=4000)
    for i in range(50):
        working.put(("k", i), "x" * 200)
        assert working.bytes <= 4000
    assert 0 < len(working) < 50 and working.evictions == 50 - len(working)
    assert working.get(("k", 49)) is not None  # the newest survive
    assert working.get(("k", 0)) is None  # the oldest went first
    assert working.stats()["hits"] == 1 and working.stats()["misses"] == 1
    assert working.put("huge", "x" * 10_000) is False
    assert working.bytes <= 4000
    working.get(("k", 48))
    working.put("new", "y" * 200)
    assert ("k", 48) in working  # recently read, so not the one evicted


def _episodes(memory, clock, pattern_sessions=3):
    for s in range(pattern_sessions):
        memory.record(
            f"s{s}", "result", "aggressive broke it",
            {"strategy": "aggressive", "task_kind": "data-structure"}, "failure",
        )  # fmt: skip
        memory.record(
            f"s{s}", "result", "ok", {"strategy": "balanced", "tool": "pytest"}, "success"
        )
    memory.record("s9", "result", "mixed", {"tool": "pytest", "strategy": "x"}, "failure")


def test_consolidation_promotes_repeated_consistent_patterns(eng, clock):
    memory = service(eng, clock)
    memory.consolidate("manual")
    _episodes(memory, clock)
    report = memory.consolidate("manual")
    statements = {p["statement"] for p in report.promoted}
    assert statements == {
        "result events with strategy=aggressive end in failure",
        "result events with strategy=balanced end in success",
    }  # the narrower task_kind pattern and the inconsistent tool=pytest are not promoted
    fact = m.SemanticMemory.get(m.SemanticMemory.subject == "strategy=aggressive")
    assert (fact.source, fact.evidence_count) == ("consolidation", 3)
    assert fact.confidence == pytest.approx(4 / 5)
    assert "3 of 3 result events across 3 sessions" in report.promoted[0]["why"]
    assert memory.events(1)[0]["detail"]["promoted_count"] == 2

    again = memory.consolidate("manual")
    assert again.promoted == [] and again.reinforced == []
    memory.record("s5", "result", "again", {"strategy": "aggressive"}, "failure")
    reinforced = memory.consolidate("manual").reinforced
    assert [r["subject"] for r in reinforced] == ["strategy=aggressive"]
    assert (
        m.SemanticMemory.get(m.SemanticMemory.subject == "strategy=aggressive").evidence_count == 4
    )


def test_consolidation_needs_enough_sessions(eng, clock):
    memory = service(eng, clock)
    memory.consolidate("manual")
    for _ in range(5):
        memory.record("one", "error", "boom", {"error": "timeout"}, "failure")
    assert memory.consolidate("manual").promoted == []


def test_consolidation_prunes_by_importance(eng, clock):
    memory = service(eng, clock)
    memory.consolidate("manual")
    _episodes(memory, clock)
    memory.record("s7", "observation", "unremarkable", {}, "neutral")
    memory.store("semantic", "a weak hunch", meta={"confidence": 0.3})  # 0.3 × 1/2 = 0.15
    memory.store("semantic", "a solid rule", namespace="rule", meta={"confidence": 0.9})
    clock.now = T0 + dt.timedelta(days=5)  # 2.5 half-lives
    report = memory.consolidate("manual")
    # neutral: 0.3 × 0.177 = 0.053 kept; consolidated success 0.6 × 0.177 × 0.5 = 0.053 kept
    assert report.pruned_episodes == []
    assert [f["statement"] for f in report.pruned_facts] == ["a weak hunch"]
    assert "importance 0.150 < 0.25" in report.pruned_facts[0]["why"]
    assert (
        not m.SemanticMemory.select().where(m.SemanticMemory.statement == "a weak hunch").exists()
    )
    assert m.SemanticMemory.select().where(m.SemanticMemory.statement == "a solid rule").exists()
    clock.now = T0 + dt.timedelta(days=6)  # 3 half-lives
    report = memory.consolidate("manual")
    pruned = sorted((p["session"], p["outcome"]) for p in report.pruned_episodes)
    # neutral 0.3 / 8 and consolidated successes 0.6 / 8 / 2 fall below 0.05; consolidated
    # failures (1.0 / 8 / 2) and the unconsolidated failure (1.0 / 8) stay
    assert pruned == [("s0", "success"), ("s1", "success"), ("s2", "success"), ("s7", "neutral")]
    assert all("< 0.05" in p["why"] for p in report.pruned_episodes)
    assert memory.episodic.count() == 8 - 4


def test_consolidation_runs_on_schedule_and_at_capacity(eng, clock):
    policy = ConsolidationPolicy(schedule=dt.timedelta(hours=1))
    memory = service(eng, clock, capacity=20, policy=policy)
    first = memory.record("s", "action", "x")
    assert first["consolidation"]["reason"] == "schedule"  # never ran before
    assert memory.record("s", "action", "y")["consolidation"] is None
    clock.now = T0 + dt.timedelta(hours=1)
    assert memory.record("s", "action", "z")["consolidation"]["reason"] == "schedule"
    reasons = []
    for i in range(20):
        result = memory.record("t", "action", f"a{i}")
        if result["consolidation"]:
            reasons.append(result["consolidation"]["reason"])
        assert memory.episodic.count() <= 20
    # at capacity it runs at most once per capacity // 10 = 2 writes: after t17 and t19
    assert reasons == ["capacity", "capacity"]
    assert memory.consolidate_if_due() is None
    clock.now += dt.timedelta(hours=2)
    assert memory.consolidate_if_due().reason == "schedule"
