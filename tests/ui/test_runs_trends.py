"""The Runs and Trends panes over the real pipeline: launch, cancel, live runs from another
process, profiles and selector picks; snapshots with frozen timestamps and times.

The runs use one or two tiny tasks written into tmp_path, so each takes about a second.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from textual.widgets import DataTable, Label, Static

from tests.conftest import FROZEN_NOW
from tests.ui.conftest import SIZE, files_digest, fill, prepared_store, wait_for_screen
from workbench.store import models as m
from workbench.ui.runs import RunsPane
from workbench.ui.screens.run_compare import CompareRunsScreen
from workbench.ui.screens.run_dialogs import LaunchRunDialog
from workbench.ui.trends import TrendsPane

ROOT = Path(__file__).resolve().parents[2]
SOLUTION = """def add(a, b):
    if a < 0 or b < 0:
        raise ValueError("non-negative only")
    return a + b
"""
TESTS = """import pytest

from solution import add


def test_add():
    assert add(1, 2) == 3


def test_rejects_negatives():
    with pytest.raises(ValueError):
        add(-1, 2)
"""
SLOW_TESTS = """import time


def test_slow():
    time.sleep(30)
"""


def write_task(root: Path, name: str, tests: str = TESTS) -> None:
    d = root / name
    d.mkdir(parents=True)
    meta = {"name": name, "kind": "function", "complexity": "easy", "description": "Add ints."}
    (d / "task.json").write_text(json.dumps(meta))
    (d / "solution.py").write_text(SOLUTION)
    (d / "test_solution.py").write_text(tests)


@pytest.fixture
def tasks(tmp_path) -> Path:
    root = tmp_path / "tasks"
    write_task(root, "tiny_add")
    return root


def freeze_pipeline() -> None:
    """Wall-clock times and measured durations vary; pictures need fixed ones."""
    for run in m.PipelineRun.select():
        # the isolation level depends on the machine (bwrap, unshare or limits): fix it
        config = {**json.loads(run.config), "tasks_dir": "tmp/tasks", "isolation": "bwrap",
                  "warm_pool": True}  # fmt: skip
        summary = {**json.loads(run.summary or "{}"), "recommendations": ["balanced is best"]}
        run.config, run.summary = json.dumps(config), json.dumps(summary)
        run.started = run.finished = FROZEN_NOW
        run.save()
    m.TaskExecution.update(
        created=FROZEN_NOW, exec_ms=500.0, log_excerpt="..  [100%]\n2 passed"
    ).execute()
    m.TaskExecution.update(score=60.0, isolation="bwrap").execute()
    m.TaskExecution.update(score=95.0).where(m.TaskExecution.status == "passed").execute()
    m.StrategyProfile.update(updated=FROZEN_NOW, avg_exec_ms=500.0, avg_score=60.0).execute()
    m.StrategyProfile.update(avg_score=95.0).where(m.StrategyProfile.failures == 0).execute()
    m.StrategyTrend.update(at=FROZEN_NOW, exec_ms=500.0, score=95.0).execute()
    m.Task.update(created=FROZEN_NOW).execute()


def ran_app(make_app, tasks: Path, strategies=("balanced", "aggressive")):
    """The fixture store after one pipeline run over a copy of `tasks`, run once per test
    run (`prepared_store`) and copied into this test."""

    def prepare(engine, folder: Path) -> None:
        shutil.copytree(tasks, folder / "tasks")
        engine.pipeline.run(iterations=1, strategies=strategies, tasks_dir=folder / "tasks",
                            workers=2)  # fmt: skip
        freeze_pipeline()

    name = f"ran-{'-'.join(strategies)}-{files_digest(tasks)}"
    return make_app(store=prepared_store(name, prepare))


def rows(root, table_id: str) -> list[list[str]]:
    table = root.query_one(table_id, DataTable)
    return [[str(c).strip() for c in table.get_row_at(i)] for i in range(table.row_count)]


def run_rows(pane) -> list[list[str]]:
    """The runs list without its mark column."""
    return [r[1:] for r in rows(pane, "#runs-list .run-picker-table")]


def status_of(pane) -> str:
    return str(pane.query_one("#run-status", Label).render())


async def wait_until(pilot, check, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        await pilot.pause(0.05)
        if check():
            return
    assert check()


# -- behaviour ---------------------------------------------------------------------------


async def test_launch_dialog_starts_a_run_and_the_pane_follows(make_app, tasks):
    app = make_app()
    async with app.run_test(size=(200, 50)) as pilot:  # wide: the runs list shows every column
        pane = app.query_one(RunsPane)
        assert run_rows(pane) == []
        await pilot.press("t")
        await wait_for_screen(pilot, LaunchRunDialog)
        await fill(pilot, iterations="0")
        await pilot.press("enter")
        assert "iterations: must be at least 1" in str(
            app.screen.query_one("#dialog-error", Label).render()
        )
        await fill(pilot, iterations="1", strategies="balanced,aggressive", tasks=str(tasks))
        await pilot.press("enter")
        await wait_until(pilot, lambda: not isinstance(app.screen, LaunchRunDialog))
        # the dialog's callback starts the run in a worker: its row appears in the store
        await wait_until(pilot, lambda: bool(app.engine.pipeline.runs()))
        await app.workers.wait_for_complete()
        # the worker's last messages are handled after it completes: wait for them
        await wait_until(pilot, lambda: not pane.running and "completed" in status_of(pane))
        listed = run_rows(pane)
        assert [r[:5] for r in listed] == [["1", "completed", "all", "1", "1/2"]]
        executions = rows(pane, "#executions")
        assert {(r[0], r[1], r[2]) for r in executions} == {
            ("tiny_add", "balanced", "pass 2/2 tests passed"),
            ("tiny_add", "aggressive", "failed 1/2 tests passed"),
        }
        info = str(pane.query_one("#run-info", Static).render())
        assert "iteration 1 · all levels · 1/2 passed" in info
        assert "log · tiny_add" in str(pane.query_one("#exec-log", Static).render())
        assert "run 1 completed · 1/2 passed · balanced pick: balanced" in str(
            pane.query_one("#run-status", Label).render()
        )
        # Trends shows the profiles and every selector's pick
        await pilot.press("2")
        await pilot.pause()
        trends = app.query_one(TrendsPane)
        profiles = {r[0]: r for r in rows(trends, "#profiles")}
        assert profiles["balanced"][1:2] == ["100%"] and profiles["aggressive"][1:2] == ["0%"]
        picks = str(trends.query_one("#picks", Static).render())
        for selector in ("production", "prototyping", "balanced", "bandit"):
            assert selector in picks
        assert "production  balanced" in picks and "Thompson draw" in picks


async def test_cancel_marks_the_run_cancelled(make_app, tmp_path):
    root = tmp_path / "slow"
    write_task(root, "slow_task", tests=SLOW_TESTS)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = app.query_one(RunsPane)
        await pilot.press("t")
        await fill(pilot, strategies="balanced", tasks=str(root))
        await pilot.press("enter")
        await wait_until(pilot, lambda: pane.live_run is not None and pane._progress_total)
        started = time.monotonic()
        await pilot.press("x")
        await app.workers.wait_for_complete()
        await wait_until(pilot, lambda: not pane.running and "cancelled" in status_of(pane))
        assert time.monotonic() - started < 10
        assert app.engine.pipeline.runs()[0]["status"] == "cancelled"
        assert run_rows(pane)[0][1] == "cancelled"
        assert "cancelled" in str(pane.query_one("#run-status", Label).render())
        await pilot.press("x")  # nothing to cancel: a warning, no crash
        await pilot.pause()


async def test_run_from_another_process_appears_live(make_app, tasks):
    app = make_app(watch=True)
    async with app.run_test(size=SIZE) as pilot:
        pane = app.query_one(RunsPane)
        proc = subprocess.Popen(
            [sys.executable, "-m", "workbench", "pipeline", "run", "--db",
             str(app.engine.db_path), "--tasks", str(tasks), "--strategies", "balanced",
             "--json"],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip
        try:
            await wait_until(
                pilot,
                lambda: run_rows(pane)[:1] and run_rows(pane)[0][1] == "completed",
                timeout=30,
            )
            assert proc.wait(timeout=30) == 0, proc.stderr.read()
            assert [r[:2] for r in rows(pane, "#executions")] == [["tiny_add", "balanced"]]
        finally:
            if proc.poll() is None:
                proc.kill()


async def test_trends_empty_store_explains_itself(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        await pilot.pause()
        trends = app.query_one(TrendsPane)
        assert rows(trends, "#profiles") == []
        assert "no strategy profiles yet" in str(trends.query_one("#picks", Static).render())


# -- snapshots ---------------------------------------------------------------------------


def test_snapshot_runs_idle_after_a_run(snap_compare, make_app, tasks):
    app = ran_app(make_app, tasks)
    assert snap_compare(app, terminal_size=SIZE)


def test_snapshot_launch_dialog(snap_compare, make_app, tasks):
    app = ran_app(make_app, tasks)

    async def run_before(pilot) -> None:
        await pilot.press("t")
        await fill(pilot, iterations="3", strategies="balanced,conservative")

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


async def show_trends(pilot) -> None:
    """Press 2 and wait for the selector estimates' worker and its message."""
    await pilot.press("2")
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def test_snapshot_trends_after_a_run(snap_compare, make_app, tasks):
    app = ran_app(make_app, tasks)
    assert snap_compare(app, terminal_size=SIZE, run_before=show_trends)


