"""An LRU cache with per-entry time-to-live and an injectable clock."""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

_MISSING = object()


class TTLCache:
    """Least-recently-used cache whose entries expire ``ttl`` seconds after set.

    ``clock`` returns seconds as a float and defaults to ``time.monotonic``;
    tests pass a fake clock. Expired entries are dropped lazily on access
    and by :meth:`purge`.
    """

    def __init__(
        self, capacity: int, ttl: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if isinstance(capacity, bool) or not isinstance(capacity, int):
            raise TypeError("capacity must be an int")
        if capacity <= 0:
            raise ValueError("capacity must be positive")
        if isinstance(ttl, bool) or not isinstance(ttl, (int, float)):
            raise TypeError("ttl must be a number")
        if not math.isfinite(ttl) or ttl <= 0:
            raise ValueError("ttl must be a positive finite number")
        if not callable(clock):
            raise TypeError("clock must be callable")
        self._capacity = capacity
        self._ttl = float(ttl)
        self._clock = clock
        self._data: OrderedDict[Hashable, tuple[Any, float]] = OrderedDict()
        self.hits = self.misses = self.expirations = self.evictions = 0

    def set(self, key: Hashable, value: Any, ttl: float | None = None) -> None:
        """Store ``value``; ``ttl`` overrides the cache default for this entry."""
        if ttl is not None and (
            isinstance(ttl, bool) or not isinstance(ttl, (int, float))
        ):
            raise TypeError("ttl must be a number or None")
        if ttl is not None and (not math.isfinite(ttl) or ttl <= 0):
            raise ValueError("ttl must be a positive finite number")
        expires = self._clock() + (self._ttl if ttl is None else ttl)
        if key in self._data:
            self._data.move_to_end(key)
        self._data[key] = (value, expires)
        if len(self._data) > self._capacity:
            self.purge()
        while len(self._data) > self._capacity:
            self._data.popitem(last=False)
            self.evictions += 1

    def get(self, key: Hashable, default: Any = None) -> Any:
        entry = self._data.get(key, _MISSING)
        if entry is _MISSING:
            self.misses += 1
            return default
        value, expires = entry
        if self._clock() >= expires:
            del self._data[key]
            self.expirations += 1
            self.misses += 1
            return default
        self._data.move_to_end(key)
        self.hits += 1
        return value

    def delete(self, key: Hashable) -> bool:
        return self._data.pop(key, _MISSING) is not _MISSING

    def purge(self) -> int:
        """Drop every expired entry and return how many were dropped."""
        now = self._clock()
        dead = [key for key, (_, expires) in self._data.items() if now >= expires]
        for key in dead:
            del self._data[key]
        self.expirations += len(dead)
        return len(dead)

    def __len__(self) -> int:
        self.purge()
        return len(self._data)

    def __contains__(self, key: object) -> bool:
        entry = self._data.get(key, _MISSING)  # type: ignore[call-overload]
        return entry is not _MISSING and self._clock() < entry[1]
