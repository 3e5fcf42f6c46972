"""FizzBuzz with configurable divisor rules."""

from __future__ import annotations

DEFAULT_RULES: dict[int, str] = {3: "Fizz", 5: "Buzz"}


def fizzbuzz(n: int, rules: dict[int, str] | None = None) -> list[str]:
    """Return the labels for 1..n.

    Each number gets the concatenation of the words whose divisor divides it,
    in ascending divisor order, or the number itself when no rule applies.
    """
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"n must be an int, not {type(n).__name__}")
    if n < 0:
        raise ValueError("n must be >= 0")
    if rules is not None and not isinstance(rules, dict):
        raise TypeError("rules must be a dict or None")
    if rules is not None and any(
        isinstance(d, bool) or not isinstance(d, int) or d <= 0 for d in rules
    ):
        raise ValueError("every divisor must be a positive int")
    if rules is not None and any(
        not isinstance(w, str) or not w for w in rules.values()
    ):
        raise ValueError("every word must be a non-empty str")

    active = DEFAULT_RULES if rules is None else rules
    ordered = sorted(active.items())
    out: list[str] = []
    for number in range(1, n + 1):
        label = "".join(word for divisor, word in ordered if number % divisor == 0)
        out.append(label or str(number))
    return out
