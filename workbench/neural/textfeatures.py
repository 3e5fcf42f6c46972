"""Text features for short texts: word and character n-grams, TF-IDF, keyword scores.

A text model's input is built from blocks, each switched on or off by measurement
(`neural/selection.py` keeps only the blocks k-fold cross-validation on the training split
shows help):

* ``words``: word 1-2-grams hashed (crc32, unsigned) into ``word_dim`` buckets;
* ``chars``: character 3-5-grams inside each space-padded word (robust to wording and
  typos on short texts) hashed into ``char_dim`` buckets;
* weighting: term counts, optionally sublinear (1 + ln tf) and multiplied by an IDF
  learned on the TRAINING rows only — a bucket no training row holds has no IDF entry
  and contributes nothing at prediction time (its weights never learned anything);
  each hashed block is then L2-normalised on its own;
* ``keywords``: a keyword lexicon's per-class hit counts (the pattern fallback's words),
  L2-normalised. The lexicon is stored in the spec, so it is reproduced exactly.

Everything a prediction needs (sizes, n-gram ranges, flags, the IDF entries, the lexicon)
is in ``TextFeatures.to_dict()``, saved with every model version inside its FeatureSpec.
A spec written by a newer workbench (``version`` above ``VERSION``) is refused by name.
"""

from __future__ import annotations

import math
import re
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

VERSION = 1
MAX_DIM = 1 << 15
_WORD = re.compile(r"\w+", re.UNICODE)
_KEYWORD_WORD = re.compile(r"[a-z0-9-]+")


def _bucket(prefix: bytes, gram: str, dim: int) -> int:
    return zlib.crc32(prefix + gram.encode("utf-8")) % dim


def word_grams(text: str, lo: int = 1, hi: int = 2) -> list[str]:
    """Word n-grams (lowercased ``\\w+`` tokens, n in [lo, hi]) in text order."""
    toks = _WORD.findall(text.lower())
    out: list[str] = []
    for n in range(lo, hi + 1):
        out += [" ".join(toks[i : i + n]) for i in range(len(toks) - n + 1)]
    return out


def char_grams(text: str, lo: int = 3, hi: int = 5) -> list[str]:
    """Character n-grams within each word padded by one space on each side."""
    out: list[str] = []
    for tok in _WORD.findall(text.lower()):
        w = f" {tok} "
        for n in range(lo, hi + 1):
            out += [w[i : i + n] for i in range(len(w) - n + 1)]
    return out


def keyword_hits(text: str, keywords: Mapping[str, Sequence[str]]) -> list[int]:
    """Per class (in sorted class order, so a stored spec's key order never matters) how
    many of its keywords occur: a phrase as a substring, a single word as a whole word
    (the pattern fallback's rule)."""
    low = text.lower()
    words = set(_KEYWORD_WORD.findall(low))
    return [
        sum(1 for k in keywords[c] if (k in low if " " in k else k in words))
        for c in sorted(keywords)
    ]


