import pytest

from solution import sliding_window_median


def test_odd_window():
    values = [1, 3, -1, -3, 5, 3, 6, 7]
    assert sliding_window_median(values, 3) == [1, -1, -1, 3, 5, 6]


def test_even_window_averages_middle_pair():
    assert sliding_window_median([1, 2, 3, 4], 2) == [1.5, 2.5, 3.5]


def test_window_of_one_and_full_length():
    assert sliding_window_median([4, 2, 9], 1) == [4.0, 2.0, 9.0]
    assert sliding_window_median((4, 2, 9, 1), 4) == [3.0]


def test_duplicates_are_removed_one_at_a_time():
    assert sliding_window_median([2, 2, 2, 5, 5, 5], 3) == [2, 2, 5, 5]


def test_matches_brute_force():
    values = [((i * 37) % 11) - 5 for i in range(40)]
    for k in (1, 2, 5, 8):
        expected = []
        for i in range(len(values) - k + 1):
            w = sorted(values[i : i + k])
            expected.append(w[k // 2] if k % 2 else (w[k // 2 - 1] + w[k // 2]) / 2)
        assert sliding_window_median(values, k) == expected


def test_window_larger_than_input_raises_value_error():
    with pytest.raises(ValueError):
        sliding_window_median([1, 2], 3)


def test_non_positive_window_raises_value_error():
    with pytest.raises(ValueError):
        sliding_window_median([1, 2], 0)


def test_nan_and_bad_types_raise():
    with pytest.raises(ValueError):
        sliding_window_median([1.0, float("nan")], 1)
    with pytest.raises(TypeError):
        sliding_window_median([1, 2], 1.5)  # type: ignore[arg-type]
