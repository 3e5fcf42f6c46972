"""An immutable, always-normalised rational number."""

from __future__ import annotations

import math
import re

_TEXT = re.compile(r"^\s*([+-]?\d+)\s*(?:/\s*(\d+))?\s*$")


class Rational:
    """``numerator / denominator`` in lowest terms with a positive denominator."""

    __slots__ = ("_num", "_den")

    def __init__(self, numerator: int, denominator: int = 1) -> None:
        if isinstance(numerator, bool) or not isinstance(numerator, int):
            raise TypeError("numerator must be an int")
        if isinstance(denominator, bool) or not isinstance(denominator, int):
            raise TypeError("denominator must be an int")
        if denominator == 0:
            raise ZeroDivisionError("denominator must not be zero")
        common = math.gcd(numerator, denominator)
        sign = -1 if denominator < 0 else 1
        self._num = sign * numerator // common
        self._den = sign * denominator // common

    @classmethod
    def parse(cls, text: str) -> Rational:
        """Parse "n" or "n/d" (whitespace allowed around parts)."""
        if not isinstance(text, str):
            raise TypeError("text must be str")
        if not _TEXT.match(text):
            raise ValueError(f"not a rational: {text!r}")
        match = _TEXT.match(text)
        assert match is not None
        return cls(int(match.group(1)), int(match.group(2) or 1))

    @property
    def numerator(self) -> int:
        return self._num

    @property
    def denominator(self) -> int:
        return self._den

    @staticmethod
    def _coerce(other: object) -> Rational | None:
        if isinstance(other, Rational):
            return other
        if isinstance(other, int) and not isinstance(other, bool):
            return Rational(other)
        return None

    def __add__(self, other: object) -> Rational:
        o = self._coerce(other)
        if o is None:
            return NotImplemented
        return Rational(self._num * o._den + o._num * self._den, self._den * o._den)

    __radd__ = __add__

    def __neg__(self) -> Rational:
        return Rational(-self._num, self._den)

    def __sub__(self, other: object) -> Rational:
        o = self._coerce(other)
        if o is None:
            return NotImplemented
        return self + (-o)

    def __rsub__(self, other: object) -> Rational:
        o = self._coerce(other)
        if o is None:
            return NotImplemented
        return o - self

    def __mul__(self, other: object) -> Rational:
        o = self._coerce(other)
        if o is None:
            return NotImplemented
        return Rational(self._num * o._num, self._den * o._den)

    __rmul__ = __mul__

    def __truediv__(self, other: object) -> Rational:
        o = self._coerce(other)
        if o is None:
            return NotImplemented
        if o._num == 0:
            raise ZeroDivisionError("division by zero rational")
        return Rational(self._num * o._den, self._den * o._num)

    def __rtruediv__(self, other: object) -> Rational:
        o = self._coerce(other)
        if o is None:
            return NotImplemented
        return o / self

    def __eq__(self, other: object) -> bool:
        o = self._coerce(other)
        if o is None:
            return NotImplemented
        return (self._num, self._den) == (o._num, o._den)

    def __lt__(self, other: object) -> bool:
        o = self._coerce(other)
        if o is None:
            return NotImplemented
        return self._num * o._den < o._num * self._den

    def __le__(self, other: object) -> bool:
        o = self._coerce(other)
        if o is None:
            return NotImplemented
        return self._num * o._den <= o._num * self._den

    def __gt__(self, other: object) -> bool:
        o = self._coerce(other)
        if o is None:
            return NotImplemented
        return o < self

    def __ge__(self, other: object) -> bool:
        o = self._coerce(other)
        if o is None:
            return NotImplemented
        return o <= self

    def __hash__(self) -> int:
        return hash(self._num) if self._den == 1 else hash((self._num, self._den))

    def __float__(self) -> float:
        return self._num / self._den

    def __repr__(self) -> str:
        return f"Rational({self._num}, {self._den})"

    def __str__(self) -> str:
        return str(self._num) if self._den == 1 else f"{self._num}/{self._den}"
