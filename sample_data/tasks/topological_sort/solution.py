"""Deterministic topological sort with cycle reporting."""

from __future__ import annotations

import heapq
from collections.abc import Collection, Mapping


class CycleError(ValueError):
    """Raised when the graph has a cycle; ``cycle`` lists the nodes on one."""

    def __init__(self, cycle: list[str]) -> None:
        super().__init__("dependency cycle: " + " -> ".join(cycle))
        self.cycle = cycle


def _find_cycle(deps: dict[str, set[str]], remaining: set[str]) -> list[str]:
    """Walk dependencies from any remaining node until a node repeats."""
    node = min(remaining)
    path: list[str] = []
    seen: dict[str, int] = {}
    while node not in seen:
        seen[node] = len(path)
        path.append(node)
        node = min(dep for dep in deps[node] if dep in remaining)
    return path[seen[node] :] + [node]


def topological_sort(graph: Mapping[str, Collection[str]]) -> list[str]:
    """Return nodes so that each appears after everything it depends on.

    ``graph`` maps a node to the nodes it depends on. Dependencies that are
    not keys are treated as nodes without dependencies. Among nodes that are
    ready at the same time, the alphabetically smallest comes first.
    """
    if not isinstance(graph, Mapping):
        raise TypeError("graph must be a mapping of node -> dependencies")
    if any(not isinstance(node, str) for node in graph):
        raise TypeError("nodes must be strings")
    if any(
        isinstance(d, str) or not isinstance(d, (list, tuple, set, frozenset))
        for d in graph.values()
    ):
        raise TypeError("dependencies must be a list, tuple or set of node names")
    if any(not isinstance(dep, str) for deps in graph.values() for dep in deps):
        raise TypeError("dependencies must be strings")

    deps: dict[str, set[str]] = {node: set(d) for node, d in graph.items()}
    for node_deps in list(deps.values()):
        for dep in node_deps:
            deps.setdefault(dep, set())
    dependents: dict[str, list[str]] = {node: [] for node in deps}
    waiting = {node: len(d) for node, d in deps.items()}
    for node, node_deps in deps.items():
        for dep in node_deps:
            dependents[dep].append(node)

    ready = [node for node, count in waiting.items() if count == 0]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        node = heapq.heappop(ready)
        order.append(node)
        for dependent in dependents[node]:
            waiting[dependent] -= 1
            if waiting[dependent] == 0:
                heapq.heappush(ready, dependent)

    if len(order) != len(deps):
        raise CycleError(_find_cycle(deps, set(deps) - set(order)))
    return order
