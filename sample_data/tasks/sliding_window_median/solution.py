"""Medians of all windows of size k."""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence


def sliding_window_median(values: Sequence[float], k: int) -> list[float]:
    """Return the median of ``values[i:i+k]`` for every valid ``i``.

    Even-sized windows give the mean of the two middle values. The window is
    kept sorted and updated with one insertion and one removal per step.
    """
    if not isinstance(values, (list, tuple)):
        raise TypeError("values must be a list or tuple")
    if isinstance(k, bool) or not isinstance(k, int):
        raise TypeError("k must be an int")
    if k < 1:
        raise ValueError("k must be >= 1")
    if k > len(values):
        raise ValueError("k must not exceed the number of values")
    if any(isinstance(v, bool) or not isinstance(v, (int, float)) for v in values):
        raise TypeError("values must be numbers")
    if any(math.isnan(v) for v in values):
        raise ValueError("values must not contain NaN")

    window = sorted(values[:k])
    mid = k // 2

    def median() -> float:
        if k % 2:
            return float(window[mid])
        return (window[mid - 1] + window[mid]) / 2

    result = [median()]
    for i in range(k, len(values)):
        del window[bisect.bisect_left(window, values[i - k])]
        bisect.insort(window, values[i])
        result.append(median())
    return result
