"""Failure analysis: strategy × task kind, grouped by reason, as anti-patterns."""

from __future__ import annotations

from workbench.patterns.failures import failure_reason
from workbench.store import models as m


def add_executions(rows):
    run = m.PipelineRun.create(status="completed", strategies="[]")
    for task, kind in (("sort_list", "algorithm"), ("todo_api", "api")):
        m.Task.insert(
            name=task, kind=kind, complexity="easy", description=task, path="/nowhere"
        ).on_conflict_ignore().execute()
    for task, strategy, status, lint_ok in rows:
        m.TaskExecution.create(
            run=run,
            iteration=1,
            task=task,
            strategy=strategy,
            status=status,
            lint_ok=lint_ok,
            tests_total=3,
            tests_passed=3 if status == "passed" else 1,
            score=0.9 if status == "passed" else 0.1,
        )
    return run


def test_reason_classes():
    assert failure_reason("failed", True) == "assertion"
    assert failure_reason("timeout", True) == "timeout"
    assert failure_reason("crash", False) == "crash"
    assert failure_reason("error", True) == "error"
    assert failure_reason("passed", False) == "lint"
    assert failure_reason("passed", True) is None


def test_failures_grouped_by_strategy_kind_and_reason(seeded):
    add_executions(
        [("sort_list", "aggressive", "failed", True)] * 3
        + [("sort_list", "aggressive", "timeout", True)]
        + [("sort_list", "aggressive", "passed", True)]
        + [("todo_api", "aggressive", "crash", True)]
        + [("todo_api", "conservative", "passed", False)] * 2
        + [("todo_api", "conservative", "passed", True)]
    )
    result = seeded.patterns.failures()
    assert result["executions"] == 9 and result["failures"] == 7
    assert result["by_reason"] == {"assertion": 3, "timeout": 1, "crash": 1, "error": 0, "lint": 2}
    top = result["anti_patterns"][0]
    assert (top["strategy"], top["task_kind"], top["reason"]) == (
        "aggressive",
        "algorithm",
        "assertion",
    )
    assert (top["count"], top["executions"], top["rate"]) == (3, 5, 0.6)
    assert top["tasks"] == ["sort_list"]
    lint = next(a for a in result["anti_patterns"] if a["reason"] == "lint")
    assert (lint["strategy"], lint["count"], lint["executions"]) == ("conservative", 2, 3)
    assert len(seeded.patterns.failures(min_count=2)["anti_patterns"]) == 2


def test_no_executions_no_failures(seeded):
    result = seeded.patterns.failures()
    assert result["anti_patterns"] == [] and result["executions"] == 0
