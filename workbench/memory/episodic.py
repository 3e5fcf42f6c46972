"""The episodic tier: what happened, in order, per session — bounded in count and age.

Capacity and age limits are enforced on every write; whatever they drop is returned to the
caller and recorded as a ``memory_events`` row, so eviction is never silent.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import peewee

from workbench.store import models as m

OUTCOMES = ("success", "failure", "neutral")
REPLAY_MODES = ("uniform", "recency", "failure")
DEFAULT_CAPACITY = 10_000
DEFAULT_MAX_AGE = dt.timedelta(days=7)
RECENCY_HALF_LIFE = dt.timedelta(days=1)  # replay weight halves per day of age
FAILURE_WEIGHT = 4.0  # failure-weighted replay draws a failure 4× as often
DELETE_CHUNK = 500
MAX_KIND = 40


@dataclass
class Eviction:
    """Episodes one limit removed."""

    reason: str  # "capacity" | "age"
    count: int
    oldest: str | None = None
    newest: str | None = None
    sessions: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def record_event(tier: str, action: str, reason: str, count: int, detail: Any, at) -> None:
    m.MemoryEvent.create(
        tier=tier,
        action=action,
        reason=reason,
        count=count,
        detail=json.dumps(detail, sort_keys=True, default=str),
        at=at,
    )


def check_episode(session: str, kind: str, outcome: str, context: Any) -> dict[str, Any]:
    if not isinstance(session, str) or not session.strip():
        raise ValueError("session must be a non-empty string")
    if not isinstance(kind, str) or not kind.strip() or len(kind) > MAX_KIND:
        raise ValueError(f"kind must be a non-empty string of at most {MAX_KIND} characters")
    if outcome not in OUTCOMES:
        raise ValueError(f"outcome must be one of {', '.join(OUTCOMES)} (got {outcome!r})")
    if context is None:
        return {}
    if not isinstance(context, dict):
        raise ValueError("context must be a JSON object")
    return context


class EpisodicTier:
    def __init__(
        self,
        clock: Callable[[], dt.datetime],
        capacity: int = DEFAULT_CAPACITY,
        max_age: dt.timedelta = DEFAULT_MAX_AGE,
    ) -> None:
        if capacity <= 0:
            raise ValueError("episodic capacity must be positive")
        if max_age <= dt.timedelta(0):
            raise ValueError("episodic max age must be positive")
        self.clock = clock
        self.capacity = capacity
        self.max_age = max_age

    def count(self) -> int:
        return m.EpisodicMemory.select().count()

    def insert(
        self,
        session: str,
        kind: str,
        text: str = "",
        context: Mapping[str, Any] | None = None,
        outcome: str = "neutral",
        sequence: int | None = None,
    ) -> dict[str, Any]:
        """Append one event (sequence defaults to the session's next); limits not applied."""
        context = check_episode(session, kind, outcome, context)
        e = m.EpisodicMemory
        if sequence is None:
            last = e.select(peewee.fn.MAX(e.sequence)).where(e.session == session).scalar()
            sequence = (last or 0) + 1
        elif isinstance(sequence, bool) or not isinstance(sequence, int) or sequence < 1:
            raise ValueError("sequence must be a positive integer")
        elif e.select().where((e.session == session) & (e.sequence == sequence)).exists():
            raise ValueError(f"session {session!r} already has an event {sequence}")
        row = e.create(
            session=session,
            sequence=sequence,
            kind=kind,
            text=text or "",
            context=json.dumps(dict(context), sort_keys=True),
            outcome=outcome,
            created=self.clock(),
        )
        return {"id": row.id, "session": session, "sequence": sequence, "kind": kind}

    def enforce(self, incoming: int = 0) -> list[Eviction]:
        """Drop events past the age limit, then the oldest beyond capacity; report both."""
        evictions = []
        now = self.clock()
        e = m.EpisodicMemory
        expired = e.select(e.id).where(e.created < now - self.max_age).order_by(e.created, e.id)
        aged = self._evict([r for (r,) in expired.tuples()], "age", now)
        if aged:
            evictions.append(aged)
        excess = self.count() + incoming - self.capacity
        if excess > 0:
            oldest = e.select(e.id).order_by(e.created, e.id).limit(excess)
            full = self._evict([r for (r,) in oldest.tuples()], "capacity", now)
            if full:
                evictions.append(full)
        return evictions

    def _evict(self, ids: list[int], reason: str, now: dt.datetime) -> Eviction | None:
        if not ids:
            return None
        e = m.EpisodicMemory
        first = e.get_by_id(ids[0])
        last = e.get_by_id(ids[-1])
        sessions: set[str] = set()
        for start in range(0, len(ids), DELETE_CHUNK):
            chunk = ids[start : start + DELETE_CHUNK]
            sessions.update(s for (s,) in e.select(e.session).where(e.id.in_(chunk)).tuples())
            e.delete().where(e.id.in_(chunk)).execute()
        eviction = Eviction(
            reason=reason,
            count=len(ids),
            oldest=first.created.isoformat(sep=" ", timespec="seconds"),
            newest=last.created.isoformat(sep=" ", timespec="seconds"),
            sessions=sorted(sessions),
        )
        limit = self.capacity if reason == "capacity" else f"{self.max_age.days} days"
        record_event(
            "episodic", "evict", reason, len(ids), {**eviction.as_dict(), "limit": limit}, now
        )
        return eviction

    def timeline(self, limit: int = 50) -> list[dict[str, Any]]:
        """The newest events first."""
        e = m.EpisodicMemory
        query = e.select().order_by(e.created.desc(), e.id.desc()).limit(limit).dicts()
        return [_plain(row) for row in query]

    def replay(self, n: int, mode: str = "uniform", seed: int | None = None) -> list[dict]:
        """Sample up to ``n`` distinct events for experience replay.

        ``uniform`` weighs every event the same, ``recency`` halves an event's weight per
        day of age, ``failure`` draws failures 4× as often as other outcomes.
        """
        if mode not in REPLAY_MODES:
            raise ValueError(f"replay mode must be one of {', '.join(REPLAY_MODES)}")
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError("replay size must be a positive integer")
        e = m.EpisodicMemory
        rows = list(e.select(e.id, e.created, e.outcome).order_by(e.id).tuples())
        if not rows:
            return []
        ids = np.array([r[0] for r in rows], np.int64)
        if mode == "uniform":
            weights = np.ones(len(rows))
        elif mode == "recency":
            now = self.clock()
            ages = np.array([(now - r[1]).total_seconds() for r in rows])
            weights = 0.5 ** (np.maximum(ages, 0) / RECENCY_HALF_LIFE.total_seconds())
        else:
            weights = np.array([FAILURE_WEIGHT if r[2] == "failure" else 1.0 for r in rows])
        rng = np.random.default_rng(seed)
        take = min(n, len(rows))
        chosen = rng.choice(ids, size=take, replace=False, p=weights / weights.sum())
        by_id = {r["id"]: _plain(r) for r in e.select().where(e.id.in_(chosen.tolist())).dicts()}
        return [by_id[i] for i in chosen.tolist()]


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    row = dict(row)
    if isinstance(row.get("context"), str):
        row["context"] = json.loads(row["context"])
    if isinstance(row.get("created"), dt.datetime):
        row["created"] = row["created"].isoformat(sep=" ", timespec="seconds")
    return row
