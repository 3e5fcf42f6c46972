"""Recording agent events: one normalized `Event` applied to sessions, events and tool calls.

Three sources produce events: Claude Code hook input (`from_hook`), transcript records
(`transcripts.py`) and the framework-neutral schema (`parse_neutral`, documented in the
README's "Agents" section). Whatever the source, `agent_events.kind` uses Claude Code's hook
event names for the eight known kinds (SessionStart, UserPromptSubmit, PreToolUse,
PostToolUse, PostToolUseFailure, Stop, SubagentStop, SessionEnd); any other kind is kept as
given, with its whole payload.

Every agent-supplied string passes through `redact.redact_json` / `redact_text` before it is
stored, and the counts are added to `agent_sessions.redactions`. Long strings are cut to a
head and a tail (`bounded`), so a huge tool output cannot bloat the store.

Tool calls pair PreToolUse and PostToolUse by `tool_use_id`; the duration is the time
between the two as this store saw them (the hook's arrival times, or the transcript's
timestamps on import). A PostToolUse without a PreToolUse (hooks installed mid-call) is a
call without a duration.

This module imports only peewee and the models: it is on the `hooks run` path.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping
from typing import Any

import peewee

from workbench.agents.redact import redact_json, redact_text
from workbench.store import models as m

SESSION_START = "SessionStart"
PROMPT = "UserPromptSubmit"
TOOL_START = "PreToolUse"
TOOL_END = "PostToolUse"
TOOL_FAILURE = "PostToolUseFailure"
STOP = "Stop"
SUBAGENT_STOP = "SubagentStop"
SESSION_END = "SessionEnd"
HOOK_EVENTS = (
    SESSION_START,
    PROMPT,
    TOOL_START,
    TOOL_END,
    TOOL_FAILURE,
    STOP,
    SUBAGENT_STOP,
    SESSION_END,
)
# the framework-neutral kinds and the stored kind each one becomes
NEUTRAL_KINDS = {
    "session_start": SESSION_START,
    "prompt": PROMPT,
    "tool_start": TOOL_START,
    "tool_end": TOOL_END,
    "stop": STOP,
    "subagent_stop": SUBAGENT_STOP,
    "session_end": SESSION_END,
}
MAX_STRING = 4000  # a stored string longer than this keeps its head and tail
RESPONSE_HEAD = 800  # a tool response excerpt: head + tail (a test summary is at the end)
RESPONSE_TAIL = 1600
MAX_ID = 200


class Event:
    """One agent event, whatever its source, ready to be stored.

    A plain class, not a dataclass: generating a dataclass's methods costs ~5% of a
    `hooks run` call.
    """

    __slots__ = (
        "session", "kind", "source", "agent", "at", "text", "tool", "tool_id", "input",
        "output", "failed", "error", "key", "cwd", "transcript_path", "model", "payload",
        "session_meta",
    )  # fmt: skip

    def __init__(
        self,
        session: str,
        kind: str,
        source: str,  # hook | transcript | event
        agent: str,
        at: dt.datetime | None = None,  # None: the recorder's clock (hook arrival time)
        text: str | None = None,
        tool: str | None = None,
        tool_id: str | None = None,
        input: Any = None,
        output: Any = None,
        failed: bool = False,
        error: str | None = None,
        key: str | None = None,  # dedup key, unique per session (transcript uuid, neutral id)
        cwd: str | None = None,
        transcript_path: str | None = None,
        model: str | None = None,
        payload: dict | None = None,
        session_meta: dict | None = None,
    ) -> None:
        self.session, self.kind, self.source, self.agent = session, kind, source, agent
        self.at, self.text, self.tool, self.tool_id = at, text, tool, tool_id
        self.input, self.output, self.failed, self.error = input, output, failed, error
        self.key, self.cwd, self.transcript_path, self.model = key, cwd, transcript_path, model
        self.payload = {} if payload is None else payload
        self.session_meta = {} if session_meta is None else session_meta

    def __repr__(self) -> str:
        return f"Event({self.kind} of {self.session!r} from {self.source})"


class EventError(ValueError):
    """An event that cannot be recorded; the message names the field."""


# ----------------------------------------------------------------------------- parsing


def _opt_str(data: Mapping[str, Any], key: str, where: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise EventError(f"{where}: {key!r} must be a string (got {type(value).__name__})")
    return value


def _session_id(data: Mapping[str, Any], key: str, where: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise EventError(f"{where}: {key!r} is missing or not a non-empty string")
    if len(value) > MAX_ID:
        raise EventError(f"{where}: {key!r} is longer than {MAX_ID} characters")
    return value.strip()


def from_hook(data: Any) -> Event:
    """A Claude Code hook input object as an Event (unknown events and fields are kept)."""
    where = "hook event"
    if not isinstance(data, dict):
        raise EventError(f"{where}: not a JSON object")
    session = _session_id(data, "session_id", where)
    name = data.get("hook_event_name")
    if not isinstance(name, str) or not name.strip():
        raise EventError(f"{where}: 'hook_event_name' is missing or not a string")
    name = name.strip()
    ev = Event(
        session=session,
        kind=name,
        source="hook",
        agent="claude-code",
        cwd=_opt_str(data, "cwd", where),
        transcript_path=_opt_str(data, "transcript_path", where),
        model=_opt_str(data, "model", where),
        payload=dict(data),
    )
    if name == SESSION_START:
        ev.session_meta = {
            k: data[k] for k in ("source", "permission_mode", "agent_type") if k in data
        }
    elif name == PROMPT:
        ev.text = _opt_str(data, "prompt", where) or ""
    elif name in (TOOL_START, TOOL_END, TOOL_FAILURE):
        ev.tool = _opt_str(data, "tool_name", where) or "unknown"
        ev.tool_id = _opt_str(data, "tool_use_id", where)
        ev.input = data.get("tool_input")
        if name != TOOL_START:
            response = data.get("tool_response")
            ev.output = response
            ev.failed = name == TOOL_FAILURE or _response_failed(response)
            if ev.failed:
                error = data.get("error")
                ev.error = _as_text(error if error is not None else response) or "failed"
    elif name in (STOP, SUBAGENT_STOP):
        ev.text = _opt_str(data, "last_assistant_message", where)
    elif name == SESSION_END:
        ev.session_meta = {"end_reason": data["reason"]} if "reason" in data else {}
    return ev


def _response_failed(response: Any) -> bool:
    """A PostToolUse response that says it failed (an error flag, an interrupted command)."""
    if not isinstance(response, dict):
        return False
    return any(response.get(k) is True for k in ("is_error", "isError", "interrupted"))


def parse_neutral(data: Any) -> Event:
    """An event in the framework-neutral schema (see README "Agents"); errors name the field."""
    where = "event"
    if not isinstance(data, dict):
        raise EventError(f"{where}: not a JSON object")
    session = _session_id(data, "session", where)
    kind = data.get("kind")
    if not isinstance(kind, str) or not kind.strip():
        raise EventError(f"{where}: 'kind' is missing or not a string")
    kind = kind.strip()
    at = None
    if data.get("at") is not None:
        at = parse_time(data["at"], f"{where}: 'at'")
    agent = _opt_str(data, "agent", where) or "custom"
    stored = NEUTRAL_KINDS.get(kind, kind)
    ev = Event(
        session=session,
        kind=stored,
        source="event",
        agent=agent.strip() or "custom",
        at=at,
        text=_opt_str(data, "text", where),
        key=_opt_str(data, "id", where),
        cwd=_opt_str(data, "cwd", where),
        model=_opt_str(data, "model", where),
        payload=dict(data),
    )
    meta = data.get("meta")
    if meta is not None and not isinstance(meta, dict):
        raise EventError(f"{where}: 'meta' must be a JSON object")
    ev.session_meta = dict(meta or {}) if stored == SESSION_START else {}
    if stored in (TOOL_START, TOOL_END):
        tool = data.get("tool")
        if not isinstance(tool, str) or not tool.strip():
            raise EventError(f"{where}: 'tool' is missing or not a string (kind {kind})")
        ev.tool = tool.strip()
        ev.tool_id = _opt_str(data, "tool_id", where)
        ev.input = data.get("input")
        if stored == TOOL_END:
            ok = data.get("ok")
            if ok is not None and not isinstance(ok, bool):
                raise EventError(f"{where}: 'ok' must be true or false")
            error = _opt_str(data, "error", where)
            ev.output = data.get("output")
            ev.failed = ok is False or error is not None
            if ev.failed:
                ev.kind = TOOL_FAILURE
                ev.error = error or "failed"
    if stored == PROMPT and ev.text is None:
        raise EventError(f"{where}: 'text' is missing (kind {kind})")
    return ev


def parse_time(value: Any, where: str) -> dt.datetime:
    """ISO 8601 (a trailing Z is UTC) as a naive UTC datetime."""
    if not isinstance(value, str):
        raise EventError(f"{where} must be an ISO 8601 time string")
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise EventError(f"{where} is not an ISO 8601 time: {value[:40]!r}") from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(dt.UTC).replace(tzinfo=None)
    return parsed


# ----------------------------------------------------------------------------- text


def bounded(value: Any, limit: int = MAX_STRING) -> Any:
    """A JSON-like value whose long strings keep their head and tail only."""
    if isinstance(value, str):
        return _cut(value, limit // 3, limit - limit // 3) if len(value) > limit else value
    if isinstance(value, dict):
        return {k: bounded(v, limit) for k, v in value.items()}
    if isinstance(value, list):
        return [bounded(v, limit) for v in value]
    return value


def _cut(text: str, head: int, tail: int) -> str:
    if len(text) <= head + tail:
        return text
    return f"{text[:head]}\n…[{len(text) - head - tail} chars cut]…\n{text[-tail:]}"


def _as_text(value: Any) -> str | None:
    """A tool response or error as text: Bash's stdout/stderr joined, else JSON."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and ("stdout" in value or "stderr" in value):
        parts = [value.get("stdout"), value.get("stderr")]
        return "\n".join(p for p in parts if isinstance(p, str) and p)
    if isinstance(value, list):  # content blocks
        texts = [b.get("text") for b in value if isinstance(b, dict)]
        if texts and all(isinstance(t, str) for t in texts):
            return "\n".join(texts)
    return json.dumps(value, default=str, ensure_ascii=False)


