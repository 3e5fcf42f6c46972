import pytest

from solution import LRUCache


def test_get_returns_stored_value_and_default_for_missing():
    cache = LRUCache(2)
    cache.put("a", 1)
    assert cache.get("a") == 1
    assert cache.get("zzz") is None
    assert cache.get("zzz", "fallback") == "fallback"


def test_least_recently_used_key_is_evicted():
    cache = LRUCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    cache.get("a")  # "b" is now the least recently used
    cache.put("c", 3)
    assert "b" not in cache
    assert cache.keys() == ["a", "c"]


def test_updating_existing_key_refreshes_recency_without_eviction():
    cache = LRUCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    cache.put("a", 10)
    cache.put("c", 3)
    assert cache.peek("a") == 10
    assert "b" not in cache
    assert cache.stats.evictions == 1


def test_peek_does_not_change_order_or_stats():
    cache = LRUCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.peek("a") == 1
    cache.put("c", 3)
    assert "a" not in cache
    assert (cache.stats.hits, cache.stats.misses) == (0, 0)


def test_stats_count_hits_and_misses():
    cache = LRUCache(4)
    cache.put(1, "one")
    cache.get(1)
    cache.get(1)
    cache.get(2)
    assert (cache.stats.hits, cache.stats.misses) == (2, 1)


def test_eviction_callback_receives_key_and_value():
    evicted = []
    cache = LRUCache(1, on_evict=lambda k, v: evicted.append((k, v)))
    cache.put("x", 1)
    cache.put("y", 2)
    assert evicted == [("x", 1)]
    assert cache.delete("y") is True
    assert cache.delete("y") is False
    assert len(cache) == 0


def test_invalid_capacity_is_rejected():
    with pytest.raises(ValueError):
        LRUCache(0)
    with pytest.raises(TypeError):
        LRUCache(1.5)  # type: ignore[arg-type]


def test_non_callable_eviction_hook_is_rejected():
    with pytest.raises(TypeError):
        LRUCache(2, on_evict="print")  # type: ignore[arg-type]


def test_unhashable_key_raises_type_error():
    cache = LRUCache(2)
    with pytest.raises(TypeError):
        cache.put(["not", "hashable"], 1)
