"""`workbench hooks run`: a real-shaped session through the real entry point, advice,
exclusion, and the rule that a hook never disturbs its agent (exit 0, stdout empty)."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys

import pytest

from tests.agents.conftest import hook_event, run_hook_process
from tests.conftest import make_fixture_store
from workbench.agents.service import ADVICE_LIMIT
from workbench.engine import Engine
from workbench.store import models as m

PROMPT = "fix the parser so the failing tokenizer tests pass"
PYTEST_FAIL = "F..F.\n=== 2 failed, 3 passed in 0.21s ==="


def session_events(session: str = "sess-A") -> list[dict]:
    """SessionStart → prompt → Pre/Post Bash running pytest with failures → Edit → Stop →
    SessionEnd, shaped as Claude Code sends them."""
    ev = lambda name, **f: hook_event(name, session, **f)  # noqa: E731
    cmd = {"command": "python -m pytest -q tests/test_tokenizer.py", "description": "run tests"}
    edit = {"file_path": "/home/dev/parser/tok.py", "old_string": "a", "new_string": "b"}
    return [
        ev("SessionStart", source="startup"),
        ev("UserPromptSubmit", prompt=PROMPT),
        ev("PreToolUse", tool_name="Bash", tool_input=cmd, tool_use_id="toolu_01"),
        ev("PostToolUseFailure", tool_name="Bash", tool_input=cmd, tool_use_id="toolu_01",
           error=f"Exit code 1\n{PYTEST_FAIL}", future_field={"kept": True}),
        ev("PreToolUse", tool_name="Edit", tool_input=edit, tool_use_id="toolu_02"),
        ev("PostToolUse", tool_name="Edit", tool_input=edit, tool_use_id="toolu_02",
           tool_response={"filePath": edit["file_path"], "structuredPatch": []}),
        ev("Stop", stop_hook_active=False),
        ev("SessionEnd", reason="prompt_input_exit"),
    ]  # fmt: skip


@pytest.fixture
def store(tmp_path):
    path = tmp_path / "agents.db"
    Engine(path).close()
    return path


def test_a_session_through_the_real_entry_point(store):
    for event in session_events():
        result = run_hook_process(store, event)
        assert result.returncode == 0, result.stderr
        assert result.stdout == b""
    with Engine(store) as engine:
        assert engine.agents.recording_errors() == []
        [session] = engine.agents.list_sessions()
        assert (session["session"], session["status"]) == ("sess-A", "ended")
        assert (session["prompts"], session["tool_calls"], session["tool_failures"]) == (1, 2, 1)
        assert session["outcome"] == "failure"  # the only test run failed
        detail = engine.agents.session_detail("sess-A")
        calls = {c["tool_use_id"]: c for c in detail["calls"]}
        assert calls["toolu_01"]["status"] == "failed" and calls["toolu_02"]["status"] == "ok"
        for call in calls.values():  # paired pre/post: a measured duration
            assert call["duration_ms"] is not None and call["duration_ms"] > 0
        how = detail["outcome_detail"]
        assert how["tests"]["runs"] == 1 and how["tests"]["last"]["failed"] == 2
        assert how["edits"] == 1 and how["files"] == ["/home/dev/parser/tok.py"]
        kinds = [e["kind"] for e in detail["events"]]
        assert kinds == [e["hook_event_name"] for e in session_events()]
        payload = json.loads(m.AgentEvent.get(m.AgentEvent.seq == 4).payload)
        assert payload["future_field"] == {"kept": True}  # unknown fields are kept
        # the turn fed the learning parts once (Stop), SessionEnd added no second turn
        [fed] = how["learning"]
        execution = m.AgentExecution.get_by_id(fed["execution"])
        assert (execution.agent, execution.success, execution.source) == (
            "claude-code",
            False,
            "agent-session:sess-A",  # derived rows name their session (agents/purge.py)
        )
        assert (execution.errors, execution.actions) == (1, 2)
        episode = m.EpisodicMemory.get_by_id(fed["episode"])
        assert (episode.session, episode.outcome, episode.text) == ("sess-A", "failure", PROMPT)
        pattern = m.PatternMemory.get_by_id(fed["pattern_memory"])
        assert pattern.failures == 1 and pattern.type == fed["pattern"]
        assert json.loads(pattern.data)["agent_sessions"] == ["sess-A"]
        assert json.loads(episode.context)["agent_session"] == "sess-A"
        buffered = m.ExperienceBuffer.select().where(
            m.ExperienceBuffer.source_ref == f"outcome:{pattern.id}:1"
        )
        assert buffered.get().quality == "needs_improvement"
        assert m.Learning.select().where(m.Learning.agent == "claude-code").exists()


def test_secrets_are_redacted_before_storage(store, hook):
    event = hook_event("UserPromptSubmit", prompt="use password=hunter2secret to log in")
    assert hook(store, event)[:2] == (0, b"")
    with Engine(store) as engine:
        [row] = m.AgentEvent.select()
        assert "hunter2secret" not in row.text and "hunter2secret" not in row.payload
        assert "[redacted:secret-assignment]" in row.text
        assert engine.agents.list_sessions()[0]["redactions"] == 2  # text and payload


def test_post_without_pre_and_unknown_events_are_kept(store, hook):
    post = hook_event("PostToolUse", tool_name="Read", tool_input={"file_path": "/x"},
                      tool_response={"content": "..."}, tool_use_id="t9")  # fmt: skip
    assert hook(store, post)[:2] == (0, b"")
    assert hook(store, hook_event("Notification", message="waiting"))[:2] == (0, b"")
    with Engine(store):
        call = m.AgentToolCall.get()
        assert (call.status, call.started, call.duration_ms) == ("ok", None, None)
        assert [e.kind for e in m.AgentEvent.select().order_by(m.AgentEvent.seq)] == [
            "PostToolUse",
            "Notification",
        ]
        assert m.AgentError.select().count() == 0


@pytest.fixture
def fixture_store(tmp_path):
    path = tmp_path / "fixture.db"
    make_fixture_store(path).close()
    return path


def test_advise_answers_as_claude_code_expects(fixture_store):
    event = hook_event("UserPromptSubmit", prompt="writes fail with database is locked in sqlite")
    result = run_hook_process(fixture_store, event, "--advise")
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert set(answer) == {"hookSpecificOutput"}
    out = answer["hookSpecificOutput"]
    assert out["hookEventName"] == "UserPromptSubmit"
    context = out["additionalContext"]
    assert 0 < len(context) <= ADVICE_LIMIT
    assert "fx-1" in context  # the hub item on SQLite busy timeouts, by its id
    with Engine(fixture_store):
        advice = m.AgentAdvice.get()
        assert advice.text == context and advice.event == "UserPromptSubmit"
        items = json.loads(advice.items)
        assert {"kind": "hub", "id": "fx-1"}.items() <= items[0].items()
        assert all(f"{i['kind']} {i['id']}" in context for i in items)


def test_advise_is_bounded(fixture_store, hook):
    topic = "zebrafish larvae imaging protocol "
    with Engine(fixture_store) as engine:
        for i in range(4):
            engine.hub.share("general", "solution", f"{topic * 15} {i}", topic * 30)
            engine.memory.store("vector", topic * 20 + str(i), namespace="notes")
    code, out, _ = hook(fixture_store, hook_event("UserPromptSubmit", prompt=topic), "--advise")
    assert code == 0
    context = json.loads(out)["hookSpecificOutput"]["additionalContext"]
    assert ADVICE_LIMIT - 400 < len(context) <= ADVICE_LIMIT  # cut to the bound, not below
    with Engine(fixture_store):
        items = json.loads(m.AgentAdvice.get().items)
        assert [i["kind"] for i in items].count("hub") == 3
        assert all(f"{i['kind']} {i['id']}" in context for i in items)


def test_nothing_relevant_means_no_output(fixture_store, hook):
    event = hook_event("UserPromptSubmit", prompt="qqzx vvbnm")
    assert hook(fixture_store, event, "--advise")[:2] == (0, b"")
    with Engine(fixture_store):
        assert m.AgentAdvice.select().count() == 0
        assert m.AgentEvent.select().count() == 1  # the prompt itself is recorded


def test_without_advise_no_output(fixture_store, hook):
    event = hook_event("UserPromptSubmit", prompt="database is locked in sqlite")
    assert hook(fixture_store, event)[:2] == (0, b"")


MALFORMED = [
    (b"{not json", "not valid JSON"),
    (b'{"session_id": "s", "hook_event_name": "Stop"', "not valid JSON"),  # truncated
    (b"\xff\xfe\x00garbage", "not UTF-8"),
    (b"", "empty"),
    (b"[1, 2]", "not a JSON object"),
    (json.dumps({"hook_event_name": "PreToolUse"}).encode(), "'session_id'"),
    (json.dumps({"session_id": 7, "hook_event_name": "Stop"}).encode(), "'session_id'"),
    (json.dumps({"session_id": "s"}).encode(), "'hook_event_name'"),
    (json.dumps({"session_id": "s", "hook_event_name": "Stop", "cwd": 3}).encode(), "'cwd'"),
]


@pytest.mark.parametrize(("payload", "fragment"), MALFORMED)
def test_malformed_input_exits_0_silently_and_is_recorded(store, hook, payload, fragment):
    code, out, err = hook(store, payload, "--advise")
    assert (code, out, err) == (0, b"", b"")
    with Engine(store) as engine:
        [error] = engine.agents.recording_errors()
        assert error["source"] == "hooks" and fragment in error["message"]
        assert m.AgentSession.select().count() == 0  # nothing half-written


def test_malformed_input_through_the_process(store):
    result = run_hook_process(store, b"\x00{oops")
    assert (result.returncode, result.stdout, result.stderr) == (0, b"", b"")


def test_locked_store_exits_0_silently(store):
    holder = sqlite3.connect(store)
    holder.execute("BEGIN IMMEDIATE")
    try:
        result = run_hook_process(
            store, hook_event("SessionStart"), env={"WORKBENCH_BUSY_TIMEOUT_MS": "50"}
        )
    finally:
        holder.rollback()
        holder.close()
    assert (result.returncode, result.stdout, result.stderr) == (0, b"", b"")


def test_missing_store_directory_exits_0_silently(tmp_path, hook):
    code, out, err = hook(tmp_path / "nowhere" / "w.db", hook_event("SessionStart"))
    assert (code, out, err) == (0, b"", b"")
    assert not (tmp_path / "nowhere").exists()


def test_record_off_in_the_environment(store, monkeypatch, hook):
    monkeypatch.setenv("WORKBENCH_RECORD", "off")
    assert hook(store, hook_event("SessionStart"))[:2] == (0, b"")
    assert hook(store, b"{broken")[:2] == (0, b"")
    with Engine(store):
        assert m.AgentSession.select().count() == 0
        assert m.AgentError.select().count() == 0


def test_excluded_paths_in_the_user_config(store, isolated_env, hook, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    isolated_env.write_text(json.dumps({"agents": {"exclude": ["~/work/secret-client/*"]}}))
    secret = hook_event("SessionStart", session="s1", cwd=str(tmp_path / "work/secret-client/x"))
    assert hook(store, secret)[:2] == (0, b"")
    top = hook_event("SessionStart", session="s2", cwd=str(tmp_path / "work/secret-client"))
    assert hook(store, top)[:2] == (0, b"")
    other = hook_event("SessionStart", session="s3", cwd=str(tmp_path / "work/open-source"))
    assert hook(store, other)[:2] == (0, b"")
    with Engine(store):
        assert [s.external_id for s in m.AgentSession.select()] == ["s3"]


def test_hook_path_stays_lean(store):
    code = (
        "import io, sys; from workbench.cli import main\n"
        "sys.stdin = io.TextIOWrapper(io.BytesIO(sys.argv[2].encode()))\n"
        "main(['hooks', 'run', '--db', sys.argv[1]])\n"
        "heavy = [n for n in sys.modules if n.split('.')[0] in ('textual', 'mcp', 'numpy', "
        "'wasmtime', 'rich') or n.startswith('workbench.cli.') and n != 'workbench.cli.common']\n"
        "print(heavy)"
    )
    event = json.dumps(hook_event("PreToolUse", tool_name="Bash", tool_input={"command": "ls"}))
    result = subprocess.run(
        [sys.executable, "-c", code, str(store), event], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_advise_path_skips_the_neural_and_patterns_services(store):
    """Advice reads hub items, learnings and memories: not the neural service, the patterns
    service (continuous learning) nor any UI/MCP/CLI module (structural, not timed)."""
    code = (
        "import io, sys; from workbench.cli import main\n"
        "sys.stdin = io.TextIOWrapper(io.BytesIO(sys.argv[2].encode()))\n"
        "main(['hooks', 'run', '--advise', '--db', sys.argv[1]])\n"
        "heavy = [n for n in sys.modules if n.split('.')[0] in ('textual', 'mcp', 'rich') "
        "or n.startswith(('workbench.neural', 'workbench.patterns.service', "
        "'workbench.patterns.continuous', 'workbench.adaptive', 'workbench.ui')) "
        "or n.startswith('workbench.cli.') and n != 'workbench.cli.common']\n"
        "print(heavy)"
    )
    with Engine(store) as engine:
        engine.seed()
    event = json.dumps(hook_event("UserPromptSubmit", prompt="sqlite database is locked"))
    result = subprocess.run(
        [sys.executable, "-c", code, str(store), event], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[-1] == "[]"
    assert "additionalContext" in lines[0]  # it did advise (the seeded hub has the answer)


def test_a_full_disk_is_recorded_and_never_raised(store, hook, monkeypatch):
    from workbench.agents.recorder import Recorder

    def full(self, ev):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(Recorder, "apply", full)
    assert hook(store, hook_event("SessionStart")) == (0, b"", b"")
    with Engine(store) as engine:
        [error] = engine.agents.recording_errors()
        assert "disk is full" in error["message"] and error["session"] == "sess-A"

    def also_full(self, *args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Recorder, "record_error", also_full)  # even the error cannot be kept
    assert hook(store, hook_event("SessionStart")) == (0, b"", b"")


def test_parallel_tool_calls_of_one_new_session(store):
    """Claude Code runs parallel tool calls' hooks at once: every call is kept, one session."""
    events = [
        hook_event("PreToolUse", session="par", tool_name="Read",
                   tool_input={"file_path": f"/p/{i}.py"}, tool_use_id=f"r{i}")
        for i in range(6)
    ]  # fmt: skip
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "workbench", "hooks", "run", "--db", str(store)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )  # fmt: skip
        for _ in events
    ]
    for proc, event in zip(procs, events, strict=True):
        proc.stdin.write(json.dumps(event).encode())
        proc.stdin.close()
    for proc in procs:
        assert proc.wait(timeout=120) == 0
        assert proc.stdout.read() == b""
    with Engine(store) as engine:
        assert engine.agents.recording_errors() == []
        [session] = engine.agents.list_sessions()
        assert session["tool_calls"] == 6
        seqs = sorted(e.seq for e in m.AgentEvent.select())
        assert seqs == list(range(1, 7))


