"""One fast instance of each kill -9 scenario against the real CLI (scripts/fault_suite.py
runs them many times at random kill points). See tests/faults/scenarios.py for what each
scenario checks; every check must hold."""

from __future__ import annotations

import pytest

from tests.faults import scenarios

pytestmark = pytest.mark.slow


def assert_all_checks(outcome: dict) -> None:
    failed = [name for name, ok in outcome["checks"].items() if not ok]
    assert not failed, f"{outcome['scenario']}: {failed} ({outcome})"


def test_kill_during_a_pipeline_run(tmp_path):
    outcome = scenarios.pipeline_run(tmp_path, executions=2)
    assert_all_checks(outcome)
    assert outcome["committed_before_kill"] >= 2


def test_kill_during_training_then_resume_equals_an_uninterrupted_run(tmp_path):
    outcome = scenarios.training_run(tmp_path, epochs_before_kill=2)
    assert_all_checks(outcome)


def test_kill_during_a_memory_import_keeps_committed_batches_and_reimport_is_idempotent(
    tmp_path,
):
    assert_all_checks(scenarios.memory_import(tmp_path, lines=8000, rows_before_kill=2000))


def test_kill_during_a_hub_import_commits_all_or_nothing(tmp_path):
    outcome = scenarios.hub_import(tmp_path, fraction=0.7, items=300)
    assert_all_checks(outcome)
    assert outcome["outcome"] in ("none committed", "all committed")


def test_kill_during_a_consolidation_commits_all_or_nothing(tmp_path):
    assert_all_checks(scenarios.consolidation(tmp_path, fraction=0.6, episodes=20_000))


def test_two_processes_writing_at_once_lose_nothing(tmp_path):
    outcome = scenarios.two_writers(tmp_path, rows=1000)
    assert_all_checks(outcome)
    assert outcome["errors"] == []
