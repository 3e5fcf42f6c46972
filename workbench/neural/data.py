"""Datasets from JSON, CSV and NPZ files, and the featurization recipe saved with a model.

Training rows and prediction inputs go through the same ``featurize`` with the same
FeatureSpec (numeric columns standardised, string columns feature-hashed into the rest
of the input), so a model sees its inputs exactly as it saw its training data.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import re
import warnings
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .spec import ModelSpec
from .textfeatures import TextFeatures

TEXT_CHARS = 160
_TOKEN = re.compile(r"\w+", re.UNICODE)


@dataclass
class FeatureSpec:
    """How raw records become the network's input vector (saved with the model).

    Columns ``[0, len(numeric))`` hold standardised numeric fields; string fields are
    hashed (signed, words and word bigrams, L2-normalised) into the remaining columns.
    ``kind`` is "records" (JSON/CSV) or "array" (NPZ: rows are used as given).
    """

    input_size: int
    objective: str = "classification"
    kind: str = "records"
    numeric: list[str] = field(default_factory=list)
    hashed: list[str] = field(default_factory=list)
    mean: list[float] | None = None
    std: list[float] | None = None
    label_column: str = "label"
    label_names: list[str] | None = None
    target_range: list[float] | None = None
    # text models chosen by measurement: n-gram blocks, TF-IDF, keyword scores (fitted on
    # the training rows); None: the older signed word-hashing, kept for older versions
    text: TextFeatures | None = None

    @property
    def feature_names(self) -> list[str]:
        return list(self.numeric) + list(self.hashed)

    def to_dict(self) -> dict[str, Any]:
        return {
            "input_size": self.input_size,
            "objective": self.objective,
            "kind": self.kind,
            "numeric": list(self.numeric),
            "hashed": list(self.hashed),
            "mean": self.mean,
            "std": self.std,
            "label_column": self.label_column,
            "label_names": self.label_names,
            "target_range": self.target_range,
        } | ({"text": self.text.to_dict()} if self.text is not None else {})

    @classmethod
    def from_dict(cls, d: Any, where: str = "feature_spec") -> FeatureSpec:
        """Validate a stored recipe (it may come from an untrusted .clf manifest)."""
        if not isinstance(d, dict):
            raise ValueError(f"{where}: must be an object")
        allowed = set(cls.__dataclass_fields__)
        for k in d:
            if k not in allowed:
                raise ValueError(f"{where}.{k if k.isprintable() else repr(k)}: unknown key")
        size = d.get("input_size")
        if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= 65536:
            raise ValueError(f"{where}.input_size: must be an integer in [1, 65536]")
        kind = d.get("kind", "records")
        if kind not in ("records", "array"):
            raise ValueError(f"{where}.kind: must be records or array, got {kind!r}")
        objective = d.get("objective", "classification")
        if objective not in ("classification", "regression", "reconstruction"):
            raise ValueError(f"{where}.objective: unknown {objective!r}")

        def strlist(key: str, allow_none: bool = False) -> list[str] | None:
            v = d.get(key, None if allow_none else [])
            if v is None and allow_none:
                return None
            if not isinstance(v, list) or not all(isinstance(s, str) for s in v):
                raise ValueError(f"{where}.{key}: must be a list of strings")
            return list(v)

        def numlist(key: str, n: int) -> list[float] | None:
            v = d.get(key)
            if v is None:
                return None
            ok = isinstance(v, list) and len(v) == n
            if not ok or not all(
                isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)
                for x in v
            ):
                raise ValueError(f"{where}.{key}: must be a list of {n} finite numbers")
            return [float(x) for x in v]

        numeric = strlist("numeric") or []
        hashed = strlist("hashed") or []
        if len(numeric) > size or (hashed and len(numeric) >= size):
            raise ValueError(f"{where}: {len(numeric)} numeric features do not fit input {size}")
        label_column = d.get("label_column", "label")
        if not isinstance(label_column, str):
            raise ValueError(f"{where}.label_column: must be a string")
        text = None
        if d.get("text") is not None:
            text = TextFeatures.from_dict(d["text"], f"{where}.text")
            if not hashed or len(numeric) + text.size != size:
                raise ValueError(
                    f"{where}.text: {text.size} text features + {len(numeric)} numeric do not "
                    f"fill input {size}"
                )
        return cls(
            input_size=size,
            objective=objective,
            kind=kind,
            numeric=numeric,
            hashed=hashed,
            mean=numlist("mean", len(numeric)),
            std=numlist("std", len(numeric)),
            label_column=label_column,
            label_names=strlist("label_names", allow_none=True),
            target_range=numlist("target_range", 2),
            text=text,
        )


@dataclass
class Dataset:
    """Encoded rows: X float32 (n, input), y (int32 class ids or float32 targets)."""

    X: np.ndarray
    y: np.ndarray | None
    feature_spec: FeatureSpec
    texts: list[str]
    validation: Dataset | None = None

    @property
    def label_names(self) -> list[str] | None:
        return self.feature_spec.label_names

    @property
    def feature_names(self) -> list[str]:
        return self.feature_spec.feature_names

    def __len__(self) -> int:
        return int(self.X.shape[0])

    def subset(self, idx: np.ndarray) -> Dataset:
        """Rows ``idx`` (no validation part)."""
        y = None if self.y is None else self.y[idx]
        return Dataset(self.X[idx], y, self.feature_spec, [self.texts[i] for i in idx])

    @classmethod
    def from_arrays(
        cls,
        X: Any,
        y: Any,
        spec: ModelSpec,
        *,
        label_names: list[str] | None = None,
        texts: list[str] | None = None,
        validation: tuple[Any, Any] | None = None,
    ) -> Dataset:
        """A dataset from in-memory arrays (tests, benchmarks, pipelines)."""
        return _from_arrays(X, y, spec, label_names, texts, validation, "arrays")


# ---------------------------------------------------------------------- hashing


def _h64(s: str) -> int:
    return int.from_bytes(hashlib.blake2b(s.encode("utf-8"), digest_size=8).digest(), "little")


def _hash_text(out: np.ndarray, key: str, text: str) -> None:
    toks = _TOKEN.findall(text.lower())
    grams = toks + [f"{a} {b}" for a, b in zip(toks, toks[1:], strict=False)]
    space = out.shape[0]
    for g in grams:
        h = _h64(f"{key}\x00{g}")
        out[h % space] += 1.0 if (h >> 63) & 1 else -1.0


# ---------------------------------------------------------------------- records


def _kind_of(v: Any) -> str:
    if v is None:
        return "none"
    if isinstance(v, bool | int | float):
        return "number"
    if isinstance(v, str):
        return "text"
    return "other"


def _row_text(rec: dict[str, Any], label_column: str) -> str:
    parts = []
    for k, v in rec.items():
        if k == label_column or v is None or v == "":
            continue
        parts.append(f"{k}={v}")
    s = ", ".join(parts)
    return s if len(s) <= TEXT_CHARS else s[: TEXT_CHARS - 1] + "…"


def _as_float(v: Any, where: str) -> float:
    if isinstance(v, bool):
        return float(v)
    if isinstance(v, int | float):
        f = float(v)
    elif isinstance(v, str):
        try:
            f = float(v)
        except ValueError:
            raise ValueError(f"{where}: expected a number, got {v!r}") from None
    else:
        raise ValueError(f"{where}: expected a number, got {type(v).__name__}")
    if not math.isfinite(f):
        raise ValueError(f"{where}: expected a finite number, got {v!r}")
    return f


def featurize(records: Any, feature_spec: FeatureSpec, *, where: str = "input") -> np.ndarray:
    """Encode prediction inputs exactly like the training data: (n, input_size) float32.

    ``records``: a dict, a list of dicts (JSON objects or CSV rows with string cells),
    or for array models a list/array of numbers (one row) or rows.
    """
    fs = feature_spec
    if isinstance(records, dict):
        records = [records]
    if isinstance(records, np.ndarray) or (
        isinstance(records, list) and records and not isinstance(records[0], dict)
    ):
        arr = np.asarray(records)
        if arr.dtype == object or not np.issubdtype(arr.dtype, np.number):
            raise ValueError(f"{where}: expected numbers or JSON objects")
        arr = np.atleast_2d(arr.astype(np.float32))
        if arr.ndim != 2 or arr.shape[1] != fs.input_size:
            raise ValueError(f"{where}: rows need {fs.input_size} numbers, got shape {arr.shape}")
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{where}: non-finite values")
        return _standardize(arr.copy(), fs)
    if not isinstance(records, list):
        raise ValueError(f"{where}: expected a JSON object or a list of them")
    if fs.kind == "array":
        names = [f"x{i}" for i in range(fs.input_size)]
        X = np.zeros((len(records), fs.input_size), np.float32)
        for r, rec in enumerate(records):
            if not isinstance(rec, dict):
                raise ValueError(f"{where}[{r}]: expected an object")
            for j, k in enumerate(names):
                if k in rec:
                    X[r, j] = _as_float(rec[k], f"{where}[{r}].{k}")
        return _standardize(X, fs)
    n_num = len(fs.numeric)
    X = np.zeros((len(records), fs.input_size), np.float32)
    for r, rec in enumerate(records):
        if not isinstance(rec, dict):
            raise ValueError(f"{where}[{r}]: expected an object, got {type(rec).__name__}")
        _check_values(rec, f"{where}[{r}]")
        for j, k in enumerate(fs.numeric):
            v = rec.get(k)
            if v is None or v == "":
                X[r, j] = np.nan  # missing: becomes the mean after standardising
            else:
                X[r, j] = _as_float(v, f"{where}[{r}].{k}")
        if fs.hashed and fs.text is None:
            block = X[r, n_num:]
            for k in fs.hashed:
                v = rec.get(k)
                if v is not None and v != "":
                    _hash_text(block, k, str(v))
            norm = float(np.sqrt(np.dot(block, block)))
            if norm > 0:
                block /= norm
    if fs.text is not None:
        texts = [record_text(rec, fs.hashed) for rec in records]
        X[:, n_num : n_num + fs.text.size] = fs.text.transform(texts)
    return _standardize(X, fs)


def record_text(rec: dict[str, Any], fields: list[str]) -> str:
    """A record's text fields joined (in the spec's order): what text features read."""
    return " ".join(str(rec[k]) for k in fields if rec.get(k) is not None and rec.get(k) != "")


def _standardize(X: np.ndarray, fs: FeatureSpec) -> np.ndarray:
    if fs.mean is not None and fs.std is not None:
        k = len(fs.mean)
        X[:, :k] -= np.asarray(fs.mean, np.float32)
        X[:, :k] /= np.asarray(fs.std, np.float32)
    return np.nan_to_num(X, nan=0.0)


def _check_column_name(name: str, where: str) -> None:
    """Column names end up in messages and recipes: no line breaks or control characters."""
    if not name.isprintable():
        raise ValueError(f"{where}: column name {name!r} holds a control character")


def _check_values(rec: dict[str, Any], where: str) -> None:
    for k, v in rec.items():
        _check_column_name(k, where)
        if _kind_of(v) == "other":
            raise ValueError(
                f"{where}.{k}: nested value ({type(v).__name__}) is not supported; "
                "use numbers or strings"
            )


def _labels(
    raw: list[Any], spec: ModelSpec, names: list[str] | None, where: list[str]
) -> tuple[np.ndarray, list[str] | None]:
    """Class ids (classification) or float targets (regression)."""
    if spec.objective == "regression":
        y = np.array([_as_float(v, w) for v, w in zip(raw, where, strict=True)], np.float32)
        return y.reshape(-1, 1), None
    for v, w in zip(raw, where, strict=True):
        if isinstance(v, bool) or not isinstance(v, int | str | np.integer | np.str_):
            raise ValueError(f"{w}: a class label must be a string or an integer, got {v!r}")
        if isinstance(v, str) and not v.strip():
            raise ValueError(f"{w}: empty label")
    if names is None:
        uniq = set(raw)
        if all(isinstance(v, int | np.integer) for v in uniq):
            names = [str(v) for v in sorted(int(v) for v in uniq)]
        else:
            names = sorted({str(v) for v in uniq})
        if len(names) != spec.output_size:
            shown = ", ".join(names[:10]) + (", …" if len(names) > 10 else "")
            raise ValueError(
                f"the data has {len(names)} classes ({shown}) but the output layer has "
                f"{spec.output_size} units; set architecture.layers[-1].size to {len(names)}"
            )
    index = {n: i for i, n in enumerate(names)}
    y = np.empty(len(raw), np.int32)
    for i, (v, w) in enumerate(zip(raw, where, strict=True)):
        s = str(v)
        if s not in index:
            raise ValueError(f"{w}: label {s!r} does not occur in the training labels")
        y[i] = index[s]
    return y, names


def merge_kind(previous: str, kind: str) -> str:
    """A column's kind over all its values: any text makes it text, else any number."""
    if "text" in (kind, previous):
        return "text"
    if "number" in (kind, previous):
        return "number"
    return previous


