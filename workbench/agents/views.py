"""Read side of recorded agent sessions: what the Agents pane, `agents list|show` and the
MCP resources show. Write-side code lives in the other modules of this package.

Counts shown for a session (prompts, tool calls, failures) are counted from the rows the
recorder wrote, not read from the session's counters, and "was the advice applied" is
derived from `knowledge_applications` rows created after the advice: what is shown is
what the store holds now, whatever wrote it.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import peewee
from peewee import Case, fn

from workbench.store import models as m

# Event kinds that carry a prompt typed by the user (hooks; the neutral schema's name).
PROMPT_KINDS = ("UserPromptSubmit", "prompt")
# Hook events whose content is the tool call row itself (paired pre/post, with a duration).
TOOL_EVENT_KINDS = frozenset({"PreToolUse", "PostToolUse", "PostToolUseFailure"})
# Tables whose changes alter what these views return (the pane follows them).
AGENT_TABLES = frozenset(
    {"agent_sessions", "agent_events", "agent_tool_calls", "agent_advice", "agent_errors",
     "knowledge_applications"}
)  # fmt: skip
# Where the useful part of a tool's input is, per tool (else: the input as compact JSON).
TOOL_SUBJECT = {
    "Bash": ("command",),
    "Read": ("file_path",),
    "Edit": ("file_path",),
    "MultiEdit": ("file_path",),
    "Write": ("file_path",),
    "NotebookEdit": ("notebook_path",),
    "Grep": ("pattern", "path"),
    "Glob": ("pattern", "path"),
    "WebFetch": ("url",),
    "WebSearch": ("query",),
    "Task": ("description",),
    "TodoWrite": (),
}
SCAN_BATCH = 500
# ANSI CSI / OSC / other ESC sequences, then any remaining C0/C1 control character.
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]")
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def display_text(value: object, limit: int | None = None) -> str:
    """Agent text made safe to print: terminal escape sequences and control characters
    removed, whitespace collapsed to single spaces, clipped to `limit` with an ellipsis."""
    if value is None:
        return ""
    text = _CONTROLS.sub(" ", _ESCAPES.sub("", str(value)))
    text = " ".join(text.split())
    if limit is not None and len(text) > limit:
        return text[: max(0, limit - 1)] + "…"
    return text


def session_matches(session: dict[str, Any], query: str) -> bool:
    """Every word of `query` appears in the session's id, external id, agent, status,
    outcome, source, model, working directory or first prompt (case-insensitive)."""
    words = query.lower().split()
    if not words:
        return True
    haystack = " ".join(
        str(v)
        for v in (
            f"#{session['id']}", session["external_id"], session["agent"], session["status"],
            session["outcome"] or "pending", session["source"], session["model"] or "",
            session["cwd"] or "", session["title"] or "",
        )
    ).lower()  # fmt: skip
    return all(word in haystack for word in words)


def _matchable(row: m.AgentSession, titles: dict[int, str | None]) -> dict[str, Any]:
    """The fields `session_matches` reads, from a bare row and its first prompt."""
    return {
        "id": row.id, "external_id": row.external_id, "agent": row.agent,
        "status": row.status, "outcome": row.outcome, "source": row.source,
        "model": row.model, "cwd": row.cwd, "title": display_text(titles.get(row.id), 200),
    }  # fmt: skip


def tool_subject(tool_name: str, tool_input: Any) -> str:
    """The part of a tool call's input a person wants to see (the command, the file...)."""
    if isinstance(tool_input, dict):
        keys = TOOL_SUBJECT.get(tool_name)
        if keys is not None:
            parts = [str(tool_input[k]) for k in keys if tool_input.get(k) not in (None, "")]
            if parts:
                return display_text(" ".join(parts))
        if not tool_input:
            return ""
    return display_text(json.dumps(tool_input, ensure_ascii=False, sort_keys=True))


def _json(text: str | None, default: Any) -> Any:
    if not text:
        return default
    try:
        return json.loads(text)
    except ValueError:
        return default


