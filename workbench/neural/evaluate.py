"""How good a model is on a file it was not trained on: the one evaluation function.

Rows are encoded exactly as ``predict`` encodes them (``featurize`` with the model's stored
FeatureSpec: its scaling, hashing and label names, never refit on the evaluated file) and
run through the same kernel call, so every figure here is what ``neural predict`` would
give on the same rows. Every "how good" number the product shows (training's held-out
accuracy, quantize before/after, ensembles, federated rounds, continuous-learning gates,
the pattern classifier) is computed by the metric functions of this module.

Classification: accuracy, per-class precision/recall/F1/support, the confusion matrix
(rows: true label, columns: predicted), log loss (probabilities clipped at 1e-15) and
expected calibration error over 10 equal-width confidence bins with the bins themselves.
Regression: MAE, RMSE, R². Reconstruction: mean squared reconstruction error per row and
its distribution. Drift: each numeric feature's mean on the file in training standard
deviations from the training mean, most drifted first.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from workbench.kernels import backend as get_backend

from .artifact import ModelArtifact
from .data import FeatureSpec, _npz_arrays, featurize

ECE_BINS = 10
LOG_LOSS_EPS = 1e-15
MAX_WHERE = 20  # lines listed per kind of problem; the count covers them all
HISTOGRAM_BINS = 10


class EvaluationError(ValueError):
    """The file cannot be evaluated against this model (one line, nothing stored)."""


# ---------------------------------------------------------------------- metrics


def log_loss(probs: np.ndarray, y: np.ndarray) -> float:
    """Mean negative log probability of the true class (clipped at LOG_LOSS_EPS)."""
    if probs.shape[0] == 0:
        return math.nan
    p = np.asarray(probs, np.float64)[np.arange(probs.shape[0]), y]
    return float(-np.log(np.clip(p, LOG_LOSS_EPS, 1.0)).mean())


def accuracy(probs: np.ndarray, y: np.ndarray) -> float | None:
    """Share of rows whose highest-probability class is the true one (first on ties)."""
    if probs.shape[0] == 0:
        return None
    return float((np.argmax(probs, axis=1) == y).mean())


def reliability(probs: np.ndarray, y: np.ndarray, bins: int = ECE_BINS) -> list[dict[str, Any]]:
    """Equal-width confidence bins (i/bins, (i+1)/bins]: rows, mean confidence, accuracy."""
    conf = np.max(probs, axis=1).astype(np.float64)
    correct = np.argmax(probs, axis=1) == y
    idx = np.clip(np.ceil(conf * bins).astype(int) - 1, 0, bins - 1)
    out = []
    for b in range(bins):
        sel = idx == b
        n = int(sel.sum())
        out.append(
            {
                "lower": round(b / bins, 10),
                "upper": round((b + 1) / bins, 10),
                "count": n,
                "confidence": float(conf[sel].mean()) if n else None,
                "accuracy": float(correct[sel].mean()) if n else None,
            }
        )
    return out


def expected_calibration_error(bins: list[dict[str, Any]]) -> float | None:
    """Σ (rows in bin / rows) · |accuracy − mean confidence| over the reliability bins."""
    n = sum(b["count"] for b in bins)
    if n == 0:
        return None
    return float(
        sum(b["count"] / n * abs(b["accuracy"] - b["confidence"]) for b in bins if b["count"])
    )


def confusion_matrix(y: np.ndarray, pred: np.ndarray, k: int) -> np.ndarray:
    """(k, k) counts: row = true class, column = predicted class."""
    cm = np.zeros((k, k), np.int64)
    np.add.at(cm, (y, pred), 1)
    return cm


def classification_metrics(
    probs: np.ndarray, y: np.ndarray, names: Sequence[str]
) -> dict[str, Any]:
    """Every classification figure from class probabilities and true class ids."""
    probs = np.asarray(probs, np.float64)
    y = np.asarray(y, np.int64)
    k = len(names)
    pred = np.argmax(probs, axis=1)
    cm = confusion_matrix(y, pred, k)
    per_class = []
    for i, name in enumerate(names):
        tp = int(cm[i, i])
        predicted = int(cm[:, i].sum())
        support = int(cm[i, :].sum())
        precision = tp / predicted if predicted else None
        recall = tp / support if support else None
        f1 = (
            2 * precision * recall / (precision + recall)
            if precision is not None and recall is not None and precision + recall > 0
            else (0.0 if precision is not None and recall is not None else None)
        )
        per_class.append(
            {
                "label": name,
                "precision": precision,
                "recall": recall,
                "f1": f1,
                "support": support,
                "predicted": predicted,
            }
        )
    bins = reliability(probs, y)
    present = [c for c in per_class if c["support"]]
    f1s = [c["f1"] if c["f1"] is not None else 0.0 for c in present]
    return {
        "rows": int(y.shape[0]),
        "accuracy": accuracy(probs, y),
        "log_loss": log_loss(probs, y),
        "ece": expected_calibration_error(bins),
        "macro_f1": float(np.mean(f1s)) if f1s else None,
        "per_class": per_class,
        "confusion": cm.tolist(),
        "reliability": bins,
    }


def regression_metrics(pred: np.ndarray, target: np.ndarray) -> dict[str, Any]:
    """MAE, RMSE and R² over every output of every row."""
    p = np.asarray(pred, np.float64).reshape(-1)
    t = np.asarray(target, np.float64).reshape(-1)
    err = p - t
    ss_tot = float(((t - t.mean()) ** 2).sum()) if t.size else 0.0
    return {
        "rows": int(np.asarray(target).shape[0]),
        "mae": float(np.abs(err).mean()) if t.size else None,
        "rmse": float(np.sqrt((err * err).mean())) if t.size else None,
        "mse": float((err * err).mean()) if t.size else None,
        "r2": 1.0 - float((err * err).sum()) / ss_tot if ss_tot > 0 else None,
    }


def reconstruction_metrics(errors: np.ndarray, reference: float | None = None) -> dict[str, Any]:
    """Mean per-row reconstruction error, its quantiles and a histogram."""
    e = np.asarray(errors, np.float64)
    if e.size == 0:
        return {"rows": 0, "mean_error": None}
    counts, edges = np.histogram(e, bins=HISTOGRAM_BINS)
    out: dict[str, Any] = {
        "rows": int(e.size),
        "mean_error": float(e.mean()),
        "median_error": float(np.median(e)),
        "p90_error": float(np.quantile(e, 0.9)),
        "p99_error": float(np.quantile(e, 0.99)),
        "max_error": float(e.max()),
        "histogram": [
            {"lower": float(edges[i]), "upper": float(edges[i + 1]), "count": int(counts[i])}
            for i in range(len(counts))
        ],
    }
    if reference is not None and reference > 0:
        out["training_val_error"] = float(reference)
        out["over_twice_training"] = int((e > 2 * reference).sum())
    return out


def loss_and_accuracy(probs_or_out: np.ndarray, y: np.ndarray, objective: str) -> tuple:
    """(loss, accuracy or None) as training reports them: log loss and accuracy for
    classifiers, mean squared error otherwise."""
    if probs_or_out.shape[0] == 0:
        return math.nan, None
    if objective == "classification":
        return log_loss(probs_or_out, y), accuracy(probs_or_out, y)
    out = np.asarray(probs_or_out, np.float64)
    err = out - np.asarray(y, np.float64).reshape(out.shape)
    return float((err * err).mean()), None


# ---------------------------------------------------------------------- reading a file


@dataclass
class EvalRows:
    """Rows to evaluate: what ``featurize`` accepts, the raw labels, where each row is."""

    inputs: Any  # list of records, or a 2-D numeric array
    labels: list[Any] | None
    where: list[str]
    source: str = "data"
    columns: list[str] | None = None  # records: every column the file has
    notes: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.where)


def rows_from_records(
    records: Sequence[dict[str, Any]],
    label_column: str | None,
    *,
    source: str = "data",
    where: Sequence[str] | None = None,
) -> EvalRows:
    """In-memory records (the gates, tests): labels taken from ``label_column``."""
    recs = list(records)
    cols: dict[str, None] = {}
    for r in recs:
        if not isinstance(r, dict):
            raise EvaluationError(f"{source}: expected objects, got {type(r).__name__}")
        cols.update(dict.fromkeys(r))
    labels = None
    if label_column is not None:
        labels = [r.get(label_column) for r in recs]
    return EvalRows(
        recs,
        labels,
        list(where) if where is not None else [f"record {i}" for i in range(len(recs))],
        source,
        list(cols),
    )


def read_file(path: str | Path, label_column: str | None) -> EvalRows:
    """A JSON, CSV or NPZ evaluation file, read like ``predict --input`` reads it."""
    p = Path(path)
    if not p.is_file():
        raise EvaluationError(f"data: no such file {p}")
    suffix = p.suffix.lower()
    if suffix == ".csv":
        return _read_csv(p, label_column)
    if suffix == ".json":
        return _read_json(p, label_column)
    if suffix == ".npz":
        return _read_npz(p)
    raise EvaluationError(f"data: unsupported file type {p.suffix!r} (use .json, .csv or .npz)")


def _read_csv(p: Path, label_column: str | None) -> EvalRows:
    try:
        text = p.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as e:
        raise EvaluationError(f"{p.name}: not UTF-8 text ({e.reason})") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise EvaluationError(f"{p.name}: empty file (expected a header row)") from None
    except csv.Error as e:
        raise EvaluationError(f"{p.name} line 1: {e}") from None
    if len(set(header)) != len(header):
        dup = next(h for h in header if header.count(h) > 1)
        raise EvaluationError(f"{p.name} line 1: duplicate column {dup!r}")
    for h in header:
        if not h.isprintable():
            raise EvaluationError(f"{p.name} line 1: column name {h!r} holds a control character")
    records, where = [], []
    try:
        for row in reader:
            if not row or all(c == "" for c in row):
                continue  # csv.DictReader (predict --input) skips these too
            if len(row) != len(header):
                raise EvaluationError(
                    f"{p.name} line {reader.line_num}: expected {len(header)} fields, "
                    f"got {len(row)}"
                )
            records.append(dict(zip(header, row, strict=True)))
            where.append(f"line {reader.line_num}")
    except csv.Error as e:
        raise EvaluationError(f"{p.name} line {reader.line_num}: {e}") from None
    labels = [r.get(label_column) for r in records] if label_column else None
    return EvalRows(records, labels, where, p.name, list(header))


def _read_json(p: Path, label_column: str | None) -> EvalRows:
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except UnicodeDecodeError as e:
        raise EvaluationError(f"{p.name}: not UTF-8 text ({e.reason})") from None
    except json.JSONDecodeError as e:
        raise EvaluationError(
            f"{p.name}: invalid JSON at line {e.lineno} column {e.colno}: {e.msg}"
        ) from None
    parts: list[tuple[str, Any]]
    if isinstance(doc, list):
        parts = [("record", doc)]
    elif isinstance(doc, dict) and ("trainingData" in doc or "validationData" in doc):
        parts = [(k, doc[k]) for k in ("trainingData", "validationData") if k in doc]
    else:
        raise EvaluationError(
            f"{p.name}: expected a list of records or an object with trainingData/validationData"
        )
    records, where = [], []
    for key, rows in parts:
        if not isinstance(rows, list):
            raise EvaluationError(f"{p.name}: {key} must be a list of records")
        for i, r in enumerate(rows):
            if not isinstance(r, dict):
                raise EvaluationError(
                    f"{p.name}: {key}[{i}] is a {type(r).__name__}, expected an object"
                )
            records.append(r)
            where.append(f"record {i}" if key == "record" else f"{key}[{i}]")
    out = rows_from_records(records, label_column, source=p.name, where=where)
    if len(parts) == 2:
        out.notes.append("evaluated trainingData and validationData together")
    return out


def _read_npz(p: Path) -> EvalRows:
    try:
        arrs = _npz_arrays(p)
    except ValueError as e:
        raise EvaluationError(str(e)) from None
    if "X" not in arrs:
        raise EvaluationError(f"{p.name}: missing array 'X'")
    X = arrs["X"]
    if X.dtype == object or not np.issubdtype(X.dtype, np.number) or X.ndim != 2:
        raise EvaluationError(f"{p.name}: X must be a 2-D numeric array, got {X.dtype} {X.shape}")
    notes = []
    extra = sorted(set(arrs) - {"X", "y", "label_names"})
    if extra:
        notes.append(f"ignored array(s) {', '.join(extra)}")
    labels = None
    if "y" in arrs:
        y = arrs["y"]
        if y.dtype == object or y.shape[:1] != X.shape[:1]:
            raise EvaluationError(f"{p.name}: y must hold one plain value per row of X")
        if "label_names" in arrs and np.issubdtype(y.dtype, np.integer):
            names = [str(s) for s in arrs["label_names"]]
            if y.size and (y.min() < 0 or y.max() >= len(names)):
                raise EvaluationError(f"{p.name}: y indexes past label_names")
            labels = [names[int(v)] for v in y]
        else:
            labels = [v.tolist() for v in y]
    return EvalRows(X, labels, [f"row {i}" for i in range(X.shape[0])], p.name, None, notes)


# ---------------------------------------------------------------------- evaluating


def _label_key(v: Any) -> str | None:
    """A raw label as the model's label names spell it (ints as their decimal string)."""
    if v is None or isinstance(v, bool):
        return None
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    s = str(v).strip() if isinstance(v, str) else str(v)
    return s or None


