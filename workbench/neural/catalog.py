"""The model catalog: the reference's 27 models, each a preset architecture bound to a
training recipe that reads real data (the store's tables or a labelled set in
``sample_data/neural``).

A recipe says exactly what the model learns to predict from what. Nothing here carries
an accuracy: a catalog model is `untrained` until it is trained, and then shows the
accuracy its training measured on held-out rows. Recipes whose source is still empty
(pipeline executions before any pipeline run, pattern memory before any learning) are
honestly not trainable yet, and say what is missing.
"""

from __future__ import annotations

import contextlib
import csv
import functools
import hashlib
import json
import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench import config
from workbench.fsutil import atomic_write
from workbench.store import models as m

CATEGORIES = ("coordination", "consensus", "performance", "sparc", "specialized")
SOURCES = (
    "labelled_operations",
    "pipeline_executions",
    "pattern_memory",
    "episodic_memory",
    "knowledge_items",
)
SAMPLE_DIR = config.SAMPLE_DATA_DIR / "neural"
STRATEGIES = ("aggressive", "balanced", "conservative")
COGNITIVE = ("adaptive", "convergent", "critical", "divergent", "lateral", "systems")
CHANNELS = ("code", "debugging", "general", "optimizations", "solutions", "testing", "warnings")
ITEM_TYPES = ("best_practice", "discovery", "optimization", "pattern", "solution", "warning")
AGENTS = ("architect", "coder", "optimizer", "researcher", "reviewer", "tester")
PRIORITIES = {1: "low", 2: "medium", 3: "high", 4: "critical"}
SPARC_PHASES = ("architecture", "completion", "pseudocode", "refinement", "specification")
CICD_CAUSES = ("build", "dependency", "infrastructure", "lint", "test")
DOMAINS = ("architecture", "backend", "frontend", "ml")

Records = list[dict[str, Any]]


@dataclass(frozen=True)
class Recipe:
    """Where a catalog model's training rows come from and what they teach.

    ``builder()`` returns the training records (feature fields + ``label``) from the
    current store or sample file; ``count()`` the rows the source holds right now.
    """

    source: str
    description: str
    classes: tuple[str, ...]
    builder: Callable[[], Records]
    count: Callable[[], int]
    min_rows: int = 30
    hint: str = ""

    def check(self, records: Records) -> None:
        """Raise a one-line ValueError when the records cannot train this model."""
        raw = self.count()
        if raw == 0 or len(records) < self.min_rows:
            have = f"{raw} rows" if len(records) == raw else f"{raw} rows ({len(records)} usable)"
            hint = f"; {self.hint}" if self.hint else ""
            raise ValueError(f"{self.source} has {have}{hint} (needs >= {self.min_rows})")
        seen = Counter(r["label"] for r in records)
        missing = [c for c in self.classes if c not in seen]
        if missing and len(self.classes) - len(missing) < 2:
            raise ValueError(
                f"{self.source} gives {len(seen)} of the {len(self.classes)} classes "
                f"(missing: {', '.join(missing)}); a classifier needs examples of two"
            )

    def dropped(self, records: Records) -> list[str]:
        """Classes that never occur in `records`: left out of the model's outputs."""
        seen = {r["label"] for r in records}
        return [c for c in self.classes if c not in seen]


@dataclass(frozen=True)
class CatalogEntry:
    name: str
    category: str
    purpose: str
    use_case: str
    spec: dict[str, Any]
    recipe: Recipe


# ------------------------------------------------------------------------ sources


# source rows read once per `shared_reads()` block, by loader name (None: outside one)
_SHARED: ContextVar[dict[str, Any] | None] = ContextVar("catalog_shared_reads", default=None)


@contextlib.contextmanager
def shared_reads() -> Iterator[None]:
    """Within the block each source table is read once: checking all 27 recipes (the
    Models pane's catalog) read the hub's items 4 times and the executions 8 times, which
    at 10k items / 6k executions was most of the pane's seconds-long load."""
    token = _SHARED.set({})
    try:
        yield
    finally:
        _SHARED.reset(token)


def _shared(loader: Callable[[], Any]) -> Callable[[], Any]:
    """`loader` once per `shared_reads()` block (builders only read what it returns)."""

    @functools.wraps(loader)
    def read() -> Any:
        memo = _SHARED.get()
        if memo is None:
            return loader()
        if loader.__name__ not in memo:
            memo[loader.__name__] = loader()
        return memo[loader.__name__]

    return read


@_shared
def _task_meta() -> dict[str, dict[str, str]]:
    return {
        t.name: {"kind": t.kind, "complexity": t.complexity, "description": t.description}
        for t in m.Task.select()
    }


