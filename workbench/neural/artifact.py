"""A trained model as data: spec, featurization recipe, weights, metrics, a few examples.

Serialised as (JSON metadata, named numpy arrays) — inside one npz for a store BLOB, or
as ``manifest.json`` + ``weights.npz`` in a .clf file. Never pickle. ``from_parts``
validates everything, because a .clf may come from anyone.
"""

from __future__ import annotations

import io
import json
import math
import zipfile
import zlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from workbench.kernels import MLP

from .data import FeatureSpec
from .spec import ModelSpec, parse_spec

FORMAT = "workbench-model"
FORMAT_VERSION = 1
MAX_EXAMPLES = 500
META_KEY = "__meta__"
MAX_ARRAY_BYTES = 256 << 20


@dataclass
class Examples:
    """A bounded sample of training rows kept for "nearest training examples" reasoning.

    Rows are int8 codes with per-row scales (cosine similarity ignores the scale).
    ``labels``: class ids (int32), targets (float32) or None for reconstruction.
    """

    codes: np.ndarray
    scales: np.ndarray
    labels: np.ndarray | None
    texts: list[str]

    def __len__(self) -> int:
        return int(self.codes.shape[0])


@dataclass
class ModelArtifact:
    """Everything needed to predict with, explain, store and export a trained model."""

    spec: dict[str, Any]
    feature_spec: FeatureSpec
    weights: list[np.ndarray]
    biases: list[np.ndarray]
    metrics: dict[str, Any] = field(default_factory=dict)
    examples: Examples | None = None
    train_info: dict[str, Any] = field(default_factory=dict)
    quantized: list[tuple[np.ndarray, np.ndarray]] | None = None

    # ------------------------------------------------------------------ views
    @property
    def model_spec(self) -> ModelSpec:
        return parse_spec(self.spec)

    @property
    def sizes(self) -> list[int]:
        return [int(self.weights[0].shape[0])] + [int(w.shape[1]) for w in self.weights]

    @property
    def activations(self) -> list[str]:
        return self.model_spec.activations

    @property
    def label_names(self) -> list[str] | None:
        return self.feature_spec.label_names

    @property
    def objective(self) -> str:
        return self.feature_spec.objective

    @property
    def name(self) -> str:
        s = self.spec
        return str(s.get("name") or s.get("modelId") or "model")

    def mlp(self) -> MLP:
        """A kernel MLP holding these weights (for inference)."""
        ms = self.model_spec
        return MLP(
            sizes=ms.sizes,
            activations=ms.activations,
            weights=[w.copy() for w in self.weights],
            biases=[b.copy() for b in self.biases],
            loss=ms.loss,
            optimizer=ms.training.optimizer,
        )

    # ------------------------------------------------------------------ serialisation
    def to_parts(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """(JSON-able metadata, named arrays) — the one serialised form."""
        arrays: dict[str, np.ndarray] = {}
        for i, b in enumerate(self.biases):
            if self.quantized is not None:
                q, s = self.quantized[i]
                arrays[f"q{i}"] = np.ascontiguousarray(q, np.int8)
                arrays[f"s{i}"] = np.ascontiguousarray(s, np.float32)
            else:
                arrays[f"w{i}"] = np.ascontiguousarray(self.weights[i], np.float32)
            arrays[f"b{i}"] = np.ascontiguousarray(b, np.float32)
        ex_meta = None
        if self.examples is not None and len(self.examples):
            ex = self.examples
            arrays["ex_codes"] = np.ascontiguousarray(ex.codes, np.int8)
            arrays["ex_scales"] = np.ascontiguousarray(ex.scales, np.float32)
            if ex.labels is not None:
                arrays["ex_labels"] = np.ascontiguousarray(ex.labels)
            ex_meta = {"count": len(ex), "texts": list(ex.texts)}
        meta = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "spec": self.spec,
            "feature_spec": self.feature_spec.to_dict(),
            "metrics": self.metrics,
            "train_info": self.train_info,
            "quantized": self.quantized is not None,
            "examples": ex_meta,
        }
        return meta, arrays

    def to_bytes(self) -> bytes:
        """Compressed npz with the metadata as a uint8 JSON array (for a store BLOB)."""
        meta, arrays = self.to_parts()
        raw = json.dumps(meta, sort_keys=True, allow_nan=False).encode("utf-8")
        buf = io.BytesIO()
        np.savez_compressed(buf, **arrays, **{META_KEY: np.frombuffer(raw, np.uint8)})
        return buf.getvalue()

    @property
    def size_bytes(self) -> int:
        """Bytes of the stored form (``to_bytes``)."""
        return len(self.to_bytes())

    @classmethod
    def from_bytes(cls, data: bytes) -> ModelArtifact:
        """Inverse of ``to_bytes``, validated like an import."""
        arrays = load_npz_bytes(data, "model blob")
        if META_KEY not in arrays:
            raise ValueError("model blob: missing metadata")
        raw = arrays.pop(META_KEY)
        if raw.dtype != np.uint8 or raw.ndim != 1:
            raise ValueError("model blob: bad metadata array")
        try:
            meta = json.loads(raw.tobytes().decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise ValueError(f"model blob: metadata is not JSON ({e})") from None
        return cls.from_parts(meta, arrays, "model blob")

    @classmethod
    def from_parts(
        cls, meta: Any, arrays: dict[str, np.ndarray], where: str = "model"
    ) -> ModelArtifact:
        """Validate metadata and arrays (names, dtypes, shapes, values) into an artifact."""
        if not isinstance(meta, dict):
            raise ValueError(f"{where}: metadata must be a JSON object")
        allowed = {"format", "version", "spec", "feature_spec", "metrics", "train_info"}
        allowed |= {"quantized", "examples"}
        for k in meta:
            if k not in allowed:
                raise ValueError(f"{where}: unknown metadata key {k!r}")
        if meta.get("format") != FORMAT:
            raise ValueError(f"{where}: format must be {FORMAT!r}, got {meta.get('format')!r}")
        if meta.get("version") != FORMAT_VERSION:
            raise ValueError(
                f"{where}: unsupported version {meta.get('version')!r} "
                f"(this workbench reads version {FORMAT_VERSION})"
            )
        try:
            ms = parse_spec(meta.get("spec") if isinstance(meta.get("spec"), dict) else {})
        except ValueError as e:
            raise ValueError(f"{where}: spec: {e}") from None
        fs = FeatureSpec.from_dict(meta.get("feature_spec"), f"{where}: feature_spec")
        if fs.input_size != ms.input_size:
            raise ValueError(
                f"{where}: feature_spec.input_size {fs.input_size} != input layer {ms.input_size}"
            )
        if fs.objective != ms.objective:
            raise ValueError(f"{where}: feature_spec.objective does not match the spec")
        if ms.objective == "classification" and (
            fs.label_names is None or len(fs.label_names) != ms.output_size
        ):
            raise ValueError(f"{where}: need {ms.output_size} label names for the output layer")
        for key in ("metrics", "train_info"):
            if not isinstance(meta.get(key, {}), dict):
                raise ValueError(f"{where}: {key} must be an object")
        for key in ("accuracy", "val_accuracy"):  # stored as numbers by the registry
            value = meta.get("metrics", {}).get(key)
            if value is not None and not (
                isinstance(value, float) or (isinstance(value, int) and abs(value) <= 1)
            ):
                raise ValueError(f"{where}: metrics.{key} must be a number or null")
        quant = meta.get("quantized", False)
        if not isinstance(quant, bool):
            raise ValueError(f"{where}: quantized must be true or false")
        sizes, n = ms.sizes, len(ms.sizes) - 1
        expected: dict[str, tuple[tuple[int, ...], Any]] = {}
        for i in range(n):
            if quant:
                expected[f"q{i}"] = ((sizes[i + 1], sizes[i]), np.int8)
                expected[f"s{i}"] = ((sizes[i + 1],), np.float32)
            else:
                expected[f"w{i}"] = ((sizes[i], sizes[i + 1]), np.float32)
            expected[f"b{i}"] = ((sizes[i + 1],), np.float32)
        ex_meta = meta.get("examples")
        texts: list[str] = []
        if ex_meta is not None:
            if not isinstance(ex_meta, dict) or set(ex_meta) != {"count", "texts"}:
                raise ValueError(f"{where}: examples must be {{count, texts}}")
            m = ex_meta["count"]
            texts = ex_meta["texts"]
            if isinstance(m, bool) or not isinstance(m, int) or not 1 <= m <= MAX_EXAMPLES:
                raise ValueError(f"{where}: examples.count must be in [1, {MAX_EXAMPLES}]")
            if (
                not isinstance(texts, list)
                or len(texts) != m
                or not all(isinstance(t, str) and len(t) <= 1000 for t in texts)
            ):
                raise ValueError(f"{where}: examples.texts must be {m} short strings")
            expected["ex_codes"] = ((m, ms.input_size), np.int8)
            expected["ex_scales"] = ((m,), np.float32)
            if ms.objective == "classification":
                expected["ex_labels"] = ((m,), np.int32)
            elif ms.objective == "regression":
                expected["ex_labels"] = ((m,), np.float32)
        names = set(arrays)
        missing = sorted(set(expected) - names)
        if missing:
            raise ValueError(f"{where}: missing array {missing[0]!r}")
        extra = sorted(names - set(expected))
        if extra:
            raise ValueError(f"{where}: unexpected array {extra[0]!r}")
        for k, (shape, dtype) in expected.items():
            a = arrays[k]
            if a.dtype != np.dtype(dtype):
                raise ValueError(f"{where}: {k} must be {np.dtype(dtype)}, got {a.dtype}")
            if a.shape != shape:
                raise ValueError(f"{where}: {k} has shape {a.shape}, expected {shape}")
            if a.dtype.kind == "f" and not np.all(np.isfinite(a)):
                raise ValueError(f"{where}: {k} holds non-finite values")
        if "ex_labels" in arrays and ms.objective == "classification":
            lab = arrays["ex_labels"]
            if lab.size and (lab.min() < 0 or lab.max() >= ms.output_size):
                raise ValueError(f"{where}: ex_labels out of range")
        biases = [arrays[f"b{i}"].copy() for i in range(n)]
        quantized = None
        if quant:
            quantized = [(arrays[f"q{i}"].copy(), arrays[f"s{i}"].copy()) for i in range(n)]
            weights = [dequantize_rows(q, s) for q, s in quantized]
        else:
            weights = [arrays[f"w{i}"].copy() for i in range(n)]
        examples = None
        if ex_meta is not None:
            examples = Examples(
                arrays["ex_codes"].copy(),
                arrays["ex_scales"].copy(),
                arrays["ex_labels"].copy() if "ex_labels" in arrays else None,
                list(texts),
            )
        return cls(
            spec=ms.to_dict(),
            feature_spec=fs,
            weights=weights,
            biases=biases,
            metrics=_json_clean(meta.get("metrics", {})),
            examples=examples,
            train_info=_json_clean(meta.get("train_info", {})),
            quantized=quantized,
        )


def dequantize_rows(q: np.ndarray, s: np.ndarray) -> np.ndarray:
    """(out, in) int8 codes with one scale per output unit -> (in, out) float32 weights."""
    return np.ascontiguousarray((q.astype(np.float32) * s[:, None]).T)


def _json_clean(v: Any) -> Any:
    """Metadata round-trips through JSON; reject NaN/inf smuggled in as floats."""
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, dict):
        return {str(k): _json_clean(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_json_clean(x) for x in v]
    return v


def load_npz_bytes(
    data: bytes, where: str, max_bytes: int = MAX_ARRAY_BYTES
) -> dict[str, np.ndarray]:
    """Arrays from npz bytes: member names and declared sizes checked, no pickle."""
    buf = io.BytesIO(data)
    try:
        with zipfile.ZipFile(buf) as zf:
            total = 0
            seen = set()
            for info in zf.infolist():
                nm = info.filename
                if (
                    not nm.endswith(".npy")
                    or "/" in nm
                    or "\\" in nm
                    or ".." in nm
                    or nm.startswith(".")
                    or nm in seen
                ):
                    raise ValueError(f"{where}: unexpected member {nm!r}")
                seen.add(nm)
                total += info.file_size
                if info.file_size > max_bytes or total > max_bytes:
                    raise ValueError(
                        f"{where}: declared size of {nm!r} exceeds the {max_bytes >> 20} MB cap"
                    )
            out: dict[str, np.ndarray] = {}
            for info in zf.infolist():
                with zf.open(info) as f:
                    try:
                        arr = np.lib.format.read_array(f, allow_pickle=False)
                    except ValueError as e:
                        msg = str(e)
                        if "allow_pickle" in msg or "Object arrays" in msg:
                            raise ValueError(
                                f"{where}: {info.filename} is a pickled object array; refused"
                            ) from None
                        raise ValueError(f"{where}: {info.filename} unreadable ({msg})") from None
                out[info.filename[:-4]] = arr
            return out
    except zipfile.BadZipFile as e:
        raise ValueError(f"{where}: not a valid npz archive ({e})") from None
    except (EOFError, OSError, zlib.error, NotImplementedError, RuntimeError) as e:
        # NotImplementedError: unknown compression; RuntimeError: a member flagged encrypted.
        raise ValueError(f"{where}: truncated or corrupt ({e})") from None


__all__ = ["Examples", "ModelArtifact", "dequantize_rows", "load_npz_bytes", "MAX_EXAMPLES"]
