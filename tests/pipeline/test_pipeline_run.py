"""End-to-end runs through the Engine and the CLI (`python -m workbench`)."""

from __future__ import annotations

import json
import shutil
import threading
import time

import pytest

from tests.pipeline.test_pipeline_sandbox import group_alive, make_task
from tests.test_cli import assert_one_line_error, run_cli
from workbench import config
from workbench.pipeline.service import run_progress
from workbench.store import models as m

BUNDLED = ("binary_search", "slugify")


def bundled(tmp_path, names=BUNDLED):
    root = tmp_path / "tasks"
    for name in names:
        shutil.copytree(config.SAMPLE_DATA_DIR / "tasks" / name, root / name)
    return root


def test_run_streams_rows_learns_and_reports(engine, tmp_path):
    events = []
    seen_running = []
    seen_progress = []

    def on_event(event):
        events.append(event)
        if event["type"] == "execution":
            run = m.PipelineRun.get_by_id(event["run_id"])
            seen_running.append((run.status, m.TaskExecution.select().count()))
            # what a UI in another process sees: only the store
            stored = engine.pipeline.runs()[0]
            progress = run_progress(stored, engine.pipeline.executions(stored["id"]))
            seen_progress.append((progress["done"], progress["total"], progress["iteration"]))

    result = engine.pipeline.run(tasks_dir=bundled(tmp_path), workers=2, on_event=on_event)
    assert result["status"] == "completed"
    assert len(result["executions"]) == 6
    by = {(e["task"], e["strategy"]): e for e in result["executions"]}
    assert by[("slugify", "balanced")]["status"] == "passed"
    assert by[("slugify", "aggressive")]["status"] == "failed"  # its guards are tested
    assert seen_running[0] == ("running", 1) and seen_running[-1] == ("running", 6)
    assert seen_progress == [(n, 6, 1) for n in range(1, 7)]
    assert run_progress(engine.pipeline.runs()[0], []) is None  # finished: no bar
    run = m.PipelineRun.get_by_id(result["run_id"])
    assert run.status == "completed" and run.finished is not None
    assert json.loads(run.summary)["total_executions"] == 6
    profiles = engine.pipeline.status()
    assert set(profiles) == {"conservative", "balanced", "aggressive"}
    assert profiles["balanced"]["success_rate"] == 1.0
    assert profiles["aggressive"]["success_rate"] == 0.0
    assert len(profiles["balanced"]["trend"]) == 1
    assert result["recommendations"]
    assert engine.pipeline.select("production")["strategy"] in ("balanced", "conservative")
    assert engine.pipeline.select(bandit=True, seed=1)["reason"]
    assert [e["type"] for e in events][:2] == ["run_started", "iteration_started"]


def test_compare_runs_side_by_side(engine, tmp_path):
    tasks = bundled(tmp_path, ("slugify",))
    first = engine.pipeline.run(tasks_dir=tasks, strategies=["balanced", "aggressive"], workers=2)
    second = engine.pipeline.run(tasks_dir=tasks, strategies=["balanced"], iterations=2, workers=2)
    one, two = engine.pipeline.compare([first["run_id"], second["run_id"]])
    assert (one["id"], one["executions"], one["success_rate"]) == (first["run_id"], 2, 0.5)
    assert (two["executions"], two["success_rate"], two["iterations"]) == (2, 1.0, 2)
    assert one["by_strategy"]["aggressive"]["success_rate"] == 0.0
    assert set(two["by_strategy"]) == {"balanced"}
    scores = [e["score"] for e in first["executions"]]
    assert abs(one["avg_score"] - sum(scores) / 2) < 1e-9
    with pytest.raises(ValueError, match="unknown pipeline run 999"):
        engine.pipeline.compare([999])


def test_curriculum_moves_up_and_records_levels(engine, tmp_path):
    root = tmp_path / "tasks"
    root.mkdir()
    for level in ("easy", "medium"):
        task = make_task(root, level, "def test_ok():\n    pass\n")
        meta = json.loads((task.path / "task.json").read_text())
        (task.path / "task.json").write_text(json.dumps({**meta, "complexity": level}))
    result = engine.pipeline.run(
        curriculum=True, iterations=2, strategies=["balanced"], tasks_dir=root, workers=2
    )
    assert [it["level"] for it in result["iterations"]] == ["easy", "medium"]
    assert [e["task"] for e in result["executions"]] == ["easy", "medium"]
    levels = [e.level for e in m.TaskExecution.select().order_by(m.TaskExecution.id)]
    assert levels == ["easy", "medium"]


def test_cancel_marks_run_and_leaves_no_processes(engine, tmp_path):
    root = tmp_path / "tasks"
    root.mkdir()
    for i in range(3):
        make_task(root, f"slow{i}", "import time\n\ndef test_slow():\n    time.sleep(60)\n", 60)
    service = engine.pipeline
    pgids: list[int] = []

    def on_event(event):
        if event["type"] == "iteration_started":
            threading.Thread(target=cancel_soon, daemon=True).start()

    def cancel_soon():
        deadline = time.monotonic() + 10
        while len(service.processes.pids()) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        pgids.extend(service.processes.pids())
        service.cancel()

    started = time.monotonic()
    result = service.run(strategies=["balanced"], tasks_dir=root, workers=2, on_event=on_event)
    assert time.monotonic() - started < 15
    assert result["status"] == "cancelled"
    assert m.PipelineRun.get_by_id(result["run_id"]).status == "cancelled"
    assert len(pgids) == 2
    assert not any(group_alive(pgid) for pgid in pgids)
    assert service.processes.pids() == []


