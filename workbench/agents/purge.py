"""Forget recorded agent sessions for good, and redact what was stored before redaction.

Derived rows are traced to their session by one convention, which every writer of
agent-derived rows follows (`session_tag`):

| table | where the session is named |
|---|---|
| agent_executions | `source` = `agent-session:<external_id>` |
| episodic_memory | `session` = the tag, or `context` JSON `"agent_session": "<external_id>"` |
| experience_buffer | `source` or `source_ref` = the tag (`source_ref` may add `:<n>`), or |
|  | `input` JSON `"agent_session"` |
| pattern_memory | `data` JSON `"agent_session"` or `"agent_sessions": [...]` |
| knowledge_items | `context` JSON `"agent_session"` (versions, deliveries, votes go with it) |
| vector_memory | `metadata` JSON `"agent_session"` |
| semantic_memory | `source` = the tag |
| learnings | `evidence` JSON entries with `"agent_session"` |
| agent_errors | `session_external_id` |

A pattern_memory row or learning shared with other sessions only loses this session's
mention; a row of this session alone is deleted.

"For good" on SQLite means: `secure_delete` on while deleting (freed cells are zeroed), FTS5
indexes merged (their old segments would keep the words), the WAL checkpointed and
truncated, then VACUUM (a fresh file) and a second truncating checkpoint. If another process
holds the database open in a read transaction the WAL cannot be truncated; the report says so.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import peewee

from workbench.agents.redact import redact_json, redact_text
from workbench.store import models as m

TAG_PREFIX = "agent-session:"
LAST_PURGE_KEY = "agents.last_purge"
LAST_REDACT_KEY = "agents.last_redact_existing"


def session_tag(external_id: str) -> str:
    """The mark a derived row carries to say which agent session it came from."""
    return f"{TAG_PREFIX}{external_id}"


@dataclass
class Selection:
    """Which sessions a purge is about; criteria combine with AND."""

    session: str | None = None  # external id or numeric row id
    before: dt.datetime | None = None  # last event older than this
    project: str | None = None  # cwd equal to or under this path

    def describe(self) -> str:
        parts = []
        if self.session is not None:
            parts.append(f"session {self.session}")
        if self.before is not None:
            parts.append(f"last event before {self.before.isoformat(sep=' ')}")
        if self.project is not None:
            parts.append(f"project {self.project}")
        return " and ".join(parts) or "all sessions"


@dataclass
class PurgeReport:
    sessions: list[dict[str, Any]]
    rows: dict[str, int] = field(default_factory=dict)
    compaction: dict[str, Any] = field(default_factory=dict)
    criteria: str = ""

    @property
    def matched(self) -> bool:
        return bool(self.sessions)

    def as_dict(self) -> dict[str, Any]:
        return {
            "criteria": self.criteria,
            "matched": self.matched,
            "sessions": self.sessions,
            "rows": self.rows,
            "compaction": self.compaction,
        }


def parse_before(text: str) -> dt.datetime:
    """`--before` as a UTC datetime: a date (YYYY-MM-DD) or an ISO datetime."""
    try:
        value = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"--before: not a date (YYYY-MM-DD or an ISO datetime): {text!r}"
        ) from None
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def normalize_project(path: str) -> str:
    return os.path.normpath(os.path.abspath(os.path.expanduser(path)))


def select_sessions(selection: Selection) -> list[m.AgentSession]:
    """The sessions a selection names, oldest first."""
    s = m.AgentSession
    if selection.session is None and selection.before is None and selection.project is None:
        raise ValueError("name what to purge: SESSION, --before DATE or --project PATH")
    query = s.select().order_by(s.started, s.id)
    if selection.session is not None:
        ident = selection.session.strip()
        cond = s.external_id == ident
        if ident.isdigit():
            cond |= s.id == int(ident)
        query = query.where(cond)
    if selection.before is not None:
        query = query.where(s.last_event < selection.before)
    rows = list(query)
    if selection.project is not None:
        root = normalize_project(selection.project)
        rows = [r for r in rows if r.cwd and _under(normalize_project(r.cwd), root)]
    return rows


def _under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _json(text: str | None) -> Any:
    if not text:
        return None
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        return None


def _mentions(value: Any, external_id: str) -> bool:
    """A JSON object naming the session (`agent_session` or `agent_sessions`)."""
    if not isinstance(value, dict):
        return False
    if value.get("agent_session") == external_id:
        return True
    many = value.get("agent_sessions")
    return isinstance(many, list) and external_id in many


def _candidates(model: type[m.BaseModel], column: str, external_id: str) -> peewee.ModelSelect:
    """Rows whose column holds the id somewhere (a cheap pre-filter; callers verify)."""
    return model.select().where(getattr(model, column).contains(external_id))


def _tagged_ids(model, column: str, external_id: str, *, json_column: str | None = None):
    tag = session_tag(external_id)
    ids = []
    for row in _candidates(model, column, external_id):
        value = getattr(row, column)
        if value == tag or (isinstance(value, str) and value.startswith(tag + ":")):
            ids.append(row.id)
    if json_column:
        for row in _candidates(model, json_column, external_id):
            if _mentions(_json(getattr(row, json_column)), external_id):
                ids.append(row.id)
    return sorted(set(ids))


def _delete(model, ids: Iterable[int], counts: Counter[str]) -> None:
    ids = list(ids)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        counts[model._meta.table_name] += model.delete().where(model.id.in_(chunk)).execute()


def _purge_derived(external_id: str, counts: Counter[str]) -> None:
    tag = session_tag(external_id)
    _delete(
        m.AgentExecution,
        [r.id for r in m.AgentExecution.select().where(m.AgentExecution.source == tag)],
        counts,
    )
    _delete(
        m.EpisodicMemory,
        _tagged_ids(m.EpisodicMemory, "session", external_id, json_column="context"),
        counts,
    )
    buffer_ids = set(_tagged_ids(m.ExperienceBuffer, "source", external_id, json_column="input"))
    buffer_ids |= set(_tagged_ids(m.ExperienceBuffer, "source_ref", external_id))
    _delete(m.ExperienceBuffer, buffer_ids, counts)
    _delete(m.SemanticMemory, _tagged_ids(m.SemanticMemory, "source", external_id), counts)
    _delete(
        m.VectorMemory,
        [
            r.id
            for r in _candidates(m.VectorMemory, "metadata", external_id)
            if _mentions(_json(r.metadata), external_id)
        ],
        counts,
    )
    items = [
        r.id
        for r in _candidates(m.KnowledgeItem, "context", external_id)
        if _mentions(_json(r.context), external_id)
    ]
    if items:
        for child in (
            m.KnowledgeVersion,
            m.KnowledgeDelivery,
            m.KnowledgeVote,
            m.KnowledgeApplication,
        ):
            counts[child._meta.table_name] += child.delete().where(child.item.in_(items)).execute()
        _delete(m.KnowledgeItem, items, counts)
    _forget_in_shared(m.PatternMemory, "data", external_id, counts)
    _forget_evidence(external_id, counts)
    counts["agent_errors"] += (
        m.AgentError.delete().where(m.AgentError.session_external_id == external_id).execute()
    )


def _forget_in_shared(model, column: str, external_id: str, counts: Counter[str]) -> None:
    """Rows aggregated over several sessions lose this one; rows of it alone are deleted."""
    drop = []
    for row in _candidates(model, column, external_id):
        data = _json(getattr(row, column))
        if not _mentions(data, external_id):
            continue
        others = [s for s in data.get("agent_sessions", []) or [] if s != external_id]
        if data.get("agent_session") not in (None, external_id):
            others.append(data["agent_session"])
        if not others:
            drop.append(row.id)
            continue
        data.pop("agent_session", None)
        data["agent_sessions"] = others
        model.update({column: json.dumps(data, sort_keys=True)}).where(model.id == row.id).execute()
        counts[f"{model._meta.table_name} (updated)"] += 1
    _delete(model, drop, counts)


def _forget_evidence(external_id: str, counts: Counter[str]) -> None:
    drop = []
    for row in _candidates(m.Learning, "evidence", external_id):
        evidence = _json(row.evidence)
        if not isinstance(evidence, list):
            continue
        kept = [e for e in evidence if not _mentions(e, external_id)]
        if len(kept) == len(evidence):
            continue
        if not kept:
            drop.append(row.id)
            continue
        m.Learning.update(evidence=json.dumps(kept), occurrences=len(kept)).where(
            m.Learning.id == row.id
        ).execute()
        counts["learnings (updated)"] += 1
    _delete(m.Learning, drop, counts)


def _session_summary(row: m.AgentSession) -> dict[str, Any]:
    return {
        "id": row.id,
        "external_id": row.external_id,
        "agent": row.agent,
        "cwd": row.cwd,
        "started": row.started,
        "last_event": row.last_event,
    }


def preview(db: peewee.Database, selection: Selection) -> list[dict[str, Any]]:
    """What a purge with this selection would remove (sessions only), without removing."""
    with db.atomic():
        return [_session_summary(r) for r in select_sessions(selection)]


def purge(
    db: peewee.Database,
    selection: Selection,
    clock: Callable[[], dt.datetime] = m.utcnow,
    *,
    compact_after: bool = True,
) -> PurgeReport:
    """Remove the selected sessions and every row derived from them in one transaction,
    then leave no copy of their text in the database file (see the module docstring)."""
    report = PurgeReport(sessions=[], criteria=selection.describe())
    counts: Counter[str] = Counter()
    sqlite = isinstance(db, peewee.SqliteDatabase)
    if sqlite:
        db.execute_sql("PRAGMA secure_delete = ON")
    with db.atomic():
        sessions = select_sessions(selection)
        if not sessions:
            return report
        report.sessions = [_session_summary(r) for r in sessions]
        ids = [r.id for r in sessions]
        for row in sessions:
            _purge_derived(row.external_id, counts)
        for child in (m.AgentEvent, m.AgentToolCall, m.AgentAdvice):
            counts[child._meta.table_name] += child.delete().where(child.session.in_(ids)).execute()
        counts["agent_sessions"] += (
            m.AgentSession.delete().where(m.AgentSession.id.in_(ids)).execute()
        )
        report.rows = {k: v for k, v in sorted(counts.items()) if v}
        record = {
            "at": clock().isoformat(timespec="seconds"),
            "sessions": len(ids),
            "rows": sum(v for k, v in counts.items() if "(updated)" not in k),
            "criteria": "session" if selection.session is not None else report.criteria,
        }
        _set_meta(LAST_PURGE_KEY, record)
    if compact_after:
        report.compaction = compact(db)
    return report


def _set_meta(key: str, value: dict[str, Any]) -> None:
    text = json.dumps(value, sort_keys=True)
    updated = m.StoreMeta.update(value=text).where(m.StoreMeta.key == key).execute()
    if not updated:
        m.StoreMeta.insert(key=key, value=text).execute()


def get_meta(key: str) -> dict[str, Any] | None:
    row = m.StoreMeta.get_or_none(m.StoreMeta.key == key)
    value = _json(row.value) if row else None
    return value if isinstance(value, dict) else None


def compact(db: peewee.Database) -> dict[str, Any]:
    """Make deleted or overwritten text unrecoverable from the database file and its WAL."""
    if not isinstance(db, peewee.SqliteDatabase):
        return _compact_postgres(db)
    result: dict[str, Any] = {"backend": "sqlite"}
    fts = [
        name
        for (name,) in db.execute_sql(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE ? ",
            ("CREATE VIRTUAL TABLE%USING fts5%",),
        ).fetchall()
    ]
    for name in fts:
        # merge all segments: a deleted row's tokens otherwise stay in old segments
        db.execute_sql(f'INSERT INTO "{name}"("{name}") VALUES (?)', ("optimize",))
    result["fts_optimized"] = fts
    result["wal_truncated"] = _checkpoint(db)
    db.execute_sql("VACUUM")
    result["vacuumed"] = True
    result["wal_truncated"] = _checkpoint(db) and result["wal_truncated"]
    return result


def _checkpoint(db: peewee.Database) -> bool:
    busy, _log, _done = db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    return busy == 0


def _compact_postgres(db: peewee.Database) -> dict[str, Any]:
    """PostgreSQL keeps dead tuples until a VACUUM; VACUUM FULL rewrites the tables. The
    server's WAL segments and backups are under the server's control, not ours."""
    tables = [mdl._meta.table_name for mdl in PURGED_MODELS]
    try:
        for table in tables:
            db.execute_sql(f'VACUUM FULL "{table}"')
    except peewee.DatabaseError as exc:
        return {"backend": "postgresql", "vacuumed": False, "note": str(exc).splitlines()[0]}
    return {
        "backend": "postgresql",
        "vacuumed": True,
        "note": "server WAL segments and backups keep older copies until the server recycles them",
    }


PURGED_MODELS = [
    m.AgentSession,
    m.AgentEvent,
    m.AgentToolCall,
    m.AgentAdvice,
    m.AgentError,
    m.AgentExecution,
    m.EpisodicMemory,
    m.ExperienceBuffer,
    m.SemanticMemory,
    m.VectorMemory,
    m.PatternMemory,
    m.Learning,
    m.KnowledgeItem,
    m.KnowledgeVersion,
]


# --- redact-existing ----------------------------------------------------------------------

# (model, text columns, JSON columns) of agent data, scanned whole.
AGENT_COLUMNS: list[tuple[type[m.BaseModel], tuple[str, ...], tuple[str, ...]]] = [
    (m.AgentSession, ("cwd", "transcript_path"), ("outcome_detail", "meta")),
    (m.AgentEvent, ("text",), ("payload",)),
    (m.AgentToolCall, ("response", "error"), ("input",)),
    (m.AgentAdvice, ("text",), ("items",)),
    (m.AgentError, ("message", "detail"), ()),
]


def _derived_rows() -> list[tuple[peewee.ModelSelect, tuple[str, ...], tuple[str, ...]]]:
    """Agent-derived rows (tagged by the convention above) and their text columns."""
    return [
        (
            m.EpisodicMemory.select().where(
                m.EpisodicMemory.session.startswith(TAG_PREFIX)
                | m.EpisodicMemory.context.contains('"agent_session')
            ),
            ("text",),
            ("context",),
        ),
        (
            m.ExperienceBuffer.select().where(
                m.ExperienceBuffer.source.startswith(TAG_PREFIX)
                | m.ExperienceBuffer.source_ref.startswith(TAG_PREFIX)
                | m.ExperienceBuffer.input.contains('"agent_session')
            ),
            (),
            ("input", "output", "corrected"),
        ),
        (
            m.PatternMemory.select().where(m.PatternMemory.data.contains('"agent_session')),
            (),
            ("data",),
        ),
        (
            m.KnowledgeItem.select().where(m.KnowledgeItem.context.contains('"agent_session')),
            ("title", "content"),
            ("context",),
        ),
        (
            m.SemanticMemory.select().where(m.SemanticMemory.source.startswith(TAG_PREFIX)),
            ("statement",),
            (),
        ),
    ]


def _redact_row(row, text_cols, json_cols, found: Counter[str]) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for col in text_cols:
        value = getattr(row, col)
        if isinstance(value, str) and value:
            clean, counts = redact_text(value)
            if clean != value:
                changes[col] = clean
                found.update(counts)
    for col in json_cols:
        value = getattr(row, col)
        if not isinstance(value, str) or not value:
            continue
        parsed = _json(value)
        if parsed is None:  # not JSON (an excerpt): redact as text
            clean, counts = redact_text(value)
        else:
            cleaned, counts = redact_json(parsed)
            clean = json.dumps(cleaned, sort_keys=isinstance(cleaned, dict)) if counts else value
        if counts and clean != value:
            changes[col] = clean
            found.update(counts)
    return changes


def redact_existing(
    db: peewee.Database,
    clock: Callable[[], dt.datetime] = m.utcnow,
    *,
    compact_after: bool = True,
) -> dict[str, Any]:
    """Re-scan stored agent text (sessions, events, tool calls, advice, errors and derived
    rows) and redact it in place; then compact so the old text is gone from the file.

    Knowledge items derived from agent data also have their version history redacted.
    """
    found: Counter[str] = Counter()
    rows: Counter[str] = Counter()
    scanned = 0
    if isinstance(db, peewee.SqliteDatabase):
        db.execute_sql("PRAGMA secure_delete = ON")
    with db.atomic():
        per_session: Counter[int] = Counter()
        sources = [(model.select(), t, j) for model, t, j in AGENT_COLUMNS] + _derived_rows()
        for query, text_cols, json_cols in sources:
            model = query.model
            for row in query.iterator():
                scanned += 1
                before = sum(found.values())
                changes = _redact_row(row, text_cols, json_cols, found)
                if not changes:
                    continue
                model.update(changes).where(model.id == row.id).execute()
                rows[model._meta.table_name] += 1
                session_id = getattr(row, "session_id", None)
                if model is m.AgentSession:
                    session_id = row.id
                if isinstance(session_id, int) and model is not m.EpisodicMemory:
                    per_session[session_id] += sum(found.values()) - before
                if model is m.KnowledgeItem:
                    for version in row.versions:
                        vchanges = _redact_row(version, ("title", "content"), (), found)
                        if vchanges:
                            m.KnowledgeVersion.update(vchanges).where(
                                m.KnowledgeVersion.id == version.id
                            ).execute()
                            rows["knowledge_versions"] += 1
        for session_id, n in per_session.items():
            m.AgentSession.update(redactions=m.AgentSession.redactions + n).where(
                m.AgentSession.id == session_id
            ).execute()
        total = sum(found.values())
        _set_meta(
            LAST_REDACT_KEY,
            {"at": clock().isoformat(timespec="seconds"), "redactions": total},
        )
    result: dict[str, Any] = {
        "scanned": scanned,
        "rows": dict(sorted(rows.items())),
        "redactions": dict(sorted(found.items())),
        "total": total,
    }
    if compact_after and total:
        result["compaction"] = compact(db)
    return result
