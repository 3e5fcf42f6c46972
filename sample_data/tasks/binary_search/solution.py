"""Leftmost binary search over a sorted sequence."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def insertion_point(items: Sequence[Any], target: Any) -> int:
    """Return the first index at which ``target`` could be inserted keeping order."""
    if not isinstance(items, (list, tuple)):
        raise TypeError("items must be a list or tuple")
    if any(items[i] > items[i + 1] for i in range(len(items) - 1)):
        raise ValueError("items must be sorted in ascending order")

    lo, hi = 0, len(items)
    while lo < hi:
        mid = (lo + hi) // 2
        if items[mid] < target:
            lo = mid + 1
        else:
            hi = mid
    return lo


def binary_search(items: Sequence[Any], target: Any) -> int:
    """Return the index of the first occurrence of ``target``, or -1."""
    if not isinstance(items, (list, tuple)):
        raise TypeError("items must be a list or tuple")

    index = insertion_point(items, target)
    if index < len(items) and items[index] == target:
        return index
    return -1