@_shared
def _executions() -> list[m.TaskExecution]:
    return list(m.TaskExecution.select().order_by(m.TaskExecution.id))


def _count_executions() -> int:
    return m.TaskExecution.select().count()


def _all_passed(e: m.TaskExecution) -> bool:
    return e.tests_total > 0 and e.tests_passed == e.tests_total


def _pre_run(e: m.TaskExecution, meta: dict[str, dict[str, str]]) -> dict[str, Any]:
    """What is known before an execution runs: the task, its metadata, the strategy."""
    t = meta.get(e.task, {})
    return {
        "task": e.task,
        "task_kind": t.get("kind", ""),
        "complexity": t.get("complexity", ""),
        "strategy": e.strategy,
    }


def _tertiles(values: Sequence[float]) -> tuple[float, float]:
    qs = statistics.quantiles(values, n=3, method="inclusive") if len(values) > 1 else [0, 0]
    return qs[0], qs[1]


def _band(v: float, cuts: tuple[float, float], names: tuple[str, str, str]) -> str:
    return names[0] if v <= cuts[0] else names[1] if v <= cuts[1] else names[2]


def exec_pass_fail() -> Records:
    meta = _task_meta()
    return [
        {**_pre_run(e, meta), "label": "pass" if _all_passed(e) else "fail"} for e in _executions()
    ]


def exec_lint() -> Records:
    meta = _task_meta()
    return [
        {**_pre_run(e, meta), "label": "clean" if e.lint_ok else "findings"} for e in _executions()
    ]


def exec_result_class() -> Records:
    meta = _task_meta()
    out = []
    for e in _executions():
        if _all_passed(e):
            label = "passed"
        elif e.tests_passed > 0:
            label = "partial"
        else:
            label = "failed"
        out.append({**_pre_run(e, meta), "label": label})
    return out


def exec_bottleneck() -> Records:
    """tests / lint / time / none, from the execution's measured figures."""
    rows = _executions()
    if not rows:
        return []
    meta = _task_meta()
    median_ms = statistics.median(e.exec_ms for e in rows)
    out = []
    for e in rows:
        if not _all_passed(e):
            label = "tests"
        elif not e.lint_ok:
            label = "lint"
        elif e.exec_ms > median_ms:
            label = "time"
        else:
            label = "none"
        out.append({**_pre_run(e, meta), "tests_total": e.tests_total, "label": label})
    return out


def exec_score_band() -> Records:
    rows = _executions()
    if not rows:
        return []
    meta = _task_meta()
    cuts = _tertiles([e.score for e in rows])
    return [
        {**_pre_run(e, meta), "label": _band(e.score, cuts, ("low", "mid", "high"))} for e in rows
    ]


def exec_time_band() -> Records:
    rows = _executions()
    if not rows:
        return []
    meta = _task_meta()
    cuts = _tertiles([e.exec_ms for e in rows])
    return [
        {
            **_pre_run(e, meta),
            "description": meta.get(e.task, {}).get("description", ""),
            "label": _band(e.exec_ms, cuts, ("short", "medium", "long")),
        }
        for e in rows
    ]


def exec_replica_divergence() -> Records:
    """Does this execution's pass/fail disagree with the majority of its replicas
    (the other executions of the same task under the same strategy)?"""
    rows = _executions()
    groups: dict[tuple[str, str], list[bool]] = defaultdict(list)
    for e in rows:
        groups[(e.task, e.strategy)].append(_all_passed(e))
    meta = _task_meta()
    out = []
    for e in rows:
        votes = groups[(e.task, e.strategy)]
        if len(votes) < 3:
            continue  # no majority to disagree with
        majority = sum(votes) * 2 > len(votes)
        label = "agrees" if _all_passed(e) == majority else "diverges"
        out.append({**_pre_run(e, meta), "exec_ms": e.exec_ms, "label": label})
    return out


def _task_groups() -> dict[tuple[int, int, str], list[m.TaskExecution]]:
    groups: dict[tuple[int, int, str], list[m.TaskExecution]] = defaultdict(list)
    for e in _executions():
        groups[(e.run_id, e.iteration, e.task)].append(e)
    return groups


def _task_fields(task: str, meta: dict[str, dict[str, str]]) -> dict[str, Any]:
    t = meta.get(task, {})
    return {
        "task": task,
        "task_kind": t.get("kind", ""),
        "complexity": t.get("complexity", ""),
        "description": t.get("description", ""),
    }


