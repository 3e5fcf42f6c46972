"""A tiny regular-expression engine: literals . * + ? \\ ^ $."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

MAX_PATTERN_LENGTH = 256

# A token is (atom, min_count, max_count); atom is None for "." or a literal char.
Token = tuple[str | None, int, int]
_BOUNDS = {"*": (0, -1), "+": (1, -1), "?": (0, 1)}


def compile_pattern(pattern: str) -> tuple[bool, list[Token], bool]:
    """Return ``(anchored_start, tokens, anchored_end)`` for ``pattern``."""
    if not isinstance(pattern, str):
        raise TypeError(f"pattern must be str, not {type(pattern).__name__}")
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise ValueError(f"pattern longer than {MAX_PATTERN_LENGTH} characters")

    anchored_start = pattern.startswith("^")
    body = pattern[1:] if anchored_start else pattern
    anchored_end = (
        body.endswith("$") and not body.endswith("\\$") or body.endswith("\\\\$")
    )
    if anchored_end:
        body = body[:-1]
    tokens: list[Token] = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch in _BOUNDS:
            raise ValueError(f"quantifier {ch!r} at position {i} has nothing to repeat")
        if ch in "^$":
            raise ValueError(
                f"anchor {ch!r} is only allowed at the pattern edge (escape it)"
            )
        if ch == "\\":
            if i + 1 >= len(body):
                raise ValueError("pattern ends with a lone backslash")
            atom: str | None = body[i + 1]
            i += 2
        else:
            atom = None if ch == "." else ch
            i += 1
        low, high = 1, 1
        if i < len(body) and body[i] in _BOUNDS:
            low, high = _BOUNDS[body[i]]
            i += 1
        tokens.append((atom, low, high))
    return anchored_start, tokens, anchored_end


def _matcher(
    tokens: list[Token], text: str, anchored_end: bool
) -> Callable[[int, int], int]:
    @lru_cache(maxsize=None)
    def match_from(ti: int, pos: int) -> int:
        """Return the end of a match of tokens[ti:] at ``pos``, or -1."""
        if ti == len(tokens):
            return pos if not anchored_end or pos == len(text) else -1
        atom, low, high = tokens[ti]
        limit = len(text) if high == -1 else min(len(text), pos + high)
        end = pos
        while end < limit and (atom is None or text[end] == atom):
            end += 1
        for stop in range(end, pos + low - 1, -1):  # greedy, then back off
            found = match_from(ti + 1, stop)
            if found != -1:
                return found
        return -1

    return match_from


def search(pattern: str, text: str) -> tuple[int, int] | None:
    """Return ``(start, end)`` of the leftmost match of ``pattern`` in ``text``."""
    if not isinstance(text, str):
        raise TypeError(f"text must be str, not {type(text).__name__}")

    anchored_start, tokens, anchored_end = compile_pattern(pattern)
    match_from = _matcher(tokens, text, anchored_end)
    starts = [0] if anchored_start else range(len(text) + 1)
    for start in starts:
        end = match_from(0, start)
        if end != -1:
            return start, end
    return None


def fullmatch(pattern: str, text: str) -> bool:
    """True when ``pattern`` matches the whole of ``text``."""
    if not isinstance(pattern, str) or not isinstance(text, str):
        raise TypeError("pattern and text must be str")
    if pattern.startswith("^") or (
        pattern.endswith("$") and not pattern.endswith("\\$")
    ):
        raise ValueError("fullmatch patterns are implicitly anchored; drop '^' and '$'")

    return search("^" + pattern + "$", text) is not None
