"""Two-way conversion between integers and canonical Roman numerals."""

from __future__ import annotations

_VALUES: tuple[tuple[int, str], ...] = (
    (1000, "M"),
    (900, "CM"),
    (500, "D"),
    (400, "CD"),
    (100, "C"),
    (90, "XC"),
    (50, "L"),
    (40, "XL"),
    (10, "X"),
    (9, "IX"),
    (5, "V"),
    (4, "IV"),
    (1, "I"),
)
_SYMBOLS = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}


def to_roman(number: int) -> str:
    """Return the canonical Roman numeral for ``number`` (1..3999)."""
    if isinstance(number, bool) or not isinstance(number, int):
        raise TypeError(f"number must be int, not {type(number).__name__}")
    if not 1 <= number <= 3999:
        raise ValueError("number must be between 1 and 3999")

    parts: list[str] = []
    remaining = number
    for value, symbol in _VALUES:
        count, remaining = divmod(remaining, value)
        parts.append(symbol * count)
    return "".join(parts)


def from_roman(numeral: str) -> int:
    """Parse a canonical Roman numeral (case-insensitive) into an int."""
    if not isinstance(numeral, str):
        raise TypeError(f"numeral must be str, not {type(numeral).__name__}")
    if not numeral.strip():
        raise ValueError("numeral must not be empty")

    text = numeral.strip().upper()
    unknown = sorted(set(text) - _SYMBOLS.keys())
    if unknown:
        raise ValueError(f"invalid Roman numeral characters: {''.join(unknown)}")

    total = 0
    for index, char in enumerate(text):
        value = _SYMBOLS[char]
        next_value = _SYMBOLS[text[index + 1]] if index + 1 < len(text) else 0
        total += -value if value < next_value else value

    # Additive parsing accepts forms like "IIII" or "IC"; only the canonical
    # spelling round-trips, so use that as the validity check.
    if not 1 <= total <= 3999 or to_roman(total) != text:
        raise ValueError(f"non-canonical Roman numeral: {numeral!r}")
    return total
