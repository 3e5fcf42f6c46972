"""Agent data stays private on disk: no recorded secret in the database file or its WAL,
purged sessions leave no bytes behind, redact-existing cleans old rows — and the CLI."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.agents.recording import hook_events, record
from tests.agents.secret_corpus import corpus
from workbench.agents.privacy import privacy_status
from workbench.agents.redact import redact_json
from workbench.cli import main
from workbench.engine import Engine
from workbench.store import models as m

# a dozen kinds, one realistic sample each, embedded in one Bash call's output
KINDS = [
    "aws-access-key", "aws-secret-key", "github-token", "gitlab-token", "slack-token",
    "anthropic-key", "openai-key", "jwt", "private-key", "url-credentials", "bearer-header",
    "password-assignment", "secret-env", "gcp-api-key", "npm-token",
]  # fmt: skip
SAMPLES = {kind: (text, secret) for kind, text, secret in corpus(per_kind=1, seed=3)}


def file_bytes(db: Path) -> bytes:
    """The database file and its WAL as they are on disk now."""
    data = db.read_bytes()
    wal = Path(f"{db}-wal")
    return data + (wal.read_bytes() if wal.exists() else b"")


@pytest.fixture
def store(tmp_path):
    eng = Engine(tmp_path / "store.db")
    eng.hub.create_channel("solutions")
    yield eng
    eng.close()


def _session(store, ext: str, word: str, stdout: str = "", cwd: str = "/work/app"):
    prompt = f"fix the {word} parser <private>my home address is 12 Elm St</private> please"
    return record(
        store,
        hook_events(ext, cwd, prompt, f"pytest -k {word}", stdout or f"{word} ok"),
    )


def transcript_lines(session_id: str, text: str) -> list[dict]:
    """Claude Code transcript records (JSONL lines): a tool_use and its tool_result."""
    return [
        {
            "type": "assistant",
            "uuid": "u-1",
            "sessionId": session_id,
            "message": {
                "role": "assistant",
                "content": [
                    {"type": "tool_use", "id": "toolu_9", "name": "Bash",
                     "input": {"command": f"cat .env # {text}"}},
                ],
            },
        },
        {
            "type": "user",
            "uuid": "u-2",
            "sessionId": session_id,
            "message": {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": "toolu_9", "content": text}],
            },
        },
    ]  # fmt: skip


def test_no_recorded_secret_reaches_the_database_file_or_its_wal(store):
    stdout = "\n".join(SAMPLES[k][0] for k in KINDS)
    session = _session(store, "sess-secrets", "zebrafinch", stdout)
    for seq, line in enumerate(transcript_lines("sess-secrets", stdout), start=100):
        clean, _ = redact_json(line)  # as transcript import stores each record
        m.AgentEvent.create(
            session=session, seq=seq, kind=line["type"], source_key=line["uuid"],
            payload=json.dumps(clean),
        )  # fmt: skip
    raw = file_bytes(store.db_path)
    leaked = [k for k in KINDS if SAMPLES[k][1].encode() in raw]
    assert not leaked
    assert b"12 Elm St" not in raw  # the <private> span
    # the ordinary words around the secrets are stored and searchable
    assert b"zebrafinch" in raw and b"aws configure list" in raw
    hits = m.AgentEvent.select().where(m.AgentEvent.text.contains("zebrafinch")).count()
    assert hits == 1
    assert m.AgentSession.get_by_id(session.id).redactions >= len(KINDS)
    out = m.AgentToolCall.get(m.AgentToolCall.session == session.id).response
    assert "[redacted:github-token]" in out and "[redacted:private-key]" in out


def test_purge_removes_the_session_its_derived_rows_and_their_bytes(store):
    _session(store, "sess-a", "quokkabyte")
    _session(store, "sess-b", "narwhalfig")
    before = store.stats()
    report = store.agents.purge(session="sess-a")
    assert report.matched and [s["external_id"] for s in report.sessions] == ["sess-a"]
    for table in (
        "agent_sessions",
        "agent_events",
        "agent_tool_calls",
        "agent_executions",
        "episodic_memory",
        "experience_buffer",
        "knowledge_items",
        "knowledge_versions",
    ):
        assert report.rows[table] >= 1, table
    after = store.stats()
    assert after["agent_sessions"] == before["agent_sessions"] - 1
    assert report.compaction["vacuumed"] and report.compaction["wal_truncated"]
    raw = file_bytes(store.db_path)
    assert b"quokkabyte" not in raw and b"sess-a" not in raw
    assert b"narwhalfig" in raw  # the other session is untouched
    assert m.AgentExecution.select().where(m.AgentExecution.source == "agent-session:sess-b")


def test_a_pattern_row_shared_with_another_session_keeps_the_other(store):
    # same prompt text in two sessions: one pattern_memory row names both
    for ext in ("sess-1", "sess-2"):
        record(store, hook_events(ext, "/w", "tidy imports", "ruff check", "ok"))
    row = m.PatternMemory.get()
    assert json.loads(row.data)["agent_sessions"] == ["sess-1", "sess-2"]
    store.agents.purge(session="sess-1")
    assert json.loads(m.PatternMemory.get().data)["agent_sessions"] == ["sess-2"]
    store.agents.purge(session="sess-2")
    assert m.PatternMemory.select().count() == 0


def test_purge_by_date_and_project(store):
    _session(store, "old", "w1", cwd="/work/client-x/api")
    _session(store, "new", "w2", cwd="/work/client-y")
    m.AgentSession.update(last_event=dt.datetime(2025, 1, 1)).where(
        m.AgentSession.external_id == "old"
    ).execute()
    assert store.agents.purge(before=dt.datetime(2025, 6, 1)).sessions[0]["external_id"] == "old"
    assert not store.agents.purge(project="/work/client-x").matched
    assert store.agents.purge(project="/work/client-y/").sessions[0]["external_id"] == "new"


def test_a_purge_matching_nothing_says_so_and_removes_nothing(store):
    _session(store, "keep", "w")
    before = store.stats()
    report = store.agents.purge(session="no-such-session")
    assert not report.matched and report.rows == {}
    assert store.stats() == before
    assert store.agents.last_purge() is None


def test_last_purge_and_redaction_setting_are_reported(store):
    _session(store, "s1", "w", stdout=SAMPLES["github-token"][0])
    store.agents.purge(session="s1")
    status = dict(privacy_status(store))
    assert " — 1 sessions, " in status["last purge"]
    assert status["last purge"].endswith(" rows (session)")  # the session id is not kept
    assert status["redaction"].startswith("on before storage")
    assert status["store permissions"] == "private (0700 / 0600)"


def test_redact_existing_cleans_rows_stored_before_redaction(store):
    secret_text, secret = SAMPLES["anthropic-key"]
    token_text, token = SAMPLES["github-token"]
    session = m.AgentSession.create(external_id="legacy", cwd="/w")
    m.AgentEvent.create(
        session=session,
        seq=0,
        kind="UserPromptSubmit",
        text=f"use {token_text}",
        payload=json.dumps({"prompt": f"use {token_text}", "env": {"API_TOKEN": "plainword"}}),
    )
    m.AgentToolCall.create(
        session=session, tool_name="Bash", input=json.dumps({"command": secret_text})
    )
    m.EpisodicMemory.create(
        session="agent-session:legacy", sequence=1, kind="session", text=token_text
    )
    result = store.agents.redact_existing()
    assert result["total"] >= 4
    assert result["rows"]["agent_events"] == 1 and result["rows"]["episodic_memory"] == 1
    assert result["compaction"]["wal_truncated"]
    raw = file_bytes(store.db_path)
    assert secret.encode() not in raw and token.encode() not in raw
    assert b"plainword" not in raw
    assert m.AgentSession.get_by_id(session.id).redactions >= 3
    again = store.agents.redact_existing()
    assert again["total"] == 0 and "compaction" not in again


# --- the CLI ---------------------------------------------------------------------------------


def _store_with_two(tmp_path) -> Path:
    path = tmp_path / "cli.db"
    with Engine(path) as eng:
        eng.hub.create_channel("solutions")
        _session(eng, "cli-a", "alpacaword")
        _session(eng, "cli-b", "betaword")
    return path


def test_cli_purge_needs_yes_when_not_interactive(tmp_path):
    path = _store_with_two(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "workbench", "agents", "purge", "cli-a", "--db", str(path)],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "workbench: error: purge removes data for good: add --yes to confirm (1 session(s) match)"
    ]
    with Engine(path) as eng:
        assert eng.count("agent_sessions") == 2


def test_cli_purge_and_redact_existing(tmp_path, capsys):
    path = _store_with_two(tmp_path)
    assert main(["agents", "purge", "cli-a", "--yes", "--db", str(path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("purged 1 session(s): ")
    assert "WAL checkpointed and truncated" in out
    assert b"alpacaword" not in file_bytes(path)

    assert main(["agents", "purge", "--project", "/nowhere", "--yes", "--db", str(path)]) == 0
    out = capsys.readouterr().out
    assert out == "nothing to purge: no agent session matches project /nowhere\n"

    assert main(["agents", "redact-existing", "--json", "--db", str(path)]) == 0
    assert json.loads(capsys.readouterr().out)["total"] == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "name what to purge: SESSION, --before DATE or --project PATH"),
        (["--before", "last tuesday"], "--before: not a date"),
    ],
)
def test_cli_purge_bad_input_is_one_line(tmp_path, capsys, args, message):
    path = _store_with_two(tmp_path)
    assert main(["agents", "purge", *args, "--yes", "--db", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("workbench: error: ") and message in err[0]
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM agent_sessions").fetchone()[0] == 2


def test_purge_on_either_backend(engine):
    """Runs on PostgreSQL too when WORKBENCH_TEST_PG is set (the engine fixture)."""
    engine.hub.create_channel("solutions")
    _session(engine, "pg-a", "ibexword", stdout=SAMPLES["github-token"][0])
    _session(engine, "pg-b", "lynxword")
    assert not engine.agents.purge(session="pg-zzz").matched
    report = engine.agents.purge(session="pg-a")
    assert report.matched and report.rows["agent_sessions"] == 1
    assert report.compaction["vacuumed"]
    assert m.AgentSession.select().count() == 1
    assert not m.EpisodicMemory.select().where(m.EpisodicMemory.text.contains("ibexword"))
    assert m.EpisodicMemory.select().where(m.EpisodicMemory.text.contains("lynxword"))
    assert engine.agents.last_purge()["sessions"] == 1
    assert engine.agents.redact_existing()["total"] == 0


def test_doctor_reports_redaction_and_the_last_purge(tmp_path):
    import json as _json

    from tests.test_cli import run_cli

    db = str(tmp_path / "doc.db")
    assert run_cli("init", "--db", db).returncode == 0
    doctor = _json.loads(run_cli("doctor", "--db", db, "--json").stdout)
    rows = {r["label"]: r for r in doctor["checks"]}
    assert rows["redaction"]["value"].startswith("on before storage")
    assert rows["last purge"]["value"] == "never"
    assert rows["store permissions"]["status"] == "info"