def _check_columns(rows: EvalRows, fs: FeatureSpec, label_column: str | None) -> list[str]:
    """Missing feature columns are an error; extra columns are ignored and said."""
    if rows.columns is None:
        return []
    features = [f"x{i}" for i in range(fs.input_size)] if fs.kind == "array" else fs.feature_names
    have = set(rows.columns)
    missing = [f for f in features if f not in have]
    if missing:
        shown = ", ".join(missing[:8]) + (", …" if len(missing) > 8 else "")
        raise EvaluationError(
            f"{rows.source}: missing column(s) {shown} that the model was trained on"
        )
    if label_column is not None and label_column not in have:
        raise EvaluationError(
            f"{rows.source}: no label column {label_column!r} "
            f"(columns: {', '.join(rows.columns)}); pass --label COL"
        )
    used = set(features) | ({label_column} if label_column else set())
    extra = [c for c in rows.columns if c not in used]
    if extra:
        shown = ", ".join(extra[:8]) + (", …" if len(extra) > 8 else "")
        return [f"ignored column(s) the model does not use: {shown}"]
    return []


def _missing_features(rows: EvalRows, fs: FeatureSpec) -> list[tuple[str, list[str]]]:
    """(where, features) of rows that lack a feature (predict encodes them as the mean)."""
    if not isinstance(rows.inputs, list) or fs.kind == "array":
        return []
    out = []
    for w, rec in zip(rows.where, rows.inputs, strict=True):
        gone = [k for k in fs.feature_names if rec.get(k) is None or rec.get(k) == ""]
        if gone:
            out.append((w, gone))
    return out


