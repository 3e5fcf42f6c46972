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
  L2-normalised. The lexicon is stored in the spec, so it is reproduced exactly;
* ``embedding`` (optional, the ``embeddings`` extra): the mean-pooled, L2-normalised
  model2vec sentence vector of the text (`--embedder model2vec:PATH`), so synonyms the
  n-grams cannot see land close. The spec stores the path as given and the model's
  fingerprint (memory/embedder.py's); a version whose model is missing or differs is
  refused in one line, never served with other features. Such a spec is written as
  version 2, so an older workbench refuses it by name.

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

VERSION = 2  # the newest spec this code reads; 2 adds the embedding block
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
    # {"spec": "model2vec:PATH", "fingerprint": hex, "dim": n} or None (no embedding block)
    embedder: dict[str, Any] | None = None
    version: int = 1

    # ------------------------------------------------------------------ shape

    @property
    def hashed_dim(self) -> int:
        return self.word_dim + self.char_dim

    @property
    def size(self) -> int:
        """Input columns this block set fills."""
        keywords = len(self.keywords) if self.keywords else 0
        return self.hashed_dim + keywords + (self.embedder["dim"] if self.embedder else 0)

    @property
    def present(self) -> list[str]:
        """The switched-on blocks and weightings by plain name (what ablation turns off)."""
        hashed = bool(self.hashed_dim)
        on = {
            "words": bool(self.word_dim),
            "chars": bool(self.char_dim),
            "sublinear": hashed and self.sublinear,
            "idf": hashed and self.idf,
            "keywords": bool(self.keywords),
            "embedding": bool(self.embedder),
        }
        return [name for name, is_on in on.items() if is_on]

    @property
    def blocks(self) -> list[str]:
        """The switched-on blocks and weightings, for tables and status lines."""
        label = {
            "words": f"words{self.word_ngrams[0]}-{self.word_ngrams[1]}",
            "chars": f"chars{self.char_ngrams[0]}-{self.char_ngrams[1]}",
        }
        return [label.get(name, name) for name in self.present]

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

    def weigh(
        self, counts: np.ndarray, texts: Sequence[str], embedded: np.ndarray | None = None
    ) -> np.ndarray:
        """The input block (n, size) from raw counts: sublinear TF, IDF, per-block L2,
        then the keyword scores, then the embedding block (`embedded`: the texts' vectors
        when the caller already has them, as cross-validation does)."""
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
        parts = [X]
        if self.keywords:
            K = np.array([keyword_hits(t, self.keywords) for t in texts], np.float32)
            K = K.reshape(len(texts), len(self.keywords))
            norm = np.sqrt((K * K).sum(axis=1, keepdims=True))
            np.divide(K, norm, out=K, where=norm > 0)
            parts.append(K)
        if self.embedder:
            E = self.embed(texts) if embedded is None else np.asarray(embedded, np.float32)
            if E.shape != (len(texts), self.embedder["dim"]):
                raise ValueError(
                    f"text features: embedding block is {E.shape}, expected "
                    f"({len(texts)}, {self.embedder['dim']})"
                )
            parts.append(E)
        return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """The texts' sentence vectors from the stored model, after checking it is the
        same model (its fingerprint) the version was trained with."""
        if not self.embedder:
            raise ValueError("text features: no embedding block")
        return load_embedder(self.embedder["spec"], self.embedder["fingerprint"]).embed(list(texts))

    def transform(self, texts: Sequence[str]) -> np.ndarray:
        """Encode texts with the fitted state (deterministic: same texts, same rows)."""
        return self.weigh(self.counts(texts), texts)

    # ------------------------------------------------------------------ storage

    def to_dict(self) -> dict[str, Any]:
        return {
            # only a spec with an embedding block needs version 2 to be read
            "version": 2 if self.embedder else min(self.version, 1),
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
        } | ({"embedder": dict(self.embedder)} if self.embedder else {})

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
        embedder = _embedder_ref(d.get("embedder"), f"{where}.embedder")
        if word_dim + char_dim == 0 and not keywords and not embedder:
            raise ValueError(
                f"{where}: every block is off (no words, chars, keywords or embedding)"
            )
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
            embedder=embedder,
            version=version,
        )


def _embedder_ref(v: Any, where: str) -> dict[str, Any] | None:
    """A stored embedder reference, validated (kind model2vec, a fingerprint, a dim)."""
    if v is None:
        return None
    ok = isinstance(v, Mapping) and set(v) == {"spec", "fingerprint", "dim"}
    ok = ok and isinstance(v["spec"], str) and v["spec"].startswith("model2vec:")
    ok = (
        ok
        and isinstance(v["fingerprint"], str)
        and re.fullmatch(r"[0-9a-f]{4,64}", v["fingerprint"])
    )
    dim = v.get("dim") if isinstance(v, Mapping) else None
    ok = ok and isinstance(dim, int) and not isinstance(dim, bool) and 1 <= dim <= MAX_DIM
    if not ok:
        raise ValueError(
            f"{where}: must be {{spec: 'model2vec:PATH', fingerprint: hex, dim: 1..{MAX_DIM}}}"
        )
    return {"spec": v["spec"], "fingerprint": v["fingerprint"], "dim": dim}


def fingerprint_of(embedder: Any) -> str:
    """The model fingerprint inside a Model2VecEmbedder's name (model2vec-FP-DIM)."""
    return str(embedder.name).split("-")[1]


_LOADED: dict[tuple[str, str], Any] = {}


def load_embedder(spec: str, fingerprint: str | None = None) -> Any:
    """The model2vec embedder a spec names, checked against the fingerprint stored with a
    version: a missing model or another model is one clear ValueError (never a silent
    prediction from other features). Loaded models are kept per (path, fingerprint)."""
    from workbench.memory.embedder import Model2VecEmbedder

    kind, _, path = spec.partition(":")
    if kind.strip().lower() != "model2vec" or not path:
        raise ValueError(f"text embedding {spec!r}: only model2vec:PATH gives text features")
    key = (path, fingerprint or "")
    if key in _LOADED:
        cached = _LOADED[key]
        # still the same files on disk (a model replaced in place must be caught)
        if cached.path.is_dir() and fingerprint_of(cached) == cached._fingerprint():
            return cached
        _LOADED.pop(key, None)
    try:
        emb = Model2VecEmbedder(path)
    except ValueError as exc:
        if fingerprint is None:
            raise
        raise ValueError(
            f"this model version needs the text embedder {spec} (fingerprint {fingerprint}): {exc}"
        ) from None
    got = fingerprint_of(emb)
    if fingerprint is not None and got != fingerprint:
        raise ValueError(
            f"this model version was trained with text embedder {spec} fingerprint "
            f"{fingerprint}; the model there now has fingerprint {got}: retrain or restore it"
        )
    _LOADED[(path, got)] = emb
    return emb


def embedder_ref(spec: str | None) -> dict[str, Any] | None:
    """The reference a new spec stores for `--embedder` (None: no embedding block; only
    model2vec embedders give one — hashing would repeat the n-gram blocks)."""
    if not spec or spec.strip().partition(":")[0].lower() != "model2vec":
        return None
    emb = load_embedder(spec.strip())
    return {"spec": spec.strip(), "fingerprint": fingerprint_of(emb), "dim": int(emb.dim)}


__all__ = [
    "VERSION",
    "TextFeatures",
    "char_grams",
    "embedder_ref",
    "keyword_hits",
    "load_embedder",
    "word_grams",
]
