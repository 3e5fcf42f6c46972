"""Runs and Trends with command strategies and offline selector estimates: a command
launched from the dialog, its step in the execution detail, and the estimates table."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from textual.widgets import DataTable, Static

from tests.pipeline.test_offpolicy import GUARDED, TESTS  # the same guarded task
from tests.ui.conftest import SIZE
from tests.ui.test_runs_trends import fill, freeze_pipeline, rows, show_trends, wait_until
from workbench.store import models as m
from workbench.ui.runs import RunsPane
from workbench.ui.screens.run_dialogs import LaunchRunDialog
from workbench.ui.trends import TrendsPane

SCRIPTS = Path(__file__).resolve().parents[1] / "pipeline" / "scripts"
FIX = f"agent_fix={sys.executable} {SCRIPTS / 'fix_bug.py'}"
COMMAND_LOG = (
    "$ python fix_bug.py\nfixed solution.py\n[command exit 0, 800 ms]\n--- tests ---\n"
    "..  [100%]\n2 passed"
)


def write_tasks(root: Path, n: int) -> Path:
    """n tasks, every other one with the bug `return a - b` (balanced fails those)."""
    for i in range(n):
        d = root / f"add_{i}"
        d.mkdir(parents=True)
        source = GUARDED.replace("a + b", "a - b") if i % 2 == 0 else GUARDED
        meta = {"name": f"add_{i}", "complexity": "easy", "description": "Add two numbers."}
        d.joinpath("task.json").write_text(json.dumps(meta))
        d.joinpath("solution.py").write_text(source)
        d.joinpath("test_solution.py").write_text(TESTS)
    return root


def freeze_commands() -> None:
    freeze_pipeline()
    m.TaskExecution.update(command_ms=800.0, log_excerpt=COMMAND_LOG).where(
        m.TaskExecution.command_ms.is_null(False)
    ).execute()


async def test_a_command_strategy_from_the_launch_dialog(make_app, tmp_path):
    tasks = write_tasks(tmp_path / "tasks", 1)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = app.query_one(RunsPane)
        await pilot.press("t")
        await fill(pilot, strategies="agent_fix,balanced", tasks=str(tasks), command="x=")
        await pilot.press("enter")
        error = str(app.screen.query_one("#dialog-error").render())
        assert "command strategy: --strategy-cmd 'x='" in error
        await fill(pilot, command=FIX)
        await pilot.press("enter")
        await wait_until(pilot, lambda: not isinstance(app.screen, LaunchRunDialog))
        await app.workers.wait_for_complete()
        await wait_until(pilot, lambda: not pane.running and pane.executions)
        table = {r[1]: r for r in rows(pane, "#executions")}
        assert (
            table["agent_fix"][2] == "pass 2/2 tests passed"
            and table["balanced"][2] == "failed 1/2 tests passed"
        )
        executions = pane.query_one("#executions", DataTable)
        executions.focus()
        executions.move_cursor(row=list(table).index("agent_fix"))
        await pilot.pause()
        log = str(pane.query_one("#exec-log", Static).render())
        assert "command · exit 0 ·" in log and "diff: solution.py +1 −1" in log
        assert "fixed solution.py" in log


def test_snapshot_runs_with_a_command_strategy(snap_compare, make_app, tmp_path):
    tasks = write_tasks(tmp_path / "tasks", 1)
    app = make_app()
    app.engine.pipeline.add_command_strategy(FIX)
    app.engine.pipeline.run(strategies=["agent_fix", "balanced"], tasks_dir=tasks, workers=2)
    freeze_commands()
    assert snap_compare(app, terminal_size=SIZE)


def estimates_app(make_app, tmp_path):
    tasks = write_tasks(tmp_path / "tasks", 6)
    app = make_app()
    pipeline = app.engine.pipeline
    strategies = ["balanced", "aggressive"]
    pipeline.run(strategies=strategies, tasks_dir=tasks, workers=2)
    pipeline.run(strategies=strategies, tasks_dir=tasks, select="bandit", seed=1, workers=2)
    freeze_pipeline()
    return app


async def test_trends_shows_the_selector_estimates(make_app, tmp_path):
    app = estimates_app(make_app, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await show_trends(pilot)
        table = {r[0]: r for r in rows(app.query_one(TrendsPane), "#estimates")}
        assert list(table) == ["production", "prototyping", "balanced", "bandit",
                               "always aggressive", "always balanced"]  # fmt: skip
        # balanced passes the three correct tasks of six: 50%, scores frozen at 95 / 60
        assert table["always balanced"][2].startswith("50% [")
        # aggressive failed everywhere, so the bandit picked it once with a small probability:
        # that one weight dominates, and the pane says the log cannot support an estimate
        assert table["always aggressive"][1:3] == ["— ESS too small", "—"]
        assert int(table["always aggressive"][3]) < 10
        assert int(table["always balanced"][3]) >= 10


async def test_trends_estimates_on_an_empty_log_say_so(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await show_trends(pilot)
        cells = rows(app.query_one(TrendsPane), "#estimates")
        assert len(cells) == 1 and cells[0][0].startswith("no executions logged yet")


def test_snapshot_trends_with_selector_estimates(snap_compare, make_app, tmp_path):
    app = estimates_app(make_app, tmp_path)
    assert snap_compare(app, terminal_size=SIZE, run_before=show_trends)