def split_columns(
    kinds: dict[str, str], size: int, whose: str = "the data"
) -> tuple[list[str], list[str]]:
    """(numeric, hashed text) columns, checked against the input layer's size."""
    numeric = [k for k, kd in kinds.items() if kd in ("number", "none")]
    hashed = [k for k, kd in kinds.items() if kd == "text"]
    if hashed and len(numeric) >= size:
        raise ValueError(
            f"{whose} has {len(numeric)} numeric and {len(hashed)} text fields; the input "
            f"layer ({size}) needs room beyond the numeric ones to hash text into"
        )
    if not hashed and len(numeric) != size:
        raise ValueError(
            f"{whose} has {len(numeric)} numeric features ({', '.join(numeric[:8])}) but "
            f"architecture.layers[0].size is {size}"
        )
    return numeric, hashed


def _records_dataset(
    train: list[dict[str, Any]],
    val: list[dict[str, Any]] | None,
    spec: ModelSpec,
    label_column: str,
    where_train: list[str],
    where_val: list[str],
    kinds: dict[str, str] | None = None,
) -> Dataset:
    """Shared by JSON and CSV: infer column kinds, fit the recipe, encode both parts."""
    need_label = spec.objective != "reconstruction"
    if kinds is None:
        kinds = {}
        for rec, w in zip(train, where_train, strict=True):
            _check_values(rec, w)
            for k, v in rec.items():
                if k == label_column:
                    continue
                kinds[k] = merge_kind(kinds.get(k, "none"), _kind_of(v))
    numeric, hashed = split_columns(kinds, spec.input_size)
    size = spec.input_size
    fs = FeatureSpec(size, spec.objective, "records", numeric, hashed, label_column=label_column)
    for w, rec in zip(where_train, train, strict=True):
        if need_label and label_column not in rec:
            raise ValueError(f"{w}: missing label key {label_column!r}")
    if numeric:
        raw = np.array(
            [[_nan_or(rec.get(k)) for k in numeric] for rec in train], np.float64
        ).reshape(len(train), len(numeric))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # an all-missing column
            mean = np.nan_to_num(np.nanmean(raw, axis=0))
            std = np.sqrt(np.nanmean((raw - mean) ** 2, axis=0))
        std = np.where(np.isfinite(std) & (std > 1e-12), std, 1.0)
        fs.mean = [float(m) for m in mean]
        fs.std = [float(s) for s in std]
    text_cfg = spec.metadata.get("text_features") if isinstance(spec.metadata, dict) else None
    if text_cfg is not None:
        # the recipe chosen by measurement; IDF is learned here, on the training rows only
        tf = TextFeatures.from_dict(text_cfg, "metadata.text_features")
        if not hashed:
            raise ValueError("metadata.text_features: the data has no text field to read")
        if len(numeric) + tf.size != size:
            raise ValueError(
                f"metadata.text_features: {tf.size} text features + {len(numeric)} numeric "
                f"need an input layer of {len(numeric) + tf.size}, the spec has {size}"
            )
        fs.text = tf.fit([record_text(r, hashed) for r in train])
    X = featurize(train, fs, where="trainingData")
    y = None
    if need_label:
        y, names = _labels([r[label_column] for r in train], spec, None, where_train)
        fs.label_names = names
        if spec.objective == "regression":
            fs.target_range = [float(y.min()), float(y.max())]
    texts = [_row_text(r, label_column) for r in train]
    ds = Dataset(X, y, fs, texts)
    if val:
        Xv = featurize(val, fs, where="validationData")
        yv = None
        if need_label:
            for w, rec in zip(where_val, val, strict=True):
                if label_column not in rec:
                    raise ValueError(f"{w}: missing label key {label_column!r}")
            yv, _ = _labels([r[label_column] for r in val], spec, fs.label_names, where_val)
        ds.validation = Dataset(Xv, yv, fs, [_row_text(r, label_column) for r in val])
    return ds