def feature_drift(rows: EvalRows, artifact: ModelArtifact, X: np.ndarray) -> dict[str, Any]:
    """Each numeric feature's shift from the stored training mean, in training SDs."""
    fs = artifact.feature_spec
    feats: list[dict[str, Any]] = []
    note = None
    if fs.kind == "records" and fs.numeric and fs.mean is not None and fs.std is not None:
        for j, name in enumerate(fs.numeric):
            vals = []
            for rec in rows.inputs:
                v = rec.get(name)
                if v is None or v == "":
                    continue
                vals.append(float(v))
            feats.append(_drift_row(name, np.array(vals), fs.mean[j], fs.std[j], len(rows)))
    elif fs.kind == "array":
        stats = artifact.train_info.get("feature_stats")
        if isinstance(stats, dict) and len(stats.get("mean") or []) == fs.input_size:
            for j in range(fs.input_size):
                feats.append(
                    _drift_row(f"x{j}", X[:, j], stats["mean"][j], stats["std"][j], len(rows))
                )
        else:
            note = "this model stores no training statistics for its array features"
    if fs.hashed:
        extra = f"text column(s) {', '.join(fs.hashed)} are hashed: no per-feature shift"
        note = f"{note}; {extra}" if note else extra
    feats.sort(
        key=lambda d: (-abs(d["shift_sd"]) if d["shift_sd"] is not None else 1, d["feature"])
    )
    return {"features": feats, "note": note}


