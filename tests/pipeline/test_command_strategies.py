"""Command strategies: a real command edits the task copy, then the task's tests judge it.

The commands are small scripts shipped in tests/pipeline/scripts: one fixes the bug with a
text replacement, one does nothing, one hangs, one kills its parent, one prints which
variables it sees and tries to rewrite the test file.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_cli import assert_one_line_error, run_cli
from workbench.pipeline.commands import (
    CommandStrategy,
    load_strategies_file,
    parse_strategy_cmd,
    unified_diff,
)
from workbench.store import models as m

SCRIPTS = Path(__file__).parent / "scripts"
BUGGY = "def add(a, b):\n    return a - b\n"
TESTS = "from solution import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n"


def run_main(capsys, *args: str) -> subprocess.CompletedProcess:
    """The CLI's real entry point, in this process (no interpreter start-up per call)."""
    from workbench.cli import main

    capsys.readouterr()
    try:
        code = main(list(args))
    except SystemExit as exc:  # argparse
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return subprocess.CompletedProcess(args, code, out.out, out.err)


def script(name: str) -> str:
    return f"{shlex.quote(sys.executable)} {shlex.quote(str(SCRIPTS / name))}"


@pytest.fixture
def buggy_tasks(tmp_path) -> Path:
    root = tmp_path / "tasks"
    task = root / "buggy_add"
    task.mkdir(parents=True)
    meta = {"name": "buggy_add", "complexity": "easy", "description": "Add two numbers."}
    (task / "task.json").write_text(json.dumps(meta))
    (task / "solution.py").write_text(BUGGY)
    (task / "test_solution.py").write_text(TESTS)
    return root


def by_strategy(engine, run_id: int) -> dict[str, dict]:
    return {e["strategy"]: e for e in engine.pipeline.executions(run_id)}


def test_a_command_that_fixes_the_bug_passes_and_one_that_does_nothing_fails(engine, buggy_tasks):
    pipeline = engine.pipeline
    pipeline.add_command_strategy(f"fixer={script('fix_bug.py')}")
    pipeline.add_command_strategy(f"idle={script('do_nothing.py')}")
    result = pipeline.run(strategies=["fixer", "idle", "balanced"], tasks_dir=buggy_tasks)
    assert result["status"] == "completed"
    rows = by_strategy(engine, result["run_id"])
    fixer, idle = rows["fixer"], rows["idle"]
    assert (fixer["status"], fixer["tests_passed"], fixer["tests_total"]) == ("passed", 1, 1)
    assert fixer["command_exit"] == 0 and fixer["command_ms"] > 0
    assert "-    return a - b\n+    return a + b" in fixer["command_diff"]
    assert "fixed solution.py" in fixer["log_excerpt"]
    assert "prompt: Add two numbers." in fixer["log_excerpt"]
    assert fixer["exec_ms"] >= fixer["command_ms"]
    assert idle["status"] == "failed" and idle["command_exit"] == 0
    assert idle["command_diff"] == ""
    assert rows["balanced"]["status"] == "failed" and rows["balanced"]["command_ms"] is None
    # command strategies learn like the built-ins: profiles, trends, the bandit
    status = pipeline.status()
    assert status["fixer"]["success_rate"] == 1.0 and status["idle"]["success_rate"] == 0.0
    assert len(status["fixer"]["trend"]) == 1
    assert pipeline.select("production")["strategy"] == "fixer"
    assert "fixer" in pipeline.select(bandit=True, seed=0)["candidates"]
    config = json.loads(m.PipelineRun.get_by_id(result["run_id"]).config)
    assert config["commands"]["fixer"]["command"][0] == sys.executable


def test_a_hanging_command_and_one_killing_its_parent_are_recorded_failures(
    engine, buggy_tasks, tmp_path
):
    toml = tmp_path / "strategies.toml"
    toml.write_text(
        f"[sleepy]\ncommand = {json.dumps([sys.executable, str(SCRIPTS / 'sleep_forever.py')])}\n"
        "timeout = 1\n"
        f'[killer]\ncommand = "{sys.executable} {SCRIPTS / "kill_parent.py"}"\n'
        'description = "kills its parent"\n'
    )
    assert engine.pipeline.load_strategies_file(toml) == ["sleepy", "killer"]
    result = engine.pipeline.run(
        strategies=["sleepy", "killer", "balanced"], tasks_dir=buggy_tasks, workers=3
    )
    assert result["status"] == "completed"  # the run went on
    rows = by_strategy(engine, result["run_id"])
    sleepy, killer = rows["sleepy"], rows["killer"]
    assert sleepy["status"] == "timeout" and "command timed out after 1 s" in sleepy["reason"]
    assert sleepy["score"] == 0.0 and sleepy["command_exit"] is None
    assert "thinking..." in sleepy["log_excerpt"]
    assert killer["status"] == "crash" and "killed by SIGKILL" in killer["reason"]
    assert "kill its parent" in killer["reason"] and killer["score"] == 0.0
    assert "+    return a + b" in killer["command_diff"]  # what it did is still recorded
    assert rows["balanced"]["status"] == "failed"
    assert engine.pipeline.status()["killer"]["failures"] == 1


