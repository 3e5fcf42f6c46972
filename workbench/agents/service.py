"""AgentsService: the engine's entry to recorded agent sessions.

Write side: hook events (`record_hook_event`), framework-neutral events (`record_event`),
transcript import (`import_transcripts`), recording errors, and — when a session stops or
ends — its derived outcome (see `outcome.py`) fed into the learning parts the engine owns
(agent executions, episodic memory, pattern memory, learnings, the experience buffer).
`advise` answers a prompt with the most relevant hub items, learnings and memories.

The other services are reached through `services(name)` (the engine's own properties), so
recording a tool call never builds them: only Stop/SessionEnd and advice do.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import peewee

from workbench.agents import purge as purging
from workbench.agents.recorder import (
    PROMPT,
    SESSION_END,
    SESSION_START,
    STOP,
    Event,
    EventError,
    Recorder,
    from_hook,
    parse_neutral,
)
from workbench.agents.views import AgentViews
from workbench.store import models as m

ADVICE_LIMIT = 2000  # characters of additionalContext, header included
ADVICE_PER_KIND = 3
# Relevance floors. The hashing features share character n-grams between any two English
# texts: unrelated texts score about 0.35-0.46 (memory) and 0.3 (learnings) on the seed store,
# a text on the same subject above 0.5. A hub hit is a full-text match (it shares a word
# that is not a stop word) scoring at least half of the best one; FTS5's BM25 has no fixed
# scale (a word in half of a small store's items scores ~0), so there is no absolute floor.
MIN_LEARNING_SIMILARITY = 0.45  # cosine over hashed word/char features (patterns.similarity)
MIN_MEMORY_SCORE = 0.5  # cosine of the default hashing embedder
HUB_SHARE_OF_BEST = 0.5
ADVICE_HEADER = "Workbench advice for this task (ids let you report what you applied):"
LEARNING_LOG_KEEP = 20
TASK_CHARS = 500
EPISODE_KIND = "agent_turn"


class AgentsService(AgentViews):
    """Records agent events (hooks, transcripts, neutral events) and answers questions on them."""

    def __init__(
        self,
        db: peewee.Database,
        *,
        clock: Callable[[], dt.datetime] = m.utcnow,
        services: Callable[[str], Any] | None = None,
    ):
        self.db = db
        self.clock = clock
        self.services = services
        self.recorder = Recorder(db, clock)

    # -- recording -------------------------------------------------------------------

    def record_hook_event(self, event: dict, advise: bool = False) -> str | None:
        """Record one Claude Code hook input; with `advise`, the JSON to print on stdout for
        SessionStart / UserPromptSubmit (None when nothing is relevant or not advising)."""
        ev = from_hook(event)
        self._apply(ev)
        if advise and ev.kind in (SESSION_START, PROMPT):
            return self.advise_hook(ev)
        return None

    def record_event(self, event: dict) -> dict[str, Any]:
        """Record one framework-neutral event (README "Agents"); errors name the field."""
        ev = parse_neutral(event)
        return self._apply(ev)

    def _apply(self, ev: Event) -> dict[str, Any]:
        result = self.recorder.apply(ev)
        if result["event"] is not None and ev.kind in (STOP, SESSION_END):
            result["outcome"] = self.conclude(ev.session)
        return result

    def record_error(
        self,
        source: str,
        message: str,
        session_external_id: str | None = None,
        detail: str | None = None,
    ) -> int:
        return self.recorder.record_error(source, message, session_external_id, detail)

    def import_transcripts(self, path: str | Path, progress=None) -> dict[str, Any]:
        """Import Claude Code transcripts (a .jsonl file or a directory of them)."""
        from workbench.agents.transcripts import import_path

        return import_path(self, Path(path), progress)

    # -- outcome and learning --------------------------------------------------------

    def conclude(self, external_id: str) -> dict[str, Any]:
        """Derive the session's outcome and feed the turn since the last Stop into learning.

        A turn is what was recorded after the previous Stop (its prompt and tool calls); it
        is fed once. The session's own outcome is derived over all its tool calls.
        """
        from workbench.agents import outcome as oc  # not needed to record a tool call

        with self.db.atomic():
            session = m.AgentSession.get(m.AgentSession.external_id == external_id)
            detail = json.loads(session.outcome_detail or "{}")
            fed_call = int(detail.get("fed_through_call", 0))
            fed_seq = int(detail.get("fed_through_seq", 0))
            call = m.AgentToolCall
            calls = list(call.select().where(call.session == session.id).order_by(call.id).dicts())
            event = m.AgentEvent
            events = list(
                event.select(event.seq, event.kind, event.at, event.text)
                .where((event.session == session.id) & (event.seq > fed_seq))
                .order_by(event.seq)
                .tuples()
            )
            whole = oc.derive(calls)
            turn_calls = [c for c in calls if c["id"] > fed_call]
            prompts = [text for _, kind, _, text in events if kind == PROMPT and text]
            log = list(detail.get("learning", []))
            turns = int(detail.get("turns", 0))
            if turn_calls or prompts:
                turns += 1
                turn = oc.derive(turn_calls)
                task = prompts[-1] if prompts else self._last_prompt(session)
                started = events[0][2] if events else session.started
                ended = events[-1][2] if events else self.clock()
                fed = self._feed(session, turns, task, turn, started, ended)
                log = (log + [fed])[-LEARNING_LOG_KEEP:]
            detail = {
                **whole,
                "turns": turns,
                "learning": log,
                "fed_through_call": max([fed_call] + [c["id"] for c in calls]),
                "fed_through_seq": events[-1][0] if events else fed_seq,
            }
            m.AgentSession.update(
                outcome=whole["outcome"], outcome_detail=json.dumps(detail, default=str)
            ).where(m.AgentSession.id == session.id).execute()
        return detail

    @staticmethod
    def _last_prompt(session: m.AgentSession) -> str:
        row = (
            m.AgentEvent.select(m.AgentEvent.text)
            .where((m.AgentEvent.session == session.id) & (m.AgentEvent.kind == PROMPT))
            .order_by(m.AgentEvent.seq.desc())
            .first()
        )
        if row is not None and row.text:
            return row.text
        return f"{session.agent} session in {Path(session.cwd).name if session.cwd else '?'}"

    def _feed(
        self,
        session: m.AgentSession,
        turn_no: int,
        task: str,
        turn: dict[str, Any],
        started: dt.datetime,
        ended: dt.datetime,
    ) -> dict[str, Any]:
        """One turn into episodic memory, and — when measured — the adaptive optimizer and
        pattern learning. Returns what was written (row ids) and what was skipped and why."""
        task = " ".join(task.split())[:TASK_CHARS] or "(empty prompt)"
        out = turn["outcome"]
        fed: dict[str, Any] = {"turn": turn_no, "outcome": out, "rule": turn["rule"]}
        if self.services is None:
            fed["skipped"] = "no engine services (recorded without learning)"
            return fed
        duration_s = max((ended - started).total_seconds(), 0.0)
        episode = self.services("memory").record(
            session.external_id,
            EPISODE_KIND,
            task,
            {
                "agent": session.agent,
                "agent_session": session.external_id,  # agents/purge.py finds derived rows
                "outcome": out,
                "tool_calls": turn["tool_calls"],
                "tool_failures": turn["tool_failures"],
                "test_runs": turn["tests"]["runs"],
                "edits": turn["edits"],
            },
            out if out in ("success", "failure") else "neutral",
        )
        fed["episode"] = episode["id"]
        if out not in ("success", "failure"):
            fed["skipped"] = f"outcome {out}: not measured, so no execution or pattern learning"
            return fed
        success = out == "success"
        areas = self.services("adaptive").analyze(task)["analysis"].get("areas") or []
        category = areas[0] if areas else "general"
        execution = self.services("adaptive").record_execution(
            session.agent,
            category,
            duration_s=duration_s,
            success=success,
            errors=turn["tool_failures"],
            actions=turn["tool_calls"],
            source=purging.session_tag(session.external_id),
        )
        fed["execution"] = execution["id"]
        errors = [turn["rule"]] if not success else []
        try:
            learned = self.services("patterns").learn(
                {
                    "text": task,
                    "agent": session.agent,
                    "task": task[:120],
                    "agent_session": session.external_id,
                },  # fmt: skip
                {
                    "success": success,
                    "time_ms": round(duration_s * 1000.0, 3),
                    "errors": errors,
                },
                find_similar=False,
            )
        except ValueError as exc:  # no pattern matched and the classifier is untrained
            fed["patterns_skipped"] = str(exc)
        else:
            fed["pattern_memory"] = learned["memory"]["id"]
            fed["pattern"] = learned["pattern"]
            fed["learnings"] = [row["id"] for row in learned["learnings"]]
        return fed

    # -- advice ----------------------------------------------------------------------

    def advise_hook(self, ev: Event) -> str | None:
        """Claude Code's JSON answer for SessionStart / UserPromptSubmit, or None."""
        if ev.kind == PROMPT:
            query = ev.text or ""
        else:  # a session start has no prompt yet: ask about the project
            query = " ".join(Path(ev.cwd).parts[-2:]) if ev.cwd else ""
        advice = self.advise(ev.session, ev.kind, query)
        if advice is None:
            return None
        return json.dumps(
            {"hookSpecificOutput": {"hookEventName": ev.kind, "additionalContext": advice}},
            ensure_ascii=False,
        )

    def advise(self, external_id: str, event: str, query: str) -> str | None:
        """The most relevant hub items, learnings and memories for `query`, as text of at
        most ADVICE_LIMIT characters, each with its id; recorded as an agent_advice row.
        None (and nothing recorded) when nothing is relevant."""
        if not query.strip() or self.services is None:
            return None
        lines: list[tuple[dict[str, Any], str]] = []
        hub = self.services("hub").query(query, limit=ADVICE_PER_KIND)
        best = hub[0]["score"] if hub else 0.0
        for item in hub:
            if item["score"] < HUB_SHARE_OF_BEST * best:
                continue
            entry = {"kind": "hub", "id": item["id"], "score": item["score"]}
            lines.append((entry, f"- hub {item['id']} [{item['type']}] {item['title']}"))
        for row in self.services("patterns").relevant_learnings(query, limit=ADVICE_PER_KIND):
            if row["similarity"] < MIN_LEARNING_SIMILARITY:
                continue
            entry = {"kind": "learning", "id": row["id"], "score": row["relevance"]}
            lines.append((entry, f"- learning {row['id']} [{row['type']}] {row['description']}"))
        hits = self.services("memory").search(query, k=ADVICE_PER_KIND + 2)
        kept = [h for h in hits if h.score >= MIN_MEMORY_SCORE and h.namespace != "patterns"]
        for hit in kept[:ADVICE_PER_KIND]:
            ref = f"{hit.namespace}/{hit.key}"
            entry = {"kind": "memory", "id": hit.id, "key": ref, "score": round(hit.score, 4)}
            lines.append((entry, f"- memory {hit.id} ({ref}) {' '.join(hit.text.split())}"))
        if not lines:
            return None
        text, items = ADVICE_HEADER, []
        for entry, line in lines:
            line = line if len(line) <= 400 else line[:399] + "…"
            if len(text) + 1 + len(line) > ADVICE_LIMIT:
                break
            text += "\n" + line
            items.append(entry)
        session = m.AgentSession.get_or_none(m.AgentSession.external_id == external_id)
        if session is not None:
            m.AgentAdvice.create(
                session=session.id,
                event=event,
                at=self.clock(),
                items=json.dumps(items),
                text=text,
                applied=0,
            )
        return text

    # -- reading (the CLI's list/show/errors; the pane reads through AgentViews) --------

    def list_sessions(self, limit: int = 50) -> list[dict[str, Any]]:
        """The most recently active sessions first."""
        s = m.AgentSession
        query = s.select().order_by(s.last_event.desc(), s.id.desc()).limit(limit)
        return [_session_dict(row) for row in query]

    def session_detail(self, ref: str | int) -> dict[str, Any]:
        """One session by row id or the agent's session id, with its events, tool calls
        and advice."""
        row = self._session_row(ref)
        e, c, a = m.AgentEvent, m.AgentToolCall, m.AgentAdvice
        events = e.select(e.seq, e.kind, e.at, e.text).where(e.session == row.id).order_by(e.seq)
        calls = c.select().where(c.session == row.id).order_by(c.id)
        advice = a.select().where(a.session == row.id).order_by(a.id)
        return {
            **_session_dict(row),
            "outcome_detail": json.loads(row.outcome_detail or "{}"),
            "meta": json.loads(row.meta or "{}"),
            "events": [_plain(d) for d in events.dicts()],
            "calls": [
                _plain({k: v for k, v in d.items() if k != "session"}) for d in calls.dicts()
            ],
            "advice": [
                {
                    **_plain({k: v for k, v in d.items() if k != "session"}),
                    "items": json.loads(d["items"]),
                }
                for d in advice.dicts()
            ],  # fmt: skip
        }

    # -- privacy: forget for good, redact what was stored before redaction -----------------

    def purge_preview(
        self,
        session: str | None = None,
        before: dt.datetime | None = None,
        project: str | None = None,
    ) -> list[dict[str, Any]]:
        """The sessions `purge` with the same arguments would remove (nothing is removed)."""
        return purging.preview(self.db, purging.Selection(session, before, project))

    def purge(
        self,
        session: str | None = None,
        before: dt.datetime | None = None,
        project: str | None = None,
    ) -> purging.PurgeReport:
        """Remove sessions and everything derived from them in one transaction, and leave
        no copy of their text in the database file. A selection matching nothing removes
        nothing and says so (`report.matched` is False)."""
        return purging.purge(self.db, purging.Selection(session, before, project), self.clock)

    def redact_existing(self) -> dict[str, Any]:
        """Redact agent text stored before redaction existed (or recorded with it off)."""
        return purging.redact_existing(self.db, self.clock)

    def last_purge(self) -> dict[str, Any] | None:
        """When the last purge ran and what it removed (for `workbench doctor`)."""
        with self.db.atomic():
            return purging.get_meta(purging.LAST_PURGE_KEY)

    def redaction_totals(self) -> tuple[int, int]:
        """(redactions recorded, sessions with any) over the stored sessions."""
        s = m.AgentSession
        with self.db.atomic():
            total = s.select(peewee.fn.COALESCE(peewee.fn.SUM(s.redactions), 0)).scalar()
            sessions = s.select().where(s.redactions > 0).count()
        return int(total or 0), sessions


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    return {
        k: v.isoformat(sep=" ", timespec="milliseconds") if isinstance(v, dt.datetime) else v
        for k, v in row.items()
    }


def _session_dict(row: m.AgentSession) -> dict[str, Any]:
    return _plain(
        {
            "id": row.id,
            "session": row.external_id,
            "source": row.source,
            "agent": row.agent,
            "cwd": row.cwd,
            "status": row.status,
            "outcome": row.outcome,
            "prompts": row.prompts,
            "tool_calls": row.tool_calls,
            "tool_failures": row.tool_failures,
            "redactions": row.redactions,
            "started": row.started,
            "last_event": row.last_event,
            "ended": row.ended,
        }
    )


__all__ = ["AgentsService", "EventError"]