def _nan_or(v: Any) -> float:
    if v is None or v == "":
        return math.nan
    try:
        return float(v)
    except (TypeError, ValueError):
        return math.nan


def _load_json(path: Path, spec: ModelSpec, label_column: str) -> Dataset:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as e:
        raise ValueError(f"{path.name}: not UTF-8 text ({e.reason})") from None
    except json.JSONDecodeError as e:
        raise ValueError(
            f"{path.name}: invalid JSON at line {e.lineno} column {e.colno}: {e.msg}"
        ) from None
    if isinstance(doc, list):
        doc = {"trainingData": doc}
    if not isinstance(doc, dict) or "trainingData" not in doc:
        raise ValueError(f"{path.name}: expected an object with a trainingData list")
    extra = set(doc) - {"trainingData", "validationData", "metadata", "description"}
    if extra:
        raise ValueError(f"{path.name}: unknown key {sorted(extra)[0]!r}")
    parts = []
    for key in ("trainingData", "validationData"):
        rows = doc.get(key)
        if rows is None:
            parts.append(None)
            continue
        if not isinstance(rows, list):
            raise ValueError(f"{key}: must be a list of records")
        for i, r in enumerate(rows):
            if not isinstance(r, dict):
                raise ValueError(f"{key}[{i}]: expected an object, got {type(r).__name__}")
            _check_values(r, f"{key}[{i}]")
        parts.append(rows)
    train, val = parts
    if not train:
        raise ValueError("trainingData: is empty")
    wt = [f"trainingData[{i}]" for i in range(len(train))]
    wv = [f"validationData[{i}]" for i in range(len(val or []))]
    return _records_dataset(train, val, spec, label_column, wt, wv)