def test_cli_run_status_select(tmp_path):
    db = str(tmp_path / "w.db")
    tasks = str(bundled(tmp_path, ("binary_search",)))
    plugin = tmp_path / "mine.py"
    plugin.write_text("STRATEGIES = {'same': lambda source: source}\n")
    out = run_cli(
        *("pipeline", "run", "--db", db, "--tasks", tasks, "--workers", "2"),
        *("--strategies", "balanced,same", "--strategy-module", str(plugin), "--json"),
    )
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert {"run_id", "executions", "profiles", "validation", "recommendations"} <= set(report)
    row = report["executions"][0]
    assert {"task", "strategy", "tests_passed", "tests_total", "lint_ok", "exec_ms", "score",
            "status", "reason"} <= set(row)  # fmt: skip
    human = run_cli("pipeline", "run", "--db", db, "--tasks", tasks, "--strategies", "balanced")
    assert human.returncode == 0, human.stderr
    assert "Training Pipeline Report" in human.stdout and "Strategy: balanced" in human.stdout
    status = json.loads(run_cli("pipeline", "status", "--db", db, "--json").stdout)
    assert status["balanced"]["uses"] == 2 and len(status["balanced"]["trend"]) == 2
    assert {"improving", "improvement_rate", "real_executions"} <= set(status["balanced"])
    pick = json.loads(run_cli("pipeline", "select", "--db", db, "--priorities", "1,0,0",
                              "--json").stdout)  # fmt: skip
    assert pick["strategy"] in ("balanced", "same") and pick["reason"]
    bandit = run_cli("pipeline", "select", "--db", db, "--bandit", "--seed", "3")
    assert bandit.returncode == 0 and "Thompson" in bandit.stdout


def test_cli_errors_are_one_line(tmp_path):
    db = str(tmp_path / "w.db")
    assert_one_line_error(
        run_cli("pipeline", "run", "--db", db, "--tasks", str(tmp_path / "none")),
        "tasks directory does not exist",
    )
    assert_one_line_error(
        run_cli("pipeline", "run", "--db", db, "--strategies", "nope"), "unknown strategy"
    )
    assert_one_line_error(
        run_cli("pipeline", "run", "--db", db, "--strategy-module", str(tmp_path / "x.txt")),
        "existing .py file",
    )
    assert_one_line_error(
        run_cli("pipeline", "select", "--db", db, "--priorities", "fast"), "priorities"
    )
    assert_one_line_error(run_cli("pipeline", "select", "--db", db), "no strategy profiles")


def install_plugin(root, body: str, target: str = "wb_plugin:double_blank_lines") -> None:
    """A distribution on sys.path advertising a `workbench.strategies` entry point."""
    (root / "wb_plugin.py").write_text(body)
    info = root / "wb_plugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: wb-plugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[workbench.strategies]\nspaced = {target}\n")


def test_entry_point_strategy_runs_through_the_cli(tmp_path):
    plugin = tmp_path / "plugin"
    plugin.mkdir()
    install_plugin(plugin, "def double_blank_lines(src):\n    return src + '\\n\\n'\n")
    root = tmp_path / "tasks"
    root.mkdir()
    make_task(root, "ok", "from solution import f\n\ndef test_f():\n    assert f(2) == 2\n")
    db = str(tmp_path / "wb.db")
    env = {"PYTHONPATH": str(plugin)}
    out = run_cli("pipeline", "run", "--db", db, "--tasks", str(root), "--strategies",
                  "spaced,balanced", "--workers", "1", "--json", env=env)  # fmt: skip
    assert out.returncode == 0, out.stderr
    executions = {e["strategy"]: e for e in json.loads(out.stdout)["executions"]}
    assert executions["spaced"]["status"] == "passed"
    assert executions["spaced"]["tests_total"] == 1
    # without the plugin installed the name is unknown: one line, nothing run
    missing = run_cli("pipeline", "run", "--db", db, "--tasks", str(root), "--strategies",
                      "spaced", "--json")  # fmt: skip
    assert_one_line_error(missing, "unknown strategy 'spaced'")


def test_broken_entry_point_is_one_line_naming_it(tmp_path):
    plugin = tmp_path / "plugin"
    plugin.mkdir()
    install_plugin(plugin, "raise ImportError('needs libfoo')\n")
    out = run_cli("pipeline", "run", "--db", str(tmp_path / "wb.db"), "--json",
                  env={"PYTHONPATH": str(plugin)})  # fmt: skip
    assert_one_line_error(out, "strategy entry point 'spaced'")
    assert "needs libfoo" in out.stderr
