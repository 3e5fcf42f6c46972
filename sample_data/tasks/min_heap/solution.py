"""A binary min-heap with an optional key function."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any


class MinHeap:
    """Array-backed binary heap; ties keep insertion order (stable)."""

    def __init__(
        self, items: Iterable[Any] = (), key: Callable[[Any], Any] | None = None
    ) -> None:
        if key is not None and not callable(key):
            raise TypeError("key must be callable or None")
        if isinstance(items, (str, bytes)):
            raise TypeError("items must be an iterable of elements, not a string")
        self._key = key if key is not None else (lambda item: item)
        self._counter = 0
        self._data: list[tuple[Any, int, Any]] = []
        for item in items:
            self._data.append(self._entry(item))
        for index in reversed(range(len(self._data) // 2)):
            self._sift_down(index)

    def _entry(self, item: Any) -> tuple[Any, int, Any]:
        self._counter += 1
        return (self._key(item), self._counter, item)

    def __len__(self) -> int:
        return len(self._data)

    def _sift_up(self, index: int) -> None:
        data = self._data
        while index > 0:
            parent = (index - 1) // 2
            if data[index][:2] < data[parent][:2]:
                data[index], data[parent] = data[parent], data[index]
                index = parent
            else:
                break

    def _sift_down(self, index: int) -> None:
        data = self._data
        size = len(data)
        while True:
            smallest = index
            for child in (2 * index + 1, 2 * index + 2):
                if child < size and data[child][:2] < data[smallest][:2]:
                    smallest = child
            if smallest == index:
                return
            data[index], data[smallest] = data[smallest], data[index]
            index = smallest

    def push(self, item: Any) -> None:
        self._data.append(self._entry(item))
        self._sift_up(len(self._data) - 1)

    def peek(self) -> Any:
        if not self._data:
            raise IndexError("peek at empty heap")
        return self._data[0][2]

    def pop(self) -> Any:
        """Remove and return the smallest item."""
        if not self._data:
            raise IndexError("pop from empty heap")
        last = self._data.pop()
        if not self._data:
            return last[2]
        top, self._data[0] = self._data[0], last
        self._sift_down(0)
        return top[2]

    def pushpop(self, item: Any) -> Any:
        """Push ``item`` then pop the smallest, more efficiently than both calls."""
        entry = self._entry(item)
        if self._data and self._data[0][:2] < entry[:2]:
            entry, self._data[0] = self._data[0], entry
            self._sift_down(0)
        return entry[2]

    def nsmallest(self, k: int) -> list[Any]:
        """Return the ``k`` smallest items in order without modifying the heap."""
        if isinstance(k, bool) or not isinstance(k, int):
            raise TypeError("k must be an int")
        if k < 0:
            raise ValueError("k must be >= 0")
        return [entry[2] for entry in sorted(self._data, key=lambda e: e[:2])[:k]]