def test_only_named_variables_reach_the_command_and_test_edits_are_undone(
    engine, buggy_tasks, tmp_path, monkeypatch
):
    monkeypatch.setenv("WB_VISIBLE", "shown")
    monkeypatch.setenv("WB_HIDDEN_SECRET", "must-not-leak")
    toml = tmp_path / "strategies.toml"
    toml.write_text(
        f'[peek]\ncommand = ["{sys.executable}", "{SCRIPTS / "show_env.py"}"]\n'
        'pass_env = ["WB_VISIBLE"]\nnetwork = true\n'
    )
    engine.pipeline.load_project_strategies(tmp_path)
    result = engine.pipeline.run(strategies=["peek"], tasks_dir=buggy_tasks)
    peek = by_strategy(engine, result["run_id"])["peek"]
    assert "WB_VISIBLE=shown" in peek["log_excerpt"]
    assert "WB_HIDDEN_SECRET=MISSING" in peek["log_excerpt"]
    assert "must-not-leak" not in peek["log_excerpt"]
    # it rewrote the test file to pass; the task's own tests were put back and failed
    assert "restored test files it changed: test_solution.py" in peek["log_excerpt"]
    assert peek["status"] == "failed" and peek["tests_total"] == 1
    assert peek["command_network"] is True


def test_parse_and_load_name_what_is_wrong(tmp_path):
    strategy = parse_strategy_cmd(f"mine={script('do_nothing.py')} --flag 'two words'")
    assert strategy == CommandStrategy(
        "mine", (sys.executable, str(SCRIPTS / "do_nothing.py"), "--flag", "two words")
    )
    cases = {
        "no-equals": "use NAME='COMMAND ...'",
        "bad name=true": "must be an identifier",
        "x=": "non-empty list of strings",
        "x=no-such-program-wb": "not found on PATH",
        "x='unclosed": "No closing quotation",
    }
    for spec, fragment in cases.items():
        with pytest.raises(ValueError, match=fragment):
            parse_strategy_cmd(spec)
    bad_files = {
        '[a]\ncommand = ["true"]\nmodel = "x"\n': "unknown key 'model'",
        "[a]\ncommand = 3\n": "command must be a list of strings or a string",
        '[a]\ncommand = ["true", 3]\n': "non-empty list of strings",
        '[a]\ncommand = ["true"]\ntimeout = -1\n': "timeout must be in",
        '[a]\ncommand = ["true"]\npass_env = "KEY"\n': "pass_env must be a list",
        '[a]\ncommand = ["true"]\npass_env = ["WB_PROMPT"]\n': "may not name WB_PROMPT",
        '[a]\ncommand = ["true"]\nnetwork = "yes"\n': "network must be true or false",
        'command = ["true"]\n': "must be a [command] table",
        "[a\n": "not valid TOML",
        "": "no strategies",
    }
    for text, fragment in bad_files.items():
        path = tmp_path / "s.toml"
        path.write_text(text)
        with pytest.raises(ValueError, match=fragment.replace("[", r"\[")):
            load_strategies_file(path)


def test_diff_is_bounded_and_says_so():
    before = {"a.py": b"x = 1\n", "gone.py": b"y\n", "blob": b"\xff\x00"}
    after = {"a.py": b"x = 2\n", "new.py": b"z\n" * 5000, "blob": b"\xfe"}
    text = unified_diff(before, after, 300)
    assert "-x = 1\n+x = 2" in text and "a/gone.py" in text
    assert "diff cut at 300 of" in text and len(text) < 400
    assert "Binary file blob changed" in unified_diff(before, after, 10_000)


def test_cli_bad_strategy_input_is_one_line_and_writes_nothing(tmp_path, buggy_tasks, capsys):
    db = tmp_path / "s.db"
    toml = tmp_path / "bad.toml"
    toml.write_text('[agent]\ncommand = ["true"]\ntemperature = 0.2\n')
    cases = [
        (["--strategies-file", str(toml), "--strategies", "agent"], "unknown key 'temperature'"),
        (["--strategy-cmd", "agent", "--strategies", "agent"], "use NAME='COMMAND ...'"),
        (["--strategy-cmd", "balanced=true", "--strategies", "balanced"], "is taken"),
        (["--strategy-cmd", "ghost=true", "--strategies", "ghoul"], "unknown strategy 'ghoul'"),
    ]
    for extra, fragment in cases:
        result = run_main(
            capsys, "pipeline", "run", "--db", str(db), "--tasks", str(buggy_tasks), *extra
        )
        assert_one_line_error(result, fragment)
    good = tmp_path / "env.toml"
    good.write_text('[agent]\ncommand = ["true"]\npass_env = ["WB_TEST_UNSET_KEY"]\n')
    result = run_main(
        capsys, "pipeline", "run", "--db", str(db), "--tasks", str(buggy_tasks),
        "--strategies-file", str(good), "--strategies", "agent",
    )  # fmt: skip
    assert_one_line_error(result, "pass_env WB_TEST_UNSET_KEY is not set")
    runs = run_main(capsys, "pipeline", "status", "--db", str(db), "--json")
    assert runs.returncode == 0 and json.loads(runs.stdout) == {}


def test_cli_runs_a_command_strategy(tmp_path, buggy_tasks):
    db = tmp_path / "s.db"
    result = run_cli(
        "pipeline", "run", "--db", str(db), "--tasks", str(buggy_tasks), "--json",
        "--strategy-cmd", f"fixer={script('fix_bug.py')}", "--strategies", "fixer",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    (execution,) = json.loads(result.stdout)["executions"]
    assert (execution["status"], execution["command_exit"]) == ("passed", 0)


def test_command_strategies_refuse_a_remote_executor_before_writing(engine, buggy_tasks):
    class RemoteLike:  # satisfies the SandboxExecutor protocol
        def submit_sandboxed(self, task, strategy, source):
            raise AssertionError("must not be reached")

        def cancel_running(self):
            pass

    engine.pipeline.add_command_strategy(f"idle={script('do_nothing.py')}")
    with pytest.raises(ValueError, match="command strategies run on the local executor only"):
        engine.pipeline.run(strategies=["idle"], tasks_dir=buggy_tasks, executor=RemoteLike())
    assert engine.pipeline.runs() == []
