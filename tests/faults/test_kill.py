"""One fast instance of each kill -9 scenario against the real CLI (scripts/fault_suite.py
runs them many times at random kill points). See tests/faults/scenarios.py for what each
scenario checks; every check must hold."""

from __future__ import annotations

import contextlib

import pytest

from tests.conftest import _backend_params, postgres_schema_url
from tests.faults import scenarios

pytestmark = pytest.mark.slow


@pytest.fixture(**_backend_params())
def store(request, tmp_path):
    """Where each store of a scenario lives: SQLite files, or (`[postgres]`, with
    WORKBENCH_TEST_PG set) a fresh PostgreSQL schema per store, dropped afterwards."""
    if getattr(request, "param", "sqlite") == "sqlite":
        yield scenarios.sqlite_store(tmp_path)
        return
    with contextlib.ExitStack() as stack:

        def target(name: str) -> scenarios.Target:
            url = stack.enter_context(postgres_schema_url())
            return scenarios.Target(tmp_path, name, url)

        yield target


def assert_all_checks(outcome: dict) -> None:
    failed = [name for name, ok in outcome["checks"].items() if not ok]
    assert not failed, f"{outcome['scenario']}: {failed} ({outcome})"


def test_kill_during_a_pipeline_run(tmp_path, store):
    outcome = scenarios.pipeline_run(tmp_path, executions=2, store=store)
    assert_all_checks(outcome)
    assert outcome["committed_before_kill"] >= 2


def test_kill_during_training_then_resume_equals_an_uninterrupted_run(tmp_path, store):
    outcome = scenarios.training_run(tmp_path, epochs_before_kill=2, store=store)
    assert_all_checks(outcome)


def test_kill_during_a_memory_import_keeps_committed_batches_and_reimport_is_idempotent(
    tmp_path, store
):
    outcome = scenarios.memory_import(tmp_path, lines=8000, rows_before_kill=2000, store=store)
    assert_all_checks(outcome)


def test_kill_during_a_hub_import_commits_all_or_nothing(tmp_path, store):
    outcome = scenarios.hub_import(tmp_path, fraction=0.7, items=300, store=store)
    assert_all_checks(outcome)
    assert outcome["outcome"] in ("none committed", "all committed")


def test_kill_during_a_consolidation_commits_all_or_nothing(tmp_path, store):
    outcome = scenarios.consolidation(tmp_path, fraction=0.6, episodes=20_000, store=store)
    assert_all_checks(outcome)


def test_two_processes_writing_at_once_lose_nothing(tmp_path, store):
    outcome = scenarios.two_writers(tmp_path, rows=1000, store=store)
    assert_all_checks(outcome)
    assert outcome["errors"] == []
