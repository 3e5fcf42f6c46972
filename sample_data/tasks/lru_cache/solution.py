"""A bounded LRU cache with statistics and an eviction hook."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

_MISSING = object()


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0
    evictions: int = 0


class LRUCache:
    """Map at most ``capacity`` keys, evicting the least recently used.

    Both ``get`` (on a hit) and ``put`` mark a key as most recently used.
    ``peek`` and ``in`` do not change recency and do not touch the stats.
    """

    def __init__(
        self,
        capacity: int,
        on_evict: Callable[[Hashable, Any], None] | None = None,
    ) -> None:
        if isinstance(capacity, bool) or not isinstance(capacity, int):
            raise TypeError("capacity must be an int")
        if capacity <= 0:
            raise ValueError("capacity must be positive")
        if on_evict is not None and not callable(on_evict):
            raise TypeError("on_evict must be callable")
        self._capacity = capacity
        self._data: OrderedDict[Hashable, Any] = OrderedDict()
        self._on_evict = on_evict
        self.stats = CacheStats()

    @property
    def capacity(self) -> int:
        return self._capacity

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def get(self, key: Hashable, default: Any = None) -> Any:
        value = self._data.get(key, _MISSING)
        if value is _MISSING:
            self.stats.misses += 1
            return default
        self._data.move_to_end(key)
        self.stats.hits += 1
        return value

    def peek(self, key: Hashable, default: Any = None) -> Any:
        return self._data.get(key, default)

    def put(self, key: Hashable, value: Any) -> None:
        if not isinstance(key, Hashable):
            raise TypeError("key must be hashable")
        if key in self._data:
            self._data.move_to_end(key)
            self._data[key] = value
            return
        self._data[key] = value
        if len(self._data) > self._capacity:
            old_key, old_value = self._data.popitem(last=False)
            self.stats.evictions += 1
            if self._on_evict is not None:
                self._on_evict(old_key, old_value)

    def delete(self, key: Hashable) -> bool:
        """Remove ``key``; return True if it was present."""
        return self._data.pop(key, _MISSING) is not _MISSING

    def keys(self) -> list[Hashable]:
        """Keys from least to most recently used."""
        return list(self._data)