def _drift_row(name: str, vals: np.ndarray, mean: float, std: float, n: int) -> dict[str, Any]:
    std = std if std > 1e-12 else 1.0
    if vals.size == 0:
        return {"feature": name, "shift_sd": None, "spread_ratio": None, "present": 0,
                "missing": n, "train_mean": mean, "mean": None}  # fmt: skip
    v = vals.astype(np.float64)
    return {
        "feature": name,
        "shift_sd": float((v.mean() - mean) / std),
        "spread_ratio": float(v.std() / std),
        "present": int(v.size),
        "missing": int(n - v.size),
        "train_mean": float(mean),
        "mean": float(v.mean()),
    }


def _where_list(items: list[str]) -> list[str]:
    return items[:MAX_WHERE]


def evaluate(
    artifact: ModelArtifact,
    rows: EvalRows,
    *,
    label_column: str | None = None,
    backend: str = "wasm",
    predictions: bool = False,
) -> dict[str, Any]:
    """Measure ``artifact`` on ``rows`` exactly as ``predict`` would see them.

    ``predictions``: also return each row's predicted label (classifiers), for figures
    that compare rows across two models (the continuous-learning forgetting gate).
    Raises EvaluationError (one line) when the rows cannot be evaluated; never writes.
    """
    fs = artifact.feature_spec
    obj = fs.objective
    if len(rows) == 0:
        raise EvaluationError(f"{rows.source}: no data rows")
    if obj == "reconstruction":
        label_column = None
    notes = list(rows.notes) + _check_columns(rows, fs, label_column)
    if obj != "reconstruction" and rows.labels is None:
        raise EvaluationError(f"{rows.source}: no labels (an NPZ file needs a 'y' array)")
    try:
        X = featurize(rows.inputs, fs, where=rows.source)
    except ValueError as e:
        raise EvaluationError(str(e)) from None
    kb = get_backend(backend)
    out = kb.predict(artifact.mlp(), X)
    missing = _missing_features(rows, fs)
    result: dict[str, Any] = {
        "objective": obj,
        "source": rows.source,
        "rows": len(rows),
        "label_column": label_column,
        "notes": notes,
        "missing_feature": {
            "count": len(missing),
            "where": _where_list([f"{w} ({', '.join(f)})" for w, f in missing]),
        },
    }
    if obj == "classification":
        names = list(artifact.label_names or [])
        index = {n: i for i, n in enumerate(names)}
        keep, ids, unknown = [], [], []
        for r, (v, w) in enumerate(zip(rows.labels or [], rows.where, strict=True)):
            key = _label_key(v)
            if key in index:
                keep.append(r)
                ids.append(index[key])
            else:
                unknown.append((w, key))
        if not keep:
            seen = sorted({str(k) for _w, k in unknown})[:5]
            raise EvaluationError(
                f"{rows.source}: no row has a label the model knows "
                f"(the model's: {', '.join(names)}; the file's: {', '.join(seen)})"
            )
        counts = Counter(str(k) for _w, k in unknown)
        result["unknown_label"] = {
            "count": len(unknown),
            "labels": dict(sorted(counts.items())),
            "where": _where_list([f"{w} ({k!r})" for w, k in unknown]),
        }
        y = np.array(ids, np.int64)
        metrics = classification_metrics(out[keep], y, names)
        present = sorted({names[i] for i in ids})
        if len(present) == 1:
            notes.append(
                f"only one class ({present[0]}) in the evaluated rows: precision of the "
                "others and calibration are all this file can show"
            )
        result["labels"] = names
        if predictions:
            result["predictions"] = [names[int(i)] for i in np.argmax(out, axis=1)]
    elif obj == "regression":
        target, bad = [], []
        for v, w in zip(rows.labels or [], rows.where, strict=True):
            try:
                f = float(v)
                if not math.isfinite(f):
                    raise ValueError
                target.append(f)
            except (TypeError, ValueError):
                bad.append(f"{w} ({v!r})")
        if bad:
            raise EvaluationError(
                f"{rows.source}: {len(bad)} row(s) have no numeric target, first {bad[0]}"
            )
        metrics = regression_metrics(out[:, 0] if out.shape[1] == 1 else out, np.array(target))
        rng = fs.target_range
        if rng is not None:
            t = np.array(target)
            metrics["targets_outside_training_range"] = int(((t < rng[0]) | (t > rng[1])).sum())
    else:
        errors = np.mean((out.astype(np.float64) - X.astype(np.float64)) ** 2, axis=1)
        vl = artifact.metrics.get("val_loss")
        metrics = reconstruction_metrics(errors, vl if isinstance(vl, int | float) else None)
    result["evaluated"] = metrics["rows"]
    result["metrics"] = metrics
    result["drift"] = feature_drift(rows, artifact, X)
    return result


