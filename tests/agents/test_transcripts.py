"""`workbench agents import`: Claude Code transcripts, idempotent, streaming in bounded
memory, bad lines reported by number and never half-stored."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import tracemalloc

import pytest

from tests.test_cli import assert_one_line_error
from workbench.cli import main
from workbench.engine import Engine
from workbench.store import models as m

T0 = dt.datetime(2026, 3, 1, 10, 0, 0)


def stamp(seconds: float) -> str:
    return (T0 + dt.timedelta(seconds=seconds)).isoformat(timespec="milliseconds") + "Z"


def record(kind, uid, at, content, session="tx-1", **extra):
    message = {"role": kind, "content": content}
    if kind == "assistant":
        message.update(model="claude-opus-4", id=f"msg_{uid}")
    return {
        "type": kind, "uuid": uid, "parentUuid": None, "sessionId": session,
        "timestamp": stamp(at), "cwd": "/home/dev/parser", "version": "2.0.1",
        "gitBranch": "main", "isSidechain": False, "message": message, **extra,
    }  # fmt: skip


def transcript(session: str = "tx-1", failing: bool = True) -> list[dict]:
    summary = "=== 1 failed, 2 passed in 0.3s ===" if failing else "3 passed in 0.2s"
    return [
        {"type": "summary", "summary": "Parser fixes", "leafUuid": "u9"},
        record("user", f"{session}-u1", 0, "fix the tokenizer bug", session),
        record("assistant", f"{session}-a1", 2, [
            {"type": "thinking", "thinking": "secret plan"},
            {"type": "text", "text": "Running the tests."},
            {"type": "tool_use", "id": f"{session}-t1", "name": "Bash",
             "input": {"command": "pytest -q"}},
        ], session),
        record("user", f"{session}-u2", 5.5, [
            {"type": "tool_result", "tool_use_id": f"{session}-t1", "is_error": failing,
             "content": summary},
        ], session),
        record("assistant", f"{session}-a2", 7, [
            {"type": "tool_use", "id": f"{session}-t2", "name": "Edit",
             "input": {"file_path": "/home/dev/parser/tok.py", "old_string": "a",
                       "new_string": "b"}},
        ], session),
        record("user", f"{session}-u3", 7.25, [
            {"type": "tool_result", "tool_use_id": f"{session}-t2", "content": "ok"},
        ], session),
    ]  # fmt: skip


def write_jsonl(path, records, tail: bytes = b""):
    path.write_bytes(b"".join(json.dumps(r).encode() + b"\n" for r in records) + tail)
    return path


@pytest.fixture
def call(capsys):
    def run(*args: str) -> subprocess.CompletedProcess:
        code = main(list(args))
        out, err = capsys.readouterr()
        return subprocess.CompletedProcess(list(args), code, out, err)

    return run


def test_import_records_sessions_and_tool_calls_idempotently(call, tmp_path):
    db = str(tmp_path / "w.db")
    file = write_jsonl(tmp_path / "tx-1.jsonl", transcript())
    first = call("agents", "import", str(file), "--db", db, "--json")
    assert first.returncode == 0, first.stderr
    summary = json.loads(first.stdout)
    assert (summary["lines"], summary["records"], summary["sessions"]) == (6, 5, 1)
    assert summary["skipped"] == {"metadata record (summary)": 1}
    with Engine(db) as engine:
        [session] = engine.agents.list_sessions()
        assert (session["source"], session["status"], session["prompts"]) == (
            "transcript", "ended", 1,
        )  # fmt: skip
        detail = engine.agents.session_detail("tx-1")
        durations = {c["tool_name"]: c["duration_ms"] for c in detail["calls"]}
        assert durations == {"Bash": 3500.0, "Edit": 250.0}  # tool_result − tool_use times
        assert detail["outcome"] == "failure"
        assert "secret plan" not in json.dumps(detail)  # thinking is not stored
        events_before = m.AgentEvent.select().count()
        learning_before = m.AgentExecution.select().count()
    second = call("agents", "import", str(tmp_path), "--db", db, "--json")
    summary = json.loads(second.stdout)
    assert summary["events"] == 0 and summary["duplicates"] == events_before
    with Engine(db):
        assert m.AgentEvent.select().count() == events_before
        assert m.AgentToolCall.select().count() == 2
        assert m.AgentExecution.select().count() == learning_before


def test_each_prompt_closes_the_previous_turn(tmp_path):
    records = transcript(failing=True)
    later = record("user", "tx-1-u4", 20, "now make the tests pass")
    run = record(
        "assistant",
        "tx-1-a4",
        21,
        [{"type": "tool_use", "id": "tx-1-t3", "name": "Bash", "input": {"command": "pytest"}}],
    )
    done = record(
        "user",
        "tx-1-u5",
        23,
        [{"type": "tool_result", "tool_use_id": "tx-1-t3", "content": "3 passed in 0.2s"}],
    )
    file = write_jsonl(tmp_path / "t.jsonl", records + [later, run, done])  # fmt: skip
    with Engine(tmp_path / "w.db") as engine:
        engine.agents.import_transcripts(file)
        detail = engine.agents.session_detail("tx-1")
        turns = [(t["turn"], t["outcome"]) for t in detail["outcome_detail"]["learning"]]
        assert turns == [(1, "failure"), (2, "success")]
        assert detail["outcome"] == "success"
        runs = m.AgentExecution.select().where(m.AgentExecution.source == "agent-session:tx-1")
        assert sorted(r.success for r in runs) == [False, True]


def test_bad_lines_are_reported_and_skipped(call, tmp_path):
    good = transcript()
    lines = [json.dumps(r).encode() for r in good[:3]]
    lines.insert(1, b"this is not json")
    lines.insert(2, b'{"type": "user", "uuid": "x", "message": {"content": "hi"}}')  # no sessionId
    lines.insert(3, b'{"type": "user", "sessionId": "tx-1", "uuid": "\xff\xfe"}')
    body = b"\n".join(lines) + b"\n" + b'{"type": "user", "sessionId": "tx-1", "uu'
    file = tmp_path / "bad.jsonl"
    file.write_bytes(body)
    result = call("agents", "import", str(file), "--db", str(tmp_path / "w.db"))
    assert result.returncode == 1
    errors = result.stderr.strip().splitlines()
    assert [e.split(": ", 2)[1] for e in errors] == [
        f"{file}:2", f"{file}:3", f"{file}:4", f"{file}:7",
    ]  # fmt: skip
    assert "not JSON" in errors[0] and "no sessionId" in errors[1]
    assert "invalid UTF-8" in errors[2] and "truncated last line" in errors[3]
    with Engine(tmp_path / "w.db"):
        assert m.AgentEvent.select().count() == 3  # the prompt, the tool_use, the text
        assert m.AgentToolCall.select().count() == 1


def test_missing_path_and_empty_directory_are_refused(call, tmp_path):
    assert_one_line_error(call("agents", "import", str(tmp_path / "nope.jsonl")), "no such file")
    assert_one_line_error(call("agents", "import", str(tmp_path)), "no *.jsonl")


def test_sessions_recorded_by_hooks_are_not_imported_again(tmp_path):
    with Engine(tmp_path / "w.db") as engine:
        engine.agents.record_hook_event(
            {"session_id": "tx-1", "hook_event_name": "SessionStart", "cwd": "/x"}
        )
        summary = engine.agents.import_transcripts(write_jsonl(tmp_path / "t.jsonl", transcript()))
        assert summary["skipped"]["session already recorded by hooks"] == 5
        assert m.AgentEvent.select().count() == 1


def test_large_transcript_streams_in_bounded_memory(tmp_path):
    """A 24 MB transcript of long tool outputs imports with a peak far below its size."""
    output = "collected 1 item\n" + "x" * 200_000 + "\n1 passed in 0.01s"
    file = tmp_path / "big.jsonl"
    with file.open("w") as fh:
        fh.write(json.dumps(record("user", "p", 0, "run the suite")) + "\n")
        for i in range(60):
            use = [{"type": "tool_use", "id": f"t{i}", "name": "Bash",
                    "input": {"command": "pytest -q"}}]  # fmt: skip
            res = [{"type": "tool_result", "tool_use_id": f"t{i}", "content": output}]
            fh.write(json.dumps(record("assistant", f"a{i}", i, use)) + "\n")
            fh.write(json.dumps(record("user", f"u{i}", i + 0.5, res, toolUseResult={
                "stdout": output, "stderr": ""})) + "\n")  # fmt: skip
    size = file.stat().st_size
    assert size > 24_000_000
    with Engine(tmp_path / "w.db") as engine:
        tracemalloc.start()
        try:
            summary = engine.agents.import_transcripts(file)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert summary["records"] == 121 and summary["bad_lines"] == 0
        assert m.AgentToolCall.select().where(m.AgentToolCall.status == "ok").count() == 60
    assert peak < 8_000_000, f"peak {peak / 1e6:.1f} MB for a {size / 1e6:.0f} MB file"


def test_import_on_either_backend(engine, tmp_path):
    """Import and re-import through the engine (also on PostgreSQL in CI)."""
    file = write_jsonl(tmp_path / "t.jsonl", transcript(failing=False))
    first = engine.agents.import_transcripts(file)
    assert (first["events"], first["sessions"]) == (6, 1)
    assert engine.agents.import_transcripts(file)["events"] == 0
    [session] = engine.agents.list_sessions()
    assert (session["outcome"], session["status"]) == ("success", "ended")
