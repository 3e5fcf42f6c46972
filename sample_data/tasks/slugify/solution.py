"""Convert free text into URL- and filename-safe slugs."""

from __future__ import annotations

import re
import unicodedata

_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def slugify(text: str, separator: str = "-", max_length: int | None = None) -> str:
    """Return a lowercase ASCII slug for ``text``.

    Accented letters are reduced to their base letter, every run of other
    characters becomes a single ``separator``, and leading/trailing separators
    are removed. When ``max_length`` is given the slug is cut at that length
    and any separator left at the end of the cut is dropped.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be str, not {type(text).__name__}")
    if not isinstance(separator, str):
        raise TypeError("separator must be str")
    if not separator or any(ch.isalnum() for ch in separator):
        raise ValueError("separator must be non-empty and contain no letters or digits")
    if max_length is not None and (isinstance(max_length, bool) or not isinstance(max_length, int)):
        raise TypeError("max_length must be an int or None")
    if max_length is not None and max_length < 0:
        raise ValueError("max_length must be >= 0")

    ascii_text = (
        unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    )
    words = [word for word in _NON_ALNUM.split(ascii_text) if word]
    slug = separator.join(words)
    if max_length is not None and len(slug) > max_length:
        slug = slug[:max_length]
        while slug.endswith(separator):
            slug = slug[: -len(separator)]
    return slug
