"""The semantic tier: facts and rules, each with a confidence, a source and its evidence."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import peewee

from workbench.store import models as m

KINDS = ("fact", "rule")


def importance(confidence: float, evidence: int) -> float:
    """How much a fact is worth keeping: confident and well-evidenced facts score high.

    ``confidence × evidence / (evidence + 1)``: one observation counts half, many count
    almost fully.
    """
    evidence = max(int(evidence), 0)
    return float(confidence) * evidence / (evidence + 1)


def check_fact(statement: str, kind: str, confidence: float, evidence: int) -> None:
    if not isinstance(statement, str) or not statement.strip():
        raise ValueError("statement must be a non-empty string")
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)} (got {kind!r})")
    if isinstance(confidence, bool) or not isinstance(confidence, int | float):
        raise ValueError("confidence must be a number in [0, 1]")
    if not 0 <= confidence <= 1:
        raise ValueError(f"confidence must be in [0, 1] (got {confidence})")
    if isinstance(evidence, bool) or not isinstance(evidence, int) or evidence < 1:
        raise ValueError("evidence_count must be a positive integer")


class SemanticTier:
    def __init__(self, clock: Callable[[], dt.datetime]) -> None:
        self.clock = clock

    def count(self) -> int:
        return m.SemanticMemory.select().count()

    def put(
        self,
        statement: str,
        kind: str = "fact",
        subject: str = "",
        confidence: float = 0.7,
        source: str = "user",
        evidence: int = 1,
    ) -> dict[str, Any]:
        """Add a fact, or reinforce the same statement: evidence adds up and confidence
        becomes the evidence-weighted mean of the old and the new."""
        check_fact(statement, kind, confidence, evidence)
        s = m.SemanticMemory
        now = self.clock()
        row = s.get_or_none(s.statement == statement)
        if row is None:
            row = s.create(
                kind=kind,
                subject=subject,
                statement=statement,
                confidence=float(confidence),
                source=source,
                evidence_count=evidence,
                created=now,
                updated=now,
            )
            return {"id": row.id, "created": True, **fact_dict(row)}
        total = row.evidence_count + evidence
        row.confidence = (row.confidence * row.evidence_count + confidence * evidence) / total
        row.evidence_count = total
        row.updated = now
        row.save()
        return {"id": row.id, "created": False, **fact_dict(row)}

    def summary(self) -> dict[str, Any]:
        """Facts and rules counted apart, and their mean confidence."""
        s = m.SemanticMemory
        kinds = dict(s.select(s.kind, peewee.fn.COUNT(s.id)).group_by(s.kind).tuples())
        mean = s.select(peewee.fn.AVG(s.confidence)).scalar()
        return {
            "facts": int(kinds.get("fact", 0)),
            "rules": int(kinds.get("rule", 0)),
            "mean_confidence": None if mean is None else round(float(mean), 4),
        }

    def facts(self, limit: int = 100) -> list[dict[str, Any]]:
        """Most important first."""
        rows = [fact_dict(r) for r in m.SemanticMemory.select()]
        rows.sort(key=lambda r: (-r["importance"], r["statement"]))
        return rows[:limit]


def fact_dict(row: m.SemanticMemory) -> dict[str, Any]:
    return {
        "id": row.id,
        "kind": row.kind,
        "subject": row.subject,
        "statement": row.statement,
        "confidence": round(float(row.confidence), 4),
        "source": row.source,
        "evidence_count": row.evidence_count,
        "importance": round(importance(row.confidence, row.evidence_count), 4),
        "updated": row.updated.isoformat(sep=" ", timespec="seconds"),
    }
