"""Recipes for text classifiers chosen by k-fold cross-validation on the training split.

Two stages, both measured only on the rows handed in (the caller passes its training
split; held-out rows never come here):

1. features: the full block set (word n-grams, character n-grams, sublinear TF, IDF and,
   when a lexicon is given, keyword scores) against each block switched off, scored with
   the base linear model; a block stays only if switching it off lowered the CV accuracy;
2. models on those features: a linear softmax (one layer) and a one-hidden-layer MLP over
   a small grid of L2 (decoupled weight decay) and width.

Inside every fold the IDF is fitted on that fold's training part only. Ties go to the
simpler choice (fewer blocks, linear before MLP, narrower, stronger L2). The result (the
chosen recipe and the whole CV table) is stored with the model version trained from it.
Training runs on the project's kernels through `neural.train`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from workbench.kernels import backend as get_backend

from .data import Dataset
from .spec import parse_spec
from .textfeatures import TextFeatures
from .train import train

FOLDS = 5
SEED = 7
LEARNING_RATE = 0.01
BATCH_SIZE = 16
EPOCHS = 40
BLOCKS = ("chars", "words", "sublinear", "idf", "keywords")


@dataclass(frozen=True)
class Candidate:
    """A model shape: `hidden` None is the linear softmax."""

    hidden: int | None
    weight_decay: float

    @property
    def label(self) -> str:
        kind = "linear" if self.hidden is None else f"mlp{self.hidden}"
        return f"{kind} l2={self.weight_decay:g}"

    @property
    def complexity(self) -> tuple[int, float]:
        return (0 if self.hidden is None else self.hidden, -self.weight_decay)


BASE = Candidate(None, 0.1)
GRID: tuple[Candidate, ...] = (
    Candidate(None, 0.01),
    Candidate(None, 0.1),
    Candidate(None, 0.5),
    Candidate(32, 0.01),
    Candidate(32, 0.1),
    Candidate(64, 0.01),
    Candidate(64, 0.1),
)


def stratified_folds(labels: Sequence[str], folds: int, seed: int = SEED) -> list[np.ndarray]:
    """Row indices of each fold: every class dealt round-robin after a seeded shuffle."""
    n = len(labels)
    if isinstance(folds, bool) or not isinstance(folds, int) or folds < 2:
        raise ValueError(f"cross-validation: folds must be an integer >= 2, got {folds!r}")
    if n < folds:
        raise ValueError(
            f"cross-validation: {n} rows for {folds} folds (needs at least one row per fold)"
        )
    rng = np.random.default_rng([seed, 11])
    parts: list[list[int]] = [[] for _ in range(folds)]
    k = 0
    for name in sorted(set(labels)):
        idx = [i for i, v in enumerate(labels) if v == name]
        for i in rng.permutation(idx):
            parts[k % folds].append(int(i))
            k += 1
    return [np.sort(np.asarray(p, np.int64)) for p in parts]


def variant(full: TextFeatures, off: Sequence[str]) -> TextFeatures:
    """`full` with the named blocks switched off."""
    return replace(
        full,
        word_dim=0 if "words" in off else full.word_dim,
        char_dim=0 if "chars" in off else full.char_dim,
        sublinear=full.sublinear and "sublinear" not in off,
        idf=full.idf and "idf" not in off,
        keywords=None if "keywords" in off else full.keywords,
    )


def _columns(full: TextFeatures, tf: TextFeatures) -> np.ndarray:
    """Which columns of `full`'s raw counts a variant keeps."""
    cols = []
    if tf.word_dim:
        cols.append(np.arange(full.word_dim))
    if tf.char_dim:
        cols.append(full.word_dim + np.arange(full.char_dim))
    return np.concatenate(cols) if cols else np.zeros(0, np.int64)