# -- several runs: filter, marks, compare, drill-down ---------------------------------------


def two_runs_app(make_app, tasks: Path):
    """Two pipeline runs over a copy of `tasks`, once per test run (see `ran_app`)."""

    def prepare(engine, folder: Path) -> None:
        shutil.copytree(tasks, folder / "tasks")
        pipeline = engine.pipeline
        pipeline.run(iterations=1, strategies=("balanced", "aggressive"),
                     tasks_dir=folder / "tasks", workers=2)  # fmt: skip
        pipeline.run(iterations=2, strategies=("balanced",), tasks_dir=folder / "tasks",
                     workers=2)  # fmt: skip
        freeze_pipeline()

    return make_app(store=prepared_store(f"two-runs-{files_digest(tasks)}", prepare))


async def test_filter_mark_compare_and_drill_in_runs(make_app, tasks):
    app = two_runs_app(make_app, tasks)
    async with app.run_test(size=SIZE) as pilot:
        pane = app.query_one(RunsPane)
        assert [r[0] for r in run_rows(pane)] == ["2", "1"]
        # `/` filters by strategy; Esc clears the filter and keeps the table focused
        await pilot.press("slash", *"aggressive")
        await pilot.pause()
        assert [r[0] for r in run_rows(pane)] == ["1"]
        assert "1/2" in str(pane.query_one(".run-picker-title", Label).render())
        await pilot.press("enter", "escape")
        await pilot.pause()
        assert [r[0] for r in run_rows(pane)] == ["2", "1"]
        # c with fewer than two marks explains itself; space marks, c compares
        await pilot.press("c")
        assert not isinstance(app.screen, CompareRunsScreen)
        await pilot.press("space", "up", "space")  # the cursor stayed on run 1
        await pilot.pause()
        assert app.marked_runs == {1, 2}
        assert [r[0] for r in rows(pane, "#runs-list .run-picker-table")] == ["✓", "✓"]
        await pilot.press("c")
        await pilot.pause()
        await wait_for_screen(pilot, CompareRunsScreen)
        table = {r[0]: r[1:] for r in rows(app.screen, DataTable)}
        assert table["iterations"] == ["1", "2"]
        assert table["executions"] == ["2", "2"]
        assert table["success"] == ["50%", "100%"]
        assert table["aggressive · success"] == ["0%", "—"]
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, CompareRunsScreen)
        # Enter drills into the highlighted run; Esc returns to the list
        await pilot.press("down", "enter")
        await pilot.pause()
        assert pane.has_class("drilled") and pane.selected == 1
        assert not pane.query_one("#runs-list").display
        assert app.query_one("#executions", DataTable).has_focus
        await pilot.press("escape")
        await pilot.pause()
        assert not pane.has_class("drilled")
        assert pane.query_one("#runs-list").display


