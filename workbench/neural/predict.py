"""Prediction with reasons: probabilities, nearest stored training examples, advice.

Every number in a Prediction comes from the model or its stored examples: confidence is
the softmax probability, reasoning lists the most similar training rows (cosine on the
encoded features), and recommendations are rules over those numbers.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from workbench.kernels import backend as get_backend

from .artifact import ModelArtifact
from .data import featurize, input_texts

LOW_CONFIDENCE = 0.6
CLOSE_MARGIN = 0.15
FAR_SIMILARITY = 0.3
K_NEIGHBORS = 3


@dataclass
class Neighbor:
    """A stored training example close to the input."""

    text: str
    label: str | float | None
    similarity: float


@dataclass
class Prediction:
    """One input's result (``to_dict`` is the CLI's JSON)."""

    prediction: Any
    confidence: float | None
    reasoning: list[Neighbor]
    recommendations: list[str]
    probabilities: dict[str, float] | None = None
    input: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _neighbors(art: ModelArtifact, X: np.ndarray, k: int) -> list[list[Neighbor]]:
    ex = art.examples
    if ex is None or len(ex) == 0:
        return [[] for _ in range(X.shape[0])]
    E = ex.codes.astype(np.float32)
    En = E / np.maximum(np.linalg.norm(E, axis=1, keepdims=True), 1e-12)
    Xn = X / np.maximum(np.linalg.norm(X, axis=1, keepdims=True), 1e-12)
    sims = Xn @ En.T
    out = []
    names = art.label_names
    for r in range(X.shape[0]):
        order = np.lexsort((np.arange(sims.shape[1]), -sims[r]))[:k]
        row = []
        for j in order:
            lab: str | float | None = None
            if ex.labels is not None:
                v = ex.labels[j]
                lab = names[int(v)] if names is not None else float(v)
            row.append(Neighbor(ex.texts[j], lab, round(float(sims[r, j]), 4)))
        out.append(row)
    return out


def _advise_class(
    probs: np.ndarray, names: list[str], nbrs: list[Neighbor], metrics: dict
) -> list[str]:
    rec = []
    order = np.argsort(-probs, kind="stable")
    top, second = int(order[0]), int(order[1]) if len(order) > 1 else None
    p1 = float(probs[top])
    if p1 < LOW_CONFIDENCE:
        others = names[second] if second is not None else ""
        rec.append(
            f"confidence {p1:.2f} is below {LOW_CONFIDENCE}: consider more training data for "
            f"{names[top]}" + (f" and {others}" if others else "")
        )
    if second is not None and p1 - float(probs[second]) < CLOSE_MARGIN:
        rec.append(
            f"close runner-up: {names[top]} {p1:.2f} vs {names[second]} "
            f"{float(probs[second]):.2f}; add examples that separate them"
        )
    rec += _advise_neighbors(nbrs, names[top])
    va = metrics.get("val_accuracy")
    if isinstance(va, int | float) and va < 0.7:
        rec.append(f"the model's held-out accuracy is {va:.2f}: treat predictions with care")
    return rec


def _advise_neighbors(nbrs: list[Neighbor], pred: str | None) -> list[str]:
    if not nbrs:
        return []
    rec = []
    best = max(n.similarity for n in nbrs)
    if best < FAR_SIMILARITY:
        rec.append(
            f"input is far from all stored training examples (best similarity {best:.2f}): "
            "the prediction is an extrapolation"
        )
    if pred is not None:
        agree = sum(1 for n in nbrs if n.label == pred)
        if agree == 0:
            labs = ", ".join(sorted({str(n.label) for n in nbrs}))
            rec.append(f"the {len(nbrs)} nearest training examples are labelled {labs}, not {pred}")
    return rec


def predict(
    artifact: ModelArtifact,
    inputs: Any,
    *,
    backend: str = "wasm",
    k: int = K_NEIGHBORS,
) -> list[Prediction]:
    """Predict for one record or many (dicts, CSV rows, or numeric rows)."""
    fs = artifact.feature_spec
    X = featurize(inputs, fs)
    texts = input_texts(inputs, fs)
    if X.shape[0] == 0:
        return []
    kb = get_backend(backend)
    out = kb.predict(artifact.mlp(), X)
    nbrs = _neighbors(artifact, X, k)
    obj = artifact.objective
    preds = []
    for r in range(X.shape[0]):
        if obj == "classification":
            names = artifact.label_names or []
            probs = out[r].astype(np.float64)
            top = int(np.argmax(probs))
            preds.append(
                Prediction(
                    prediction=names[top],
                    confidence=round(float(probs[top]), 6),
                    reasoning=nbrs[r],
                    recommendations=_advise_class(probs, names, nbrs[r], artifact.metrics),
                    probabilities={
                        n: round(float(p), 6) for n, p in zip(names, probs, strict=True)
                    },
                    input=texts[r],
                )
            )
        elif obj == "regression":
            val = float(out[r, 0]) if out.shape[1] == 1 else [float(v) for v in out[r]]
            rec = _advise_neighbors(nbrs[r], None)
            rng = fs.target_range
            if rng is not None and isinstance(val, float) and not rng[0] <= val <= rng[1]:
                rec.append(
                    f"prediction {val:.4g} is outside the training target range "
                    f"[{rng[0]:.4g}, {rng[1]:.4g}]"
                )
            preds.append(Prediction(val, None, nbrs[r], rec, None, texts[r]))
        else:
            err = float(np.mean((out[r] - X[r]) ** 2))
            rec = _advise_neighbors(nbrs[r], None)
            vl = artifact.metrics.get("val_loss")
            if isinstance(vl, int | float) and err > 2 * vl:
                rec.append(
                    f"reconstruction error {err:.4g} is over twice the held-out mean {vl:.4g}: "
                    "the input is unlike the training data"
                )
            preds.append(Prediction(round(err, 6), None, nbrs[r], rec, None, texts[r]))
    return preds


@dataclass
class EnsemblePrediction:
    """Averaged class probabilities of several models and how far they agree."""

    prediction: str
    confidence: float
    probabilities: dict[str, float]
    agreement: float
    members: list[dict[str, Any]] = field(default_factory=list)
    recommendations: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def ensemble_mismatch(
    artifacts: Sequence[ModelArtifact], names: Sequence[str], *, inputs: bool = True
) -> str | None:
    """Why these models cannot form an ensemble, in one line, or None when they can:
    every member a classifier with the first one's labels (their probabilities are
    averaged class by class) and, with `inputs`, reading the same input (same kind of
    record, same fields; array models the same width), so one record means the same to
    each member. `ensemble` itself checks the classes only: members may read different
    fields of a record that carries all of them."""
    if not artifacts:
        return None
    first, head = artifacts[0].feature_spec, names[0]
    for a, nm in zip(artifacts, names, strict=True):
        fs = a.feature_spec
        if fs.objective != "classification":
            return f"{nm} is a {fs.objective} model; only classifiers"
        if fs.label_names != first.label_names:
            return f"{nm} has labels {fs.label_names}, {head} has {first.label_names}"
        if not inputs:
            continue
        if fs.kind != first.kind:
            return f"{nm} reads {fs.kind} input, {head} reads {first.kind}"
        if fs.kind == "array" and fs.input_size != first.input_size:
            return f"{nm} reads {fs.input_size} numbers, {head} reads {first.input_size}"
        if fs.kind != "array" and set(fs.feature_names) != set(first.feature_names):
            mine, theirs = sorted(fs.feature_names), sorted(first.feature_names)
            return f"{nm} reads fields {mine}, {head} reads {theirs}"
    return None


def ensemble(
    artifacts: Sequence[ModelArtifact],
    inputs: Any,
    *,
    backend: str = "wasm",
    names: Sequence[str] | None = None,
) -> list[EnsemblePrediction]:
    """Average the class probabilities of classifiers that share label names."""
    if len(artifacts) < 2:
        raise ValueError("ensemble: needs at least two models")
    labels = artifacts[0].label_names
    names = list(names) if names is not None else [a.name for a in artifacts]
    if len(names) != len(artifacts):
        raise ValueError("ensemble: one name per model")
    problem = ensemble_mismatch(artifacts, names, inputs=False)
    if problem is not None:
        raise ValueError(f"ensemble: {problem}")
    kb = get_backend(backend)
    probs = [kb.predict(a.mlp(), featurize(inputs, a.feature_spec)) for a in artifacts]
    assert labels is not None
    mean = np.mean(np.stack(probs).astype(np.float64), axis=0)
    out = []
    for r in range(mean.shape[0]):
        top = int(np.argmax(mean[r]))
        member_top = [int(np.argmax(p[r])) for p in probs]
        agreement = sum(1 for m in member_top if m == top) / len(probs)
        members = [
            {"model": nm, "prediction": labels[m], "confidence": round(float(p[r, m]), 6)}
            for nm, m, p in zip(names, member_top, probs, strict=True)
        ]
        rec = []
        if agreement < 1:
            rec.append(
                f"models disagree: {agreement:.0%} predict {labels[top]}; inspect the dissenters"
            )
        if mean[r, top] < LOW_CONFIDENCE:
            rec.append(f"ensemble confidence {mean[r, top]:.2f} is below {LOW_CONFIDENCE}")
        out.append(
            EnsemblePrediction(
                labels[top],
                round(float(mean[r, top]), 6),
                {n: round(float(p), 6) for n, p in zip(labels, mean[r], strict=True)},
                agreement,
                members,
                rec,
            )
        )
    return out


class ModelCache:
    """LRU of loaded artifacts keyed by (name, version), with hit/miss counts."""

    def __init__(self, maxsize: int = 8) -> None:
        if maxsize < 1:
            raise ValueError(f"maxsize must be >= 1, got {maxsize}")
        self.maxsize = maxsize
        self.hits = 0
        self.misses = 0
        self._items: OrderedDict[Hashable, ModelArtifact] = OrderedDict()
        self._lock = threading.Lock()

    def get(
        self, key: Hashable, loader: Callable[[], ModelArtifact] | None = None
    ) -> ModelArtifact | None:
        """The cached artifact (a hit), else ``loader()`` stored (a miss), else None."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                self.hits += 1
                return self._items[key]
            self.misses += 1
        if loader is None:
            return None
        art = loader()
        self.put(key, art)
        return art

    def put(self, key: Hashable, artifact: ModelArtifact) -> None:
        with self._lock:
            self._items[key] = artifact
            self._items.move_to_end(key)
            while len(self._items) > self.maxsize:
                self._items.popitem(last=False)

    def invalidate(self, name: str | None = None) -> None:
        """Drop every version of ``name`` (keys ``(name, version)``), or everything."""
        with self._lock:
            if name is None:
                self._items.clear()
                return
            for key in [k for k in self._items if isinstance(k, tuple) and k[0] == name]:
                del self._items[key]

    def keys(self) -> list[Hashable]:
        with self._lock:
            return list(self._items)

    def __contains__(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._items

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def stats(self) -> dict[str, int]:
        return {
            "hits": self.hits,
            "misses": self.misses,
            "size": len(self),
            "maxsize": self.maxsize,
        }


__all__ = ["EnsemblePrediction", "ModelCache", "Neighbor", "Prediction", "ensemble", "predict"]