def test_purge_after_a_real_hook_session_leaves_no_trace(store, hook):
    """What `hooks run` derives (episode, agent execution, pattern memory, learnings,
    experience) carries its session, so `agents purge` finds it all and the file keeps no
    copy of the session's words."""
    marker = "zanzibar-quokka-7731"
    for event in session_events("sess-P"):
        if event["hook_event_name"] == "UserPromptSubmit":
            event = {**event, "prompt": f"fix the {marker} tokenizer bug"}
        code, out, _ = hook(store, event)
        assert (code, out) == (0, b"")
    with Engine(store) as engine:
        before = {
            name: engine.count(name)
            for name in (
                "episodic_memory",
                "agent_executions",
                "pattern_memory",
                "experience_buffer",
            )
        }
        assert all(before.values()), before  # the session was fed into learning
        report = engine.agents.purge(session="sess-P")
        assert report.matched
        for name in before:
            assert engine.count(name) == 0, name
    raw = b"".join(p.read_bytes() for p in store.parent.glob(store.name + "*"))
    assert marker.encode() not in raw


def test_recording_and_learning_on_either_backend(engine):
    """The same session in-process through the engine (also on PostgreSQL in CI)."""
    agents = engine.agents
    for event in session_events("sess-B"):
        assert agents.record_hook_event(event) is None
    [session] = agents.list_sessions()
    assert (session["status"], session["outcome"], session["tool_calls"]) == ("ended", "failure", 2)
    detail = agents.session_detail("sess-B")
    assert all(c["duration_ms"] is not None for c in detail["calls"])
    [fed] = detail["outcome_detail"]["learning"]
    assert {"episode", "execution", "pattern_memory"} <= set(fed)
    again = agents.record_event({"session": "sess-B", "kind": "note", "id": "n1", "text": "x"})
    assert again["event"] is not None
    assert agents.record_event({"session": "sess-B", "kind": "note", "id": "n1"})["event"] is None
