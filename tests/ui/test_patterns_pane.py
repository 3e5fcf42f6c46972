"""The Patterns pane over the real patterns engine: classifier line, analyze, charts,
failure patterns, learnings, the continuous-learning loop with real training runs."""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.widgets import DataTable, Input, Label, Static

from tests.conftest import FROZEN_NOW, make_fixture_store
from tests.templates import shared_template
from tests.ui.conftest import SIZE, wait_for_screen
from workbench.engine import Engine
from workbench.fsutil import create_private_file
from workbench.neural import registry
from workbench.neural.selection import Candidate
from workbench.store import models as m
from workbench.ui.app import WorkbenchApp
from workbench.ui.patterns import PatternsPane
from workbench.ui.screens.model_dialogs import ReportScreen

ROOT = Path(__file__).resolve().parents[2]
OPERATIONS = ROOT / "sample_data" / "patterns" / "operations.jsonl"
MODEL = "adaptive-coordinator"
OUTCOMES = [
    ("Fix the flaky date parsing in the importer", "convergent", True),
    ("Fix the rounding bug in invoice totals", "convergent", True),
    ("Fix the off-by-one in the pager", "convergent", False),
    ("Brainstorm names for the plugin registry", "divergent", True),
    ("Brainstorm layouts for the help screen", "divergent", False),
    ("Audit the sandbox for environment leaks", "critical", True),
    ("Audit the migration plan for lock risks", "critical", True),
    ("Map how the change feed reaches every pane", "systems", False),
    ("Map how the change feed reaches the panes", "systems", False),
]
EXECUTIONS = [  # task, kind, strategy, status, lint_ok
    *[("sort_list", "algorithm", "aggressive", "failed", True)] * 3,
    ("sort_list", "algorithm", "aggressive", "timeout", True),
    ("sort_list", "algorithm", "balanced", "passed", True),
    ("todo_api", "api", "aggressive", "crash", True),
    *[("todo_api", "api", "conservative", "passed", False)] * 2,
]


def populate(engine, train: bool = True) -> None:
    """Real state: sample operations, outcomes, executions, a trained classifier, one
    deployed and one rejected training run. Wall-clock stamps are frozen afterwards."""
    ops = [json.loads(line) for line in OPERATIONS.read_text().splitlines() if line.strip()]
    m.LabelledOperation.insert_many(
        [{"text": o["text"], "pattern": o["pattern"], "created": FROZEN_NOW} for o in ops]
    ).on_conflict_ignore().execute()
    patterns = engine.patterns
    for text, pattern, ok in OUTCOMES:
        patterns.learn({"text": text, "pattern": pattern, "agent": "coder"},
                       {"success": ok, "time_ms": 120})  # fmt: skip
    run = m.PipelineRun.create(status="completed", strategies="[]", started=FROZEN_NOW)
    for task, kind, strategy, status, lint_ok in EXECUTIONS:
        m.Task.insert(name=task, kind=kind, complexity="easy", description=task, path="/none",
                      created=FROZEN_NOW).on_conflict_ignore().execute()  # fmt: skip
        m.TaskExecution.create(run=run, iteration=1, task=task, strategy=strategy,
                               status=status, lint_ok=lint_ok, created=FROZEN_NOW,
                               score=0.9 if status == "passed" else 0.1)  # fmt: skip
    patterns.sync()
    if train:
        patterns.train_classifier(epochs=20, folds=3, grid=(Candidate(None, 0.1),))
        cfg = patterns.loop.config
        cfg.epochs, cfg.min_accuracy, cfg.max_regression, cfg.max_forgetting = 6, 0.0, 1.0, 1.0
        assert patterns.trigger(MODEL, force=True)["deployed"] is True
        cfg.min_accuracy = 1.01
        patterns.learn({"text": "Audit the retry policy", "pattern": "critical"},
                       {"success": True})  # fmt: skip
        assert patterns.trigger(MODEL, force=True)["status"] == "rejected"
    m.TrainingRun.update(started=FROZEN_NOW, finished=FROZEN_NOW).execute()
    m.NeuralModel.update(created=FROZEN_NOW, updated=FROZEN_NOW).execute()
    m.ModelAlias.update(updated=FROZEN_NOW).execute()
    m.TrainingHistory.update(at=FROZEN_NOW).execute()


