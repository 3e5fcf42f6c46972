import random

import pytest

from solution import IntervalTree


def build(intervals):
    tree = IntervalTree()
    for start, end, data in intervals:
        tree.insert(start, end, data)
    return tree


SAMPLE = [
    (15, 20, "a"),
    (10, 30, "b"),
    (17, 19, "c"),
    (5, 20, "d"),
    (12, 15, "e"),
    (30, 40, "f"),
]


def test_point_queries_include_closed_ends():
    tree = build(SAMPLE)
    assert [d for _, _, d in tree.at(15)] == ["d", "b", "e", "a"]
    assert [d for _, _, d in tree.at(30)] == ["b", "f"]
    assert tree.at(41) == []
    assert [d for _, _, d in tree.at(4.5 + 0.5)] == ["d"]


def test_range_overlap_query():
    tree = build(SAMPLE)
    assert [d for _, _, d in tree.overlap(21, 29)] == ["b"]
    assert [d for _, _, d in tree.overlap(0, 4)] == []
    assert len(tree.overlap(-100, 100)) == 6


def test_iteration_is_sorted_and_len_counts():
    tree = build(SAMPLE)
    assert [(s, e) for s, e, _ in tree] == sorted((s, e) for s, e, _ in SAMPLE)
    assert len(tree) == 6


def test_remove_updates_queries():
    tree = build(SAMPLE)
    assert tree.remove(10, 30, "b") is True
    assert tree.remove(10, 30, "b") is False
    assert [d for _, _, d in tree.at(25)] == []
    assert len(tree) == 5


def test_matches_brute_force_on_random_data():
    rng = random.Random(7)
    items = []
    for i in range(200):
        start = rng.randint(0, 500)
        items.append((start, start + rng.randint(0, 40), i))
    tree = build(items)
    for _ in range(50):
        lo = rng.randint(-10, 550)
        hi = lo + rng.randint(0, 30)
        expected = sorted(
            ((s, e, d) for s, e, d in items if s <= hi and e >= lo),
            key=lambda t: (t[0], t[1]),
        )
        got = tree.overlap(lo, hi)
        assert sorted(got, key=lambda t: t[2]) == sorted(expected, key=lambda t: t[2])


def test_reversed_interval_raises_value_error():
    tree = IntervalTree()
    with pytest.raises(ValueError):
        tree.insert(5, 1)
    assert len(tree) == 0
    with pytest.raises(ValueError):
        tree.overlap(3, 2)


def test_non_numeric_bounds_raise_type_error():
    tree = IntervalTree()
    with pytest.raises(TypeError):
        tree.insert("1", 2)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        tree.at(None)  # type: ignore[arg-type]
