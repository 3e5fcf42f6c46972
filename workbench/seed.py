"""Seeding a fresh store from `sample_data/`, so a newcomer sees a living workbench.

Every row has a natural key (channel name, item id, namespace+key, session+sequence,
statement, text, task name) and is inserted with ON CONFLICT IGNORE, so seeding twice adds
nothing. A malformed seed file is a StoreError naming the file and line.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from pathlib import Path

from workbench.adaptive import COMPLEXITIES as ADAPTIVE_COMPLEXITIES
from workbench.adaptive import STRATEGIES
from workbench.hub import DEFAULT_CHANNELS, PRIORITIES
from workbench.kernels import backend
from workbench.memory.embedder import HashingEmbedder
from workbench.memory.vector import entry_rows
from workbench.patterns import PATTERNS
from workbench.pipeline import COMPLEXITIES, TASK_KINDS
from workbench.store import models as m
from workbench.store.errors import StoreError


def _records(path: Path) -> Iterator[tuple[int, dict]]:
    """(line number, object) for each line of a JSON Lines file."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise StoreError(f"cannot read seed file {path}: {exc.strerror or exc}") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError as exc:
            raise StoreError(f"{path}:{number}: invalid JSON ({exc.msg})") from None
        if not isinstance(obj, dict):
            raise StoreError(f"{path}:{number}: expected a JSON object")
        yield number, obj


