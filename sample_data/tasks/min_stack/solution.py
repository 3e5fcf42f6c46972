"""A stack that tracks its minimum in constant time."""

from __future__ import annotations

from typing import Any


class MinStack:
    """LIFO stack with O(1) ``min``.

    Each entry stores the item and the minimum of the stack at the time it was
    pushed, so popping restores the previous minimum without a scan.
    """

    def __init__(self, max_size: int | None = None) -> None:
        if max_size is not None and (
            isinstance(max_size, bool) or not isinstance(max_size, int)
        ):
            raise TypeError("max_size must be an int or None")
        if max_size is not None and max_size <= 0:
            raise ValueError("max_size must be positive")
        self._entries: list[tuple[Any, Any]] = []
        self._max_size = max_size

    def __len__(self) -> int:
        return len(self._entries)

    def push(self, item: Any) -> None:
        """Push ``item``; raise OverflowError when the stack is full."""
        if self._max_size is not None and len(self._entries) >= self._max_size:
            raise OverflowError("stack is full")
        if item is None:
            raise ValueError("None cannot be pushed")
        current = (
            item
            if not self._entries or item < self._entries[-1][1]
            else self._entries[-1][1]
        )
        self._entries.append((item, current))

    def pop(self) -> Any:
        """Remove and return the top item."""
        if not self._entries:
            raise IndexError("pop from empty MinStack")
        return self._entries.pop()[0]

    def peek(self) -> Any:
        """Return the top item without removing it."""
        if not self._entries:
            raise IndexError("peek at empty MinStack")
        return self._entries[-1][0]

    def min(self) -> Any:
        """Return the smallest item currently on the stack."""
        if not self._entries:
            raise IndexError("min of empty MinStack")
        return self._entries[-1][1]