def _load_csv(path: Path, spec: ModelSpec, label_column: str) -> Dataset:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as e:
        raise ValueError(f"{path.name}: not UTF-8 text ({e.reason})") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise ValueError(f"{path.name}: empty file (expected a header row)") from None
    except csv.Error as e:
        raise ValueError(f"{path.name} line 1: {e}") from None
    header = [h.strip() for h in header]
    if any(not h for h in header):
        raise ValueError(f"{path.name} line 1: empty column name")
    for name in header:
        _check_column_name(name, f"{path.name} line 1")
    if len(set(header)) != len(header):
        dup = next(h for h in header if header.count(h) > 1)
        raise ValueError(f"{path.name} line 1: duplicate column {dup!r}")
    need_label = spec.objective != "reconstruction"
    if need_label and label_column not in header:
        raise ValueError(
            f"{path.name}: no label column {label_column!r} (columns: {', '.join(header)})"
        )
    rows: list[list[str]] = []
    lines: list[int] = []
    try:
        for row in reader:
            if not row or all(not c.strip() for c in row):
                continue
            if len(row) != len(header):
                raise ValueError(
                    f"{path.name} line {reader.line_num}: expected {len(header)} fields, "
                    f"got {len(row)}"
                )
            rows.append([c.strip() for c in row])
            lines.append(reader.line_num)
    except csv.Error as e:
        raise ValueError(f"{path.name} line {reader.line_num}: {e}") from None
    if not rows:
        raise ValueError(f"{path.name}: no data rows")
    kinds: dict[str, str] = {}
    for j, col in enumerate(header):
        if col == label_column:
            continue
        cells = [r[j] for r in rows if r[j] != ""]
        ok = sum(1 for c in cells if _is_finite_number(c))
        kinds[col] = "number" if cells and ok * 2 > len(cells) else "text"
        if not cells:
            kinds[col] = "number"
        if kinds[col] == "number" and ok != len(cells):
            for r, ln in zip(rows, lines, strict=True):
                if r[j] != "" and not _is_finite_number(r[j]):
                    raise ValueError(
                        f"{path.name} line {ln}, column {col!r}: {r[j]!r} is not a finite "
                        "number (the column is numeric)"
                    )
    li = header.index(label_column) if label_column in header else -1
    records = []
    for r, ln in zip(rows, lines, strict=True):
        rec: dict[str, Any] = {}
        for j, col in enumerate(header):
            if j == li:
                if need_label and r[j] == "":
                    raise ValueError(f"{path.name} line {ln}, column {col!r}: empty label")
                rec[col] = r[j]
            elif kinds[col] == "number":
                rec[col] = float(r[j]) if r[j] != "" else None
            else:
                rec[col] = r[j]
        records.append(rec)
    where = [f"{path.name} line {ln}, column {label_column!r}" for ln in lines]
    # integer-looking class labels sort numerically
    if (
        need_label
        and spec.objective == "classification"
        and all(re.fullmatch(r"-?\d+", rec[label_column]) for rec in records)
    ):
        for rec in records:
            rec[label_column] = int(rec[label_column])
    return _records_dataset(records, None, spec, label_column, where, [], kinds)


