"""Consolidation: repeated, consistent episodes become semantic facts; the unimportant go.

A *pattern* is an event kind plus one or two context values (``strategy=aggressive``,
``task_kind=data-structure``). It is promoted when enough events with a success/failure
outcome share it, across enough sessions, and agree on the outcome. Only the most general
qualifying pattern is promoted (a narrower one with the same outcome adds nothing).
Pruning then drops episodes and facts whose importance fell below a threshold. Every run
returns (and records) a report of what moved and why.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from itertools import combinations
from typing import Any

from workbench.memory.episodic import DELETE_CHUNK, record_event
from workbench.memory.semantic import importance as fact_importance
from workbench.store import models as m

OUTCOME_WEIGHT = {"failure": 1.0, "success": 0.6, "neutral": 0.3}
REPORT_ITEMS = 50  # items listed per section of a stored report (counts are complete)


@dataclass(frozen=True)
class ConsolidationPolicy:
    min_support: int = 3  # events sharing the pattern
    min_sessions: int = 2  # distinct sessions among them
    min_consistency: float = 0.8  # share of them with the majority outcome
    episode_half_life: dt.timedelta = dt.timedelta(days=2)
    episode_threshold: float = 0.05  # prune episodes whose importance is below
    fact_threshold: float = 0.25  # prune facts whose importance is below
    schedule: dt.timedelta = dt.timedelta(hours=1)


@dataclass
class ConsolidationReport:
    reason: str
    at: str
    episodes_considered: int = 0
    patterns_considered: int = 0
    promoted: list[dict] = field(default_factory=list)
    reinforced: list[dict] = field(default_factory=list)
    pruned_episodes: list[dict] = field(default_factory=list)
    pruned_facts: list[dict] = field(default_factory=list)
    duration_ms: float = 0.0
    policy: dict[str, Any] = field(default_factory=dict)

    @property
    def moved(self) -> int:
        return (
            len(self.promoted)
            + len(self.reinforced)
            + len(self.pruned_episodes)
            + len(self.pruned_facts)
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> dict[str, Any]:
        """Counts and the first items of each section (what a memory_events row keeps)."""
        out = self.as_dict()
        for section in ("promoted", "reinforced", "pruned_episodes", "pruned_facts"):
            out[f"{section}_count"] = len(out[section])
            out[section] = out[section][:REPORT_ITEMS]
        return out


@dataclass
class _Tally:
    outcomes: Counter = field(default_factory=Counter)
    sessions: set = field(default_factory=set)
    ids: list = field(default_factory=list)


def pattern_items(context: dict[str, Any]) -> list[tuple[str, str]]:
    """Scalar context values as sorted (key, value) strings."""
    return sorted(
        (str(k), str(v)) for k, v in context.items() if isinstance(v, str | int | float | bool)
    )


def statement_for(kind: str, items: tuple[tuple[str, str], ...], outcome: str) -> str:
    condition = " and ".join(f"{k}={v}" for k, v in items)
    return f"{kind} events with {condition} end in {outcome}"


def consolidate(
    clock, reason: str = "manual", policy: ConsolidationPolicy | None = None
) -> ConsolidationReport:
    """Promote, reinforce and prune once; records the report as a memory_events row."""
    policy = policy or ConsolidationPolicy()
    started = time.perf_counter()
    now = clock()
    report = ConsolidationReport(reason=reason, at=now.isoformat(sep=" ", timespec="seconds"))
    report.policy = {
        k: (str(v) if isinstance(v, dt.timedelta) else v) for k, v in asdict(policy).items()
    }
    e = m.EpisodicMemory
    episodes = list(
        e.select(e.id, e.session, e.sequence, e.kind, e.context, e.outcome, e.created)
        .order_by(e.id)
        .tuples()
    )
    report.episodes_considered = len(episodes)
    tallies: dict[tuple, _Tally] = defaultdict(_Tally)
    for eid, session, _seq, kind, context, outcome, _created in episodes:
        if outcome not in ("success", "failure"):
            continue
        items = pattern_items(json.loads(context or "{}"))
        for size in (1, 2):
            for combo in combinations(items, size):
                tally = tallies[(kind, combo)]
                tally.outcomes[outcome] += 1
                tally.sessions.add(session)
                tally.ids.append(eid)
    report.patterns_considered = len(tallies)
    evidence_of_facts = _promote(tallies, policy, report, now)
    _prune_episodes(episodes, evidence_of_facts, policy, report, now)
    _prune_facts(policy, report)
    report.duration_ms = round((time.perf_counter() - started) * 1e3, 3)
    record_event("semantic", "consolidate", reason, report.moved, report.summary(), now)
    return report


def _promote(tallies, policy: ConsolidationPolicy, report: ConsolidationReport, now) -> set[int]:
    """Promote or reinforce qualifying patterns; the ids of the episodes behind them."""
    qualified = []
    for (kind, items), tally in tallies.items():
        support = sum(tally.outcomes.values())
        outcome, agreeing = tally.outcomes.most_common(1)[0]
        if (
            support >= policy.min_support
            and len(tally.sessions) >= policy.min_sessions
            and agreeing / support >= policy.min_consistency
        ):
            qualified.append((len(items), -support, kind, items, outcome, agreeing, tally))
    qualified.sort()
    chosen: list[tuple[str, tuple, str, frozenset]] = []
    behind: set[int] = set()
    s = m.SemanticMemory
    for _, neg_support, kind, items, outcome, agreeing, tally in qualified:
        ids = frozenset(tally.ids)
        if any(
            ck == kind and co == outcome and (set(ci) <= set(items) or cids == ids)
            for ck, ci, co, cids in chosen
        ):
            continue
        chosen.append((kind, items, outcome, ids))
        behind |= ids
        support = -neg_support
        confidence = (agreeing + 1) / (support + 2)  # Laplace: never certain from few events
        statement = statement_for(kind, items, outcome)
        item = {
            "statement": statement,
            "subject": ",".join(f"{k}={v}" for k, v in items),
            "outcome": outcome,
            "support": support,
            "agreeing": agreeing,
            "sessions": len(tally.sessions),
            "confidence": round(confidence, 4),
            "why": (
                f"{agreeing} of {support} {kind} events across {len(tally.sessions)} sessions "
                f"end in {outcome} (needs ≥{policy.min_support} events, "
                f"≥{policy.min_sessions} sessions, ≥{policy.min_consistency:.0%} agreeing)"
            ),
        }
        row = s.get_or_none(s.statement == statement)
        if row is None:
            s.create(
                kind="fact",
                subject=item["subject"],
                statement=statement,
                confidence=confidence,
                source="consolidation",
                evidence_count=support,
                created=now,
                updated=now,
            )
            report.promoted.append(item)
        elif support > row.evidence_count:
            item["why"] = f"evidence {row.evidence_count} → {support}; " + item["why"]
            row.evidence_count = support
            row.confidence = confidence
            row.updated = now
            row.save()
            report.reinforced.append(item)
    return behind


def _prune_episodes(
    episodes, behind: set[int], policy: ConsolidationPolicy, report: ConsolidationReport, now
) -> None:
    half_life = policy.episode_half_life.total_seconds()
    doomed = []
    for eid, session, seq, kind, _ctx, outcome, created in episodes:
        age = max((now - created).total_seconds(), 0.0)
        consolidated = eid in behind
        score = OUTCOME_WEIGHT.get(outcome, 0.3) * 0.5 ** (age / half_life)
        score *= 0.5 if consolidated else 1.0
        if score < policy.episode_threshold:
            doomed.append(eid)
            report.pruned_episodes.append(
                {
                    "id": eid,
                    "session": session,
                    "sequence": seq,
                    "kind": kind,
                    "outcome": outcome,
                    "importance": round(score, 4),
                    "why": (
                        f"importance {score:.3f} < {policy.episode_threshold} "
                        f"({outcome}, {age / 86400:.1f} days old"
                        + (", already consolidated)" if consolidated else ")")
                    ),
                }
            )
    for start in range(0, len(doomed), DELETE_CHUNK):
        chunk = doomed[start : start + DELETE_CHUNK]
        m.EpisodicMemory.delete().where(m.EpisodicMemory.id.in_(chunk)).execute()


def _prune_facts(policy: ConsolidationPolicy, report: ConsolidationReport) -> None:
    s = m.SemanticMemory
    for row in s.select(s.id, s.statement, s.confidence, s.evidence_count, s.source):
        score = fact_importance(row.confidence, row.evidence_count)
        if score < policy.fact_threshold:
            report.pruned_facts.append(
                {
                    "id": row.id,
                    "statement": row.statement,
                    "source": row.source,
                    "importance": round(score, 4),
                    "why": (
                        f"importance {score:.3f} < {policy.fact_threshold} (confidence "
                        f"{row.confidence:.2f}, evidence {row.evidence_count})"
                    ),
                }
            )
            row.delete_instance()