def exec_leader() -> Records:
    meta = _task_meta()
    out = []
    for (_run, _it, task), group in _task_groups().items():
        known = [e for e in group if e.strategy in STRATEGIES]
        if len(known) < 2:
            continue
        best = max(known, key=lambda e: (e.score, -e.exec_ms))
        out.append({**_task_fields(task, meta), "label": best.strategy})
    return out


def exec_quorum() -> Records:
    meta = _task_meta()
    out = []
    for (_run, _it, task), group in _task_groups().items():
        if len(group) < 2:
            continue
        passed = sum(_all_passed(e) for e in group)
        label = "quorum" if passed * 2 > len(group) else "no_quorum"
        out.append({**_task_fields(task, meta), "label": label})
    return out


def _pattern_rows() -> list[tuple[m.PatternMemory, dict[str, Any]]]:
    out = []
    for p in m.PatternMemory.select().order_by(m.PatternMemory.id):
        try:
            data = json.loads(p.data or "{}")
        except json.JSONDecodeError:
            data = {}
        out.append((p, data if isinstance(data, dict) else {}))
    return out


def _pattern_text(data: dict[str, Any], skip: Sequence[str] = ()) -> str:
    parts = []
    for k, v in data.items():
        if k in skip:
            continue
        if isinstance(v, str):
            parts.append(v)
        elif isinstance(v, list):
            parts.extend(str(x) for x in v if isinstance(x, str))
    return " ".join(parts)


def _count_patterns() -> int:
    return m.PatternMemory.select().count()


def pattern_outcome() -> Records:
    out = []
    for p, data in _pattern_rows():
        outcome = str(data.get("outcome", "")).lower()
        if outcome in ("success", "failure"):
            text = _pattern_text(data, skip=("outcome",))
            out.append({"pattern_type": p.type, "data": text, "label": outcome})
    return out


def pattern_spread() -> Records:
    return [
        {
            "pattern_type": p.type,
            "data": _pattern_text(data),
            "usage_count": p.usage_count,
            "label": "spread" if (p.confidence or 0.0) >= 0.7 else "hold",
        }
        for p, data in _pattern_rows()
    ]


def pattern_hot_cold() -> Records:
    return [
        {
            "pattern_type": p.type,
            "data": _pattern_text(data),
            "confidence": float(p.confidence or 0.0),
            "label": "hot" if p.usage_count >= 2 else "cold",
        }
        for p, data in _pattern_rows()
    ]


def pattern_type() -> Records:
    return [
        {"data": _pattern_text(data), "label": p.type}
        for p, data in _pattern_rows()
        if p.type in COGNITIVE
    ]


def labelled_operations() -> Records:
    return [
        {"operation": r.text, "label": r.pattern}
        for r in m.LabelledOperation.select().order_by(m.LabelledOperation.id)
        if r.pattern in COGNITIVE
    ]


def _count_operations() -> int:
    return m.LabelledOperation.select().count()


def _episodes() -> list[tuple[m.EpisodicMemory, dict[str, Any]]]:
    out = []
    q = m.EpisodicMemory.select().order_by(m.EpisodicMemory.session, m.EpisodicMemory.sequence)
    for e in q:
        try:
            ctx = json.loads(e.context or "{}")
        except json.JSONDecodeError:
            ctx = {}
        out.append((e, ctx if isinstance(ctx, dict) else {}))
    return out


def _count_episodes() -> int:
    return m.EpisodicMemory.select().count()


_CONTEXT_KEYS = ("strategy", "task", "task_kind", "tool", "error", "worker", "component")


def episode_success() -> Records:
    """Outcome-bearing events only; features are the situation, never the event's text
    (the text reports the result, so it would give the answer away)."""
    out = []
    for e, ctx in _episodes():
        if e.outcome not in ("success", "failure"):
            continue
        rec: dict[str, Any] = {"kind": e.kind}
        rec.update({k: str(ctx.get(k, "")) for k in _CONTEXT_KEYS})
        rec["label"] = e.outcome
        out.append(rec)
    return out


def episode_signal() -> Records:
    out = []
    for e, ctx in _episodes():
        ctx_text = " ".join(f"{k} {v}" for k, v in sorted(ctx.items()) if isinstance(v, str))
        out.append(
            {
                "kind": e.kind,
                "text": e.text,
                "context": ctx_text,
                "label": "neutral" if e.outcome == "neutral" else "signal",
            }
        )
    return out


@_shared
def _items() -> list[m.KnowledgeItem]:
    """Items with their channel in one query (reading ``item.channel`` row by row was one
    query per item: seconds for the catalog at 10k items)."""
    k = m.KnowledgeItem
    return list(k.select(k, m.Channel).join(m.Channel).order_by(k.id))


