"""Tasks from repositories: snapshot, hollowing with ast, validation, and the `tasks` CLI."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.pipeline.test_command_strategies import SCRIPTS, run_main
from tests.test_cli import assert_one_line_error
from workbench.pipeline import repo_tasks
from workbench.pipeline.repo_tasks import hollow
from workbench.pipeline.tasks import load_task

CALC = '''"""Small arithmetic helpers."""
import functools


def add(a: int, b: int) -> int:
    """Add two numbers."""
    total = a + b
    return total


class Stack:
    def __init__(self):
        self.items = []

    def push(self, x):  # a comment that stays
        self.items.append(x)

    @functools.lru_cache(maxsize=None)
    def pop(self):
        """Remove and return the top."""
        return self.items.pop()


def mul(a, b): return a * b


async def fetch(url: str = "é") -> str:
    """Only a docstring."""
'''
TESTS = """from mylib.calc import Stack, add, mul


def test_add():
    assert add(2, 3) == 5


def test_mul():
    assert mul(2, 3) == 6
"""


def make_repo(root: Path, git: bool = True) -> Path:
    repo = root / "mylib-repo"
    (repo / "mylib").mkdir(parents=True)
    (repo / "tests").mkdir()
    (repo / "mylib" / "__init__.py").write_text("")
    (repo / "mylib" / "calc.py").write_text(CALC)
    (repo / "tests" / "test_calc.py").write_text(TESTS)
    (repo / "notes.txt").write_text("untracked in git mode\n")
    if git and shutil.which("git"):
        env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
               "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}  # fmt: skip
        for cmd in (["init", "-q"], ["add", "mylib", "tests"], ["commit", "-qm", "init"]):
            subprocess.run(["git", *cmd], cwd=repo, check=True, env=env)
    return repo


def test_hollow_keeps_signatures_docstrings_and_the_rest_of_the_file():
    out = hollow(CALC, "add")
    assert '    """Add two numbers."""\n    raise NotImplementedError\n\n\nclass Stack' in out
    assert "total = a + b" not in out and out.count("NotImplementedError") == 1
    out = hollow(out, "Stack.pop")
    assert "    @functools.lru_cache(maxsize=None)\n    def pop(self):\n" in out
    assert '        """Remove and return the top."""\n        raise NotImplementedError\n' in out
    assert "# a comment that stays" in out
    assert "def mul(a, b): raise NotImplementedError\n" in hollow(CALC, "mul")
    only_doc = hollow(CALC, "fetch")
    assert only_doc.endswith('    """Only a docstring."""\n    raise NotImplementedError\n')
    assert repo_tasks.functions(CALC) == ["add", "Stack.__init__", "Stack.push", "Stack.pop",
                                          "mul", "fetch"]  # fmt: skip
    with pytest.raises(ValueError, match="no function 'Stack.peek'"):
        hollow(CALC, "Stack.peek")
    with pytest.raises(ValueError, match="no function 'Stack'"):
        hollow(CALC, "Stack")


def test_add_repo_hollow_yields_a_task_that_validate_accepts(engine, tmp_path):
    repo = make_repo(tmp_path)
    into = tmp_path / "tasks"
    made = engine.pipeline.add_repo_task(
        repo, into, tests=["tests/test_calc.py"], prompt="Implement add.",
        hollow_specs=["mylib.calc:add"],
    )  # fmt: skip
    task_dir = into / "mylib-repo"
    assert made["path"] == str(task_dir.resolve())
    assert made["validation"]["ok"] and made["validation"]["hollowed"]["failed"] == ["test_add"]
    snapshot = task_dir / "snapshot"
    if shutil.which("git"):
        assert not (snapshot / "notes.txt").exists()  # only tracked files
    hollowed = (snapshot / "mylib" / "calc.py").read_text()
    assert "raise NotImplementedError" in hollowed and "total = a + b" not in hollowed
    assert (task_dir / "reference" / "mylib" / "calc.py").read_text() == CALC
    meta = json.loads((task_dir / "task.json").read_text())
    assert (meta["root"], meta["module"], meta["files"]) == ("snapshot", "mylib/calc.py",
                                                             ["mylib/calc.py"])  # fmt: skip
    task = load_task(task_dir)
    assert task.path == snapshot.resolve() and task.instructions == "Implement add."
    report = engine.pipeline.validate_task("mylib-repo")  # by name, from the store
    assert report["ok"] and report["original"] == {"status": "passed", "passed": 2, "total": 2,
                                                   "failed": [], "reason": ""}  # fmt: skip
    # an agent command that fills the function in passes; the built-in strategies cannot
    engine.pipeline.add_command_strategy(f"agent={sys.executable} {SCRIPTS / 'implement_add.py'}")
    result = engine.pipeline.run(strategies=["agent", "balanced"], tasks_dir=into, workers=2)
    by = {e["strategy"]: e for e in result["executions"]}
    assert by["agent"]["status"] == "passed" and by["balanced"]["status"] == "failed"
    assert "+    return a + b" in by["agent"]["command_diff"]


def test_a_plain_folder_without_hollowing_is_validated_by_breaking_its_files(tmp_path):
    repo = make_repo(tmp_path, git=False)
    made = repo_tasks.add_repo(
        repo, ["tests/test_calc.py::test_mul"], "Speed up mul.", tmp_path / "t",
        name="speed_mul", files=["mylib/calc.py"],
    )  # fmt: skip
    assert made["validation"]["kind"] == "broken"
    assert made["validation"]["broken"]["failed"] == ["test_mul"]
    assert (tmp_path / "t" / "speed_mul" / "snapshot" / "notes.txt").is_file()
    assert not (tmp_path / "t" / "speed_mul" / "reference").exists()


def test_cli_add_list_show_validate(tmp_path, capsys):
    repo = make_repo(tmp_path)
    db = str(tmp_path / "s.db")
    into = str(tmp_path / "tasks")
    out = run_main(capsys, "tasks", "add-repo", str(repo), "--db", db, "--into", into, "--tests",
                  "tests/test_calc.py", "--prompt", "Implement add.", "--hollow",
                  "mylib/calc.py:add", "--name", "calc")  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "these fail: test_add" in out.stdout
    listed = json.loads(run_main(capsys, "tasks", "list", "--db", db, "--json").stdout)
    assert [t["source"] for t in listed if t["name"] == "calc"] == ["repo"]
    shown = json.loads(run_main(capsys, "tasks", "show", "calc", "--db", db, "--json").stdout)
    assert shown["files"] == ["mylib/calc.py"] and shown["hollowed"] is True
    valid = run_main(capsys, "tasks", "validate", "calc", "--db", db)
    assert valid.returncode == 0 and valid.stdout.startswith("valid: 2 tests pass")
    # a task whose original no longer passes is reported as not valid, naming the test
    reference = tmp_path / "tasks" / "calc" / "reference" / "mylib" / "calc.py"
    reference.write_text(CALC.replace("return a * b", "return a + b"))
    invalid = run_main(capsys, "tasks", "validate", "calc", "--db", db, "--json")
    assert invalid.returncode == 1
    assert json.loads(invalid.stdout)["message"] == "tests fail on the original: test_mul"


def test_add_repo_bad_input_is_one_line_and_writes_nothing(tmp_path, capsys):
    repo = make_repo(tmp_path)
    outside = tmp_path / "secret.txt"
    outside.write_text("outside the repository")
    linked = make_repo(tmp_path / "linked", git=False)
    (linked / "leak.txt").symlink_to(outside)
    broken = make_repo(tmp_path / "broken", git=False)
    (broken / "mylib" / "calc.py").write_text(CALC.replace("a * b", "a - b"))
    db = str(tmp_path / "s.db")
    into = tmp_path / "tasks"
    base = ["--tests", "tests/test_calc.py", "--prompt", "Do it."]
    cases = [
        ([str(tmp_path / "nope"), *base, "--files", "mylib/calc.py"], "not a directory"),
        ([str(repo), "--tests", "tests/test_calc.py::test_nope", "--prompt", "x", "--files",
          "mylib/calc.py"], "matched no test"),
        ([str(repo), "--tests", "tests/test_other.py", "--prompt", "x", "--files",
          "mylib/calc.py"], "no file tests/test_other.py in the repository"),
        ([str(repo), *base, "--hollow", "mylib.calc:divide"], "no function 'divide'"),
        ([str(repo), *base, "--hollow", "mylib.nothing:add"], "no module mylib.nothing"),
        ([str(repo), *base, "--hollow", "add"], "use MODULE:FUNCTION"),
        ([str(repo), *base], "name the .py files the agent may edit"),
        ([str(repo), *base, "--files", "mylib/missing.py"], "no such file in the repository"),
        ([str(broken), *base, "--files", "mylib/calc.py"], "tests fail on the original: test_mul"),
        ([str(linked), *base, "--files", "mylib/calc.py"], "leak.txt: a symlink leaving"),
        ([str(repo), "--tests", "tests/test_calc.py::test_mul", "--prompt", "x", "--hollow",
          "mylib.calc:add"], "tests still pass on the hollowed code"),
        ([str(repo), *base, "--files", "mylib/calc.py", "--name", "../up"], "letters, digits"),
    ]  # fmt: skip
    for extra, fragment in cases:
        result = run_main(capsys, "tasks", "add-repo", "--db", db, "--into", str(into), *extra)
        assert_one_line_error(result, fragment)
    if shutil.which("git"):
        untracked = run_main(capsys, "tasks", "add-repo", "--db", db, "--into", str(into),
                             str(repo), "--tests", "notes.txt", "--prompt", "x", "--files",
                             "mylib/calc.py")  # fmt: skip
        assert_one_line_error(untracked, "notes.txt is not tracked by git")
    assert not into.exists()
    listed = json.loads(run_main(capsys, "tasks", "list", "--db", db, "--json").stdout)
    assert listed == []
    assert run_main(capsys, "tasks", "add-repo", "--db", db, "--into", str(into), str(repo), *base,
                   "--files", "mylib/calc.py").returncode == 0  # fmt: skip
    again = run_main(capsys, "tasks", "add-repo", "--db", db, "--into", str(tmp_path / "elsewhere"),
                    str(repo), *base, "--files", "mylib/calc.py")  # fmt: skip
    assert_one_line_error(again, "a task named 'mylib-repo' is already known")
    assert_one_line_error(run_main(capsys, "tasks", "show", "ghost", "--db", db), "no task 'ghost'")
