"""The working tier: an in-process LRU bounded in bytes, gone when the process ends.

The memory service keeps what a user just touched here — recent search results and the
entries they read — in front of the vector index, so the hit/miss counts say how often
the index was actually spared.
"""

from __future__ import annotations

import sys
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

DEFAULT_MAX_BYTES = 50 * 1024 * 1024


def approx_bytes(value: Any) -> int:
    """Rough deep size of plain data (str, numbers, lists, tuples, dicts, dataclasses)."""
    if isinstance(value, str | bytes):
        return sys.getsizeof(value)
    if isinstance(value, dict):
        return sys.getsizeof(value) + sum(
            approx_bytes(k) + approx_bytes(v) for k, v in value.items()
        )
    if isinstance(value, list | tuple):
        return sys.getsizeof(value) + sum(approx_bytes(v) for v in value)
    if hasattr(value, "__dataclass_fields__"):
        return sys.getsizeof(value) + sum(
            approx_bytes(getattr(value, f)) for f in value.__dataclass_fields__
        )
    return sys.getsizeof(value)


@dataclass(frozen=True)
class WorkingItem:
    key: Hashable
    label: str
    bytes: int


class WorkingMemory:
    """Least-recently-used map whose total approximate size never exceeds ``max_bytes``."""

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        if max_bytes <= 0:
            raise ValueError("working memory: max_bytes must be positive")
        self.max_bytes = max_bytes
        self._items: OrderedDict[Hashable, tuple[Any, int, str]] = OrderedDict()
        self.bytes = 0
        self.hits = 0
        self.misses = 0
        self.evictions = 0

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._items

    def get(self, key: Hashable) -> Any | None:
        """The value (now most recent) or None; counts a hit or a miss."""
        item = self._items.get(key)
        if item is None:
            self.misses += 1
            return None
        self._items.move_to_end(key)
        self.hits += 1
        return item[0]

    def put(self, key: Hashable, value: Any, label: str = "") -> bool:
        """Keep ``value``; evict least recent items to stay in bounds. False if it cannot fit."""
        size = approx_bytes(key) + approx_bytes(value)
        self.discard(key)
        if size > self.max_bytes:
            return False
        while self.bytes + size > self.max_bytes:
            _, (_, old, _) = self._items.popitem(last=False)
            self.bytes -= old
            self.evictions += 1
        self._items[key] = (value, size, label or str(key))
        self.bytes += size
        return True

    def discard(self, key: Hashable) -> None:
        item = self._items.pop(key, None)
        if item is not None:
            self.bytes -= item[1]

    def clear(self) -> None:
        self._items.clear()
        self.bytes = 0

    def items(self) -> list[WorkingItem]:
        """Most recent first."""
        return [
            WorkingItem(k, label, size) for k, (_, size, label) in reversed(self._items.items())
        ]

    def stats(self) -> dict[str, Any]:
        lookups = self.hits + self.misses
        return {
            "count": len(self._items),
            "bytes": self.bytes,
            "max_bytes": self.max_bytes,
            "hits": self.hits,
            "misses": self.misses,
            "hit_rate": self.hits / lookups if lookups else None,
            "evictions": self.evictions,
            "scope": "session",
        }
