"""`workbench agents record|list|show|errors` through the real entry point."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.test_cli import assert_one_line_error, run_cli
from workbench.cli import main


@pytest.fixture
def call(capsys):
    def run(*args: str) -> subprocess.CompletedProcess:
        code = main(list(args))
        out, err = capsys.readouterr()
        return subprocess.CompletedProcess(list(args), code, out, err)

    return run


def neutral(kind: str, **fields) -> str:
    return json.dumps({"session": "lg-1", "agent": "langgraph", "kind": kind, **fields})


def test_neutral_events_make_a_session(call, tmp_path):
    db = str(tmp_path / "w.db")
    events = [
        neutral("session_start", at="2026-02-01T10:00:00Z", meta={"graph": "planner"}),
        neutral("prompt", text="optimize the slow query", at="2026-02-01T10:00:01Z"),
        neutral("tool_start", tool="shell", tool_id="c1", input={"command": "pytest -q"},
                at="2026-02-01T10:00:02Z"),
        neutral("tool_end", tool="shell", tool_id="c1", output="4 passed in 0.5s",
                at="2026-02-01T10:00:04.5Z"),
        neutral("my_custom_kind", text="kept as is", id="x-1"),
        neutral("my_custom_kind", text="kept as is", id="x-1"),  # same id: not added twice
        neutral("stop", at="2026-02-01T10:00:05Z"),
    ]  # fmt: skip
    for event in events:
        result = call("agents", "record", "--event", event, "--db", db)
        assert result.returncode == 0, result.stderr
    assert "already recorded" in result.stdout or "recorded" in result.stdout
    listed = json.loads(call("agents", "list", "--db", db, "--json").stdout)
    assert [(s["session"], s["agent"], s["source"], s["outcome"]) for s in listed] == [
        ("lg-1", "langgraph", "event", "success")
    ]
    shown = json.loads(call("agents", "show", "lg-1", "--db", db, "--json").stdout)
    assert shown["meta"] == {"graph": "planner"}
    assert [c["duration_ms"] for c in shown["calls"]] == [2500.0]
    kinds = [e["kind"] for e in shown["events"]]
    assert kinds == ["SessionStart", "UserPromptSubmit", "PreToolUse", "PostToolUse",
                     "my_custom_kind", "Stop"]  # fmt: skip
    by_id = json.loads(call("agents", "show", str(shown["id"]), "--db", db, "--json").stdout)
    assert by_id["session"] == "lg-1"


@pytest.mark.parametrize(
    ("event", "fragment"),
    [("{nope", "--event: not valid JSON"), ('{"kind": "prompt", "text": "x"}', "'session'"),
     ('{"session": "s"}', "'kind'"), ('{"session": "s", "kind": "tool_start"}', "'tool'"),
     ('{"session": "s", "kind": "prompt"}', "'text'"),
     ('{"session": "s", "kind": "stop", "at": "yesterday"}', "'at'"),
     ('{"session": "s", "kind": "tool_end", "tool": "t", "ok": "yes"}', "'ok'")],
)  # fmt: skip
def test_bad_neutral_events_are_refused(call, tmp_path, event, fragment):
    db = str(tmp_path / "w.db")
    assert_one_line_error(call("agents", "record", "--event", event, "--db", db), fragment)
    assert json.loads(call("agents", "list", "--db", db, "--json").stdout) == []


def test_list_show_errors_through_the_process(tmp_path):
    db = str(tmp_path / "w.db")
    event = neutral("prompt", text="hello \x1b[31mred\x1b[0m world")
    assert run_cli("agents", "record", "--event", event, "--db", db).returncode == 0
    listed = run_cli("agents", "list", "--db", db)
    assert listed.returncode == 0 and "lg-1" in listed.stdout
    shown = run_cli("agents", "show", "lg-1", "--db", db)
    assert shown.returncode == 0 and "\x1b" not in shown.stdout  # escaped, visibly
    assert "hello \\x1b[31mred\\x1b[0m world" in shown.stdout
    assert "\x1b[31m" not in shown.stdout  # agent text is data: no control sequences
    assert_one_line_error(
        run_cli("agents", "show", "nope", "--db", db), "unknown agent session: nope"
    )
    errors = run_cli("agents", "errors", "--db", db, "--json")
    assert errors.returncode == 0 and json.loads(errors.stdout) == []
    assert_one_line_error(run_cli("agents", "list", "--limit", "0", "--db", db), "--limit")