def _count_items() -> int:
    return m.KnowledgeItem.select().count()


def _tags(item: m.KnowledgeItem) -> str:
    try:
        tags = json.loads(item.tags or "[]")
    except json.JSONDecodeError:
        return ""
    return " ".join(str(t) for t in tags) if isinstance(tags, list) else ""


def item_channel() -> Records:
    return [
        {"title": i.title, "content": i.content, "tags": _tags(i), "label": i.channel.name}
        for i in _items()
        if i.channel.name in CHANNELS
    ]


def item_agent() -> Records:
    return [
        {
            "title": i.title,
            "content": i.content,
            "channel": i.channel.name,
            "label": i.source_agent,
        }
        for i in _items()
        if i.source_agent in AGENTS
    ]


def item_type() -> Records:
    return [
        {"title": i.title, "content": i.content, "tags": _tags(i), "label": i.type}
        for i in _items()
        if i.type in ITEM_TYPES
    ]


def item_priority() -> Records:
    return [
        {"title": i.title, "content": i.content, "type": i.type, "label": PRIORITIES[i.priority]}
        for i in _items()
        if i.priority in PRIORITIES
    ]


# --------------------------------------------------------------- sample datasets


def read_sample(file: str, text_column: str, classes: Sequence[str]) -> Records:
    """A labelled CSV from sample_data/neural, validated: known columns, known labels,
    no empty cells, no duplicate texts. Errors name the file and line."""
    path = SAMPLE_DIR / file
    if not path.is_file():
        raise ValueError(f"sample_data/neural/{file} is missing")
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        if reader.fieldnames != [text_column, "label"]:
            raise ValueError(
                f"sample_data/neural/{file}: expected columns {text_column},label, "
                f"got {','.join(reader.fieldnames or [])}"
            )
        out: Records = []
        seen: set[str] = set()
        for row in reader:
            line = reader.line_num
            text, label = (row.get(text_column) or "").strip(), (row.get("label") or "").strip()
            if not text or label not in classes:
                raise ValueError(
                    f"sample_data/neural/{file} line {line}: needs a {text_column} and a "
                    f"label in {', '.join(classes)}"
                )
            if text.lower() in seen:
                raise ValueError(f"sample_data/neural/{file} line {line}: duplicate text")
            seen.add(text.lower())
            out.append({text_column: text, "label": label})
    return out


def _count_sample(file: str) -> Callable[[], int]:
    def count() -> int:
        path = SAMPLE_DIR / file
        if not path.is_file():
            return 0
        with path.open(encoding="utf-8", newline="") as f:
            return max(0, sum(1 for line in f if line.strip()) - 1)

    return count


def one_vs_rest(records: Records, positive: str, other: str = "other") -> Records:
    """All rows of ``positive`` plus as many others, taken in turn from each other class
    (deterministic), so the two classes are balanced and accuracy is not inflated by a
    majority class."""
    pos = [r for r in records if r["label"] == positive]
    by_class: dict[str, Records] = defaultdict(list)
    for r in records:
        if r["label"] != positive:
            by_class[r["label"]].append(r)
    neg: Records = []
    queues = [list(v) for _, v in sorted(by_class.items())]
    while len(neg) < len(pos) and any(queues):
        for q in queues:
            if q and len(neg) < len(pos):
                neg.append(q.pop(0))
    rows = [{**r, "label": positive} for r in pos] + [{**r, "label": other} for r in neg]
    # a stable, content-based order so the file does not list one class after the other
    rows.sort(key=lambda r: _digest(json.dumps(r, sort_keys=True)))
    return rows


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=8).hexdigest()


def sparc(positive: str | None) -> Callable[[], Records]:
    def build() -> Records:
        rows = read_sample("sparc_phases.csv", "statement", SPARC_PHASES)
        return rows if positive is None else one_vs_rest(rows, positive)

    return build


def domain(positive: str) -> Callable[[], Records]:
    def build() -> Records:
        return one_vs_rest(read_sample("engineering_tasks.csv", "task", DOMAINS), positive)

    return build


def cicd() -> Records:
    return read_sample("cicd_failures.csv", "failure", CICD_CAUSES)


# ------------------------------------------------------------------------ entries