def _is_finite_number(s: str) -> bool:
    try:
        return math.isfinite(float(s))
    except ValueError:
        return False


def _npz_arrays(path: Path, max_bytes: int = 1 << 31) -> dict[str, np.ndarray]:
    try:
        with zipfile.ZipFile(path) as zf:
            for info in zf.infolist():
                if info.file_size > max_bytes:
                    raise ValueError(f"{path.name}: member {info.filename} is too large")
    except (zipfile.BadZipFile, NotImplementedError):  # NotImplementedError: zip version
        raise ValueError(f"{path.name}: not an NPZ archive") from None
    out = {}
    try:
        with np.load(path, allow_pickle=False) as z:
            for k in z.files:
                out[k] = z[k]
    except ValueError as e:
        if "allow_pickle" in str(e) or "Object arrays" in str(e):
            raise ValueError(
                f"{path.name}: holds pickled Python objects; refused (arrays must be numeric)"
            ) from None
        raise ValueError(f"{path.name}: unreadable NPZ ({e})") from None
    # NotImplementedError: an unknown compression; RuntimeError: a member flagged encrypted.
    except (
        OSError,
        EOFError,
        zipfile.BadZipFile,
        zlib.error,
        NotImplementedError,
        RuntimeError,
    ) as e:
        raise ValueError(f"{path.name}: unreadable NPZ ({e})") from None
    return out


