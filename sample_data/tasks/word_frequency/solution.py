"""Case-insensitive word counts with stop words and a top-N limit."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z0-9]+)*")


def word_frequency(
    text: str, top: int | None = None, stopwords: Iterable[str] = ()
) -> list[tuple[str, int]]:
    """Return ``(word, count)`` pairs, most frequent first.

    Words are lowercased runs of letters and digits (an inner apostrophe is
    kept, as in "don't"). Ties are broken alphabetically. ``top`` limits the
    number of pairs returned.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be str, not {type(text).__name__}")
    if top is not None and (isinstance(top, bool) or not isinstance(top, int)):
        raise TypeError("top must be an int or None")
    if top is not None and top < 0:
        raise ValueError("top must be >= 0")
    if isinstance(stopwords, str):
        raise TypeError("stopwords must be an iterable of words, not a single str")

    skip = {word.lower() for word in stopwords}
    counts = Counter(w for w in _WORD.findall(text.lower()) if w not in skip)
    ranked = sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))
    return ranked if top is None else ranked[:top]