def make_spec(
    name: str,
    category: str,
    purpose: str,
    classes: Sequence[str],
    *,
    input_size: int = 1024,
    hidden: Sequence[int] = (32,),
    learning_rate: float = 0.01,
    batch_size: int = 16,
    epochs: int = 60,
    seed: int = 11,
) -> dict[str, Any]:
    """The reference's custom-model JSON shape for one catalog model.

    Text fields are feature-hashed into the input layer, so text models get a wide
    input (fewer hash collisions between words) and one small hidden layer; models over
    a few categorical fields (pipeline executions) get a narrow one. Early stopping on
    the held-out loss keeps the best epoch.
    """
    layers: list[dict[str, Any]] = [{"type": "input", "size": input_size}]
    layers += [{"type": "hidden", "size": h, "activation": "relu"} for h in hidden]
    layers.append({"type": "output", "size": len(classes), "activation": "softmax"})
    return {
        "modelId": name,
        "name": name,
        "category": category,
        "description": purpose,
        "architecture": {"type": "feedforward", "layers": layers},
        "training": {
            "learning_rate": learning_rate,
            "batch_size": batch_size,
            "epochs": epochs,
            "optimizer": "adam",
            "lr_schedule": {"type": "step_decay", "step_size": 20, "gamma": 0.5},
            "early_stopping": {"patience": 10, "min_delta": 0.001, "monitor": "val_loss"},
            "validation_split": 0.2,
            "seed": seed,
        },
    }


PIPELINE_HINT = "run `workbench pipeline run` first"
PATTERN_HINT = "learn from operations and outcomes first (`workbench patterns learn`)"
HUB_HINT = "share more knowledge items first (`workbench hub share` or `workbench hub import FILE`)"


def _pipeline(description: str, classes: Sequence[str], build: Callable[[], Records]) -> Recipe:
    return Recipe(
        "pipeline_executions", description, tuple(classes), build, _count_executions,
        min_rows=30, hint=PIPELINE_HINT,
    )  # fmt: skip


def _patterns(description: str, classes: Sequence[str], build: Callable[[], Records]) -> Recipe:
    return Recipe(
        "pattern_memory", description, tuple(classes), build, _count_patterns,
        min_rows=30, hint=PATTERN_HINT,
    )  # fmt: skip


def _hub(description: str, classes: Sequence[str], build: Callable[[], Records]) -> Recipe:
    # about ten examples per class before a held-out accuracy means anything
    return Recipe(
        "knowledge_items", description, tuple(classes), build, _count_items,
        min_rows=10 * len(classes), hint=HUB_HINT,
    )  # fmt: skip


def _sample(
    file: str, description: str, classes: Sequence[str], build: Callable[[], Records]
) -> Recipe:
    return Recipe(
        f"sample_data/neural/{file}", description, tuple(classes), build, _count_sample(file),
        min_rows=60, hint=f"restore sample_data/neural/{file}",
    )  # fmt: skip