def _build(train: bool) -> Callable[[Path], None]:
    def build(path: Path) -> None:
        engine = make_fixture_store(path)
        populate(engine, train=train)
        engine.close()

    return build


@pytest.fixture(scope="session")
def templates(shared_dir):
    """Fixture stores populated once per test run (both xdist workers share them, see
    tests/templates.py): untrained and trained."""
    return {
        name: shared_template(f"patterns-pane-{name}.db", _build(train))
        for name, train in (("untrained", False), ("trained", True))
    }


@pytest.fixture
def app_from(templates, tmp_path, isolated_env):
    engines = []

    def factory(name: str) -> WorkbenchApp:
        path = tmp_path / "fixture.db"
        create_private_file(path)  # as the engine creates a store (0600): no mode warning
        with sqlite3.connect(templates[name]) as src, sqlite3.connect(path) as dst:
            src.backup(dst)
        engine = Engine(path, clock=lambda: FROZEN_NOW)
        engines.append(engine)
        return WorkbenchApp(engine, watch=False, theme="workbench-dark",
                            settings_path=isolated_env)  # fmt: skip

    yield factory
    for engine in engines:
        engine.close()


def pane_of(app) -> PatternsPane:
    return app.query_one(PatternsPane)


def cells(app, table_id: str) -> list[list[str]]:
    table = app.query_one(table_id, DataTable)
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def test_untrained_pane_says_fallback_and_analyzes(app_from):
    app = app_from("untrained")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("3")
        await pilot.pause()
        title = str(app.query_one("#patterns-title", Label).render())
        assert "classifier untrained" in title and "keyword fallback" in title
        await pilot.press("a")
        assert app.focused is app.query_one("#patterns-input", Input)
        await pilot.press(*"brainstorm", "enter")
        await pilot.pause()
        answer = str(app.query_one("#patterns-answer", Static).render())
        assert answer.startswith("divergent") and "[fallback]" in answer
        failures = cells(app, "#failure-patterns")
        assert failures[0][:4] == ["aggressive", "algorithm", "assertion", "3/4"]
        assert any(r[2] == "lint" and r[3] == "2/2" for r in failures)
        learnings = cells(app, "#learnings")
        assert any(r[0] == "failure pattern" for r in learnings)
        buffer = str(app.query_one("#learn-buffer", Static).render())
        assert "adaptive-coordinator · champion —" in buffer
        assert "gold 5 weak 4" in buffer  # five successes, four failures learned
        assert "learn watch: not running" in buffer
        assert cells(app, "#training-runs") == []


async def test_learn_watch_heartbeat_shows_in_the_pane(app_from):
    app = app_from("untrained")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("3")
        # a live watcher (this process stands in for it) writes its heartbeat row
        watcher = app.engine.patterns.watcher([MODEL], check_s=60)
        watcher.claim()
        watcher.checks, watcher.trainings = 4, 1
        watcher.beat(FROZEN_NOW + dt.timedelta(minutes=1))
        pane_of(app).refresh_data({"learn_watchers"})  # what the change feed delivers
        await pilot.pause()
        buffer = str(app.query_one("#learn-buffer", Static).render())
        assert f"pid {os.getpid()} · watching since 2026-01-15 09:30:00" in buffer
        assert "next check 2026-01-15 09:31:00 · 4 checks, 1 trainings" in buffer
        watcher.beat(FROZEN_NOW, status="stopped")
        pane_of(app).refresh_data({"learn_watchers"})
        await pilot.pause()
        buffer = str(app.query_one("#learn-buffer", Static).render())
        assert "learn watch: stopped 2026-01-15 09:30:00" in buffer


