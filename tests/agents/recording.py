"""Records real-shaped Claude Code hook events the way the recorder does (every
agent-supplied string through the redactor before storage) plus derived rows tagged by the
convention of `workbench.agents.purge`. The agents branch brings the real `hooks run`;
these tests need only rows shaped like its rows."""

from __future__ import annotations

import json
from typing import Any

from workbench.agents.purge import session_tag
from workbench.agents.redact import redact_json, redact_text
from workbench.store import models as m


def hook_events(session_id: str, cwd: str, prompt: str, command: str, stdout: str) -> list[dict]:
    base = {
        "session_id": session_id,
        "transcript_path": f"/home/dev/.claude/projects/x/{session_id}.jsonl",
        "cwd": cwd,
        "permission_mode": "default",
    }
    tool = {"tool_name": "Bash", "tool_input": {"command": command, "description": "run it"}}
    return [
        {**base, "hook_event_name": "SessionStart", "source": "startup"},
        {**base, "hook_event_name": "UserPromptSubmit", "prompt": prompt},
        {**base, "hook_event_name": "PreToolUse", **tool, "tool_use_id": "toolu_01"},
        {
            **base,
            "hook_event_name": "PostToolUse",
            **tool,
            "tool_use_id": "toolu_01",
            "tool_response": {"stdout": stdout, "stderr": "", "interrupted": False},
        },
        {**base, "hook_event_name": "Stop", "stop_hook_active": False},
    ]


def record(engine, events: list[dict[str, Any]]) -> m.AgentSession:
    """Store hook events (redacted first) and the rows a finished session derives."""
    first = events[0]
    ext = first["session_id"]
    with engine.db.atomic():
        session, _ = m.AgentSession.get_or_create(
            external_id=ext, defaults={"cwd": first["cwd"], "source": "hook"}
        )
        prompt = ""
        for seq, raw in enumerate(events):
            event, counts = redact_json(raw)
            session.redactions += sum(counts.values())
            kind = event["hook_event_name"]
            text = event.get("prompt")
            if kind == "UserPromptSubmit":
                prompt = text
                session.prompts += 1
            m.AgentEvent.create(
                session=session, seq=seq, kind=kind, text=text, payload=json.dumps(event)
            )
            if kind == "PreToolUse":
                m.AgentToolCall.create(
                    session=session,
                    tool_use_id=event["tool_use_id"],
                    tool_name=event["tool_name"],
                    input=json.dumps(event["tool_input"]),
                )
                session.tool_calls += 1
            if kind == "PostToolUse":
                m.AgentToolCall.update(
                    response=json.dumps(event["tool_response"]), status="ok"
                ).where(
                    (m.AgentToolCall.session == session)
                    & (m.AgentToolCall.tool_use_id == event["tool_use_id"])
                ).execute()
        session.status = "ended"
        session.outcome = "success"
        session.save()
    derive(engine, ext, prompt)
    return session


def derive(engine, ext: str, prompt: str) -> None:
    """Derived rows as the recorder makes them: each names its session (see purge.py)."""
    tag = session_tag(ext)
    summary, _ = redact_text(f"agent session finished: {prompt}")
    with engine.db.atomic():
        m.AgentExecution.create(
            agent="claude-code", category="coding", duration_s=12.5, success=True, source=tag
        )
        m.ExperienceBuffer.create(
            source=tag,
            source_ref=f"{tag}:1",
            input=json.dumps({"prompt": summary, "agent_session": ext}),
            output=json.dumps({"outcome": "success"}),
            quality="gold",
        )
        key = f"operation: {summary}"
        row = m.PatternMemory.get_or_none(m.PatternMemory.key == key)
        if row is None:
            m.PatternMemory.create(
                type="systems", key=key, data=json.dumps({"agent_sessions": [ext]}), successes=1
            )
        else:
            data = json.loads(row.data)
            data["agent_sessions"].append(ext)
            row.data = json.dumps(data)
            row.successes += 1
            row.save()
    engine.memory.record(tag, "session", summary, {"agent_session": ext}, "success")
    engine.hub.share(
        "solutions",
        "solution",
        f"What worked: {summary[:60]}",
        summary,
        agent="claude-code",
        context={"agent_session": ext},
    )