def evaluate_file(
    artifact: ModelArtifact,
    path: str | Path,
    *,
    label_column: str | None = None,
    backend: str = "wasm",
) -> dict[str, Any]:
    """``evaluate`` over a JSON, CSV or NPZ file (label column: the model's by default)."""
    obj = artifact.objective
    col = None if obj == "reconstruction" else (label_column or artifact.feature_spec.label_column)
    rows = read_file(path, col)
    return evaluate(artifact, rows, label_column=col, backend=backend)


def probabilities_metrics(
    probs: np.ndarray, labels: Sequence[Any], names: Sequence[str], where: Sequence[str]
) -> dict[str, Any]:
    """Classification figures for precomputed probabilities (an ensemble's average)."""
    index = {n: i for i, n in enumerate(names)}
    keep, ids, unknown = [], [], []
    for r, (v, w) in enumerate(zip(labels, where, strict=True)):
        key = _label_key(v)
        if key in index:
            keep.append(r)
            ids.append(index[key])
        else:
            unknown.append(f"{w} ({key!r})")
    if not keep:
        raise EvaluationError("no row has a label the models know")
    m = classification_metrics(np.asarray(probs)[keep], np.array(ids), list(names))
    m["unknown_label"] = {"count": len(unknown), "where": _where_list(unknown)}
    return m


