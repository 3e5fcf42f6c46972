"""Failure analysis: which strategy × task kind fails, and how, from pipeline executions.

Each execution is classed by its recorded status: `failed` (a test assertion failed) →
assertion, `timeout` → timeout, `crash` → crash, `error` (no tests ran: a transform or
sandbox problem) → error, and `passed` with lint findings → lint. An anti-pattern is one
(strategy, task kind, reason) with its count against the executions of that strategy on
that kind, most frequent first.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from workbench.store import models as m

REASONS = ("assertion", "timeout", "crash", "error", "lint")
STATUS_REASON = {"failed": "assertion", "timeout": "timeout", "crash": "crash", "error": "error"}


def failure_reason(status: str, lint_ok: bool) -> str | None:
    """The failure class of one execution, or None when it passed lint-clean."""
    if status == "passed":
        return None if lint_ok else "lint"
    return STATUS_REASON.get(status, "error")


def analyze_failures(min_count: int = 1) -> dict[str, Any]:
    """Anti-patterns from every stored execution, with totals per reason."""
    kinds = dict(m.Task.select(m.Task.name, m.Task.kind).tuples())
    totals: Counter[tuple[str, str]] = Counter()
    failures: Counter[tuple[str, str, str]] = Counter()
    examples: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    query = m.TaskExecution.select(
        m.TaskExecution.task,
        m.TaskExecution.strategy,
        m.TaskExecution.status,
        m.TaskExecution.lint_ok,
    ).tuples()
    for task, strategy, status, lint_ok in query:
        kind = kinds.get(task, "unknown")
        totals[(strategy, kind)] += 1
        reason = failure_reason(status, bool(lint_ok))
        if reason is None:
            continue
        key = (strategy, kind, reason)
        failures[key] += 1
        if len(examples[key]) < 3 and task not in examples[key]:
            examples[key].append(task)
    anti = [
        {
            "strategy": strategy,
            "task_kind": kind,
            "reason": reason,
            "count": n,
            "executions": totals[(strategy, kind)],
            "rate": round(n / totals[(strategy, kind)], 4),
            "tasks": examples[(strategy, kind, reason)],
        }
        for (strategy, kind, reason), n in failures.items()
        if n >= min_count
    ]
    anti.sort(key=lambda a: (-a["count"], -a["rate"], a["strategy"], a["task_kind"], a["reason"]))
    by_reason = {r: 0 for r in REASONS}
    for (_s, _k, reason), n in failures.items():
        by_reason[reason] = by_reason.get(reason, 0) + n
    return {
        "executions": sum(totals.values()),
        "failures": sum(failures.values()),
        "by_reason": by_reason,
        "anti_patterns": anti,
    }
