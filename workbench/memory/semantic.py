"""The semantic tier: facts and rules, each with a confidence, a source and its evidence."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import peewee

from workbench.store import models as m

KINDS = ("fact", "rule")
DEFAULT_CONFIDENCE = 0.7  # prior for a fact stored without one: ranks it, never shown as a measure
SAMPLE_SOURCES = ("seed", "sample_data")  # facts seeded from sample_data/, marked as samples


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
        confidence: float | None = None,
        source: str = "user",
        evidence: int = 1,
    ) -> dict[str, Any]:
        """Add a fact, or reinforce the same statement: evidence adds up and confidence
        becomes the evidence-weighted mean of the old and the new. Without a confidence
        the fact keeps DEFAULT_CONFIDENCE as a prior, marked not given."""
        given = confidence is not None
        value = float(confidence) if confidence is not None else DEFAULT_CONFIDENCE
        check_fact(statement, kind, value, evidence)
        s = m.SemanticMemory
        now = self.clock()
        row = s.get_or_none(s.statement == statement)
        if row is None:
            row = s.create(
                kind=kind,
                subject=subject,
                statement=statement,
                confidence=value,
                confidence_given=given,
                source=source,
                evidence_count=evidence,
                created=now,
                updated=now,
            )
            return {"id": row.id, "created": True, **fact_dict(row)}
        total = row.evidence_count + evidence
        if given and not row.confidence_given:
            row.confidence, row.confidence_given = value, True  # a measure replaces the prior
        elif given:
            row.confidence = (row.confidence * row.evidence_count + value * evidence) / total
        row.evidence_count = total
        row.updated = now
        row.save()
        return {"id": row.id, "created": False, **fact_dict(row)}

    def summary(self) -> dict[str, Any]:
        """Facts and rules counted apart, and their mean confidence."""
        s = m.SemanticMemory
        kinds = dict(s.select(s.kind, peewee.fn.COUNT(s.id)).group_by(s.kind).tuples())
        # Only confidences someone gave or measured; defaults are not a measure.
        mean = s.select(peewee.fn.AVG(s.confidence)).where(s.confidence_given).scalar()
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
        "confidence_given": bool(row.confidence_given),
        "sample": row.source in SAMPLE_SOURCES,
        "source": row.source,
        "evidence_count": row.evidence_count,
        "importance": round(importance(row.confidence, row.evidence_count), 4),
        "updated": row.updated.isoformat(sep=" ", timespec="seconds"),
    }
