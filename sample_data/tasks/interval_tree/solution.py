"""An augmented binary search tree for closed-interval overlap queries."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any


class _Node:
    __slots__ = ("start", "end", "data", "max_end", "left", "right")

    def __init__(self, start: float, end: float, data: Any) -> None:
        self.start, self.end, self.data = start, end, data
        self.max_end = end
        self.left: _Node | None = None
        self.right: _Node | None = None

    def refresh(self) -> None:
        self.max_end = max(
            self.end,
            self.left.max_end if self.left else -math.inf,
            self.right.max_end if self.right else -math.inf,
        )


def _check_bounds(start: float, end: float) -> None:
    if any(
        isinstance(x, bool) or not isinstance(x, (int, float)) for x in (start, end)
    ):
        raise TypeError("bounds must be numbers")
    if any(math.isnan(x) for x in (start, end)):
        raise ValueError("bounds must not be NaN")
    if start > end:
        raise ValueError(f"start {start} is greater than end {end}")


class IntervalTree:
    """Stores ``(start, end, data)`` triples; intervals are closed [start, end]."""

    def __init__(self) -> None:
        self._root: _Node | None = None
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def insert(self, start: float, end: float, data: Any = None) -> None:
        if any(
            isinstance(x, bool) or not isinstance(x, (int, float)) for x in (start, end)
        ):
            raise TypeError("bounds must be numbers")
        if start > end:
            raise ValueError(f"start {start} is greater than end {end}")
        if math.isnan(start) or math.isnan(end):
            raise ValueError("bounds must not be NaN")
        self._root = self._insert(self._root, _Node(start, end, data))
        self._size += 1

    def _insert(self, node: _Node | None, new: _Node) -> _Node:
        if node is None:
            return new
        if (new.start, new.end) < (node.start, node.end):
            node.left = self._insert(node.left, new)
        else:
            node.right = self._insert(node.right, new)
        node.refresh()
        return node

    def remove(self, start: float, end: float, data: Any = None) -> bool:
        """Remove one interval equal to ``(start, end, data)``; report success."""
        _check_bounds(start, end)
        removed: list[bool] = []
        self._root = self._remove(self._root, start, end, data, removed)
        if removed:
            self._size -= 1
        return bool(removed)

    def _remove(
        self,
        node: _Node | None,
        start: float,
        end: float,
        data: Any,
        removed: list[bool],
    ) -> _Node | None:
        if node is None:
            return None
        if not removed and (node.start, node.end, node.data) == (start, end, data):
            removed.append(True)
            if node.left is None:
                return node.right
            if node.right is None:
                return node.left
            successor = node.right
            while successor.left is not None:
                successor = successor.left
            node.start, node.end, node.data = (
                successor.start,
                successor.end,
                successor.data,
            )
            node.right = self._remove(
                node.right, successor.start, successor.end, successor.data, []
            )
        elif (start, end) < (node.start, node.end):
            node.left = self._remove(node.left, start, end, data, removed)
        else:
            node.right = self._remove(node.right, start, end, data, removed)
            if not removed and (start, end) == (node.start, node.end):
                node.left = self._remove(node.left, start, end, data, removed)
        node.refresh()
        return node

    def overlap(self, lo: float, hi: float) -> list[tuple[float, float, Any]]:
        """All intervals intersecting [lo, hi], sorted by (start, end)."""
        _check_bounds(lo, hi)
        found: list[tuple[float, float, Any]] = []
        stack = [self._root]
        while stack:
            node = stack.pop()
            if node is None or node.max_end < lo:
                continue
            stack.append(node.left)
            if node.start <= hi:
                if node.end >= lo:
                    found.append((node.start, node.end, node.data))
                stack.append(node.right)
        found.sort(key=lambda t: (t[0], t[1]))
        return found

    def at(self, point: float) -> list[tuple[float, float, Any]]:
        """All intervals containing ``point``."""
        return self.overlap(point, point)

    def __iter__(self) -> Iterator[tuple[float, float, Any]]:
        def walk(node: _Node | None) -> Iterator[tuple[float, float, Any]]:
            if node is not None:
                yield from walk(node.left)
                yield (node.start, node.end, node.data)
                yield from walk(node.right)

        return walk(self._root)
