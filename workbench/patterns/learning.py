"""The learning engine: interactions become learnings with confidence and evidence.

An interaction is what an agent did on a task and how it went (actions, results, success,
time, iterations, errors). Each one is folded into the learnings it supports, keyed by
(type, agent, task, actions), so repeating an experience raises a learning's occurrence
count instead of adding a row:

- success pattern / failure pattern: the approach (agent × task × actions) worked / failed;
  confidence = successes / attempts (failures / attempts) of that approach;
- error recovery: the approach succeeded after errors, so it recovers from them;
- optimization: a success faster than the approach's earlier successes (time measured);
- task strategy: what works for this task: the approach's success rate against the
  other approaches tried on the same task;
- best practice: a success pattern seen at least BEST_PRACTICE_MIN times with a success
  rate of at least BEST_PRACTICE_RATE.

Levels come from occurrence counts alone (LEVELS); the evidence trail keeps the last
EVIDENCE_KEEP interactions that fed a learning.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import peewee

from workbench.store import models as m

TYPES = (
    "success_pattern",
    "failure_pattern",
    "optimization",
    "error_recovery",
    "task_strategy",
    "best_practice",
)
LEVELS = ((10, "very_high"), (5, "high"), (3, "medium"), (1, "low"))
LEVEL_ORDER = ("low", "medium", "high", "very_high")
EVIDENCE_KEEP = 20
BEST_PRACTICE_MIN = 5
BEST_PRACTICE_RATE = 0.8


def level_for(occurrences: int) -> str:
    """LOW 1-2, MEDIUM 3-4, HIGH 5-9, VERY_HIGH 10+ occurrences."""
    for minimum, name in LEVELS:
        if occurrences >= minimum:
            return name
    return "low"


@dataclass
class Interaction:
    agent: str
    task: str
    success: bool
    actions: list[str] = field(default_factory=list)
    results: Any = None
    time_ms: float | None = None
    iterations: int = 1
    errors: list[str] = field(default_factory=list)
    ref: str = ""  # where it came from, e.g. "execution:12"
    agent_session: str | None = None  # a recorded agent session it came from (purge finds it)

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> Interaction:
        """From JSON (one-line ValueErrors for bad fields)."""
        if not isinstance(data, Mapping):
            raise ValueError("interaction: must be a JSON object")
        data = reference_shape(data)
        for key in ("agent", "task"):
            if not isinstance(data.get(key), str) or not data[key].strip():
                raise ValueError(f"interaction: {key!r} must be a non-empty string")
        if not isinstance(data.get("success"), bool):
            raise ValueError("interaction: 'success' must be true or false")
        actions = data.get("actions", [])
        errors = data.get("errors", [])
        if not isinstance(actions, list) or not all(isinstance(a, str) for a in actions):
            raise ValueError("interaction: 'actions' must be a list of strings")
        if not isinstance(errors, list) or not all(isinstance(e, str) for e in errors):
            raise ValueError("interaction: 'errors' must be a list of strings")
        time_ms = data.get("time_ms")
        if time_ms is not None and (
            isinstance(time_ms, bool) or not isinstance(time_ms, int | float) or time_ms < 0
        ):
            raise ValueError("interaction: 'time_ms' must be a number >= 0")
        iterations = data.get("iterations", 1)
        if isinstance(iterations, bool) or not isinstance(iterations, int) or iterations < 1:
            raise ValueError("interaction: 'iterations' must be an integer >= 1")
        return cls(
            agent=data["agent"].strip(),
            task=data["task"].strip(),
            success=data["success"],
            actions=list(actions),
            results=data.get("results"),
            time_ms=None if time_ms is None else float(time_ms),
            iterations=iterations,
            errors=list(errors),
            ref=str(data.get("ref", "")),
        )

    def evidence(self, at: str) -> dict[str, Any]:
        entry = {
            "at": at,
            "ref": self.ref,
            "success": self.success,
            "time_ms": self.time_ms,
            "iterations": self.iterations,
            "errors": self.errors[:3],
        }
        if self.agent_session:
            entry["agent_session"] = self.agent_session
        return entry


# The reference's record_interaction names (agent_type, task_description, actions_taken,
# completion_time in seconds, errors_encountered) map onto ours.
REFERENCE_KEYS = {"agent_type": "agent", "task_description": "task", "actions_taken": "actions"}
ACTION_DETAIL = ("path", "command", "file", "target", "query", "name", "url")
ERROR_DETAIL = ("message", "error", "detail", "msg")
MAX_ITEM = 300
MAX_COUNTED_ERRORS = 100


def _action_text(action: Any, i: int) -> Any:
    """{"type": "CREATE_FILE", "path": "/w/f.py"} -> "CREATE_FILE /w/f.py"."""
    if not isinstance(action, Mapping):
        return action
    kind = action.get("type") or action.get("action") or action.get("tool")
    if not isinstance(kind, str) or not kind.strip():
        raise ValueError(f"interaction: actions[{i}] is an object without a 'type'")
    detail = next((str(action[k]) for k in ACTION_DETAIL if action.get(k) not in (None, "")), "")
    return f"{kind.strip()} {detail}".strip()[:MAX_ITEM]


def _error_text(error: Any, i: int) -> Any:
    """{"type": "ValueError", "message": "bad quote"} -> "ValueError: bad quote"."""
    if not isinstance(error, Mapping):
        return error
    kind = error.get("type") or error.get("name")
    detail = next((str(error[k]) for k in ERROR_DETAIL if error.get(k) not in (None, "")), "")
    if not kind and not detail:
        raise ValueError(f"interaction: errors[{i}] is an object without 'type' or 'message'")
    return (f"{kind}: {detail}" if kind and detail else str(kind or detail))[:MAX_ITEM]


def reference_shape(data: Mapping[str, Any]) -> dict[str, Any]:
    """Accept the reference's interaction shape as well as ours: its key names, actions
    and errors as objects, completion_time in seconds and an error count."""
    out = dict(data)
    for theirs, ours in REFERENCE_KEYS.items():
        if theirs in out and ours not in out:
            out[ours] = out.pop(theirs)
    if "completion_time" in out and "time_ms" not in out:
        seconds = out.pop("completion_time")
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
            raise ValueError("interaction: 'completion_time' must be seconds >= 0")
        out["time_ms"] = float(seconds) * 1000.0
    errors = out.pop("errors", None)
    counted = out.pop("errors_encountered", None)
    if errors is None and counted is not None:
        if (
            isinstance(counted, bool)
            or not isinstance(counted, int | list)
            or (isinstance(counted, int) and counted < 0)
        ):
            raise ValueError("interaction: 'errors_encountered' must be a count >= 0 or a list")
        if isinstance(counted, int):
            # a bare count carries no text: one unnamed error per count
            errors = ["error (no detail recorded)"] * min(counted, MAX_COUNTED_ERRORS)
        else:
            errors = counted
    if errors is not None:
        out["errors"] = (
            [_error_text(e, i) for i, e in enumerate(errors)] if isinstance(errors, list)
            else errors
        )  # fmt: skip
    actions = out.get("actions")
    if isinstance(actions, list):
        out["actions"] = [_action_text(a, i) for i, a in enumerate(actions)]
    return out


def _key(kind: str, *parts: str) -> str:
    digest = hashlib.blake2b("\x1f".join(parts).encode("utf-8"), digest_size=10).hexdigest()
    return f"{kind}:{digest}"


def _approach(i: Interaction) -> str:
    return " → ".join(i.actions) if i.actions else "(no recorded actions)"


class LearningEngine:
    def __init__(self, clock: Callable = m.utcnow) -> None:
        self.clock = clock

    def record(self, interaction: Interaction) -> list[dict[str, Any]]:
        """Fold one interaction into the learnings; returns the learnings it touched."""
        i = interaction
        now = self.clock()
        stamp = now.isoformat(sep=" ", timespec="seconds")
        approach = _approach(i)
        base = (i.agent, i.task, approach)
        ok_key, bad_key = _key("success_pattern", *base), _key("failure_pattern", *base)
        touched = []
        with m.database_proxy.atomic():
            own = _upsert(
                ok_key if i.success else bad_key,
                "success_pattern" if i.success else "failure_pattern",
                f"{i.agent} {'succeeds' if i.success else 'fails'} at {i.task} with {approach}"
                + ("" if i.success or not i.errors else f": {i.errors[0][:120]}"),
                i,
                stamp,
                now,
            )
            ok, bad = _get(ok_key), _get(bad_key)
            wins, losses = (ok.occurrences if ok else 0), (bad.occurrences if bad else 0)
            for row, n in ((ok, wins), (bad, losses)):
                if row is not None:
                    _set_confidence(row, n / (wins + losses))
            touched.append(_get(own.key))
            if i.success and i.errors:
                touched.append(
                    _upsert(
                        _key("error_recovery", *base),
                        "error_recovery",
                        f"{i.agent} recovers from {i.errors[0][:80]!r} on {i.task} with {approach}",
                        i,
                        stamp,
                        now,
                        confidence=wins / (wins + losses),
                    )
                )
            if i.success and i.time_ms is not None:
                earlier = [
                    e["time_ms"]
                    for e in json.loads(ok.evidence if ok else "[]")[:-1]
                    if e.get("success") and e.get("time_ms") is not None
                ]
                if earlier and i.time_ms < min(earlier):
                    touched.append(
                        _upsert(
                            _key("optimization", *base),
                            "optimization",
                            f"{i.agent} did {i.task} in {i.time_ms:.0f} ms with {approach}, "
                            f"faster than its best earlier {min(earlier):.0f} ms",
                            i,
                            stamp,
                            now,
                            confidence=1 - i.time_ms / min(earlier),
                        )
                    )
            if i.success:
                touched.append(self._task_strategy(i, approach, wins, losses, stamp, now))
                if wins >= BEST_PRACTICE_MIN and wins / (wins + losses) >= BEST_PRACTICE_RATE:
                    touched.append(
                        _upsert(
                            _key("best_practice", *base),
                            "best_practice",
                            f"for {i.task}, {i.agent} should use {approach} "
                            f"({wins}/{wins + losses} successes)",
                            i,
                            stamp,
                            now,
                            confidence=wins / (wins + losses),
                        )
                    )
        return [learning_dict(r) for r in touched if r is not None]

    def _task_strategy(self, i, approach, wins, losses, stamp, now) -> m.Learning:
        """The approach's success rate on this task, against the other approaches tried."""
        others = (
            m.Learning.select()
            .where((m.Learning.type == "success_pattern") & (m.Learning.task == i.task))
            .count()
        )
        return _upsert(
            _key("task_strategy", i.task, i.agent, approach),
            "task_strategy",
            f"{i.task}: {i.agent} with {approach} succeeded {wins}/{wins + losses} times "
            f"({others} successful approach{'es' if others != 1 else ''} known)",
            i,
            stamp,
            now,
            confidence=wins / (wins + losses),
            replace_description=True,
        )

    # -- reading ---------------------------------------------------------------------

    def learnings(
        self, type: str | None = None, min_level: str = "low", limit: int = 100
    ) -> list[dict[str, Any]]:
        if type is not None and type not in TYPES:
            raise ValueError(f"learning type must be one of {', '.join(TYPES)}")
        if min_level not in LEVEL_ORDER:
            raise ValueError(f"level must be one of {', '.join(LEVEL_ORDER)}")
        query = m.Learning.select().where(
            m.Learning.level.in_(LEVEL_ORDER[LEVEL_ORDER.index(min_level) :])
        )
        if type is not None:
            query = query.where(m.Learning.type == type)
        query = query.order_by(m.Learning.occurrences.desc(), m.Learning.id).limit(limit)
        return [learning_dict(r) for r in query]

    def by_type(self) -> dict[str, dict[str, int]]:
        """Counts of learnings per type and level (the pane's chart)."""
        out = {t: dict.fromkeys(LEVEL_ORDER, 0) for t in TYPES}
        for t, level, n in (
            m.Learning.select(m.Learning.type, m.Learning.level, peewee.fn.COUNT(m.Learning.id))
            .group_by(m.Learning.type, m.Learning.level)
            .tuples()
        ):
            if t in out and level in out[t]:
                out[t][level] = n
        return out

    def relevant(
        self, task: str, agent: str | None = None, min_level: str = "low", limit: int = 5
    ) -> list[dict[str, Any]]:
        """Learnings for a new task: the most similar tasks first (cosine over hashed
        word/character features), weighted by confidence; failures included (to avoid)."""
        from workbench.patterns.similarity import rank

        rows = list(
            m.Learning.select().where(
                m.Learning.level.in_(LEVEL_ORDER[LEVEL_ORDER.index(min_level) :])
            )
        )
        if agent:
            rows = [r for r in rows if r.agent == agent]
        if not rows or not task.strip():
            return []
        ranked = rank(task, [f"{r.task} {r.description}" for r in rows])
        out = []
        for index, similarity in ranked:
            row = rows[index]
            if similarity <= 0:
                continue
            d = learning_dict(row)
            d["similarity"] = round(similarity, 4)
            d["relevance"] = round(similarity * (0.5 + 0.5 * row.confidence), 4)
            out.append(d)
        out.sort(key=lambda d: (-d["relevance"], d["id"]))
        return out[:limit]


