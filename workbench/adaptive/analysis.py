"""Task analysis: complexity from the description and from the effort similar recorded
tasks took, suggested agents, and an estimated duration measured from history.

Description score = max(areas, clauses − 1) + words // 30, where `areas` counts the distinct
work areas named (api, data, security, testing, ui, ops, performance, architecture,
research, debugging, docs) and `clauses` the requirement clauses (split on commas,
semicolons, "and", "then", "with", "plus", "also"). Score 0 is TRIVIAL, 1 SIMPLE,
2 MODERATE, 3 COMPLEX, 4 or more VERY_COMPLEX.

History: recorded outcomes whose description shares terms with the task (Jaccard ≥
SIMILARITY) are its neighbours. With at least MIN_NEIGHBOURS of them and at least
MIN_HISTORY outcomes overall, the neighbours' mean duration percentile p among all outcomes
gives a history level floor(5·p) (capped at VERY_COMPLEX), and the complexity is the
rounded mean of the description level and the history level.

Estimated duration: the median duration of the neighbours, else of outcomes of the same
complexity, else none ("no data").
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field

from workbench.adaptive import AGENT_ORDER, COMPLEXITIES
from workbench.hub.relevance import terms

SIMILARITY = 0.3
MIN_NEIGHBOURS = 2
MIN_HISTORY = 5
NEIGHBOURS = 5
AREAS: dict[str, tuple[frozenset[str], tuple[str, ...]]] = {
    name: (frozenset(words.split()), agents)
    for name, words, agents in (
        ("api", "api endpoint rest http graphql route request", ("coder",)),
        ("data", "database sql schema migration query table orm", ("coder",)),
        ("security", "auth authentication login permission security encrypt token", ("reviewer",)),
        ("testing", "test testing coverage unittest pytest assert", ("tester",)),
        ("ui", "ui frontend interface page form layout", ("coder",)),
        ("ops", "deploy docker ci container release infrastructure", ("coder",)),
        ("performance", "performance optimize slow latency cache speed memory", ("optimizer",)),
        (
            "architecture",
            "architecture design distributed microservice concurrency scale",
            ("architect",),
        ),
        ("research", "research investigate compare evaluate survey explore", ("researcher",)),
        ("debugging", "bug debug crash error failing regression exception", ("coder", "tester")),
        ("docs", "document documentation docs readme guide", ("coder",)),
        ("review", "review audit inspect", ("reviewer",)),
    )
}
CLAUSE_SPLIT = re.compile(r"[,;]|\b(?:and|then|with|plus|also)\b", re.IGNORECASE)


@dataclass
class PastOutcome:
    description: str
    complexity: str
    agents: list[str]
    success: bool
    duration_s: float


@dataclass
class TaskAnalysis:
    description: str
    complexity: str
    description_level: str
    history_level: str | None
    areas: list[str]
    clauses: int
    suggested_agents: list[str]
    estimated_duration_s: float | None
    duration_basis: str
    neighbours: int
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def description_level(description: str) -> tuple[int, list[str], int]:
    """(level index, areas named, clause count) from the text alone."""
    words = set(terms(description))
    areas = [name for name, (vocab, _) in AREAS.items() if words & vocab]
    clauses = sum(1 for part in CLAUSE_SPLIT.split(description) if part and terms(part))
    n_words = len(description.split())
    score = max(len(areas), clauses - 1) + n_words // 30
    return min(score, len(COMPLEXITIES) - 1), areas, clauses


def analyze(description: str, history: Sequence[PastOutcome]) -> TaskAnalysis:
    description = description.strip()
    if not description:
        raise ValueError("task description must not be empty")
    level, areas, clauses = description_level(description)
    words = set(terms(description))
    scored = sorted(
        ((jaccard(words, set(terms(h.description))), i) for i, h in enumerate(history)),
        key=lambda pair: (-pair[0], pair[1]),
    )
    neighbours = [history[i] for s, i in scored if s >= SIMILARITY][:NEIGHBOURS]
    notes = []
    history_level = None
    final = level
    if len(neighbours) >= MIN_NEIGHBOURS and len(history) >= MIN_HISTORY:
        durations = sorted(h.duration_s for h in history)
        percentiles = [
            sum(1 for d in durations if d <= n.duration_s) / len(durations) for n in neighbours
        ]
        mean_p = statistics.fmean(percentiles)
        history_index = min(int(mean_p * len(COMPLEXITIES)), len(COMPLEXITIES) - 1)
        history_level = COMPLEXITIES[history_index]
        final = round((level + history_index) / 2 + 1e-9)
        notes.append(
            f"{len(neighbours)} similar recorded tasks sit at the {mean_p:.0%} duration "
            f"percentile → {history_level}"
        )
    agents = {a for name in areas for a in AREAS[name][1]} or {"coder"}
    for n in neighbours:
        if n.success:
            agents.update(n.agents)
    suggested = sorted(agents, key=lambda a: (AGENT_ORDER.index(a) if a in AGENT_ORDER else 99, a))
    complexity = COMPLEXITIES[final]
    same_level = [h.duration_s for h in history if h.complexity == complexity]
    if neighbours:
        estimate = statistics.median(n.duration_s for n in neighbours)
        basis = f"median of {len(neighbours)} similar recorded tasks"
    elif same_level:
        estimate = statistics.median(same_level)
        basis = f"median of {len(same_level)} recorded {complexity} tasks"
    else:
        estimate, basis = None, "no data"
    return TaskAnalysis(
        description=description,
        complexity=complexity,
        description_level=COMPLEXITIES[level],
        history_level=history_level,
        areas=areas,
        clauses=clauses,
        suggested_agents=suggested,
        estimated_duration_s=estimate,
        duration_basis=basis,
        neighbours=len(neighbours),
        notes=notes,
    )