def _json_file(path: Path) -> dict:
    try:
        obj = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise StoreError(f"cannot read seed file {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise StoreError(f"{path}: invalid JSON ({exc.msg})") from None
    if not isinstance(obj, dict):
        raise StoreError(f"{path}: expected a JSON object")
    return obj


def _need(obj: dict, field: str, where: str, kind: type = str):
    value = obj.get(field)
    if not isinstance(value, kind) or (kind is str and not value.strip()):
        raise StoreError(f"{where}: field {field!r} must be a non-empty {kind.__name__}")
    return value


def seed_store(sample_dir: Path, now: Callable[[], dt.datetime] = m.utcnow) -> None:
    """Insert everything under `sample_dir` that the store does not have yet."""
    if not sample_dir.is_dir():
        raise StoreError(f"sample data directory not found: {sample_dir}")
    stamp = now()
    _seed_channels(stamp)
    _seed_knowledge(sample_dir / "hub", stamp)
    _seed_adaptive(sample_dir / "adaptive", stamp)
    _seed_memory(sample_dir / "memory", stamp)
    _seed_operations(sample_dir / "patterns" / "operations.jsonl", stamp)
    _seed_tasks(sample_dir / "tasks", stamp)


def _seed_channels(stamp: dt.datetime) -> None:
    rows = [{"name": n, "description": d, "created": stamp} for n, d in DEFAULT_CHANNELS.items()]
    m.Channel.insert_many(rows).on_conflict_ignore().execute()


def _seed_knowledge(hub_dir: Path, stamp: dt.datetime) -> None:
    knowledge = hub_dir / "knowledge.json"
    if knowledge.exists():
        items = _json_file(knowledge).get("items", [])
        channels = {c.name: c.id for c in m.Channel.select()}
        for index, item in enumerate(items):
            where = f"{knowledge}: items[{index}]"
            uid = _need(item, "id", where)
            channel = _need(item, "channel", where)
            if channel not in channels:
                raise StoreError(f"{where}: unknown channel {channel!r}")
            priority = item.get("priority", "MEDIUM")
            if priority not in PRIORITIES:
                raise StoreError(f"{where}: priority must be one of {', '.join(PRIORITIES)}")
            title = _need(item, "title", where)
            content = _need(item, "content", where)
            if m.KnowledgeItem.select().where(m.KnowledgeItem.uid == uid).exists():
                continue
            created = m.KnowledgeItem.create(
                uid=uid,
                channel=channels[channel],
                type=_need(item, "type", where),
                title=title,
                content=content,
                context=json.dumps(item.get("context", {}), sort_keys=True),
                priority=PRIORITIES[priority],
                tags=json.dumps(sorted(item.get("tags", []))),
                source_agent=item.get("source_agent", ""),
                created=stamp,
                updated=stamp,
            )
            m.KnowledgeVersion.create(
                item=created,
                version=1,
                title=title,
                content=content,
                change_note="seeded from sample_data",
                created=stamp,
            )
    subscriptions = hub_dir / "subscriptions.json"
    if subscriptions.exists():
        channels = {c.name: c.id for c in m.Channel.select()}
        rows = []
        for index, sub in enumerate(_json_file(subscriptions).get("subscriptions", [])):
            where = f"{subscriptions}: subscriptions[{index}]"
            channel = _need(sub, "channel", where)
            if channel not in channels:
                raise StoreError(f"{where}: unknown channel {channel!r}")
            rows.append(
                {
                    "agent": _need(sub, "agent", where),
                    "channel": channels[channel],
                    "created": stamp,
                }
            )
        if rows:
            m.Subscription.insert_many(rows).on_conflict_ignore().execute()


def _seed_adaptive(adaptive_dir: Path, stamp: dt.datetime) -> None:
    """Sample agent history; executions only into a store without sample ones, outcomes
    keyed by their decision id."""
    executions = adaptive_dir / "executions.jsonl"
    sample = m.AgentExecution.source == "sample_data"
    if executions.exists() and not m.AgentExecution.select().where(sample).exists():
        rows = []
        for number, obj in _records(executions):
            where = f"{executions}:{number}"
            duration = obj.get("duration_s")
            if not isinstance(duration, int | float) or duration < 0:
                raise StoreError(f"{where}: duration_s must be a number ≥ 0")
            rows.append(
                {
                    "agent": _need(obj, "agent", where),
                    "category": _need(obj, "category", where),
                    "duration_s": float(duration),
                    "iterations": _need(obj, "iterations", where, int),
                    "success": _need(obj, "success", where, bool),
                    "errors": _need(obj, "errors", where, int),
                    "actions": obj.get("actions", 0),
                    "source": "sample_data",
                    "created": stamp,
                }
            )
        for start in range(0, len(rows), 200):
            m.AgentExecution.insert_many(rows[start : start + 200]).execute()
    outcomes = adaptive_dir / "outcomes.jsonl"
    if not outcomes.exists():
        return
    for number, obj in _records(outcomes):
        where = f"{outcomes}:{number}"
        uid = _need(obj, "id", where)
        complexity, strategy = _need(obj, "complexity", where), _need(obj, "strategy", where)
        if complexity not in ADAPTIVE_COMPLEXITIES:
            levels = ", ".join(ADAPTIVE_COMPLEXITIES)
            raise StoreError(f"{where}: complexity must be one of {levels}")
        if strategy not in STRATEGIES:
            raise StoreError(f"{where}: strategy must be one of {', '.join(STRATEGIES)}")
        duration = obj.get("duration_s")
        if not isinstance(duration, int | float) or duration < 0:
            raise StoreError(f"{where}: duration_s must be a number ≥ 0")
        if m.AdaptiveDecision.select().where(m.AdaptiveDecision.uid == uid).exists():
            continue
        agents = json.dumps(obj.get("agents", []))
        description = _need(obj, "description", where)
        decision = m.AdaptiveDecision.create(
            uid=uid,
            description=description,
            complexity=complexity,
            strategy=strategy,
            agents=agents,
            confidence=0.0,
            estimated_s=None,
            analysis=json.dumps({"source": "sample_data"}),
            created=stamp,
        )
        m.AdaptiveOutcome.create(
            decision=decision,
            description=description,
            complexity=complexity,
            strategy=strategy,
            agents=agents,
            success=_need(obj, "success", where, bool),
            duration_s=float(duration),
            iterations=_need(obj, "iterations", where, int),
            errors=_need(obj, "errors", where, int),
            what_worked=json.dumps(obj.get("what_worked", [])),
            improvements=json.dumps(obj.get("improvements", [])),
            created=stamp,
        )


def _seed_memory(memory_dir: Path, stamp: dt.datetime) -> None:
    vector = memory_dir / "vector.jsonl"
    if vector.exists():
        entries = []
        for number, obj in _records(vector):
            where = f"{vector}:{number}"
            entries.append(
                (
                    obj.get("namespace", "default"),
                    _need(obj, "key", where),
                    _need(obj, "text", where),
                    obj.get("meta", {}),
                )
            )
        if entries:
            # the numpy kernels quantize exactly as the WASM ones (property-tested)
            rows = entry_rows(entries, HashingEmbedder(), backend("numpy").quantize, stamp)
            m.VectorMemory.insert_many(rows).on_conflict_ignore().execute()
    episodes = memory_dir / "episodes.jsonl"
    if episodes.exists():
        rows = []
        for number, obj in _records(episodes):
            where = f"{episodes}:{number}"
            rows.append(
                {
                    "session": _need(obj, "session", where),
                    "sequence": _need(obj, "sequence", where, int),
                    "kind": _need(obj, "kind", where),
                    "text": obj.get("text", ""),
                    "context": json.dumps(obj.get("context", {}), sort_keys=True),
                    "outcome": obj.get("outcome", "neutral"),
                    "created": stamp,
                }
            )
        if rows:
            m.EpisodicMemory.insert_many(rows).on_conflict_ignore().execute()
    facts = memory_dir / "facts.jsonl"
    if facts.exists():
        rows = []
        for number, obj in _records(facts):
            where = f"{facts}:{number}"
            confidence = obj.get("confidence")
            if not isinstance(confidence, int | float) or not 0 <= confidence <= 1:
                raise StoreError(f"{where}: confidence must be a number in [0, 1]")
            rows.append(
                {
                    "kind": obj.get("kind", "fact"),
                    "subject": obj.get("subject", ""),
                    "statement": _need(obj, "statement", where),
                    "confidence": float(confidence),
                    "source": obj.get("source", "seed"),
                    "evidence_count": int(obj.get("evidence_count", 1)),
                    "created": stamp,
                    "updated": stamp,
                }
            )
        if rows:
            m.SemanticMemory.insert_many(rows).on_conflict_ignore().execute()


def _seed_operations(path: Path, stamp: dt.datetime) -> None:
    if not path.exists():
        return
    rows = []
    for number, obj in _records(path):
        where = f"{path}:{number}"
        pattern = _need(obj, "pattern", where)
        if pattern not in PATTERNS:
            raise StoreError(f"{where}: pattern must be one of {', '.join(PATTERNS)}")
        rows.append({"text": _need(obj, "text", where), "pattern": pattern, "created": stamp})
    for start in range(0, len(rows), 200):
        m.LabelledOperation.insert_many(rows[start : start + 200]).on_conflict_ignore().execute()


def _seed_tasks(tasks_dir: Path, stamp: dt.datetime) -> None:
    if not tasks_dir.is_dir():
        return
    rows = []
    for task_json in sorted(tasks_dir.glob("*/task.json")):
        meta = _json_file(task_json)
        where = str(task_json)
        kind = meta.get("kind", "function")
        complexity = meta.get("complexity", "medium")
        if kind not in TASK_KINDS:
            raise StoreError(f"{where}: kind must be one of {', '.join(TASK_KINDS)}")
        if complexity not in COMPLEXITIES:
            raise StoreError(f"{where}: complexity must be one of {', '.join(COMPLEXITIES)}")
        rows.append(
            {
                "name": meta.get("name") or task_json.parent.name,
                "kind": kind,
                "complexity": complexity,
                "description": meta.get("description", ""),
                "path": str(task_json.parent),
                "created": stamp,
            }
        )
    if rows:
        m.Task.insert_many(rows).on_conflict_ignore().execute()
