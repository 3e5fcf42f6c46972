"""`patterns record` takes the reference's interaction shape: agent_type, task_description,
actions_taken and results as objects, completion_time in seconds, errors_encountered."""

from __future__ import annotations

import json

import pytest

from tests.test_cli import assert_one_line_error, run_cli
from workbench.patterns.learning import Interaction

REFERENCE = {
    "agent_type": "code",
    "task_description": "Create Python function",
    "actions_taken": [
        {"type": "CREATE_FILE", "path": "/workspace/func.py"},
        {"type": "EXECUTE", "command": "python /workspace/func.py"},
    ],
    "results": [{"success": True}, {"success": True, "stdout": "Success!"}],
    "success": True,
    "completion_time": 5.2,
    "iterations": 2,
    "errors_encountered": 0,
}


def test_the_reference_shape_parses_like_ours():
    got = Interaction.parse(REFERENCE)
    assert (got.agent, got.task, got.success, got.iterations) == (
        "code", "Create Python function", True, 2,
    )  # fmt: skip
    assert got.actions == ["CREATE_FILE /workspace/func.py", "EXECUTE python /workspace/func.py"]
    assert got.time_ms == pytest.approx(5200.0) and got.errors == []
    failed = Interaction.parse(
        {**REFERENCE, "success": False,
         "errors_encountered": [{"type": "ValueError", "message": "bad quote"}, "timeout"]}
    )  # fmt: skip
    assert failed.errors == ["ValueError: bad quote", "timeout"]
    assert len(Interaction.parse({**REFERENCE, "errors_encountered": 2}).errors) == 2


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"actions_taken": [{"path": "/x"}]}, "actions[0] is an object without a 'type'"),
        ({"errors_encountered": [{"code": 3}]}, "errors[0] is an object without"),
        ({"errors_encountered": -1}, "'errors_encountered' must be a count"),
        ({"completion_time": "fast"}, "'completion_time' must be seconds"),
    ],
)
def test_bad_reference_fields_are_named(change, fragment):
    with pytest.raises(ValueError, match=fragment.replace("[", r"\[").replace("]", r"\]")):
        Interaction.parse({**REFERENCE, **change})


def test_patterns_record_cli_accepts_the_reference_shape(tmp_path):
    db = str(tmp_path / "s.db")
    done = run_cli("patterns", "record", "--db", db, "--interaction", json.dumps(REFERENCE),
                   "--json")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "CREATE_FILE /workspace/func.py" in done.stdout
    bad = {**REFERENCE, "actions_taken": [{"path": "/x"}]}
    assert_one_line_error(
        run_cli("patterns", "record", "--db", db, "--interaction", json.dumps(bad)),
        "without a 'type'",
    )
