"""The adaptive-strategy and performance-optimizer service over the store.

Decisions, outcomes and agent executions are rows (adaptive_decisions, adaptive_outcomes,
agent_executions); every choice and report is computed from them when asked, so a row
written by another process counts at once.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import uuid
from collections.abc import Callable, Iterable

import peewee

from workbench.adaptive import COMPLEXITIES, STRATEGIES, optimizer
from workbench.adaptive.analysis import PastOutcome, analyze
from workbench.adaptive.strategy import DEFAULT_FOR, choose
from workbench.store import models as m

SAMPLE_MARK = '"source": "sample_data"'  # how seeding marks sample decisions' analysis


def _positive_duration(value: float) -> float:
    if not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        raise ValueError(f"duration must be a number of seconds ≥ 0 (got {value!r})")
    return float(value)


def _whole(value: int, what: str, least: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < least:
        raise ValueError(f"{what} must be a whole number ≥ {least} (got {value!r})")
    return value


def _name(value: str, what: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValueError(f"{what} must not be empty")
    return value


class AdaptiveService:
    def __init__(self, db: peewee.Database, clock: Callable[[], dt.datetime] = m.utcnow) -> None:
        self.db = db
        self.clock = clock

    # -- adaptive strategy -------------------------------------------------------------

    def history(self) -> list[PastOutcome]:
        return [
            PastOutcome(o.description, o.complexity, json.loads(o.agents), o.success, o.duration_s)
            for o in m.AdaptiveOutcome.select().order_by(m.AdaptiveOutcome.id)
        ]

    def outcome_counts(self, complexity: str) -> dict[str, tuple[int, int]]:
        """(successes, failures) per strategy among recorded outcomes at a complexity."""
        wins = peewee.fn.SUM(m.AdaptiveOutcome.success.cast("INTEGER"))
        query = (
            m.AdaptiveOutcome.select(
                m.AdaptiveOutcome.strategy, wins, peewee.fn.COUNT(m.AdaptiveOutcome.id)
            )
            .where(m.AdaptiveOutcome.complexity == complexity)
            .group_by(m.AdaptiveOutcome.strategy)
            .tuples()
        )
        return {s: (int(w or 0), int(n) - int(w or 0)) for s, w, n in query}

    def analyze(self, description: str) -> dict:
        """Analysis and the strategy it would get, without recording a decision."""
        analysis = analyze(description, self.history())
        choice = choose(
            analysis.complexity,
            analysis.suggested_agents,
            self.outcome_counts(analysis.complexity),
        )
        return {"analysis": analysis.as_dict(), "choice": choice.as_dict()}

    def decide(self, description: str) -> dict:
        """Analyze, choose, and record the decision so an outcome can refer to it."""
        result = self.analyze(description)
        analysis, choice = result["analysis"], result["choice"]
        uid = f"st-{uuid.uuid4().hex[:10]}"
        m.AdaptiveDecision.create(
            uid=uid,
            description=analysis["description"],
            complexity=analysis["complexity"],
            strategy=choice["strategy"],
            agents=json.dumps(choice["agent_sequence"]),
            confidence=choice["confidence"],
            estimated_s=analysis["estimated_duration_s"],
            analysis=json.dumps(result, sort_keys=True, default=str),
            created=self.clock(),
        )
        return {"id": uid, **result}

    def record_outcome(
        self,
        decision: str,
        *,
        success: bool,
        duration_s: float,
        iterations: int = 1,
        errors: int = 0,
        what_worked: Iterable[str] = (),
        improvements: Iterable[str] = (),
    ) -> dict:
        row = m.AdaptiveDecision.get_or_none(m.AdaptiveDecision.uid == decision)
        if row is None:
            raise ValueError(
                f"no strategy decision {decision!r} (ids come from `strategy analyze`)"
            )
        outcome = m.AdaptiveOutcome.create(
            decision=row,
            description=row.description,
            complexity=row.complexity,
            strategy=row.strategy,
            agents=row.agents,
            success=bool(success),
            duration_s=_positive_duration(duration_s),
            iterations=_whole(iterations, "iterations", 1),
            errors=_whole(errors, "errors", 0),
            what_worked=json.dumps([w for w in what_worked if w.strip()]),
            improvements=json.dumps([i for i in improvements if i.strip()]),
            created=self.clock(),
        )
        wins, losses = self.outcome_counts(row.complexity).get(row.strategy, (0, 0))
        return {
            "decision": decision,
            "outcome": outcome.id,
            "strategy": row.strategy,
            "complexity": row.complexity,
            "success": outcome.success,
            "strategy_record": {"successes": wins, "failures": losses},
        }

    def strategy_table(self) -> list[dict]:
        """Per complexity: what would be chosen now, with its confidence and evidence."""
        out = []
        for complexity in COMPLEXITIES:
            choice = choose(complexity, [], self.outcome_counts(complexity))
            out.append(
                {
                    "complexity": complexity,
                    "default": DEFAULT_FOR[complexity],
                    "strategy": choice.strategy,
                    "confidence": choice.confidence,
                    "evidence": choice.evidence,
                    "posteriors": choice.as_dict()["posteriors"],
                }
            )
        return out

    def decisions(self, limit: int = 20) -> list[dict]:
        query = m.AdaptiveDecision.select().order_by(m.AdaptiveDecision.id.desc()).limit(limit)
        out = []
        for d in query:
            outcomes = list(d.outcomes)
            out.append(
                {
                    "id": d.uid,
                    "description": d.description,
                    "complexity": d.complexity,
                    "strategy": d.strategy,
                    "confidence": d.confidence,
                    "estimated_s": d.estimated_s,
                    "outcomes": len(outcomes),
                    "succeeded": sum(o.success for o in outcomes),
                }
            )
        return out

    def statistics(self) -> dict:
        total = m.AdaptiveOutcome.select().count()
        wins = m.AdaptiveOutcome.select().where(m.AdaptiveOutcome.success).count()
        sample = (
            m.AdaptiveOutcome.select()
            .join(m.AdaptiveDecision)
            .where(m.AdaptiveDecision.analysis.contains(SAMPLE_MARK))
            .count()
        )
        return {
            "decisions": m.AdaptiveDecision.select().count(),
            "outcomes": total,
            "sample_outcomes": sample,  # seeded from sample_data/, not this team's history
            "success_rate": wins / total if total else None,
            "strategies": list(STRATEGIES),
        }

    # -- performance optimizer ---------------------------------------------------------

    def record_execution(
        self,
        agent: str,
        category: str,
        *,
        duration_s: float,
        success: bool,
        iterations: int = 1,
        errors: int = 0,
        actions: int = 0,
        source: str = "cli",
    ) -> dict:
        row = m.AgentExecution.create(
            agent=_name(agent, "agent"),
            category=_name(category, "category"),
            duration_s=_positive_duration(duration_s),
            iterations=_whole(iterations, "iterations", 1),
            success=bool(success),
            errors=_whole(errors, "errors", 0),
            actions=_whole(actions, "actions", 0),
            source=source,
            created=self.clock(),
        )
        return {"id": row.id, "agent": row.agent, "category": row.category}

    def executions(self, agent: str | None = None) -> list[optimizer.Execution]:
        query = m.AgentExecution.select().order_by(m.AgentExecution.created, m.AgentExecution.id)
        if agent is not None:
            query = query.where(m.AgentExecution.agent == agent)
        return [
            optimizer.Execution(
                e.agent, e.category, e.duration_s, e.iterations, bool(e.success), e.errors
            )
            for e in query
        ]

    def perf_report(self, agent: str | None = None, min_priority: int = 1) -> dict:
        if not 1 <= min_priority <= 10:
            raise ValueError("minimum priority must be between 1 and 10")
        runs = self.executions()
        if agent is not None and not any(e.agent == agent for e in runs):
            raise ValueError(f"no recorded executions for agent {agent!r}")
        recs = optimizer.recommendations(runs, min_priority)
        rows = optimizer.metrics(runs)
        bottlenecks = optimizer.bottlenecks(runs)
        trends = optimizer.trends(runs)
        if agent is not None:
            recs = [r for r in recs if r["agent"] == agent]
            rows = [r for r in rows if r["agent"] == agent]
            bottlenecks = [b for b in bottlenecks if b["agent"] == agent]
            trends = [t for t in trends if t["agent"] == agent]
        sample = m.AgentExecution.select().where(m.AgentExecution.source == "sample_data")
        if agent is not None:
            sample = sample.where(m.AgentExecution.agent == agent)
        return {
            "executions": len(runs),
            "sample_executions": sample.count(),  # seeded sample agent history
            "metrics": rows,
            "bottlenecks": bottlenecks,
            "recommendations": recs,
            "trends": trends,
            "min_runs": optimizer.MIN_RUNS,
        }

    def compare_agents(self, first: str, second: str) -> dict:
        return optimizer.compare(self.executions(), first, second)