_DEFS: list[tuple[str, str, str, str, Recipe, dict[str, Any]]] = [
    # --- coordination ---------------------------------------------------------------
    (
        "hierarchical-coordinator",
        "coordination",
        "Tree-based delegation",
        "Complex projects with clear structure",
        _hub(
            "Predicts which specialist agent (architect, coder, optimizer, researcher, "
            "reviewer, tester) a piece of work belongs to, from a knowledge item's title, "
            "content and channel (trained on who wrote each item).",
            AGENTS,
            item_agent,
        ),
        {},
    ),
    (
        "mesh-coordinator",
        "coordination",
        "Peer-to-peer coordination",
        "Collaborative development",
        _hub(
            "Predicts the hub channel a knowledge item belongs in (so it reaches the peers "
            "subscribed to it), from its title, content and tags.",
            CHANNELS,
            item_channel,
        ),
        {},
    ),
    (
        "adaptive-coordinator",
        "coordination",
        "Dynamic strategy selection",
        "Unknown complexity tasks",
        Recipe(
            "labelled_operations",
            "Predicts which of the six cognitive patterns (convergent, divergent, lateral, "
            "systems, critical, adaptive) an operation needs, from the operation's text; "
            "the pattern picks the strategy.",
            COGNITIVE,
            labelled_operations,
            _count_operations,
            min_rows=60,
            hint="seed the store (`workbench init`)",
        ),
        {"epochs": 80},
    ),
    (
        "collective-intelligence",
        "coordination",
        "Swarm-based decision making",
        "Consensus-required decisions",
        _patterns(
            "Predicts whether acting on a learned pattern ends in success or failure, from "
            "the pattern's type and recorded operation (the outcomes the swarm has seen).",
            ("failure", "success"),
            pattern_outcome,
        ),
        {},
    ),
    (
        "swarm-memory-manager",
        "coordination",
        "Distributed memory sync",
        "Cross-agent knowledge sharing",
        Recipe(
            "episodic_memory",
            "Predicts whether an episodic event carries a signal worth syncing to shared "
            "memory (a success or failure outcome) or is neutral, from its kind, text and "
            "context.",
            ("neutral", "signal"),
            episode_signal,
            _count_episodes,
            min_rows=40,
            hint="record episodes first (`workbench init` seeds some)",
        ),
        {},
    ),
    (
        "ring-coordinator",
        "coordination",
        "Circular task passing",
        "Pipeline workflows",
        _pipeline(
            "Predicts whether an execution will come out of the lint stage clean or with "
            "findings (so the ring passes it on or back), from the task, its kind and "
            "complexity and the strategy.",
            ("clean", "findings"),
            exec_lint,
        ),
        {"input_size": 128},
    ),
    (
        "star-coordinator",
        "coordination",
        "Central hub coordination",
        "Single point of control",
        _pipeline(
            "Predicts whether an execution passes all its tests, some of them or none, from "
            "the task, its kind and complexity and the strategy the hub dispatches.",
            ("failed", "partial", "passed"),
            exec_result_class,
        ),
        {"input_size": 128},
    ),
    (
        "hybrid-coordinator",
        "coordination",
        "Mixed topology",
        "Adaptive multi-mode projects",
        _patterns(
            "Predicts the cognitive pattern (the working mode) a pattern-memory entry was "
            "stored under, from its recorded data.",
            COGNITIVE,
            pattern_type,
        ),
        {},
    ),
    # --- consensus ------------------------------------------------------------------
    (
        "byzantine-coordinator",
        "consensus",
        "Fault-tolerant consensus",
        "Security-critical decisions",
        _pipeline(
            "Predicts whether an execution's pass/fail result diverges from the majority of "
            "its replicas (other runs of the same task and strategy; groups of three or "
            "more), from the task, kind, complexity, strategy and time taken.",
            ("agrees", "diverges"),
            exec_replica_divergence,
        ),
        {"input_size": 128},
    ),
    (
        "raft-manager",
        "consensus",
        "Leader election",
        "Distributed systems",
        _pipeline(
            "Elects the leading strategy for a task: predicts which built-in strategy scored "
            "best on it in a pipeline iteration, from the task's name, kind, complexity and "
            "description.",
            STRATEGIES,
            exec_leader,
        ),
        {"input_size": 128},
    ),
    (
        "gossip-coordinator",
        "consensus",
        "Epidemic protocols",
        "Large-scale coordination",
        _patterns(
            "Predicts whether a learned pattern is confident enough to spread to other "
            "agents (confidence >= 0.7) or should be held, from its type, data and usage.",
            ("hold", "spread"),
            pattern_spread,
        ),
        {},
    ),
    (
        "consensus-builder",
        "consensus",
        "Multi-agent voting",
        "Democratic decisions",
        _hub(
            "Predicts the priority (low, medium, high, critical) a knowledge item carries "
            "in a vote, from its title, content and type.",
            tuple(PRIORITIES.values()),
            item_priority,
        ),
        {},
    ),
    (
        "crdt-synchronizer",
        "consensus",
        "Conflict-free replication",
        "Real-time collaboration",
        _hub(
            "Predicts a knowledge item's type (solution, warning, optimization, pattern, "
            "best practice, discovery), which selects the merge rule for concurrent edits, "
            "from its title, content and tags.",
            ITEM_TYPES,
            item_type,
        ),
        {},
    ),
    (
        "quorum-manager",
        "consensus",
        "Majority-based decisions",
        "High-availability systems",
        _pipeline(
            "Predicts whether a majority of the strategies run on a task in one iteration "
            "pass all its tests (quorum), from the task's name, kind, complexity and "
            "description.",
            ("no_quorum", "quorum"),
            exec_quorum,
        ),
        {"input_size": 128},
    ),
    # --- performance ----------------------------------------------------------------
    (
        "perf-analyzer",
        "performance",
        "Bottleneck detection",
        "Performance profiling",
        _pipeline(
            "Predicts an execution's bottleneck: failing tests, lint findings, time (passes "
            "clean but slower than the median execution) or none, from the task, kind, "
            "complexity, strategy and test count.",
            ("lint", "none", "tests", "time"),
            exec_bottleneck,
        ),
        {"input_size": 128},
    ),
    (
        "performance-benchmarker",
        "performance",
        "Metrics collection",
        "Comparative analysis",
        _pipeline(
            "Predicts the score band (low, mid, high: tertiles of the stored scores) an "
            "execution reaches, from the task, kind, complexity and strategy.",
            ("high", "low", "mid"),
            exec_score_band,
        ),
        {"input_size": 128},
    ),
    (
        "task-orchestrator",
        "performance",
        "Load balancing",
        "Resource optimization",
        _pipeline(
            "Predicts how long an execution will take (short, medium, long: tertiles of the "
            "measured times) before it is dispatched, from the task's name, kind, "
            "complexity and description and the strategy.",
            ("long", "medium", "short"),
            exec_time_band,
        ),
        {"input_size": 128},
    ),
    (
        "memory-coordinator",
        "performance",
        "Memory optimization",
        "Cache management",
        _patterns(
            "Predicts whether a learned pattern will be hot (used twice or more) or cold, "
            "so hot ones stay cached, from its type, data and confidence.",
            ("cold", "hot"),
            pattern_hot_cold,
        ),
        {},
    ),
    (
        "smart-agent",
        "performance",
        "Adaptive strategies",
        "Self-optimization",
        Recipe(
            "episodic_memory",
            "Predicts whether an action ends in success or failure from its situation "
            "alone: event kind, strategy, task, task kind, tool, error and worker (not the "
            "event's text, which reports the result).",
            ("failure", "success"),
            episode_success,
            _count_episodes,
            min_rows=30,
            hint="record episodes first (`workbench init` seeds some)",
        ),
        {"input_size": 256, "hidden": (64,), "learning_rate": 0.003},
    ),
    # --- SPARC ----------------------------------------------------------------------
    (
        "sparc-coord",
        "sparc",
        "SPARC phase coordination",
        "Full SPARC workflows",
        _sample(
            "sparc_phases.csv",
            "Predicts the SPARC phase (specification, pseudocode, architecture, refinement, "
            "completion) an engineering statement belongs to, from its text.",
            SPARC_PHASES,
            sparc(None),
        ),
        {"epochs": 80},
    ),
    (
        "specification",
        "sparc",
        "Requirements analysis",
        "Spec phase",
        _sample(
            "sparc_phases.csv",
            "Detects requirement and constraint statements: specification vs other SPARC "
            "phases (balanced one-vs-rest), from the statement's text.",
            ("other", "specification"),
            sparc("specification"),
        ),
        {},
    ),
    (
        "architecture",
        "sparc",
        "System design",
        "Architecture phase",
        _sample(
            "sparc_phases.csv",
            "Detects system-design statements: architecture vs other SPARC phases "
            "(balanced one-vs-rest), from the statement's text.",
            ("architecture", "other"),
            sparc("architecture"),
        ),
        {},
    ),
    (
        "refinement",
        "sparc",
        "TDD implementation",
        "Refinement phase",
        _sample(
            "sparc_phases.csv",
            "Detects test-driven implementation statements: refinement vs other SPARC "
            "phases (balanced one-vs-rest), from the statement's text.",
            ("other", "refinement"),
            sparc("refinement"),
        ),
        {},
    ),
    # --- specialized ----------------------------------------------------------------
    (
        "backend-dev",
        "specialized",
        "Backend development",
        "API, database, services",
        _sample(
            "engineering_tasks.csv",
            "Claims backend work: predicts whether an engineering task is backend (APIs, "
            "databases, services) or other work (balanced one-vs-rest), from its text.",
            ("backend", "other"),
            domain("backend"),
        ),
        {},
    ),
    (
        "ml-developer",
        "specialized",
        "ML/AI development",
        "Neural networks, training",
        _sample(
            "engineering_tasks.csv",
            "Claims ML work: predicts whether an engineering task is machine-learning work "
            "(data, models, training, evaluation) or other work (balanced one-vs-rest), "
            "from its text.",
            ("ml", "other"),
            domain("ml"),
        ),
        {},
    ),
    (
        "cicd-engineer",
        "specialized",
        "CI/CD pipelines",
        "DevOps automation",
        _sample(
            "cicd_failures.csv",
            "Triages a failed CI job: predicts the cause (build, dependency, "
            "infrastructure, lint, test) from the failure's log excerpt.",
            CICD_CAUSES,
            cicd,
        ),
        {"epochs": 80},
    ),
    (
        "system-architect",
        "specialized",
        "Architecture design",
        "System-level planning",
        _sample(
            "engineering_tasks.csv",
            "Claims system-level planning: predicts whether an engineering task is an "
            "architecture decision or hands-on work in another area (balanced "
            "one-vs-rest), from its text.",
            ("architecture", "other"),
            domain("architecture"),
        ),
        {},
    ),
]