def _from_arrays(
    X: Any,
    y: Any,
    spec: ModelSpec,
    label_names: list[str] | None,
    texts: list[str] | None,
    validation: tuple[Any, Any] | None,
    where: str,
) -> Dataset:
    X = np.asarray(X)
    if X.dtype == object or not np.issubdtype(X.dtype, np.number) or X.ndim != 2:
        raise ValueError(f"{where}: X must be a 2-D numeric array, got {X.dtype} {X.shape}")
    X = np.ascontiguousarray(X, np.float32)
    if not np.all(np.isfinite(X)):
        bad = int(np.argwhere(~np.isfinite(X))[0][0])
        raise ValueError(f"{where}: X row {bad} holds a non-finite value")
    if X.shape[1] != spec.input_size:
        raise ValueError(
            f"{where}: X has {X.shape[1]} features but architecture.layers[0].size is "
            f"{spec.input_size}"
        )
    fs = FeatureSpec(spec.input_size, spec.objective, "array", label_column="y")
    yy = None
    if spec.objective != "reconstruction":
        if y is None:
            raise ValueError(f"{where}: y is required for {spec.objective}")
        yy = _array_labels(np.asarray(y), X.shape[0], spec, fs, label_names, where)
    texts = texts or [_array_text(i, X[i]) for i in range(X.shape[0])]
    if len(texts) != X.shape[0]:
        raise ValueError(f"{where}: {len(texts)} texts for {X.shape[0]} rows")
    ds = Dataset(X, yy, fs, [t[:TEXT_CHARS] for t in texts])
    if validation is not None:
        Xv, yv = validation
        v = _from_arrays(Xv, yv, spec, fs.label_names, None, None, f"{where} (validation)")
        v.feature_spec = fs
        ds.validation = v
    return ds


