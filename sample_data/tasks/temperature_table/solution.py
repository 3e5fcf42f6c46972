"""Celsius/Fahrenheit conversion tables."""

from __future__ import annotations

import math

ABSOLUTE_ZERO = {"C": -273.15, "F": -459.67}


def convert(value: float, scale: str) -> float:
    """Convert ``value`` from ``scale`` ("C" or "F") to the other scale."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError("value must be a number")
    if scale not in ABSOLUTE_ZERO:
        raise ValueError("scale must be 'C' or 'F'")
    if not math.isfinite(value) or value < ABSOLUTE_ZERO[scale]:
        raise ValueError(f"{value} is not a physical temperature in {scale}")
    if scale == "C":
        return value * 9 / 5 + 32
    return (value - 32) * 5 / 9


def temperature_table(
    start: float, stop: float, step: float, scale: str = "C"
) -> list[tuple[float, float]]:
    """Return ``(value, converted)`` rows for start, start+step, ... <= stop."""
    if any(
        isinstance(x, bool) or not isinstance(x, (int, float))
        for x in (start, stop, step)
    ):
        raise TypeError("start, stop and step must be numbers")
    if not all(math.isfinite(x) for x in (start, stop, step)):
        raise ValueError("start, stop and step must be finite")
    if step <= 0:
        raise ValueError("step must be positive")
    if start > stop:
        raise ValueError("start must be <= stop")

    count = math.floor((stop - start) / step + 1e-9) + 1
    rows: list[tuple[float, float]] = []
    for i in range(count):
        value = start + i * step
        rows.append((round(value, 2), round(convert(value, scale), 2)))
    return rows
