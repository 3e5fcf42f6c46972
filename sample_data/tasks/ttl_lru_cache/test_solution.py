import pytest

from solution import TTLCache


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_get_before_and_after_expiry():
    clock = FakeClock()
    cache = TTLCache(4, ttl=10, clock=clock)
    cache.set("a", 1)
    clock.now += 9.99
    assert cache.get("a") == 1
    clock.now += 0.01
    assert cache.get("a", "gone") == "gone"
    assert (cache.hits, cache.misses, cache.expirations) == (1, 1, 1)


def test_lru_eviction_respects_recent_use():
    cache = TTLCache(2, ttl=60, clock=FakeClock())
    cache.set("a", 1)
    cache.set("b", 2)
    cache.get("a")
    cache.set("c", 3)
    assert "b" not in cache
    assert cache.get("a") == 1 and cache.get("c") == 3
    assert cache.evictions == 1


def test_expired_entries_are_purged_before_evicting_live_ones():
    clock = FakeClock()
    cache = TTLCache(2, ttl=60, clock=clock)
    cache.set("short", 1, ttl=1)
    cache.set("live", 2)
    clock.now += 5
    cache.set("new", 3)
    assert cache.get("live") == 2 and cache.get("new") == 3
    assert cache.evictions == 0


def test_per_entry_ttl_and_reset_on_set():
    clock = FakeClock()
    cache = TTLCache(3, ttl=5, clock=clock)
    cache.set("k", "v", ttl=100)
    clock.now += 50
    assert cache.get("k") == "v"
    cache.set("k", "v2")
    clock.now += 6
    assert "k" not in cache


def test_len_purges_and_delete_reports_presence():
    clock = FakeClock()
    cache = TTLCache(5, ttl=1, clock=clock)
    cache.set(1, "x")
    cache.set(2, "y", ttl=10)
    clock.now += 2
    assert len(cache) == 1
    assert cache.delete(2) is True
    assert cache.delete(2) is False


def test_non_positive_ttl_raises_value_error():
    with pytest.raises(ValueError):
        TTLCache(2, ttl=0)
    cache = TTLCache(2, ttl=1)
    with pytest.raises(ValueError):
        cache.set("a", 1, ttl=-1)
    with pytest.raises(ValueError):
        cache.set("a", 1, ttl=float("inf"))


def test_invalid_capacity_raises():
    with pytest.raises(ValueError):
        TTLCache(0, ttl=1)
    with pytest.raises(TypeError):
        TTLCache("2", ttl=1)  # type: ignore[arg-type]


def test_non_callable_clock_raises_type_error():
    with pytest.raises(TypeError):
        TTLCache(2, ttl=1, clock=123.0)  # type: ignore[arg-type]
