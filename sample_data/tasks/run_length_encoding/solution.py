"""Run-length encoding of strings as count+character pairs."""

from __future__ import annotations


def encode(text: str) -> str:
    """Encode ``text`` as ``<count><char>`` pairs, e.g. "aaab" -> "3a1b"."""
    if not isinstance(text, str):
        raise TypeError(f"text must be str, not {type(text).__name__}")
    if any(ch.isdigit() for ch in text):
        raise ValueError(
            "text must not contain digits; the encoding would be ambiguous"
        )

    parts: list[str] = []
    i = 0
    while i < len(text):
        j = i
        while j < len(text) and text[j] == text[i]:
            j += 1
        parts.append(f"{j - i}{text[i]}")
        i = j
    return "".join(parts)


def decode(encoded: str) -> str:
    """Invert :func:`encode`."""
    if not isinstance(encoded, str):
        raise TypeError(f"encoded must be str, not {type(encoded).__name__}")

    out: list[str] = []
    digits = ""
    for ch in encoded:
        if ch.isdigit():
            digits += ch
            continue
        if not digits:
            raise ValueError(f"character {ch!r} has no count")
        count = int(digits)
        if count == 0:
            raise ValueError("counts must be positive")
        out.append(ch * count)
        digits = ""
    if digits:
        raise ValueError("encoded text ends with a dangling count")
    return "".join(out)
