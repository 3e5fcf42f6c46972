"""Merge overlapping closed intervals."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from numbers import Real

Interval = tuple[float, float]


def _check_interval(item: object, index: int) -> Interval:
    if not isinstance(item, Sequence) or isinstance(item, str | bytes):
        raise TypeError(f"interval {index} must be a (start, end) pair")
    if len(item) != 2:
        raise ValueError(f"interval {index} must have exactly two elements")
    if any(isinstance(bound, bool) or not isinstance(bound, Real) for bound in item):
        raise TypeError(f"interval {index} has a non-numeric bound: {item!r}")
    if item[0] > item[1]:
        raise ValueError(f"interval {index} has start > end: {item!r}")
    return (item[0], item[1])


def merge_intervals(intervals: Iterable[Sequence[float]]) -> list[Interval]:
    """Return disjoint intervals covering the same points, sorted by start.

    Intervals are closed, so ``(1, 3)`` and ``(3, 5)`` merge into ``(1, 5)``.
    The input is not modified; the result is a new list of tuples.
    """
    if intervals is None:
        raise TypeError("intervals must be an iterable of pairs, not None")
    checked = [_check_interval(item, i) for i, item in enumerate(intervals)]
    if not checked:
        return []

    checked.sort()
    merged: list[Interval] = [checked[0]]
    for start, end in checked[1:]:
        last_start, last_end = merged[-1]
        if start <= last_end:
            merged[-1] = (last_start, max(last_end, end))
        else:
            merged.append((start, end))
    return merged
