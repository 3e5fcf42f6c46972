"""Realistic recorded agent sessions, written straight through the peewee models.

Until the recording side (hooks, transcript import) is merged, read-side tests build their
sessions here: the rows a Claude Code session leaves behind — hook events with their JSON
payloads in order, tool calls paired pre/post with durations, failures, advice — at fixed
times, so snapshots are stable.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from tests.conftest import FROZEN_NOW
from workbench.store import models as m

T0 = FROZEN_NOW - dt.timedelta(hours=3)
STEP = dt.timedelta(seconds=4)


@dataclass
class Prompt:
    text: str


@dataclass
class Tool:
    name: str
    input: dict[str, Any]
    duration_ms: float | None  # None: still running (no post event yet)
    ok: bool = True
    response: str = ""
    error: str | None = None


@dataclass
class Advice:
    items: list[dict[str, Any]]
    text: str
    event: str = "UserPromptSubmit"


@dataclass
class Event:
    kind: str
    payload: dict[str, Any] = field(default_factory=dict)


def make_session(
    external_id: str,
    steps: list[Prompt | Tool | Advice | Event],
    *,
    started: dt.datetime = T0,
    ended: bool = True,
    outcome: str | None = None,
    outcome_detail: dict[str, Any] | None = None,
    agent: str = "claude-code",
    cwd: str = "/home/dev/shop",
    model: str | None = "claude-sonnet-4-5",
    source: str = "hook",
    redactions: int = 0,
) -> m.AgentSession:
    """A session whose rows are what the hooks would have written for `steps`."""
    session = m.AgentSession.create(
        external_id=external_id,
        source=source,
        agent=agent,
        cwd=cwd,
        model=model,
        status="active",
        outcome_detail="{}",
        prompts=0,
        tool_calls=0,
        tool_failures=0,
        redactions=redactions,
        meta="{}",
        started=started,
        last_event=started,
    )
    now = started
    seq = 0

    def event(kind: str, text: str | None = None, **payload: Any) -> None:
        nonlocal seq
        seq += 1
        body = {"session_id": external_id, "hook_event_name": kind, "cwd": cwd, **payload}
        m.AgentEvent.create(
            session=session, seq=seq, kind=kind, at=now, text=text, payload=json.dumps(body)
        )

    event("SessionStart", source="startup")
    prompts = calls = failures = 0
    for n, step in enumerate(steps, start=1):
        now += STEP
        if isinstance(step, Prompt):
            prompts += 1
            event("UserPromptSubmit", step.text, prompt=step.text)
        elif isinstance(step, Tool):
            calls += 1
            use_id = f"toolu_{external_id}_{n:02d}"
            event("PreToolUse", tool_name=step.name, tool_input=step.input, tool_use_id=use_id)
            end = None
            status = "pending"
            if step.duration_ms is not None:
                end = now + dt.timedelta(milliseconds=step.duration_ms)
                status = "ok" if step.ok else "failed"
                failures += not step.ok
                kind = "PostToolUse" if step.ok else "PostToolUseFailure"
                saved, now = now, end
                event(
                    kind,
                    tool_name=step.name,
                    tool_use_id=use_id,
                    tool_response=step.response or step.error,
                )
                now = saved
            m.AgentToolCall.create(
                session=session,
                tool_use_id=use_id,
                tool_name=step.name,
                input=json.dumps(step.input),
                response=step.response or None,
                status=status,
                error=step.error,
                started=now,
                ended=end,
                duration_ms=step.duration_ms,
            )
            if end is not None:
                now = end
        elif isinstance(step, Advice):
            m.AgentAdvice.create(
                session=session,
                event=step.event,
                at=now,
                items=json.dumps(step.items),
                text=step.text,
            )
        else:
            event(step.kind, **step.payload)
    if ended:
        now += STEP
        event("Stop")
        event("SessionEnd", reason="exit")
    session.prompts, session.tool_calls, session.tool_failures = prompts, calls, failures
    session.last_event = now
    if ended:
        session.status, session.ended = "ended", now
        session.outcome = outcome or "unknown"
        session.outcome_detail = json.dumps(outcome_detail or {})
    session.save()
    return session


def hub_item(uid: str) -> m.KnowledgeItem:
    return m.KnowledgeItem.get(m.KnowledgeItem.uid == uid)


def standard_sessions() -> dict[str, m.AgentSession]:
    """Three sessions over the fixture store: a finished success that was given advice, a
    finished failure, and one still going (a Bash call running)."""
    sqlite = hub_item("fx-1")
    fixed = make_session(
        "7f3c9a12-parser",
        [
            Prompt("Fix the failing date parser tests in shop/dates.py"),
            Advice(
                [
                    {"kind": "hub", "id": sqlite.id, "title": sqlite.title},
                    {"kind": "learning", "id": 4, "title": "Run the narrowest test first"},
                    {"kind": "memory", "id": 17, "title": "dates.py uses dateutil"},
                ],
                "Relevant from the workbench: [hub 1] Set a busy timeout ...",
            ),
            Tool("Read", {"file_path": "shop/dates.py"}, 38.0, response="def parse(...)"),
            Tool(
                "Bash",
                {"command": "pytest -q tests/test_dates.py"},
                2140.0,
                ok=False,
                error="2 failed, 5 passed in 1.92s",
            ),
            Tool(
                "Edit",
                {"file_path": "shop/dates.py", "old_string": "%d/%m", "new_string": "%m/%d"},
                61.0,
                response="ok",
            ),
            Tool(
                "Bash",
                {"command": "pytest -q tests/test_dates.py"},
                1985.0,
                response="7 passed in 1.71s",
            ),
            Prompt("Now run the whole suite"),
            Tool("Bash", {"command": "pytest -q"}, 5210.0, response="42 passed in 4.88s"),
        ],
        started=T0,
        outcome="success",
        outcome_detail={
            "reason": "the last test run passed (42 passed) after 1 edit",
            "test_runs": 3,
            "last_test_run": "passed",
            "tool_failures": 1,
            "edits": 1,
        },
        redactions=1,
    )
    failed = make_session(
        "b81e0d44-migrate",
        [
            Prompt("Add a migration for the orders.total column"),
            Tool("Glob", {"pattern": "migrations/*.sql"}, 12.0, response="0001_init.sql"),
            Tool(
                "Write",
                {"file_path": "migrations/0002_total.sql", "content": "ALTER ..."},
                20.0,
                response="ok",
            ),
            Tool(
                "Bash",
                {"command": "python -m shop migrate"},
                830.0,
                ok=False,
                error="sqlite3.OperationalError: duplicate column name: total",
            ),
            Tool(
                "Bash",
                {"command": "pytest -q tests/test_orders.py"},
                1460.0,
                ok=False,
                error="1 failed, 3 passed in 1.20s",
            ),
        ],
        started=T0 + dt.timedelta(minutes=40),
        outcome="failure",
        outcome_detail={
            "reason": "the last test run failed (1 failed, 3 passed)",
            "test_runs": 1,
            "last_test_run": "failed",
            "tool_failures": 2,
            "edits": 1,
        },
        model="claude-opus-4-1",
    )
    live = make_session(
        "e5d2f871-cache",
        [
            Prompt("Why is the product page slow? Profile the cache layer"),
            Tool("Grep", {"pattern": "lru_cache", "path": "shop"}, 25.0, response="3 files"),
            Tool("Bash", {"command": "python -m cProfile -s cumtime shop/app.py"}, None),
        ],
        started=T0 + dt.timedelta(minutes=95),
        ended=False,
    )
    return {"fixed": fixed, "failed": failed, "live": live}
