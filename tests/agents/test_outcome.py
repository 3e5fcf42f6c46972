"""Outcome derivation: each documented rule, and the test-run parsing it relies on."""

from __future__ import annotations

import json

import pytest

from workbench.agents import outcome as oc


def bash(command: str, status: str = "ok", response: str = "", error: str | None = None):
    return {
        "tool_name": "Bash",
        "input": json.dumps({"command": command}),
        "status": status,
        "response": response,
        "error": error,
    }


def edit(path: str = "/p/a.py", status: str = "ok"):
    return {"tool_name": "Edit", "input": {"file_path": path}, "status": status}


@pytest.mark.parametrize(
    "command",
    ["pytest -q", "python -m pytest tests/", "cd x && npm test", "go test ./...", "make check",
     "uv run pytest", "python3.11 -m unittest discover", "cargo test --all"],
)  # fmt: skip
def test_test_commands_are_recognised(command):
    assert oc.is_test_command(command)


@pytest.mark.parametrize("command", ["ls -la", "cat pytest.ini", "git commit -m test", "echo hi"])
def test_other_commands_are_not_test_runs(command):
    assert not oc.is_test_command(command)


def test_last_test_run_decides():
    calls = [
        bash("pytest -q", "failed", error="=== 2 failed, 3 passed in 0.2s ==="),
        edit(),
        bash("pytest -q", "ok", "5 passed in 0.1s"),
    ]
    result = oc.derive(calls)
    assert result["outcome"] == "success"
    assert result["tests"]["runs"] == 2 and result["tests"]["failed_runs"] == 1
    assert result["tests"]["last"]["passed"] == 5
    assert result["edits"] == 1 and result["files"] == ["/p/a.py"]
    assert result["tool_failures"] == 1


def test_failures_in_output_fail_a_run_that_exited_zero():
    result = oc.derive([bash("pytest", "ok", "== 1 failed, 4 passed ==")])
    assert result["outcome"] == "failure"
    assert result["tests"]["last"]["by"] == "output counts"


def test_failed_call_without_counts_is_a_failed_run():
    result = oc.derive([bash("npm test", "failed", error="Exit code 1")])
    assert result["outcome"] == "failure"
    assert result["tests"]["last"]["by"] == "the call failed"


def test_no_tests_last_call_failed_is_failure():
    result = oc.derive([edit(), bash("ls", "failed", error="No such file")])
    assert result["outcome"] == "failure"
    assert "last tool call failed" in result["rule"]


def test_no_tests_recovered_failure_is_partial():
    result = oc.derive([bash("ls x", "failed", error="nope"), bash("ls", "ok", "a b")])
    assert result["outcome"] == "partial"


def test_edits_without_tests_are_partial():
    assert oc.derive([edit(), edit("/p/b.py")])["outcome"] == "partial"


def test_nothing_checkable_is_unknown():
    read = {"tool_name": "Read", "input": {"file_path": "/p/a.py"}, "status": "ok"}
    assert oc.derive([read])["outcome"] == "unknown"
    assert oc.derive([])["outcome"] == "unknown"


def test_pending_test_call_is_not_counted():
    assert oc.derive([bash("pytest", "pending")])["tests"]["runs"] == 0