def evaluate_ensemble(
    artifacts: Sequence[ModelArtifact],
    rows: EvalRows,
    *,
    label_column: str,
    backend: str = "wasm",
) -> dict[str, Any]:
    """An ensemble (mean of the members' class probabilities, as ``ensemble`` averages
    them) measured on labelled rows with the same classification figures."""
    if len(artifacts) < 2:
        raise EvaluationError("an ensemble needs at least two models")
    names = artifacts[0].label_names
    for a in artifacts:
        if a.objective != "classification" or a.label_names != names:
            raise EvaluationError("ensemble members must be classifiers with the same labels")
    if len(rows) == 0:
        raise EvaluationError(f"{rows.source}: no data rows")
    notes = list(rows.notes)
    for a in artifacts:
        notes += [n for n in _check_columns(rows, a.feature_spec, label_column) if n not in notes]
    kb = get_backend(backend)
    try:
        probs = [kb.predict(a.mlp(), featurize(rows.inputs, a.feature_spec)) for a in artifacts]
    except ValueError as e:
        raise EvaluationError(str(e)) from None
    mean = np.mean(np.stack(probs).astype(np.float64), axis=0)
    try:
        metrics = probabilities_metrics(mean, rows.labels or [], list(names or []), rows.where)
    except EvaluationError as e:
        raise EvaluationError(f"{rows.source}: {e}") from None
    unknown = metrics.pop("unknown_label")
    return {
        "objective": "classification",
        "source": rows.source,
        "rows": len(rows),
        "evaluated": metrics["rows"],
        "label_column": label_column,
        "labels": list(names or []),
        "notes": notes,
        "unknown_label": unknown,
        "metrics": metrics,
        "predictions": [(names or [])[int(i)] for i in np.argmax(mean, axis=1)],
    }


__all__ = [
    "ECE_BINS",
    "EvalRows",
    "EvaluationError",
    "accuracy",
    "classification_metrics",
    "confusion_matrix",
    "evaluate",
    "evaluate_ensemble",
    "evaluate_file",
    "expected_calibration_error",
    "feature_drift",
    "log_loss",
    "loss_and_accuracy",
    "probabilities_metrics",
    "read_file",
    "reconstruction_metrics",
    "regression_metrics",
    "reliability",
    "rows_from_records",
]


def evaluate_encoded(
    artifact: ModelArtifact, X: np.ndarray, y: np.ndarray, *, backend: str = "wasm"
) -> dict[str, Any]:
    """The objective's figures on rows that are already encoded (the stored training
    examples, a training split): the same metric functions, no file reading."""
    out = get_backend(backend).predict(artifact.mlp(), np.ascontiguousarray(X, np.float32))
    obj = artifact.objective
    if obj == "classification":
        return classification_metrics(out, np.asarray(y), list(artifact.label_names or []))
    if obj == "regression":
        return regression_metrics(out[:, 0] if out.shape[1] == 1 else out, np.asarray(y))
    errors = np.mean((out.astype(np.float64) - np.asarray(y, np.float64)) ** 2, axis=1)
    return reconstruction_metrics(errors)


def headline_loss(metrics: dict[str, Any]) -> float | None:
    """The loss training reports: log loss for classifiers, mean squared error otherwise."""
    for key in ("log_loss", "mse", "mean_error"):
        if metrics.get(key) is not None:
            return float(metrics[key])
    return None
