"""Small dense-matrix helpers on lists of rows."""

from __future__ import annotations

Matrix = list[list[float]]


def shape(matrix: Matrix) -> tuple[int, int]:
    """Return ``(rows, cols)`` after checking the matrix is well formed."""
    if not isinstance(matrix, list) or not all(isinstance(row, list) for row in matrix):
        raise TypeError("matrix must be a list of lists")
    if not matrix or not matrix[0]:
        raise ValueError("matrix must have at least one row and one column")
    if any(len(row) != len(matrix[0]) for row in matrix):
        raise ValueError("matrix rows must all have the same length")
    if any(
        isinstance(x, bool) or not isinstance(x, (int, float))
        for row in matrix
        for x in row
    ):
        raise TypeError("matrix entries must be numbers")
    return len(matrix), len(matrix[0])


def transpose(matrix: Matrix) -> Matrix:
    """Return the transpose of ``matrix`` as a new list of rows."""
    if not isinstance(matrix, list):
        raise TypeError("matrix must be a list of lists")

    shape(matrix)
    return [list(col) for col in zip(*matrix)]


def matmul(a: Matrix, b: Matrix) -> Matrix:
    """Return the product ``a @ b``."""
    if shape(a)[1] != shape(b)[0]:
        raise ValueError(f"cannot multiply {shape(a)} by {shape(b)}")

    columns = list(zip(*b))
    return [[sum(x * y for x, y in zip(row, col)) for col in columns] for row in a]


def identity(n: int) -> Matrix:
    """Return the n x n identity matrix."""
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError("n must be an int")
    if n <= 0:
        raise ValueError("n must be positive")
    return [[1 if i == j else 0 for j in range(n)] for i in range(n)]