def _entry(
    name: str, category: str, purpose: str, use_case: str, recipe: Recipe, arch: dict[str, Any]
) -> CatalogEntry:
    spec = make_spec(name, category, purpose, recipe.classes, **arch)
    return CatalogEntry(name, category, purpose, use_case, spec, recipe)


ENTRIES: list[CatalogEntry] = [_entry(*d) for d in _DEFS]
_BY_NAME = {e.name: e for e in ENTRIES}


def get(name: str) -> CatalogEntry:
    try:
        return _BY_NAME[name]
    except KeyError:
        raise ValueError(
            f"unknown catalog model {name!r} (see `workbench neural catalog` for the "
            f"{len(ENTRIES)} names)"
        ) from None


def build_records(entry: CatalogEntry) -> Records:
    """The entry's training records, checked (ValueError with a one-line reason)."""
    records = entry.recipe.builder()
    entry.recipe.check(records)
    return records


def fitted_spec(entry: CatalogEntry, records: Records) -> tuple[dict[str, Any], list[str]]:
    """The entry's spec with an output per class that occurs (a class the source never
    holds cannot be learned: it is dropped, and the caller says so), and the dropped."""
    dropped = entry.recipe.dropped(records)
    spec = json.loads(json.dumps(entry.spec))
    if dropped:
        spec["architecture"]["layers"][-1]["size"] = len(entry.recipe.classes) - len(dropped)
    return spec, dropped


