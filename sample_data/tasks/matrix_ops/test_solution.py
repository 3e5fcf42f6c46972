import pytest

from solution import identity, matmul, shape, transpose


def test_transpose_rectangular():
    assert transpose([[1, 2, 3], [4, 5, 6]]) == [[1, 4], [2, 5], [3, 6]]


def test_transpose_does_not_alias_input():
    m = [[1, 2], [3, 4]]
    t = transpose(m)
    t[0][0] = 99
    assert m == [[1, 2], [3, 4]]


def test_matmul_known_product():
    a = [[1, 2], [3, 4], [5, 6]]
    b = [[7, 8, 9], [10, 11, 12]]
    assert matmul(a, b) == [[27, 30, 33], [61, 68, 75], [95, 106, 117]]


def test_identity_is_neutral():
    m = [[2.5, -1], [0, 3]]
    assert matmul(identity(2), m) == m
    assert matmul(m, identity(2)) == m
    assert shape(identity(3)) == (3, 3)


def test_shape_mismatch_raises_value_error():
    with pytest.raises(ValueError):
        matmul([[1, 2, 3]], [[1], [2]])


def test_ragged_or_empty_matrix_raises_value_error():
    with pytest.raises(ValueError):
        transpose([[1, 2], [3]])
    with pytest.raises(ValueError):
        shape([])


def test_non_numeric_entries_raise_type_error():
    with pytest.raises(TypeError):
        matmul([["1"]], [[1]])
    with pytest.raises(TypeError):
        transpose("ab")  # type: ignore[arg-type]


def test_identity_rejects_bad_size():
    with pytest.raises(ValueError):
        identity(0)
    with pytest.raises(TypeError):
        identity(2.0)  # type: ignore[arg-type]
