"""Input checks shared by both backends, so both refuse the same inputs the same way."""

from __future__ import annotations

from typing import Any

import numpy as np


def as_f32(x: Any, name: str, ndim: tuple[int, ...] = (2,), finite: bool = True) -> np.ndarray:
    """A C-contiguous float32 array; real numbers only, non-empty, finite if asked."""
    try:
        arr = np.asarray(x)
    except Exception as exc:  # ragged lists and the like
        raise ValueError(f"{name}: cannot be read as an array ({exc})") from None
    if arr.dtype == object or not (
        np.issubdtype(arr.dtype, np.floating)
        or np.issubdtype(arr.dtype, np.integer)
        or arr.dtype == np.bool_
    ):
        raise ValueError(f"{name}: dtype {arr.dtype} is not a real number type")
    if arr.ndim not in ndim:
        want = " or ".join(f"{n}-D" for n in ndim)
        raise ValueError(f"{name}: expected a {want} array, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name}: empty array (shape {arr.shape})")
    with np.errstate(over="ignore", invalid="ignore"):
        arr = np.ascontiguousarray(arr, dtype=np.float32)
    if finite and not np.isfinite(arr).all():
        raise ValueError(f"{name}: contains NaN or inf (or values too large for float32)")
    return arr


def as_i8(x: Any, name: str) -> np.ndarray:
    arr = np.asarray(x)
    if arr.dtype != np.int8:
        raise ValueError(f"{name}: expected int8 codes, got dtype {arr.dtype}")
    if arr.ndim != 2 or arr.size == 0:
        raise ValueError(f"{name}: expected a non-empty 2-D array, got shape {arr.shape}")
    return np.ascontiguousarray(arr)


def check_k(k: Any, rows: int) -> int:
    if isinstance(k, bool) or not isinstance(k, int | np.integer):
        raise ValueError(f"k: expected an integer, got {type(k).__name__}")
    k = int(k)
    if k < 1:
        raise ValueError(f"k: must be at least 1, got {k}")
    if k > rows:
        raise ValueError(f"k: {k} is larger than the number of rows ({rows})")
    return k


def matmul_args(a: Any, b: Any) -> tuple[np.ndarray, np.ndarray]:
    a = as_f32(a, "a", ndim=(1, 2))
    b = as_f32(b, "b", ndim=(1, 2))
    ka = a.shape[-1]
    kb = b.shape[0]
    if ka != kb:
        raise ValueError(f"matmul: shapes {a.shape} and {b.shape} do not multiply ({ka} != {kb})")
    return a, b


def search_args(matrix: np.ndarray, queries: Any, k: Any, dim: int) -> tuple[np.ndarray, int, bool]:
    q = as_f32(queries, "queries", ndim=(1, 2))
    single = q.ndim == 1
    q = q.reshape(1, -1) if single else q
    if q.shape[1] != dim:
        raise ValueError(f"queries: dimension {q.shape[1]} does not match the matrix ({dim})")
    return q, check_k(k, matrix.shape[0]), single
