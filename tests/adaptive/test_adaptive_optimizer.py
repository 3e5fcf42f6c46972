"""Performance optimizer: metrics, bottlenecks, recommendation priorities from measured
gaps, comparison and trends."""

from __future__ import annotations

import pytest

from workbench.adaptive import optimizer
from workbench.adaptive.optimizer import Execution, priority, recommendations


def runs(agent, category, n, seconds, successes, iterations=1, errors=0):
    return [
        Execution(
            agent, category, seconds, iterations, i < successes, errors if i >= successes else 0
        )
        for i in range(n)
    ]


def test_metrics_per_agent_and_category():
    data = runs("coder", "api", 4, 10.0, 3, iterations=2, errors=2) + runs(
        "coder", "bug", 2, 5.0, 2
    )
    rows = {(r["agent"], r["category"]): r for r in optimizer.metrics(data)}
    api = rows[("coder", "api")]
    assert api["runs"] == 4 and api["success_rate"] == 0.75
    assert api["median_s"] == 10.0 and api["errors_per_run"] == 0.5
    assert rows[("coder", "bug")]["mean_iterations"] == 1.0


def test_priority_grows_with_gap_and_runs():
    assert priority("AGENT_SELECTION", 0.5, 10) == 10
    assert priority("AGENT_SELECTION", 0.25, 10) == 6  # 1 + ⌊4.5 + ½⌋
    assert priority("AGENT_SELECTION", 0.5, 5) == 6
    assert priority("AGENT_SELECTION", 0.01, 1) == 1
    assert priority("AGENT_SELECTION", 2.0, 100) == 10


def test_recommendations_are_computed_from_the_data_and_ordered():
    data = (
        runs("coder", "api", 10, 20.0, 10)
        + runs("reviewer", "api", 10, 60.0, 4, iterations=3, errors=2)
        + runs("tester", "api", 6, 22.0, 6)
    )
    recs = recommendations(data)
    assert [r["priority"] for r in recs] == sorted((r["priority"] for r in recs), reverse=True)
    assert all(r["agent"] == "reviewer" for r in recs)  # the others are at least as good
    by_type = {r["type"]: r for r in recs}
    route = by_type["AGENT_SELECTION"]
    assert route["gap"] == pytest.approx(0.6)  # coder 100% (and faster) vs reviewer 40%
    assert route["title"] == "Route api tasks from reviewer to coder"
    assert route["expected_improvement"] == "success rate +60 points (40% → 100%)"
    assert route["priority"] == 10  # gap ≥ the full 0.5, both have 10 runs
    speed = by_type["EXECUTION_SPEED"]
    assert speed["gap"] == pytest.approx(1 - 20 / 60, abs=1e-4)  # reported to 4 places
    assert "60.0 s → 20.0 s" in speed["expected_improvement"]
    assert by_type["ERROR_REDUCTION"]["gap"] == pytest.approx(1.2)  # 6 failures × 2 / 10
    assert by_type["ITERATION_REDUCTION"]["gap"] == pytest.approx(1 - 1 / 3, abs=1e-4)
    assert recommendations(data, min_priority=10) == [r for r in recs if r["priority"] == 10]


def test_too_few_runs_or_no_peer_give_no_recommendation():
    assert recommendations(runs("coder", "api", 4, 20.0, 4) + runs("x", "api", 4, 90.0, 0)) == []
    assert recommendations(runs("coder", "api", 30, 20.0, 1)) == []  # nobody to compare with


def test_bottlenecks():
    data = runs("coder", "api", 6, 10.0, 6) + runs("slow", "api", 6, 40.0, 2, errors=3)
    found = optimizer.bottlenecks(data)
    assert [b["agent"] for b in found] == ["slow"]
    reasons = " ".join(found[0]["reasons"])
    assert "success rate 33%" in reasons and "2.0 errors per run" in reasons
    assert "1.6×" in reasons  # 40 s against the category median of 25 s


def test_compare_and_unknown_agent():
    data = runs("coder", "api", 6, 10.0, 6) + runs("tester", "api", 6, 40.0, 3)
    result = optimizer.compare(data, "coder", "tester")
    assert result["categories"][0]["faster"] == "coder"
    assert result["categories"][0]["more_successful"] == "coder"
    with pytest.raises(ValueError, match="no recorded executions for agent 'ghost'"):
        optimizer.compare(data, "coder", "ghost")


def test_trends_compare_recent_runs_with_earlier_ones():
    earlier = runs("coder", "api", 5, 30.0, 2)
    recent = runs("coder", "api", 5, 30.0, 5)
    trend = optimizer.trends(earlier + recent)[0]
    assert trend["direction"] == "improving"
    assert (trend["success_rate_before"], trend["success_rate_recent"]) == (0.4, 1.0)
    assert optimizer.trends(earlier)[0]["direction"] == "no data"
    slower = runs("coder", "api", 5, 10.0, 5) + runs("coder", "api", 5, 20.0, 5)
    assert optimizer.trends(slower)[0]["direction"] == "degrading"


def test_service_report_and_bad_input(fixture_engine):
    adaptive = fixture_engine.adaptive
    assert adaptive.perf_report()["executions"] == 0
    for i in range(6):
        adaptive.record_execution("coder", "api", duration_s=10.0 + i, success=True)
        adaptive.record_execution("reviewer", "api", duration_s=50.0, success=i < 2, errors=1)
    report = adaptive.perf_report()
    assert report["executions"] == 12
    assert {r["agent"] for r in report["recommendations"]} == {"reviewer"}
    assert adaptive.perf_report("coder")["recommendations"] == []
    with pytest.raises(ValueError, match="no recorded executions for agent 'ghost'"):
        adaptive.perf_report("ghost")
    with pytest.raises(ValueError, match="between 1 and 10"):
        adaptive.perf_report(min_priority=11)
    with pytest.raises(ValueError, match="agent must not be empty"):
        adaptive.record_execution(" ", "api", duration_s=1.0, success=True)
    with pytest.raises(ValueError, match="duration must be"):
        adaptive.record_execution("coder", "api", duration_s=-3, success=True)
    assert adaptive.perf_report()["executions"] == 12
