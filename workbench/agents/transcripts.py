"""`workbench agents import`: Claude Code session transcripts (JSON Lines) into the store.

What is read, per line (one record): `user` and `assistant` records with `sessionId`,
`uuid`, `timestamp`, `cwd` and `message.content` (a string or content blocks). A user
record's text is a prompt (UserPromptSubmit); its `tool_result` blocks complete tool calls
(PostToolUse, or PostToolUseFailure when `is_error`); an assistant record's `tool_use`
blocks start them (PreToolUse) and its text is kept as an `assistant` event. `thinking`
blocks are not stored. Records of other types (summary, system, file-history-snapshot...)
are metadata and skipped (counted). The events are the ones hooks would have recorded, with
the transcript's timestamps, so durations are tool_result time − tool_use time.

- Idempotent: every event carries the record's uuid (plus the block index) as its dedup
  key; a second import adds nothing. A session already recorded by hooks is skipped whole.
- Streaming: the file is read line by line, each line at most MAX_LINE bytes (a longer one
  is skipped unread); writes are committed every BATCH lines, so memory stays bounded
  whatever the file size.
- Before each new prompt, the session's previous turn is concluded (outcome, learning) as a
  Stop would; at the end of the file every session that gained events is concluded and
  marked ended at its last record.
- Bad lines (not UTF-8, not JSON, a truncated last line, no sessionId) are skipped and
  reported with their line number; nothing of a bad line is stored.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.agents.recorder import (
    PROMPT,
    TOOL_END,
    TOOL_FAILURE,
    TOOL_START,
    Event,
    EventError,
    parse_time,
)
from workbench.store import models as m

if TYPE_CHECKING:
    from workbench.agents.service import AgentsService

MAX_LINE = 64 * 1024 * 1024
BATCH = 500
MAX_REPORTED = 50  # bad lines listed in the summary (all are counted)
CHUNK = 1024 * 1024


def transcript_files(path: Path) -> list[Path]:
    """The file itself, or every *.jsonl below a directory (sorted)."""
    if path.is_dir():
        files = sorted(p for p in path.rglob("*.jsonl") if p.is_file())
        if not files:
            raise ValueError(f"{path}: no *.jsonl transcript files in this directory")
        return files
    if not path.exists():
        raise ValueError(f"{path}: no such file or directory")
    return [path]


def import_path(
    service: AgentsService, path: Path, progress: Callable[[int, int], None] | None = None
) -> dict[str, Any]:
    """Import a transcript file or directory; returns the summary (counts, reasons)."""
    files = transcript_files(path)
    total = sum(f.stat().st_size for f in files)
    summary: dict[str, Any] = {
        "files": len(files),
        "bytes": total,
        "lines": 0,
        "records": 0,
        "events": 0,
        "duplicates": 0,
        "sessions": 0,
        "skipped": Counter(),
        "bad_lines": 0,
        "errors": [],
    }
    touched: set[str] = set()
    for file in files:
        _import_file(service, file, summary, touched, progress, total)
    for session in sorted(touched):
        _finish(service, session)
    summary["sessions"] = len(touched)
    summary["skipped"] = dict(summary["skipped"])
    return summary


def _lines(fh) -> Iterator[tuple[bytes | None, bool, int]]:
    """(line or None when over MAX_LINE, ends with a newline, bytes consumed)."""
    while True:
        line = fh.readline(MAX_LINE)
        if not line:
            return
        if line.endswith(b"\n") or len(line) < MAX_LINE:
            yield line, line.endswith(b"\n"), len(line)
            continue
        used = len(line)
        while True:  # too long: drop the rest of it unread into memory
            rest = fh.readline(CHUNK)
            used += len(rest)
            if not rest or rest.endswith(b"\n"):
                break
        yield None, True, used


def _import_file(service, file: Path, summary, touched, progress, total) -> None:
    state = _FileState(service, summary, touched)
    try:
        fh = file.open("rb")
    except OSError as exc:
        raise ValueError(f"{file}: cannot read ({exc.strerror or exc})") from None
    with fh:
        batch = 0
        txn = service.db.atomic()
        txn.__enter__()
        try:
            for number, (line, complete, used) in enumerate(_lines(fh), 1):
                summary["lines"] += 1
                if progress is not None:
                    progress(used, total)
                state.line(file, number, line, complete)
                batch += 1
                if batch >= BATCH:
                    txn.__exit__(None, None, None)
                    txn = service.db.atomic()
                    txn.__enter__()
                    batch = 0
        except BaseException as exc:
            txn.__exit__(type(exc), exc, exc.__traceback__)
            raise
        txn.__exit__(None, None, None)


class _FileState:
    def __init__(self, service, summary, touched) -> None:
        self.service = service
        self.summary = summary
        self.touched = touched
        self.hook_sessions: dict[str, bool] = {}

    def bad(self, file: Path, number: int, reason: str) -> None:
        self.summary["bad_lines"] += 1
        self.summary["skipped"][reason.split(" (")[0]] += 1
        if len(self.summary["errors"]) < MAX_REPORTED:
            self.summary["errors"].append({"file": str(file), "line": number, "error": reason})

    def line(self, file: Path, number: int, raw: bytes | None, complete: bool) -> None:
        if raw is None:
            return self.bad(file, number, f"line longer than {MAX_LINE} bytes")
        if not raw.strip():
            return None
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            return self.bad(file, number, f"invalid UTF-8 (byte {exc.start} of the line)")
        try:
            record = json.loads(text)
        except json.JSONDecodeError as exc:
            if not complete:
                return self.bad(file, number, "truncated last line (no newline, not JSON)")
            return self.bad(file, number, f"not JSON ({exc.msg} at column {exc.colno})")
        if not isinstance(record, dict):
            return self.bad(file, number, "not a JSON object")
        kind = record.get("type")
        if kind not in ("user", "assistant"):
            self.summary["skipped"][f"metadata record ({kind})"] += 1
            return None
        session = record.get("sessionId")
        if not isinstance(session, str) or not session.strip():
            return self.bad(file, number, "no sessionId")
        if self._hook_session(session):
            self.summary["skipped"]["session already recorded by hooks"] += 1
            return None
        try:
            events = list(record_events(record, file, raw))
        except EventError as exc:
            return self.bad(file, number, str(exc))
        self.summary["records"] += 1
        for ev in events:
            if ev.kind == PROMPT and session in self.touched:
                self.service.conclude(ev.session)  # the previous turn, as a Stop would
            result = self.service.recorder.apply(ev)
            if result["event"] is None:
                self.summary["duplicates"] += 1
            else:
                self.summary["events"] += 1
                self.touched.add(session)
        return None

    def _hook_session(self, session: str) -> bool:
        if session not in self.hook_sessions:
            row = m.AgentSession.get_or_none(m.AgentSession.external_id == session)
            self.hook_sessions[session] = row is not None and row.source == "hook"
        return self.hook_sessions[session]


def record_events(record: dict[str, Any], file: Path, raw: bytes) -> Iterator[Event]:
    """The events one user/assistant record holds (see the module docstring)."""
    session = record["sessionId"].strip()
    where = "record"
    at = parse_time(record["timestamp"], f"{where}: 'timestamp'") if "timestamp" in record else None
    uid = record.get("uuid")
    if not isinstance(uid, str) or not uid:
        uid = "sha:" + hashlib.blake2b(raw, digest_size=12).hexdigest()
    message = record.get("message")
    if not isinstance(message, dict):
        raise EventError(f"{where}: 'message' is missing or not an object")
    content = message.get("content")
    base = {
        "session": session,
        "source": "transcript",
        "agent": "claude-code",
        "at": at,
        "cwd": record.get("cwd") if isinstance(record.get("cwd"), str) else None,
        "transcript_path": str(file),
        "session_meta": {k: record[k] for k in ("version", "gitBranch") if k in record},
    }
    if record["type"] == "assistant" and isinstance(message.get("model"), str):
        base["model"] = message["model"]
    meta = {k: record.get(k) for k in ("uuid", "parentUuid", "isSidechain", "type")}
    blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content
    if not isinstance(blocks, list):
        raise EventError(f"{where}: 'message.content' is neither text nor a list of blocks")
    texts = []
    emitted = False
    for index, block in enumerate(blocks):
        if not isinstance(block, dict):
            continue
        btype = block.get("type")
        if btype == "text" and isinstance(block.get("text"), str):
            texts.append(block["text"])
        elif btype == "tool_use" and record["type"] == "assistant":
            emitted = True
            yield Event(
                kind=TOOL_START,
                tool=str(block.get("name") or "unknown"),
                tool_id=str(block["id"]) if block.get("id") else None,
                input=block.get("input"),
                key=f"{uid}#{index}",
                payload={**meta, "block": block},
                **base,
            )
        elif btype == "tool_result" and record["type"] == "user":
            emitted = True
            failed = block.get("is_error") is True
            output = block.get("content")
            yield Event(
                kind=TOOL_FAILURE if failed else TOOL_END,
                tool="unknown",  # the tool_use named it; a lone result keeps "unknown"
                tool_id=str(block["tool_use_id"]) if block.get("tool_use_id") else None,
                output=output,
                failed=failed,
                error=_text(output) if failed else None,
                key=f"{uid}#{index}",
                payload={**meta, "block": block},
                **base,
            )
    text = "\n".join(t for t in texts if t.strip())
    if text or not emitted:
        prompt = record["type"] == "user" and not record.get("isMeta") and bool(text)
        yield Event(
            kind=PROMPT if prompt else record["type"],
            text=text,
            key=uid,
            payload={**meta, "text": text},
            **base,
        )


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "\n".join(
            b.get("text", "") for b in value if isinstance(b, dict) and b.get("type") == "text"
        )
    return json.dumps(value, default=str)


def _finish(service: AgentsService, session: str) -> None:
    """Conclude an imported session and mark it ended at its last record."""
    service.conclude(session)
    row = m.AgentSession.get(m.AgentSession.external_id == session)
    if row.source == "transcript":
        m.AgentSession.update(status="ended", ended=row.last_event).where(
            m.AgentSession.id == row.id
        ).execute()
