"""Shortest paths on weighted directed graphs (Dijkstra)."""

from __future__ import annotations

import heapq
import math
from collections.abc import Hashable, Mapping
from itertools import count
from numbers import Real

Graph = Mapping[Hashable, Mapping[Hashable, float]]


def _validate(graph: Graph) -> None:
    if not isinstance(graph, Mapping):
        raise TypeError("graph must be a mapping of node -> {neighbour: weight}")
    for node, edges in graph.items():
        if not isinstance(edges, Mapping):
            raise TypeError(f"edges of {node!r} must be a mapping")
        for neighbour, weight in edges.items():
            if isinstance(weight, bool) or not isinstance(weight, Real):
                raise TypeError(f"weight {node!r}->{neighbour!r} is not a number")
            if not math.isfinite(weight) or weight < 0:
                raise ValueError(f"weight {node!r}->{neighbour!r} must be finite and >= 0")


def _known_nodes(graph: Graph) -> set[Hashable]:
    nodes = set(graph)
    for edges in graph.values():
        nodes.update(edges)
    return nodes


def shortest_path(graph: Graph, source: Hashable, target: Hashable) -> tuple[float, list[Hashable]]:
    """Return ``(cost, path)`` from ``source`` to ``target``.

    Nodes that only appear as neighbours are valid (they simply have no
    outgoing edges). If ``target`` is unreachable the result is
    ``(math.inf, [])``. Unknown source or target nodes raise ``KeyError``.
    """
    _validate(graph)
    nodes = _known_nodes(graph)
    if source not in nodes:
        raise KeyError(f"unknown source node: {source!r}")
    if target not in nodes:
        raise KeyError(f"unknown target node: {target!r}")

    dist: dict[Hashable, float] = {source: 0}
    previous: dict[Hashable, Hashable] = {}
    tie = count()  # keeps the heap from comparing unorderable nodes
    heap: list[tuple[float, int, Hashable]] = [(0, next(tie), source)]
    done: set[Hashable] = set()

    while heap:
        cost, _, node = heapq.heappop(heap)
        if node in done:
            continue
        if node == target:
            break
        done.add(node)
        for neighbour, weight in graph.get(node, {}).items():
            candidate = cost + weight
            if candidate < dist.get(neighbour, math.inf):
                dist[neighbour] = candidate
                previous[neighbour] = node
                heapq.heappush(heap, (candidate, next(tie), neighbour))

    if target not in dist:
        return math.inf, []
    path = [target]
    while path[-1] != source:
        path.append(previous[path[-1]])
    path.reverse()
    return dist[target], path
