"""The keyword fallback counts word by word; it must count exactly what the plain
definition counts (every key of a pattern: a one-word key found as a word of the text, a
phrase found anywhere in it)."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.patterns import classifier

KEYS = sorted({k for keys in classifier.KEYWORDS.values() for k in keys})


def by_definition(text: str) -> dict[str, int]:
    low = text.lower()
    words = set(re.findall(r"[a-z0-9-]+", low))
    return {
        p: sum(1 for k in keys if (k in low if " " in k else k in words))
        for p, keys in classifier.KEYWORDS.items()
    }


pieces = st.one_of(st.sampled_from(KEYS), st.text(max_size=8), st.sampled_from([" ", "-", ". "]))


@settings(max_examples=300, deadline=None)
@given(st.lists(pieces, max_size=12).map(" ".join))
def test_keyword_scores_match_the_definition(text):
    assert classifier.keyword_scores(text) == by_definition(text)


def test_a_changed_lexicon_is_used(monkeypatch):
    monkeypatch.setattr(classifier, "KEYWORDS", {"convergent": ("zzq", "zzq", "two words")})
    assert classifier.keyword_scores("ZZQ and two words") == {"convergent": 3}
