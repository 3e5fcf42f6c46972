"""Token-bucket rate limiting with an injectable clock.

Interface
---------
``TokenBucket(capacity, refill_rate, clock=time.monotonic)``
    Holds up to ``capacity`` tokens (starts full) and gains ``refill_rate``
    tokens per second of clock time.
``bucket.try_acquire(tokens=1) -> bool``
    Take ``tokens`` if available, otherwise take nothing and return False.
``bucket.wait_time(tokens=1) -> float``
    Seconds until ``tokens`` would be available (0.0 if available now).
``bucket.available() -> float``
    Tokens currently in the bucket.
``KeyedRateLimiter(capacity, refill_rate, clock=..., max_keys=10_000)``
    One bucket per key (user, API token, tenant); ``allow(key, cost=1)``.
    Idle full buckets are dropped first when ``max_keys`` is exceeded.

The clock is any zero-argument callable returning seconds as a float. If it
goes backwards (e.g. a test clock reset or a misbehaving wall clock) the
bucket treats the step as zero elapsed time rather than removing tokens.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from numbers import Real

Clock = Callable[[], float]


def _positive_number(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a number")
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number > 0")
    return float(value)


class TokenBucket:
    def __init__(self, capacity: float, refill_rate: float, clock: Clock = time.monotonic) -> None:
        if not callable(clock):
            raise TypeError("clock must be callable")
        self.capacity = _positive_number("capacity", capacity)
        self.refill_rate = _positive_number("refill_rate", refill_rate)
        self._clock = clock
        self._tokens = self.capacity
        self._last = float(clock())

    def _refill(self) -> None:
        now = float(self._clock())
        elapsed = now - self._last
        if elapsed > 0:
            self._tokens = min(self.capacity, self._tokens + elapsed * self.refill_rate)
        # Always move the reference point forward or back to "now" so that a
        # backwards step is not later counted twice as elapsed time.
        self._last = now

    def _check_request(self, tokens: float) -> float:
        amount = _positive_number("tokens", tokens)
        if amount > self.capacity:
            raise ValueError("cannot request more tokens than the bucket capacity")
        return amount

    def available(self) -> float:
        self._refill()
        return self._tokens

    def try_acquire(self, tokens: float = 1) -> bool:
        amount = self._check_request(tokens)
        self._refill()
        if self._tokens >= amount:
            self._tokens -= amount
            return True
        return False

    def wait_time(self, tokens: float = 1) -> float:
        amount = self._check_request(tokens)
        self._refill()
        missing = amount - self._tokens
        return 0.0 if missing <= 0 else missing / self.refill_rate

    def is_full(self) -> bool:
        return self.available() >= self.capacity


class KeyedRateLimiter:
    def __init__(
        self,
        capacity: float,
        refill_rate: float,
        clock: Clock = time.monotonic,
        max_keys: int = 10_000,
    ) -> None:
        if isinstance(max_keys, bool) or not isinstance(max_keys, int):
            raise TypeError("max_keys must be an int")
        if max_keys <= 0:
            raise ValueError("max_keys must be positive")
        # Validate the bucket parameters once, up front.
        TokenBucket(capacity, refill_rate, clock)
        self._capacity = capacity
        self._rate = refill_rate
        self._clock = clock
        self._max_keys = max_keys
        self._buckets: OrderedDict[Hashable, TokenBucket] = OrderedDict()

    def __len__(self) -> int:
        return len(self._buckets)

    def _bucket(self, key: Hashable) -> TokenBucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = TokenBucket(self._capacity, self._rate, self._clock)
            self._buckets[key] = bucket
            self._evict(keep=key)
        self._buckets.move_to_end(key)
        return bucket

    def _evict(self, keep: Hashable) -> None:
        if len(self._buckets) <= self._max_keys:
            return
        # A full bucket carries no state worth keeping; drop those first,
        # then fall back to least recently used. Never drop ``keep``.
        idle = [k for k, b in self._buckets.items() if k != keep and b.is_full()]
        for key in idle:
            if len(self._buckets) <= self._max_keys:
                return
            del self._buckets[key]
        for key in [k for k in self._buckets if k != keep]:
            if len(self._buckets) <= self._max_keys:
                return
            del self._buckets[key]

    def allow(self, key: Hashable, cost: float = 1) -> bool:
        if not isinstance(key, Hashable):
            raise TypeError("key must be hashable")
        return self._bucket(key).try_acquire(cost)

    def retry_after(self, key: Hashable, cost: float = 1) -> float:
        return self._bucket(key).wait_time(cost)