def _seconds(start: dt.datetime | None, end: dt.datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return max(0.0, (end - start).total_seconds())


class AgentViews:
    """Queries over agent_sessions / agent_events / agent_tool_calls / agent_advice."""

    db: peewee.Database

    # -- sessions --------------------------------------------------------------------

    def sessions(self, query: str = "", limit: int = 200) -> list[dict[str, Any]]:
        """Sessions newest first (by start), at most `limit`, those matching `query` only
        (see `session_matches`); scanned in batches, so a filter finds old sessions too."""
        if limit <= 0:
            raise ValueError(f"limit must be positive, got {limit}")
        found: list[dict[str, Any]] = []
        base = m.AgentSession.select().order_by(
            m.AgentSession.started.desc(), m.AgentSession.id.desc()
        )
        batch = limit if not query.strip() else max(limit, SCAN_BATCH)
        offset = 0
        while len(found) < limit:
            rows = list(base.limit(batch).offset(offset))
            if not rows:
                break
            offset += len(rows)
            last_batch = len(rows) < batch
            if query.strip():  # match on the row and first prompt before counting anything
                titles = self._titles([r.id for r in rows])
                rows = [r for r in rows if session_matches(_matchable(r, titles), query)]
            found += self._session_dicts(rows)
            if last_batch:
                break
        return found[:limit]

    def session(self, ref: int | str) -> dict[str, Any]:
        """One session by row id or by the agent's own session id; ValueError if unknown."""
        return self._session_dicts([self._session_row(ref)])[0]

    def _session_row(self, ref: int | str) -> m.AgentSession:
        row = m.AgentSession.get_or_none(m.AgentSession.external_id == str(ref))
        if row is None and (isinstance(ref, int) or str(ref).lstrip("#").isdigit()):
            row = m.AgentSession.get_or_none(m.AgentSession.id == int(str(ref).lstrip("#")))
        if row is None:
            raise ValueError(f"unknown agent session: {ref} (see `workbench agents list`)")
        return row

    def _session_dicts(self, rows: list[m.AgentSession]) -> list[dict[str, Any]]:
        """Session rows as dicts with counts from the event and tool-call rows, and the
        first prompt as a title (one grouped query each, whatever the number of rows)."""
        ids = [r.id for r in rows]
        if not ids:
            return []
        calls: dict[int, tuple[int, int, int]] = {}
        tc = m.AgentToolCall
        for sid, n, failed, pending in (
            tc.select(
                tc.session,
                fn.COUNT(tc.id),
                fn.SUM(Case(None, [(tc.status == "failed", 1)], 0)),
                fn.SUM(Case(None, [(tc.status == "pending", 1)], 0)),
            )
            .where(tc.session.in_(ids))
            .group_by(tc.session)
            .tuples()
        ):
            calls[sid] = (int(n), int(failed or 0), int(pending or 0))
        ev = m.AgentEvent
        prompts = dict(
            ev.select(ev.session, fn.COUNT(ev.id))
            .where(ev.session.in_(ids), ev.kind.in_(PROMPT_KINDS))
            .group_by(ev.session)
            .tuples()
        )
        titles = self._titles(ids)
        out = []
        for r in rows:
            n, failed, pending = calls.get(r.id, (0, 0, 0))
            end = r.ended if r.status == "ended" and r.ended else r.last_event
            out.append(
                {
                    "id": r.id,
                    "external_id": r.external_id,
                    "source": r.source,
                    "agent": r.agent,
                    "cwd": r.cwd,
                    "transcript_path": r.transcript_path,
                    "model": r.model,
                    "status": r.status,
                    "outcome": r.outcome,
                    "outcome_detail": _json(r.outcome_detail, {}),
                    "prompts": int(prompts.get(r.id, 0)),
                    "tool_calls": n,
                    "tool_failures": failed,
                    "tool_pending": pending,
                    "redactions": r.redactions,
                    "meta": _json(r.meta, {}),
                    "started": r.started,
                    "last_event": r.last_event,
                    "ended": r.ended,
                    "duration_s": _seconds(r.started, end),
                    "title": display_text(titles.get(r.id), 200) or None,
                }
            )
        return out

    @staticmethod
    def _titles(ids: list[int]) -> dict[int, str | None]:
        """Each session's first prompt (one grouped query)."""
        if not ids:
            return {}
        ev = m.AgentEvent
        first = (
            ev.select(ev.session.alias("sid"), fn.MIN(ev.seq).alias("seq"))
            .where(ev.session.in_(ids), ev.kind.in_(PROMPT_KINDS))
            .group_by(ev.session)
            .alias("first")
        )
        return dict(
            ev.select(ev.session, ev.text)
            .join(first, on=((ev.session == first.c.sid) & (ev.seq == first.c.seq)))
            .tuples()
        )

    def outcome(self, ref: int | str) -> dict[str, Any]:
        """The derived outcome and how it was derived, as the recorder stored it; a session
        still active has none yet (`pending`)."""
        s = self.session(ref)
        if s["outcome"] is None:
            state = "pending" if s["status"] == "active" else "not derived"
            return {"outcome": None, "state": state, "detail": s["outcome_detail"]}
        return {"outcome": s["outcome"], "state": "derived", "detail": s["outcome_detail"]}

    # -- one session's timeline --------------------------------------------------------

    def timeline(self, ref: int | str) -> list[dict[str, Any]]:
        """Prompts, tool calls (with duration and failure), advice and the other events of a
        session in the order they happened. Pre/post tool events are folded into their
        tool call; events of unknown kinds are kept as they came."""
        row = self._session_row(ref)
        entries: list[tuple[tuple, dict[str, Any]]] = []
        for e in m.AgentEvent.select().where(m.AgentEvent.session == row.id):
            if e.kind in TOOL_EVENT_KINDS:
                continue
            is_prompt = e.kind in PROMPT_KINDS
            rank = 0 if is_prompt or e.kind == "SessionStart" else 2
            entries.append(
                (
                    (e.at, rank, e.seq),
                    {
                        "kind": "prompt" if is_prompt else "event",
                        "at": e.at,
                        "label": "prompt" if is_prompt else e.kind,
                        "status": None,
                        "duration_ms": None,
                        "text": display_text(e.text),
                        "detail": e.text,
                        "ref": e.id,
                    },
                )
            )
        for c in m.AgentToolCall.select().where(m.AgentToolCall.session == row.id):
            at = c.started or c.ended or row.last_event
            tool_input = _json(c.input, {})
            entries.append(
                (
                    (at, 1, c.id),
                    {
                        "kind": "tool",
                        "at": at,
                        "label": c.tool_name,
                        "status": c.status,
                        "duration_ms": c.duration_ms,
                        "text": tool_subject(c.tool_name, tool_input),
                        "error": c.error,
                        "detail": {"input": tool_input, "response": c.response,
                                   "error": c.error, "tool_use_id": c.tool_use_id},
                        "ref": c.id,
                    },
                )
            )  # fmt: skip
        for a in self.advice(row.id):
            n = len(a["items"])
            entries.append(
                (
                    (a["at"], 1, a["id"]),
                    {
                        "kind": "advice",
                        "at": a["at"],
                        "label": "advice",
                        "status": None,
                        "duration_ms": None,
                        "text": f"{n} item{'s' * (n != 1)} on {a['event']}: "
                        + ", ".join(f"{i['kind']} {i['id']}" for i in a["items"]),
                        "detail": a,
                        "ref": a["id"],
                    },
                )
            )
        entries.sort(key=lambda pair: pair[0])
        return [entry for _, entry in entries]

    # -- advice and whether it was applied -----------------------------------------------

    def advice(self, ref: int | str) -> list[dict[str, Any]]:
        """Advice injected into a session, oldest first; each hub item says whether it was
        reported applied after the advice (from knowledge_applications rows created later).
        Learnings and memories have no applied reports: `applied` is None for them."""
        row = self._session_row(ref)
        advice_rows = list(
            m.AgentAdvice.select()
            .where(m.AgentAdvice.session == row.id)
            .order_by(m.AgentAdvice.at, m.AgentAdvice.id)
        )
        parsed = [(a, [i for i in _json(a.items, []) if isinstance(i, dict)]) for a in advice_rows]
        hub_refs = {i.get("id") for _, items in parsed for i in items if i.get("kind") == "hub"}
        item_ids = self._hub_item_ids(hub_refs)
        applications: dict[int, list[tuple[dt.datetime, bool | None]]] = defaultdict(list)
        if item_ids and advice_rows:
            ka = m.KnowledgeApplication
            since = min(a.at for a in advice_rows)
            for item, created, success in (
                ka.select(ka.item, ka.created, ka.success)
                .where(ka.item.in_(set(item_ids.values())), ka.created > since)
                .tuples()
            ):
                applications[item].append((created, success))
        out = []
        for a, items in parsed:
            shown = []
            for i in items:
                entry = {"kind": i.get("kind"), "id": i.get("id"),
                         "title": display_text(i.get("title"), 120), "applied": None}  # fmt: skip
                if i.get("kind") == "hub":
                    kid = item_ids.get(i.get("id"))
                    later = [(c, s) for c, s in applications.get(kid, ()) if c > a.at]
                    entry["missing"] = kid is None
                    entry["applied"] = {
                        "count": len(later),
                        "worked": sum(1 for _, s in later if s is True),
                        "failed": sum(1 for _, s in later if s is False),
                        "first": min((c for c, _ in later), default=None),
                    }
                shown.append(entry)
            out.append(
                {
                    "id": a.id,
                    "at": a.at,
                    "event": a.event,
                    "text": a.text,
                    "items": shown,
                    "applied_items": sum(
                        1 for e in shown if e["applied"] and e["applied"]["count"]
                    ),
                    "hub_items": sum(1 for e in shown if e["kind"] == "hub"),
                }
            )
        return out

    @staticmethod
    def _hub_item_ids(refs: Iterable[Any]) -> dict[Any, int]:
        """Advice names hub items by row id (an int) or by uid (a string)."""
        ints = {r for r in refs if isinstance(r, int) and not isinstance(r, bool)}
        uids = {r for r in refs if isinstance(r, str)}
        found: dict[Any, int] = {}
        ki = m.KnowledgeItem
        if ints:
            found.update({i: i for (i,) in ki.select(ki.id).where(ki.id.in_(ints)).tuples()})
        if uids:
            found.update(dict(ki.select(ki.uid, ki.id).where(ki.uid.in_(uids)).tuples()))
        return found

    # -- across sessions -------------------------------------------------------------------

    def tool_usage(self, ref: int | str | None = None) -> list[dict[str, Any]]:
        """Per tool, most used first: calls, failures, failure rate (failed / finished),
        mean and max duration, sessions using it — over all sessions or one."""
        tc = m.AgentToolCall
        query = tc.select(
            tc.tool_name,
            fn.COUNT(tc.id),
            fn.SUM(Case(None, [(tc.status == "failed", 1)], 0)),
            fn.SUM(Case(None, [(tc.status == "ok", 1)], 0)),
            fn.AVG(tc.duration_ms),
            fn.MAX(tc.duration_ms),
            fn.COUNT(tc.session.distinct()),
        )
        if ref is not None:
            query = query.where(tc.session == self._session_row(ref).id)
        rows = []
        for name, n, failed, ok, mean, top, sessions in query.group_by(tc.tool_name).tuples():
            failed, ok = int(failed or 0), int(ok or 0)
            rows.append(
                {
                    "tool": name,
                    "calls": int(n),
                    "failed": failed,
                    "ok": ok,
                    "pending": int(n) - failed - ok,
                    "failure_rate": failed / (failed + ok) if failed + ok else None,
                    "mean_ms": float(mean) if mean is not None else None,
                    "max_ms": float(top) if top is not None else None,
                    "sessions": int(sessions),
                }
            )
        rows.sort(key=lambda r: (-r["calls"], r["tool"]))
        return rows

    def agents_overview(self) -> dict[str, Any]:
        """Totals for the pane's headings: sessions (active), outcomes, recording errors."""
        s = m.AgentSession
        outcomes: dict[str, int] = {}
        # grouped by the column itself (PostgreSQL refuses a GROUP BY expression whose
        # parameters are bound apart from the SELECT's); no outcome yet reads "pending"
        for outcome, n in s.select(s.outcome, fn.COUNT(s.id)).group_by(s.outcome).tuples():
            key = outcome or "pending"
            outcomes[key] = outcomes.get(key, 0) + int(n)
        return {
            "sessions": s.select().count(),
            "active": s.select().where(s.status == "active").count(),
            "outcomes": outcomes,
            "errors": m.AgentError.select().count(),
        }

    def recording_errors(self, limit: int = 50) -> list[dict[str, Any]]:
        """Problems met while recording (hooks never fail their agent, so they land here),
        newest first."""
        e = m.AgentError
        return [
            {
                "id": r.id,
                "at": r.at,
                "source": r.source,
                "session": r.session_external_id,
                "message": r.message,
                "detail": r.detail,
            }
            for r in e.select().order_by(e.at.desc(), e.id.desc()).limit(limit)
        ]


__all__ = [
    "AGENT_TABLES",
    "PROMPT_KINDS",
    "TOOL_EVENT_KINDS",
    "AgentViews",
    "display_text",
    "session_matches",
    "tool_subject",
]