def response_excerpt(value: Any) -> str | None:
    """What is kept of a tool's output: its head and tail (a test summary is at the end)."""
    text = _as_text(value)
    return None if text is None else _cut(text, RESPONSE_HEAD, RESPONSE_TAIL)


# ----------------------------------------------------------------------------- storing


class Recorder:
    """Applies events to the store, one transaction each."""

    def __init__(self, db: peewee.Database, clock: Callable[[], dt.datetime] = m.utcnow):
        self.db = db
        self.clock = clock

    def apply(self, ev: Event) -> dict[str, Any]:
        """Store one event; returns the session row id, the event id (None for a duplicate)
        and whether the session is new."""
        now = ev.at or self.clock()
        payload, found = redact_json(bounded(ev.payload))
        text = None
        if ev.text is not None:
            text, counts = redact_text(bounded(ev.text))
            found.update(counts)
        with self.db.atomic():
            session, created = self._session(ev, now)
            if ev.key is not None and (
                m.AgentEvent.select()
                .where((m.AgentEvent.session == session.id) & (m.AgentEvent.source_key == ev.key))
                .exists()
            ):
                return {"session": session.id, "event": None, "created": created}
            seq = (
                m.AgentEvent.select(peewee.fn.MAX(m.AgentEvent.seq))
                .where(m.AgentEvent.session == session.id)
                .scalar()
                or 0
            ) + 1
            row = m.AgentEvent.create(
                session=session.id,
                seq=seq,
                kind=ev.kind,
                at=now,
                source_key=ev.key,
                text=text,
                payload=json.dumps(payload, default=str, ensure_ascii=False),
            )
            changes: dict[Any, Any] = {}
            if ev.kind == PROMPT:
                changes[m.AgentSession.prompts] = m.AgentSession.prompts + 1
            if ev.kind in (TOOL_START, TOOL_END, TOOL_FAILURE):
                new_call, new_failure = self._tool(session.id, ev, now, found)
                if new_call:
                    changes[m.AgentSession.tool_calls] = m.AgentSession.tool_calls + 1
                if new_failure:
                    changes[m.AgentSession.tool_failures] = m.AgentSession.tool_failures + 1
            if ev.kind == SESSION_END:
                changes[m.AgentSession.status] = "ended"
                changes[m.AgentSession.ended] = now
            redactions = sum(found.values())
            if redactions:
                changes[m.AgentSession.redactions] = m.AgentSession.redactions + redactions
            if session.last_event is None or now > session.last_event:
                changes[m.AgentSession.last_event] = now
            if now < session.started:
                changes[m.AgentSession.started] = now
            meta = self._merged_meta(session, ev)
            if meta is not None:
                changes[m.AgentSession.meta] = meta
            for attr in ("cwd", "transcript_path", "model"):
                value = getattr(ev, attr)
                if value and getattr(session, attr) != value:
                    changes[getattr(m.AgentSession, attr)] = redact_text(value)[0]
            if changes:
                m.AgentSession.update(changes).where(m.AgentSession.id == session.id).execute()
        return {"session": session.id, "event": row.id, "created": created, "seq": seq}

    def _session(self, ev: Event, now: dt.datetime) -> tuple[m.AgentSession, bool]:
        session = m.AgentSession.get_or_none(m.AgentSession.external_id == ev.session)
        if session is not None:
            return session, False
        m.AgentSession.insert(
            external_id=ev.session,
            source=ev.source,
            agent=ev.agent,
            status="active",
            started=now,
            last_event=now,
        ).on_conflict_ignore().execute()  # another process may have won (PostgreSQL)
        return m.AgentSession.get(m.AgentSession.external_id == ev.session), True

    @staticmethod
    def _merged_meta(session: m.AgentSession, ev: Event) -> str | None:
        if not ev.session_meta:
            return None
        meta = json.loads(session.meta or "{}")
        clean, _ = redact_json(bounded(ev.session_meta))
        merged = {**meta, **clean}
        return None if merged == meta else json.dumps(merged, default=str, sort_keys=True)

    def _tool(self, session_id: int, ev: Event, now: dt.datetime, found) -> tuple[bool, bool]:
        """Insert or complete the tool call; (a new call?, a new failure?)."""
        call = m.AgentToolCall
        row = None
        if ev.tool_id is not None:
            row = call.get_or_none((call.session == session_id) & (call.tool_use_id == ev.tool_id))
        elif ev.kind != TOOL_START:  # no id: the oldest pending call of that tool
            row = (
                call.select()
                .where(
                    (call.session == session_id)
                    & call.tool_use_id.is_null()
                    & (call.tool_name == ev.tool)
                    & (call.status == "pending")
                )
                .order_by(call.id)
                .first()
            )
        tool_input = None
        if ev.input is not None:
            clean, counts = redact_json(bounded(ev.input))
            found.update(counts)
            tool_input = json.dumps(clean, default=str, ensure_ascii=False)
        if ev.kind == TOOL_START:
            if row is None:
                call.create(
                    session=session_id,
                    tool_use_id=ev.tool_id,
                    tool_name=ev.tool,
                    input=tool_input or "{}",
                    status="pending",
                    started=now,
                )
                return True, False
            if row.started is None:
                row.started = now
                if row.ended is not None:
                    row.duration_ms = _ms(row.ended - now)
                row.save()
            return False, False
        response = None
        if ev.output is not None:
            response, counts = redact_text(response_excerpt(ev.output) or "")
            found.update(counts)
        error = None
        if ev.error is not None:
            error, counts = redact_text(_cut(ev.error, RESPONSE_HEAD, RESPONSE_TAIL))
            found.update(counts)
        status = "failed" if ev.failed else "ok"
        if row is None:
            call.create(
                session=session_id,
                tool_use_id=ev.tool_id,
                tool_name=ev.tool,
                input=tool_input or "{}",
                response=response,
                status=status,
                error=error,
                ended=now,
            )
            return True, ev.failed
        was_failed = row.status == "failed"
        row.status = status
        row.ended = now
        row.response = response if response is not None else row.response
        row.error = error
        if tool_input is not None and row.input in (None, "{}"):
            row.input = tool_input
        if row.started is not None:
            row.duration_ms = _ms(now - row.started)
        row.save()
        return False, ev.failed and not was_failed

    def record_error(
        self,
        source: str,
        message: str,
        session_external_id: str | None = None,
        detail: str | None = None,
    ) -> int:
        """Keep a recording problem where `agents errors` and the pane show it."""
        clean, _ = redact_text(bounded(message, 500))
        clean_detail = redact_text(bounded(detail))[0] if detail else None
        with self.db.atomic():
            row = m.AgentError.create(
                at=self.clock(),
                source=source,
                session_external_id=(session_external_id or "")[:MAX_ID] or None,
                message=clean,
                detail=clean_detail,
            )
        return row.id


def _ms(delta: dt.timedelta) -> float:
    return round(max(delta.total_seconds(), 0.0) * 1000.0, 3)
