import pytest

from solution import binary_search, insertion_point


def test_finds_present_items():
    items = [1, 3, 5, 7, 9, 11]
    assert [binary_search(items, x) for x in items] == list(range(6))


def test_missing_items_return_minus_one():
    assert binary_search([1, 3, 5], 4) == -1
    assert binary_search([1, 3, 5], 0) == -1
    assert binary_search([1, 3, 5], 6) == -1
    assert binary_search([], 1) == -1


def test_duplicates_return_leftmost_index():
    assert binary_search([2, 2, 2, 3, 3], 3) == 3
    assert binary_search((2, 2, 2), 2) == 0


def test_insertion_point_bounds():
    assert insertion_point([10, 20, 30], 5) == 0
    assert insertion_point([10, 20, 30], 20) == 1
    assert insertion_point([10, 20, 30], 25) == 2
    assert insertion_point([10, 20, 30], 99) == 3


def test_works_on_strings():
    assert binary_search(["apple", "kiwi", "pear"], "kiwi") == 1


def test_unsorted_input_raises_value_error():
    with pytest.raises(ValueError):
        binary_search([3, 1, 2], 1)
    with pytest.raises(ValueError):
        insertion_point([1, 5, 4], 4)


def test_non_sequence_raises_type_error():
    with pytest.raises(TypeError):
        binary_search({1, 2, 3}, 2)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        insertion_point("abc", "b")  # type: ignore[arg-type]