def _get(key: str) -> m.Learning | None:
    return m.Learning.get_or_none(m.Learning.key == key)


def _set_confidence(row: m.Learning, confidence: float) -> None:
    row.confidence = round(confidence, 4)
    row.save()


def _upsert(
    key: str,
    type: str,
    description: str,
    i: Interaction,
    stamp: str,
    now,
    confidence: float | None = None,
    replace_description: bool = False,
) -> m.Learning:
    row = _get(key)
    if row is None:
        row = m.Learning(
            key=key,
            type=type,
            description=description,
            agent=i.agent,
            task=i.task,
            occurrences=0,
            evidence="[]",
            created=now,
            confidence=0.0,
        )
    elif replace_description:
        row.description = description
    row.occurrences += 1
    row.level = level_for(row.occurrences)
    trail = json.loads(row.evidence or "[]")
    trail.append(i.evidence(stamp))
    row.evidence = json.dumps(trail[-EVIDENCE_KEEP:])
    if confidence is not None:
        row.confidence = round(max(0.0, min(1.0, confidence)), 4)
    row.updated = now
    row.save()
    return row


def learning_dict(r: m.Learning) -> dict[str, Any]:
    return {
        "id": r.id,
        "type": r.type,
        "description": r.description,
        "agent": r.agent,
        "task": r.task,
        "confidence": r.confidence,
        "level": r.level,
        "occurrences": r.occurrences,
        "evidence": json.loads(r.evidence or "[]"),
    }


def interactions_from(data: Sequence[Mapping[str, Any]] | Mapping[str, Any]) -> list[Interaction]:
    items = [data] if isinstance(data, Mapping) else list(data)
    return [Interaction.parse(d) for d in items]
