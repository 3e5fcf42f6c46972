"""Adaptive strategy: task analysis, Beta-posterior choice, outcomes that change it."""

from __future__ import annotations

import pytest

from workbench.adaptive import COMPLEXITIES
from workbench.adaptive.analysis import PastOutcome, analyze, description_level
from workbench.adaptive.strategy import DEFAULT_FOR, choose, posteriors, probability_best


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("Rename a variable", "TRIVIAL"),
        ("Update the readme", "SIMPLE"),
        ("Fix the crash in the parser and add a regression test", "MODERATE"),
        ("Build a REST API with authentication and testing", "COMPLEX"),
        (
            "Design a distributed cache, migrate the database schema, add authentication, "
            "write tests and deploy it with docker",
            "VERY_COMPLEX",
        ),
    ],
)
def test_complexity_from_the_description(text, level):
    assert COMPLEXITIES[description_level(text)[0]] == level


def test_analysis_without_history_has_no_duration():
    result = analyze("Build a REST API with authentication and testing", [])
    assert result.estimated_duration_s is None and result.duration_basis == "no data"
    assert result.suggested_agents == ["coder", "tester", "reviewer"]
    assert result.history_level is None


def test_history_sets_duration_and_moves_complexity():
    slow = [PastOutcome("fix parser crash add regression test", "MODERATE", ["coder"], True, d)
            for d in (600.0, 640.0, 700.0)]  # fmt: skip
    quick = [PastOutcome(f"rename variable {i}", "TRIVIAL", ["coder"], True, 5.0 + i)
             for i in range(6)]  # fmt: skip
    result = analyze("Fix the parser crash and add a regression test", slow + quick)
    assert result.neighbours == 3
    assert result.estimated_duration_s == 640.0  # median of the similar ones
    assert result.history_level == "VERY_COMPLEX"  # they sit at the top of the durations
    assert result.complexity == "COMPLEX"  # mean of MODERATE (2) and VERY_COMPLEX (4) → 3
    same_level = analyze("Paint the logo", quick)
    assert same_level.duration_basis == "no data" or "TRIVIAL" in same_level.duration_basis


def test_same_complexity_median_when_no_similar_task():
    history = [PastOutcome(f"zzz {i}", "SIMPLE", ["coder"], True, float(10 * i)) for i in (1, 2, 3)]
    result = analyze("Update the readme", history)
    assert result.complexity == "SIMPLE"
    assert result.estimated_duration_s == 20.0
    assert result.duration_basis == "median of 3 recorded SIMPLE tasks"


def test_empty_description_is_refused():
    with pytest.raises(ValueError, match="must not be empty"):
        analyze("   ", [])


def test_no_data_picks_the_structural_default_with_prior_confidence():
    for complexity in COMPLEXITIES:
        choice = choose(complexity, ["coder", "tester"], {})
        assert choice.strategy == DEFAULT_FOR[complexity]
        assert choice.evidence == 0
        assert choice.confidence == pytest.approx(1 / 3, abs=1e-3)  # ∫ 2x · x⁴ dx


def test_recorded_outcomes_change_the_choice():
    counts = {"sequential": (0, 0)}
    assert choose("MODERATE", ["coder", "tester"], counts).strategy == "sequential"
    counts = {"sequential": (0, 2), "parallel": (1, 0)}
    choice = choose("MODERATE", ["coder", "tester"], counts)
    assert choice.strategy == "parallel"
    assert "1/1 recorded MODERATE outcomes succeeded" in choice.reason
    more = choose("MODERATE", ["coder", "tester"], {"sequential": (0, 2), "parallel": (12, 1)})
    assert more.confidence > choice.confidence > 0


def test_posterior_counts_and_probability_best_against_closed_form():
    table = {p.strategy: p for p in posteriors("SIMPLE", {"single": (3, 1)})}
    assert (table["single"].alpha, table["single"].beta) == (5.0, 2.0)
    assert (table["parallel"].alpha, table["parallel"].beta) == (1.0, 1.0)
    # P(Beta(2,1) > U(0,1)) = ∫ 2x · x dx = 2/3
    two_one, uniform = posteriors("SIMPLE", {})[0], posteriors("SIMPLE", {})[1]
    assert probability_best(two_one, [uniform]) == pytest.approx(2 / 3, abs=1e-3)


def test_agent_sequence_follows_the_strategy():
    assert choose("TRIVIAL", ["tester", "coder"], {}).agent_sequence == ["coder"]
    assert choose("COMPLEX", ["reviewer", "coder", "architect"], {}).agent_sequence == [
        "architect",
        "coder",
        "reviewer",
    ]


def test_service_records_outcomes_that_later_choices_use(fixture_engine):
    adaptive = fixture_engine.adaptive
    text = "Fix the crash in the parser and add a regression test"
    first = adaptive.decide(text)
    assert first["choice"]["strategy"] == "sequential"
    for _ in range(2):
        adaptive.record_outcome(first["id"], success=False, duration_s=100.0, iterations=3)
    assert adaptive.analyze(text)["choice"]["strategy"] != "sequential"
    second = adaptive.decide(text)
    assert second["analysis"]["estimated_duration_s"] == 100.0
    assert second["analysis"]["duration_basis"] == "median of 2 similar recorded tasks"
    adaptive.record_outcome(second["id"], success=True, duration_s=50.0)
    stats = adaptive.statistics()
    assert (stats["decisions"], stats["outcomes"]) == (2, 3)
    assert stats["success_rate"] == pytest.approx(1 / 3)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"duration_s": -1.0}, "duration must be"),
        ({"duration_s": float("nan")}, "duration must be"),
        ({"duration_s": 1.0, "iterations": 0}, "iterations must be"),
        ({"duration_s": 1.0, "errors": -2}, "errors must be"),
    ],
)
def test_bad_outcomes_are_refused(fixture_engine, kwargs, message):
    adaptive = fixture_engine.adaptive
    decision = adaptive.decide("Rename a variable")["id"]
    with pytest.raises(ValueError, match=message):
        adaptive.record_outcome(decision, success=True, **kwargs)
    with pytest.raises(ValueError, match="no strategy decision"):
        adaptive.record_outcome("st-missing", success=True, duration_s=1.0)
    assert adaptive.statistics()["outcomes"] == 0


def test_sample_history_seeds_once_and_bad_lines_are_named(tmp_path):
    from workbench.engine import Engine
    from workbench.store.errors import StoreError

    sample = tmp_path / "sample" / "adaptive"
    sample.mkdir(parents=True)
    (sample / "executions.jsonl").write_text(
        '{"agent": "coder", "category": "api", "duration_s": 3.5, "iterations": 1, '
        '"success": true, "errors": 0}\n'
    )
    outcome = (
        '{"id": "sample-001", "description": "Rename a flag", "complexity": "SIMPLE", '
        '"strategy": "single", "agents": ["coder"], "success": true, "duration_s": 30.0, '
        '"iterations": 1, "errors": 0}\n'
    )
    (sample / "outcomes.jsonl").write_text(outcome)
    with Engine(tmp_path / "w.db") as engine:
        first = engine.seed(tmp_path / "sample")
        assert (first["agent_executions"], first["adaptive_outcomes"]) == (1, 1)
        assert engine.seed(tmp_path / "sample") == {}
        (sample / "outcomes.jsonl").write_text(outcome.replace("SIMPLE", "EASY"))
        with pytest.raises(StoreError, match=r"outcomes.jsonl:1: complexity must be one of"):
            engine.seed(tmp_path / "sample")
