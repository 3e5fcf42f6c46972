"""int8 quantization of a model's weights, with size and accuracy measured, not assumed."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from workbench.kernels import backend as get_backend

from .artifact import ModelArtifact, dequantize_rows
from .data import Dataset
from .evaluate import EvalRows, evaluate, evaluate_encoded, headline_loss


@dataclass
class QuantizeReport:
    """Stored sizes (bytes of ``to_bytes``) and metrics measured on the given data."""

    bits: int
    size_before: int
    size_after: int
    weight_bytes_before: int
    weight_bytes_after: int
    accuracy_before: float | None
    accuracy_after: float | None
    loss_before: float
    loss_after: float
    max_abs_weight_error: float
    rows_evaluated: int
    # The evaluation function's full results on a file (stored by the service); not JSON'd.
    evaluations: tuple[dict[str, Any], dict[str, Any]] | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("evaluations")
        return out


def quantize_artifact(
    artifact: ModelArtifact,
    data: Dataset | EvalRows,
    *,
    bits: int = 8,
    backend: str = "numpy",
    label_column: str | None = None,
) -> tuple[ModelArtifact, QuantizeReport]:
    """Per-output-unit symmetric int8 weights (biases stay float32); measure the change.

    ``data``: rows read from a held-out file (``EvalRows``: encoded exactly as ``predict``
    encodes them, by the evaluation function, once for each model) or an already encoded
    Dataset (the stored training examples; its validation part when present).
    """
    if bits != 8:
        raise ValueError(f"bits: only 8 is supported, got {bits}")
    if artifact.quantized is not None:
        raise ValueError("the model is already quantized")
    kb = get_backend(backend)
    quant = []
    for w in artifact.weights:
        q, s = kb.quantize(np.ascontiguousarray(w.T))
        quant.append((q, s))
    qa = ModelArtifact(
        spec=dict(artifact.spec),
        feature_spec=artifact.feature_spec,
        weights=[dequantize_rows(q, s) for q, s in quant],
        biases=[b.copy() for b in artifact.biases],
        metrics=dict(artifact.metrics),
        examples=artifact.examples,
        train_info={**artifact.train_info, "quantized_bits": bits},
        quantized=quant,
    )
    if isinstance(data, EvalRows):
        before = evaluate(artifact, data, label_column=label_column, backend=backend)
        after = evaluate(qa, data, label_column=label_column, backend=backend)
        mb, ma = before["metrics"], after["metrics"]
        pair: tuple[dict[str, Any], dict[str, Any]] | None = (before, after)
    else:
        ev = data.validation if data.validation is not None else data
        if ev.X.shape[1] != artifact.sizes[0]:
            raise ValueError(
                f"evaluation data has {ev.X.shape[1]} features, the model expects "
                f"{artifact.sizes[0]}"
            )
        y = ev.X if artifact.objective == "reconstruction" else ev.y
        if y is None:
            raise ValueError("evaluation data has no labels")
        pair = None
        mb = evaluate_encoded(artifact, ev.X, y, backend=backend)
        ma = evaluate_encoded(qa, ev.X, y, backend=backend)
    lb, la = headline_loss(mb), headline_loss(ma)
    qa.metrics.update(
        {
            "quantized_eval_loss": la,
            "quantized_eval_accuracy": ma.get("accuracy"),
            "quantized_eval_rows": ma["rows"],
        }
    )
    wb = sum(w.nbytes for w in artifact.weights)
    wa = sum(q.nbytes + s.nbytes for q, s in quant)
    err = max(
        float(np.max(np.abs(a - b))) for a, b in zip(artifact.weights, qa.weights, strict=True)
    )
    report = QuantizeReport(
        bits=bits,
        size_before=artifact.size_bytes,
        size_after=qa.size_bytes,
        weight_bytes_before=wb,
        weight_bytes_after=wa,
        accuracy_before=mb.get("accuracy"),
        accuracy_after=ma.get("accuracy"),
        loss_before=lb,
        loss_after=la,
        max_abs_weight_error=err,
        rows_evaluated=ma["rows"],
        evaluations=pair,
    )
    return qa, report


__all__ = ["QuantizeReport", "quantize_artifact"]
