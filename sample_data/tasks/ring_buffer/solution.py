"""A fixed-size ring buffer that keeps only the newest items."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Generic, TypeVar

T = TypeVar("T")


class RingBuffer(Generic[T]):
    """FIFO buffer of at most ``capacity`` items.

    ``push`` never fails: when the buffer is full the oldest item is
    overwritten and returned, so callers can log or count what was dropped.
    """

    def __init__(self, capacity: int) -> None:
        if isinstance(capacity, bool) or not isinstance(capacity, int):
            raise TypeError("capacity must be an int")
        if capacity <= 0:
            raise ValueError("capacity must be positive")
        self._slots: list[T | None] = [None] * capacity
        self._capacity = capacity
        self._start = 0
        self._size = 0

    @property
    def capacity(self) -> int:
        return self._capacity

    def __len__(self) -> int:
        return self._size

    def is_full(self) -> bool:
        return self._size == self._capacity

    def push(self, item: T) -> T | None:
        """Append ``item``; return the evicted oldest item, or None."""
        end = (self._start + self._size) % self._capacity
        if self.is_full():
            evicted = self._slots[self._start]
            self._slots[self._start] = item
            self._start = (self._start + 1) % self._capacity
            return evicted
        self._slots[end] = item
        self._size += 1
        return None

    def pop(self) -> T:
        """Remove and return the oldest item."""
        if self._size == 0:
            raise IndexError("pop from empty RingBuffer")
        item = self._slots[self._start]
        self._slots[self._start] = None
        self._start = (self._start + 1) % self._capacity
        self._size -= 1
        return item  # type: ignore[return-value]

    def peek(self) -> T:
        """Return the oldest item without removing it."""
        if self._size == 0:
            raise IndexError("peek at empty RingBuffer")
        return self._slots[self._start]  # type: ignore[return-value]

    def __iter__(self) -> Iterator[T]:
        for offset in range(self._size):
            yield self._slots[(self._start + offset) % self._capacity]  # type: ignore[misc]

    def to_list(self) -> list[T]:
        """Items from oldest to newest."""
        return list(self)
