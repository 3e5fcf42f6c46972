import pytest

from solution import merge_intervals


def test_overlapping_intervals_merge():
    assert merge_intervals([(1, 3), (2, 6), (8, 10), (15, 18)]) == [(1, 6), (8, 10), (15, 18)]


def test_unsorted_input_and_touching_intervals():
    assert merge_intervals([[5, 7], [1, 2], [2, 4], [7, 7]]) == [(1, 4), (5, 7)]


def test_nested_interval_is_absorbed():
    assert merge_intervals([(0, 10), (2, 3), (4, 9)]) == [(0, 10)]


def test_empty_input_gives_empty_list():
    assert merge_intervals([]) == []
    assert merge_intervals(iter(())) == []


def test_floats_and_input_not_mutated():
    data = [[0.5, 1.5], [1.25, 2.0], [-3.0, -1.0]]
    snapshot = [list(x) for x in data]
    assert merge_intervals(data) == [(-3.0, -1.0), (0.5, 2.0)]
    assert data == snapshot


def test_reversed_interval_raises_value_error():
    with pytest.raises(ValueError):
        merge_intervals([(1, 2), (5, 4)])


def test_wrong_arity_raises_value_error():
    with pytest.raises(ValueError):
        merge_intervals([(1, 2, 3)])


def test_non_numeric_bounds_raise_type_error():
    with pytest.raises(TypeError):
        merge_intervals([("a", "b")])
    with pytest.raises(TypeError):
        merge_intervals([(True, 3)])


def test_none_input_raises_type_error():
    with pytest.raises(TypeError):
        merge_intervals(None)  # type: ignore[arg-type]