def dropped_note(entry: CatalogEntry, dropped: list[str]) -> str:
    return (
        f"{', '.join(dropped)} never occur{'s' if len(dropped) == 1 else ''} in "
        f"{entry.recipe.source}: left out of the outputs until it does"
    )


def is_text_model(entry: CatalogEntry) -> bool:
    """Text models over hand-written labelled text (one text field): they train the
    recipe k-fold cross-validation chooses (`neural/selection.py`)."""
    return entry.recipe.source.startswith("sample_data/neural/") or (
        entry.recipe.source == "labelled_operations"
    )


def held_out_split(records: Records, spec: dict[str, Any]) -> tuple[Records, Records]:
    """(training, held-out) rows: the same seeded split training takes by itself
    (`training.validation_split` of the rows, drawn with `training.seed`), so the
    held-out rows are the ones the catalog has always reported on."""
    from workbench.neural.data import seeded_holdout

    t = spec.get("training", {})
    kept, held = seeded_holdout(
        len(records), float(t.get("validation_split", 0.2)), int(t.get("seed", 0))
    )
    return [records[i] for i in kept], [records[i] for i in held]


def text_field(records: Records) -> str:
    """The one text column of a text model's records."""
    fields = [k for k in records[0] if k != "label"]
    if len(fields) != 1:
        raise ValueError(f"a text model needs one text column, got {', '.join(fields)}")
    return fields[0]


def build_text_training_file(
    entry: CatalogEntry, records: Records, out_dir: Path
) -> tuple[Path, Records, Records]:
    """Training and held-out rows of a text model in one file (validationData is only
    measured on: the recipe has no early stopping, and CV never sees those rows)."""
    train, held = held_out_split(records, entry.spec)
    path = write_training_doc(
        Path(out_dir) / f"{entry.name}.json",
        f"{entry.name}: {entry.recipe.description} (source: {entry.recipe.source}); "
        "validationData is the held-out split",
        train,
        held,
    )
    return path, train, held


def build_training_file(entry: CatalogEntry, out_dir: Path) -> tuple[Path, int]:
    """Write the entry's training records as JSON ``{"trainingData": [...]}``, atomically.

    Raises ValueError when the source has too few rows or fewer than two classes.
    """
    records = build_records(entry)
    path = write_training_doc(
        Path(out_dir) / f"{entry.name}.json",
        f"{entry.name}: {entry.recipe.description} (source: {entry.recipe.source})",
        records,
    )
    return path, len(records)


def write_training_doc(
    path: Path, description: str, training: Records, validation: Records | None = None
) -> Path:
    """A training file `{"description", "trainingData"[, "validationData"]}` written
    atomically (its folder created): what `neural train` and the catalog read."""
    path.parent.mkdir(parents=True, exist_ok=True)
    doc: dict[str, Any] = {"description": description, "trainingData": training}
    if validation is not None:
        doc["validationData"] = validation
    with atomic_write(path, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False, indent=1)
    return path


__all__ = [
    "CATEGORIES",
    "ENTRIES",
    "CatalogEntry",
    "Recipe",
    "build_records",
    "build_training_file",
    "dropped_note",
    "fitted_spec",
    "get",
    "held_out_split",
    "is_text_model",
    "write_training_doc",
]