async def test_trends_overlay_marked_runs_and_drill_into_one(make_app, tasks):
    app = two_runs_app(make_app, tasks)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        await pilot.pause()
        trends = app.query_one(TrendsPane)
        title = trends.query_one("#trends-title", Label)
        assert "3 trend points · all runs" in str(title.render())
        await pilot.press("down", "space")  # mark run 1 (cursor starts on run 2)
        await pilot.pause()
        assert app.marked_runs == {1}
        assert "1 trend points · runs 1" in str(title.render())
        await pilot.press("up", "enter")  # drill into run 2: its two iterations
        await pilot.pause()
        assert trends.drilled == 2
        assert "2 trend points · run 2" in str(title.render())
        await pilot.press("escape")
        await pilot.pause()
        assert trends.drilled is None
        assert "1 trend points · runs 1" in str(title.render())
        # marks are shared: Runs shows run 1 marked
        await pilot.press("1")
        await pilot.pause()
        marks = rows(app.query_one(RunsPane), "#runs-list .run-picker-table")
        assert [r[:2] for r in marks] == [["", "2"], ["✓", "1"]]


def test_snapshot_compare_runs(snap_compare, make_app, tasks):
    app = two_runs_app(make_app, tasks)
    assert snap_compare(app, terminal_size=SIZE, press=["space", "down", "space", "c"])


def test_snapshot_runs_empty_store(snap_compare, make_app):
    assert snap_compare(make_app(), terminal_size=SIZE)


def test_snapshot_runs_live_from_another_process(snap_compare, make_app, tasks):
    """A run still going elsewhere: the bar comes from what the run recorded on its row."""
    app = ran_app(make_app, tasks)
    run = m.PipelineRun.get()
    run.status, run.iterations, run.finished = "running", 2, None
    run.summary = json.dumps({"progress": {"iteration": 2, "level": None, "total": 4}})
    run.save()
    execution = m.TaskExecution.get(m.TaskExecution.strategy == "balanced")
    m.TaskExecution.create(
        **{**execution.__data__, "id": None, "iteration": 2, "created": FROZEN_NOW}
    )
    assert snap_compare(app, terminal_size=SIZE)