def candidate_spec(
    candidate: Candidate,
    input_size: int,
    n_classes: int,
    *,
    name: str = "text-model",
    epochs: int = EPOCHS,
    seed: int = SEED,
    text_features: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The model spec for one candidate (no early stopping: the epochs are fixed, so
    no held-out loss ever picks a weight set)."""
    layers: list[dict[str, Any]] = [{"type": "input", "size": input_size}]
    if candidate.hidden is not None:
        layers.append({"type": "hidden", "size": candidate.hidden, "activation": "relu"})
    layers.append({"type": "output", "size": n_classes, "activation": "softmax"})
    spec: dict[str, Any] = {
        "name": name,
        "architecture": {"type": "feedforward", "layers": layers},
        "training": {
            "learning_rate": LEARNING_RATE,
            "batch_size": BATCH_SIZE,
            "epochs": epochs,
            "optimizer": "adam",
            "validation_split": 0.0,
            "seed": seed,
            "weight_decay": candidate.weight_decay,
        },
    }
    if text_features is not None:
        spec["metadata"] = {"text_features": text_features}
    return spec


def _score(
    full: TextFeatures,
    tf: TextFeatures,
    counts: np.ndarray,
    texts: Sequence[str],
    y: np.ndarray,
    names: list[str],
    folds: list[np.ndarray],
    candidate: Candidate,
    epochs: int,
    backend: str,
) -> list[float]:
    cols = _columns(full, tf)
    sub = counts[:, cols]
    kb = get_backend(backend)
    out = []
    for f, va in enumerate(folds):
        tr = np.sort(np.concatenate([p for j, p in enumerate(folds) if j != f]))
        fitted = tf.fit_counts(sub[tr])  # IDF from this fold's training part only
        Xtr = fitted.weigh(sub[tr], [texts[i] for i in tr])
        Xva = fitted.weigh(sub[va], [texts[i] for i in va])
        spec = parse_spec(candidate_spec(candidate, tf.size, len(names), epochs=epochs))
        ds = Dataset.from_arrays(Xtr, y[tr], spec, label_names=names)
        result = train(spec, ds, backend=backend)
        probs = kb.predict(result.artifact.mlp(), Xva)
        out.append(float(np.mean(np.argmax(probs, axis=1) == y[va])))
    return out


def select(
    texts: Sequence[str],
    labels: Sequence[str],
    full: TextFeatures,
    *,
    folds: int = FOLDS,
    grid: Sequence[Candidate] = GRID,
    base: Candidate = BASE,
    epochs: int = EPOCHS,
    seed: int = SEED,
    backend: str = "wasm",
) -> dict[str, Any]:
    """Choose features then model by k-fold CV on (texts, labels) — the training split.

    Returns the chosen text-feature config (unfitted), candidate, CV accuracy and the
    table of every configuration tried (stage, features, model, mean, std, per fold)."""
    if len(texts) != len(labels):
        raise ValueError("cross-validation: one label per text")
    parts = stratified_folds(list(labels), folds, seed)
    names = sorted(set(labels))
    if len(names) < 2:
        raise ValueError("cross-validation: needs at least two classes")
    y = np.array([names.index(v) for v in labels], np.int32)
    counts = full.counts(texts)
    table: list[dict[str, Any]] = []

    def row(stage: str, tf: TextFeatures, cand: Candidate, accs: list[float]) -> dict[str, Any]:
        r = {
            "stage": stage,
            "features": "+".join(tf.blocks),
            "model": cand.label,
            "cv_accuracy": round(float(np.mean(accs)), 4),
            "cv_std": round(float(np.std(accs)), 4),
            "folds": [round(a, 4) for a in accs],
        }
        table.append(r)
        return r

    memo: dict[tuple[str, Candidate], list[float]] = {}

    def score(tf: TextFeatures, cand: Candidate) -> list[float]:
        key = ("+".join(tf.blocks), cand)
        if key not in memo:
            memo[key] = _score(full, tf, counts, texts, y, names, parts, cand, epochs, backend)
        return memo[key]

    # stage 1: which blocks help (ablation with the base linear model)
    available = [b for b in BLOCKS if b in _present(full)]
    results: list[tuple[float, int, TextFeatures]] = []
    tried: dict[tuple[str, ...], float] = {}

    def trial(off: tuple[str, ...]) -> float:
        tf = variant(full, off)
        if tf.size == 0:
            return -1.0
        if off not in tried:
            accs = score(tf, base)
            row("features", tf, base, accs)
            tried[off] = float(np.mean(accs))
            results.append((tried[off], len(tf.blocks), tf))
        return tried[off]

    full_acc = trial(())
    unhelpful = [b for b in available if trial((b,)) >= full_acc]
    if len(unhelpful) > 1:
        trial(tuple(unhelpful))
    best_acc = max(r[0] for r in results)
    chosen = min((r for r in results if r[0] == best_acc), key=lambda r: r[1])[2]

    # stage 2: which model on those features
    scored: list[tuple[float, Candidate]] = []
    for cand in grid:
        accs = score(chosen, cand)
        row("model", chosen, cand, accs)
        scored.append((float(np.mean(accs)), cand))
    top = max(a for a, _ in scored)
    winner = min((c for a, c in scored if a == top), key=lambda c: c.complexity)
    return {
        "folds": folds,
        "rows": len(texts),
        "features": chosen.blocks,
        "text_features": chosen.config(),
        "model": winner.label,
        "hidden": winner.hidden,
        "weight_decay": winner.weight_decay,
        "epochs": epochs,
        "cv_accuracy": round(top, 4),
        "table": table,
    }


def _present(tf: TextFeatures) -> set[str]:
    have = set()
    if tf.word_dim:
        have.add("words")
    if tf.char_dim:
        have.add("chars")
    if tf.hashed_dim and tf.sublinear:
        have.add("sublinear")
    if tf.hashed_dim and tf.idf:
        have.add("idf")
    if tf.keywords:
        have.add("keywords")
    return have


def recipe_spec(
    selection: dict[str, Any], n_classes: int, *, name: str, seed: int = SEED
) -> dict[str, Any]:
    """The spec that trains the chosen recipe (its text-feature config in metadata)."""
    tf = TextFeatures.from_dict(selection["text_features"], "selection.text_features")
    cand = Candidate(selection["hidden"], float(selection["weight_decay"]))
    return candidate_spec(
        cand, tf.size, n_classes, name=name, epochs=int(selection["epochs"]), seed=seed,
        text_features=selection["text_features"],
    )  # fmt: skip


__all__ = ["BASE", "GRID", "Candidate", "recipe_spec", "select", "stratified_folds", "variant"]