def _array_text(i: int, row: np.ndarray) -> str:
    head = ", ".join(f"{v:.3g}" for v in row[:6])
    return f"row {i}: [{head}{', …' if row.shape[0] > 6 else ''}]"


def _array_labels(
    y: np.ndarray,
    n: int,
    spec: ModelSpec,
    fs: FeatureSpec,
    label_names: list[str] | None,
    where: str,
) -> np.ndarray:
    if y.dtype == object:
        raise ValueError(f"{where}: y must not hold Python objects")
    if y.shape[0] != n:
        raise ValueError(f"{where}: y has {y.shape[0]} rows, X has {n}")
    if spec.objective == "regression":
        if not np.issubdtype(y.dtype, np.number):
            raise ValueError(f"{where}: regression targets must be numbers, got {y.dtype}")
        yy = np.ascontiguousarray(y, np.float32).reshape(n, -1)
        if yy.shape[1] != spec.output_size:
            raise ValueError(
                f"{where}: y has {yy.shape[1]} targets per row, the output layer {spec.output_size}"
            )
        if not np.all(np.isfinite(yy)):
            raise ValueError(f"{where}: y holds non-finite values")
        fs.target_range = [float(yy.min()), float(yy.max())]
        return yy
    if y.ndim != 1:
        raise ValueError(f"{where}: class labels must be 1-D, got shape {y.shape}")
    if label_names is None and np.issubdtype(y.dtype, np.integer):
        if y.size and (y.min() < 0 or y.max() >= spec.output_size):
            raise ValueError(
                f"{where}: labels must be in [0, {spec.output_size - 1}] for an output layer "
                f"of {spec.output_size}, got {int(y.min())}..{int(y.max())}"
            )
        fs.label_names = [str(i) for i in range(spec.output_size)]
        return np.ascontiguousarray(y, np.int32)
    if label_names is not None and np.issubdtype(y.dtype, np.integer):
        if len(label_names) != spec.output_size:
            raise ValueError(
                f"{where}: {len(label_names)} label names for an output layer of {spec.output_size}"
            )
        if y.size and (y.min() < 0 or y.max() >= len(label_names)):
            raise ValueError(f"{where}: labels must be in [0, {len(label_names) - 1}]")
        fs.label_names = [str(s) for s in label_names]
        return np.ascontiguousarray(y, np.int32)
    if np.issubdtype(y.dtype, np.str_):
        raw = [str(v) for v in y]
        yy, names = _labels(raw, spec, label_names, [f"{where}: y[{i}]" for i in range(n)])
        fs.label_names = names
        return yy
    raise ValueError(f"{where}: class labels must be integers or strings, got {y.dtype}")