async def test_trained_pane_shows_measured_accuracy_runs_gates_and_rolls_back(app_from):
    app = app_from("trained")
    status = app.engine.patterns.classifier_status()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("3")
        await pilot.pause()
        title = str(app.query_one("#patterns-title", Label).render())
        assert f"{MODEL} v2" in title and f"{status['val_accuracy']:.1%}" in title
        runs = cells(app, "#training-runs")
        assert [r[2] for r in runs] == ["rejected", "deployed"]
        assert [r[3] for r in runs] == ["v3←v2", "v2←v1"]
        assert "acc" in runs[0][4] and "✗" in runs[0][4] and "✗" not in runs[1][4]
        # enter on a run shows its gates
        await pilot.press("enter")
        await pilot.pause()
        await wait_for_screen(pilot, ReportScreen)
        assert "held_out_accuracy" in app.screen.markdown and "**fail**" in app.screen.markdown
        await pilot.press("escape")
        await pilot.press("a", *"audit", "enter")
        await pilot.pause()
        assert "[model]" in str(app.query_one("#patterns-answer", Static).render())
        # b rolls the champion back to the version it replaced
        app.query_one("#training-runs", DataTable).focus()
        assert registry.alias_target(MODEL, "champion").version == 2
        await pilot.press("b")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert registry.alias_target(MODEL, "champion").version == 1
        assert cells(app, "#training-runs")[0][2] == "rolled_back"
        assert pane_of(app).busy is None


def notes(app) -> list[str]:
    return [str(n.message) for n in app._notifications]


async def test_train_now_and_curriculum_keys_run_the_loop(app_from):
    app = app_from("trained")
    # a student weaker than the centroid teacher whatever the sample operations, so the
    # curriculum runs instead of being skipped by its gate
    m.NeuralModel.update(val_accuracy=0.2).where(m.NeuralModel.name == MODEL).execute()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("3")
        await pilot.pause()
        app.query_one("#training-runs", DataTable).focus()  # keys go to the pane, not input
        runs_before = m.TrainingRun.select().where(m.TrainingRun.kind == "continuous").count()
        curricula_before = m.CurriculumRun.select().count()
        await pilot.press("c")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert m.CurriculumRun.select().count() == curricula_before + 1
        assert any(n.startswith("curriculum") for n in notes(app)), notes(app)
        assert pane_of(app).busy is None
        await pilot.press("t")
        await app.workers.wait_for_complete()
        await pilot.pause()
        runs = m.TrainingRun.select().where(m.TrainingRun.kind == "continuous")
        assert runs.count() == runs_before + 1  # forced: one more training run
        newest = runs.order_by(m.TrainingRun.id.desc()).first()
        assert any(n.startswith(f"run {newest.id}:") for n in notes(app)), notes(app)
        assert cells(app, "#training-runs")[0][0] == str(newest.id)  # the pane shows it


def test_snapshot_patterns_pane_trained(snap_compare, app_from):
    app = app_from("trained")
    assert snap_compare(app, terminal_size=SIZE, press=["3"])


def test_title_says_the_keyword_fallback_serves_when_it_measured_better():
    from workbench.ui.patterns import classifier_line

    status = {
        "model": "adaptive-coordinator",
        "version": 3,
        "val_accuracy": 0.9,
        "evaluated_on": "60 held-out ops",
        "fallback": {"accuracy": 0.3, "held_out": 60},
        "serving": {"source": "fallback", "model_accuracy": 0.2, "fallback_accuracy": 0.3},
    }
    line = classifier_line(status).plain
    assert line.startswith("Patterns · serving keyword fallback 30.0%")
    assert "adaptive-coordinator v3 measured 20.0% on 60 held-out ops" in line
    status["serving"] = {"source": "model", "model_accuracy": 0.5, "fallback_accuracy": 0.3}
    assert classifier_line(status).plain.startswith("Patterns · serving adaptive-coordinator v3")
