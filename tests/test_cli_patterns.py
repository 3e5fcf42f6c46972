"""`workbench patterns ...` and `workbench learn ...` through the real entry point."""

from __future__ import annotations

import json

from tests.test_cli import assert_one_line_error, run_cli


def cli_json(db, *args: str) -> dict:
    result = run_cli(*args, "--db", str(db), "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_analyze_learn_failures_status_and_a_trigger_not_yet_due(tmp_path):
    db = tmp_path / "store.db"
    op = '{"text": "Brainstorm alternatives for the cache layout", "agent": "architect"}'
    analyzed = cli_json(db, "patterns", "analyze", "--operation", op)
    assert analyzed["pattern"] == "divergent" and analyzed["source"] == "fallback"
    assert analyzed["similar"] == [] and analyzed["recommendations"]
    assert {"confidence", "similar_backend"} <= set(analyzed)

    learned = cli_json(db, "patterns", "learn", "--operation", op,
                       "--outcome", '{"success": true, "time_ms": 80}')  # fmt: skip
    assert learned["memory"]["usage_count"] == 1 and learned["memory"]["successes"] == 1
    assert {lg["type"] for lg in learned["learnings"]} >= {"success_pattern", "task_strategy"}

    failures = cli_json(db, "patterns", "failures")
    assert failures["executions"] == 0 and set(failures["by_reason"]) == {
        "assertion", "timeout", "crash", "error", "lint"}  # fmt: skip

    status = cli_json(db, "learn", "status")
    buffer = status["buffer"]["adaptive-coordinator"]
    assert (buffer["gold"], buffer["untrained"]) == (1, 1)
    assert status["next_trigger"]["adaptive-coordinator"]["reasons"] == [
        "1 untrained entries (threshold 50)"
    ]

    trigger = run_cli("learn", "trigger", "--db", str(db))
    assert trigger.returncode == 0, trigger.stderr
    assert trigger.stdout.strip() == (
        "adaptive-coordinator: not now — 1 untrained entries (threshold 50)"
    )


def test_bad_input_is_one_line_and_stores_nothing(tmp_path):
    db = tmp_path / "store.db"
    bad = run_cli("patterns", "learn", "--db", str(db), "--operation", '{"text": "Audit it"}',
                  "--outcome", '{"success": "yes"}')  # fmt: skip
    assert_one_line_error(bad, "outcome: 'success' must be true or false")
    window = run_cli("learn", "trigger", "--db", str(db), "--force", "--window", "2am-6am")
    assert_one_line_error(window, "training window '2am-6am': expected HH:MM-HH:MM")
    status = cli_json(db, "learn", "status")
    assert status["buffer"]["adaptive-coordinator"]["total"] == 0
    assert status["training_runs"] == []