def _load_npz(path: Path, spec: ModelSpec) -> Dataset:
    arrs = _npz_arrays(path)
    allowed = {"X", "y", "X_val", "y_val", "label_names"}
    for k in arrs:
        if k not in allowed:
            raise ValueError(f"{path.name}: unexpected array {k!r} (allowed: X, y, X_val, y_val)")
    if "X" not in arrs:
        raise ValueError(f"{path.name}: missing array 'X'")
    names = None
    if "label_names" in arrs:
        ln = arrs["label_names"]
        if not np.issubdtype(ln.dtype, np.str_) or ln.ndim != 1:
            raise ValueError(f"{path.name}: label_names must be a 1-D string array")
        names = [str(s) for s in ln]
    val = None
    if "X_val" in arrs:
        val = (arrs["X_val"], arrs.get("y_val"))
    return _from_arrays(arrs["X"], arrs.get("y"), spec, names, None, val, path.name)


def load_dataset(path: str | Path, spec: ModelSpec, label_column: str = "label") -> Dataset:
    """Load a JSON, CSV or NPZ training file encoded for ``spec``'s input layer."""
    p = Path(path)
    if not p.is_file():
        raise ValueError(f"data: no such file {p}")
    suffix = p.suffix.lower()
    if suffix == ".json":
        return _load_json(p, spec, label_column)
    if suffix == ".csv":
        return _load_csv(p, spec, label_column)
    if suffix == ".npz":
        return _load_npz(p, spec)
    raise ValueError(f"data: unsupported file type {p.suffix!r} (use .json, .csv or .npz)")


def read_inputs(source: str | Path | Any) -> Any:
    """Prediction inputs from JSON text, a dict/list, or a .json/.csv/.npz file.

    Returns what ``featurize`` accepts: a list of records or a 2-D array.
    """
    if isinstance(source, dict | list | np.ndarray):
        return source
    if isinstance(source, str) and source.lstrip()[:1] in ("{", "["):
        try:
            doc = json.loads(source)
        except json.JSONDecodeError as e:
            raise ValueError(f"input: invalid JSON at column {e.colno}: {e.msg}") from None
        return doc
    p = Path(source)
    if not p.is_file():
        raise ValueError(f"input: not JSON and no such file {p}")
    suffix = p.suffix.lower()
    if suffix == ".npz":
        arrs = _npz_arrays(p)
        if "X" not in arrs:
            raise ValueError(f"{p.name}: missing array 'X'")
        return arrs["X"]
    if suffix == ".csv":
        with p.open(encoding="utf-8-sig", newline="") as f:
            rows = list(csv.DictReader(f))
        for i, r in enumerate(rows):
            if None in r or any(v is None for v in r.values()):
                raise ValueError(f"{p.name} line {i + 2}: wrong number of fields")
        return rows
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ValueError(f"{p.name}: invalid JSON ({e})") from None
    if isinstance(doc, dict) and "trainingData" in doc:
        return doc["trainingData"]
    return doc


def input_texts(records: Any, feature_spec: FeatureSpec) -> list[str]:
    """Short human-readable strings for prediction inputs (same style as training)."""
    if isinstance(records, dict):
        records = [records]
    if isinstance(records, list) and records and isinstance(records[0], dict):
        return [_row_text(r, feature_spec.label_column) for r in records]
    arr = np.atleast_2d(np.asarray(records, dtype=np.float32))
    return [_array_text(i, arr[i]) for i in range(arr.shape[0])]


def data_hash(path: str | Path) -> str:
    """sha256 of the file bytes (links a training run to exactly the data it used)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


__all__ = [
    "Dataset",
    "FeatureSpec",
    "data_hash",
    "featurize",
    "input_texts",
    "load_dataset",
    "read_inputs",
]