@dataclass
class TextFeatures:
    """The text part of a FeatureSpec: which blocks, their sizes and the fitted IDF."""

    word_dim: int = 1024
    char_dim: int = 2048
    word_ngrams: tuple[int, int] = (1, 2)
    char_ngrams: tuple[int, int] = (3, 5)
    sublinear: bool = True
    idf: bool = True
    keywords: dict[str, list[str]] | None = None
    idf_index: list[int] = field(default_factory=list)
    idf_value: list[float] = field(default_factory=list)
    fitted_rows: int = 0
    version: int = VERSION

    # ------------------------------------------------------------------ shape

    @property
    def hashed_dim(self) -> int:
        return self.word_dim + self.char_dim

    @property
    def size(self) -> int:
        """Input columns this block set fills."""
        return self.hashed_dim + (len(self.keywords) if self.keywords else 0)

    @property
    def blocks(self) -> list[str]:
        """The switched-on blocks and weightings, for tables and status lines."""
        out = []
        if self.word_dim:
            out.append(f"words{self.word_ngrams[0]}-{self.word_ngrams[1]}")
        if self.char_dim:
            out.append(f"chars{self.char_ngrams[0]}-{self.char_ngrams[1]}")
        if self.hashed_dim and self.sublinear:
            out.append("sublinear")
        if self.hashed_dim and self.idf:
            out.append("idf")
        if self.keywords:
            out.append("keywords")
        return out

    def idf_map(self) -> dict[int, float]:
        return dict(zip(self.idf_index, self.idf_value, strict=True))

    # ------------------------------------------------------------------ encoding

    def counts(self, texts: Sequence[str]) -> np.ndarray:
        """Raw n-gram counts per hashed bucket, shape (n, word_dim + char_dim) float32.
        Independent of any fitted state, so cross-validation computes it once."""
        X = np.zeros((len(texts), self.hashed_dim), np.float32)
        rows: list[int] = []
        cols: list[int] = []
        for r, text in enumerate(texts):
            if self.word_dim:
                lo, hi = self.word_ngrams
                for g in word_grams(text, lo, hi):
                    rows.append(r)
                    cols.append(_bucket(b"w\0", g, self.word_dim))
            if self.char_dim:
                lo, hi = self.char_ngrams
                for g in char_grams(text, lo, hi):
                    rows.append(r)
                    cols.append(self.word_dim + _bucket(b"c\0", g, self.char_dim))
        if rows:
            np.add.at(X, (np.asarray(rows), np.asarray(cols)), 1.0)
        return X

    def fit_counts(self, counts: np.ndarray) -> TextFeatures:
        """A copy with the IDF learned from these rows' counts (smoothed:
        ln((1 + n) / (1 + df)) + 1), kept only for buckets some row holds."""
        n = int(counts.shape[0])
        if not self.idf or not self.hashed_dim:
            return replace(self, idf_index=[], idf_value=[], fitted_rows=n)
        df = (counts > 0).sum(axis=0)
        index = np.flatnonzero(df)
        value = np.log((1.0 + n) / (1.0 + df[index])) + 1.0
        return replace(
            self,
            idf_index=[int(i) for i in index],
            idf_value=[round(float(v), 6) for v in value],
            fitted_rows=n,
        )

    def fit(self, texts: Sequence[str]) -> TextFeatures:
        """A copy fitted on `texts` (the training rows; never held-out ones)."""
        return self.fit_counts(self.counts(texts))

    def weigh(self, counts: np.ndarray, texts: Sequence[str]) -> np.ndarray:
        """The input block (n, size) from raw counts: sublinear TF, IDF, per-block L2,
        then the keyword scores."""
        X = np.array(counts, np.float32, copy=True)
        if self.sublinear:
            nz = X > 0
            X[nz] = 1.0 + np.log(X[nz])
        if self.idf:
            w = np.zeros(self.hashed_dim, np.float32)
            if self.idf_index:
                w[np.asarray(self.idf_index)] = np.asarray(self.idf_value, np.float32)
            X *= w[None, :]
        for lo, hi in ((0, self.word_dim), (self.word_dim, self.hashed_dim)):
            if hi > lo:
                block = X[:, lo:hi]
                norm = np.sqrt((block * block).sum(axis=1, keepdims=True))
                np.divide(block, norm, out=block, where=norm > 0)
        if not self.keywords:
            return X
        K = np.array([keyword_hits(t, self.keywords) for t in texts], np.float32)
        K = K.reshape(len(texts), len(self.keywords))
        norm = np.sqrt((K * K).sum(axis=1, keepdims=True))
        np.divide(K, norm, out=K, where=norm > 0)
        return np.concatenate([X, K], axis=1)

    def transform(self, texts: Sequence[str]) -> np.ndarray:
        """Encode texts with the fitted state (deterministic: same texts, same rows)."""
        return self.weigh(self.counts(texts), texts)

    # ------------------------------------------------------------------ storage

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "word_dim": self.word_dim,
            "char_dim": self.char_dim,
            "word_ngrams": list(self.word_ngrams),
            "char_ngrams": list(self.char_ngrams),
            "sublinear": self.sublinear,
            "idf": self.idf,
            "keywords": self.keywords,
            "idf_index": list(self.idf_index),
            "idf_value": list(self.idf_value),
            "fitted_rows": self.fitted_rows,
        }

    def config(self) -> dict[str, Any]:
        """The unfitted recipe (what a model spec's metadata carries)."""
        d = self.to_dict()
        for k in ("idf_index", "idf_value", "fitted_rows"):
            d.pop(k)
        return d

    @classmethod
    def from_dict(cls, d: Any, where: str = "text_features") -> TextFeatures:
        """Validate a stored spec (it may come from an untrusted .clf manifest)."""
        if not isinstance(d, Mapping):
            raise ValueError(f"{where}: must be an object")
        allowed = set(cls.__dataclass_fields__)
        for k in d:
            if k not in allowed:
                raise ValueError(f"{where}.{k if str(k).isprintable() else repr(k)}: unknown key")
        version = d.get("version", VERSION)
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise ValueError(f"{where}.version: must be a positive integer")
        if version > VERSION:
            raise ValueError(
                f"{where}.version: {version} was written by a newer workbench (this one reads "
                f"up to {VERSION}); upgrade to use this model"
            )

        def dim(key: str, default: int) -> int:
            v = d.get(key, default)
            if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= MAX_DIM:
                raise ValueError(f"{where}.{key}: must be an integer in [0, {MAX_DIM}]")
            return v

        def grams(key: str, default: tuple[int, int]) -> tuple[int, int]:
            v = d.get(key, list(default))
            ok = isinstance(v, list | tuple) and len(v) == 2
            ok = ok and all(isinstance(x, int) and not isinstance(x, bool) for x in v)
            if not ok or not 1 <= v[0] <= v[1] <= 8:
                raise ValueError(f"{where}.{key}: must be [lo, hi] with 1 <= lo <= hi <= 8")
            return int(v[0]), int(v[1])

        def flag(key: str, default: bool) -> bool:
            v = d.get(key, default)
            if not isinstance(v, bool):
                raise ValueError(f"{where}.{key}: must be true or false")
            return v

        word_dim, char_dim = dim("word_dim", 1024), dim("char_dim", 2048)
        keywords = d.get("keywords")
        if keywords is not None:
            ok = (
                isinstance(keywords, Mapping)
                and keywords
                and all(
                    isinstance(k, str)
                    and isinstance(v, list)
                    and all(isinstance(s, str) for s in v)
                    for k, v in keywords.items()
                )
            )
            if not ok:
                raise ValueError(f"{where}.keywords: must map class names to lists of words")
            keywords = {k: list(v) for k, v in keywords.items()}
        if word_dim + char_dim == 0 and not keywords:
            raise ValueError(f"{where}: every block is off (no words, chars or keywords)")
        index, value = d.get("idf_index", []), d.get("idf_value", [])
        if not isinstance(index, list) or not isinstance(value, list) or len(index) != len(value):
            raise ValueError(f"{where}.idf_index/idf_value: must be lists of the same length")
        hashed = word_dim + char_dim
        if not all(
            isinstance(i, int) and not isinstance(i, bool) and 0 <= i < hashed for i in index
        ):
            raise ValueError(f"{where}.idf_index: entries must be integers in [0, {hashed})")
        if not all(
            isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) and v > 0
            for v in value
        ):
            raise ValueError(f"{where}.idf_value: entries must be positive finite numbers")
        rows = d.get("fitted_rows", 0)
        if isinstance(rows, bool) or not isinstance(rows, int) or rows < 0:
            raise ValueError(f"{where}.fitted_rows: must be a non-negative integer")
        return cls(
            word_dim=word_dim,
            char_dim=char_dim,
            word_ngrams=grams("word_ngrams", (1, 2)),
            char_ngrams=grams("char_ngrams", (3, 5)),
            sublinear=flag("sublinear", True),
            idf=flag("idf", True),
            keywords=keywords,
            idf_index=[int(i) for i in index],
            idf_value=[float(v) for v in value],
            fitted_rows=rows,
            version=version,
        )


__all__ = ["VERSION", "TextFeatures", "char_grams", "keyword_hits", "word_grams"]
