"""int8 quantization of a model's weights, with size and accuracy measured, not assumed."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from workbench.kernels import backend as get_backend

from .artifact import ModelArtifact, dequantize_rows
from .data import Dataset
from .train import evaluate


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

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def quantize_artifact(
    artifact: ModelArtifact,
    dataset_for_eval: Dataset,
    *,
    bits: int = 8,
    backend: str = "numpy",
) -> tuple[ModelArtifact, QuantizeReport]:
    """Per-output-unit symmetric int8 weights (biases stay float32); measure the change.

    Evaluates on ``dataset_for_eval.validation`` when present, else on its rows.
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
    ev = (
        dataset_for_eval.validation if dataset_for_eval.validation is not None else dataset_for_eval
    )
    if ev.X.shape[1] != artifact.sizes[0]:
        raise ValueError(
            f"evaluation data has {ev.X.shape[1]} features, the model expects {artifact.sizes[0]}"
        )
    obj = artifact.objective
    y = ev.X if obj == "reconstruction" else ev.y
    if y is None:
        raise ValueError("evaluation data has no labels")
    lb, ab = evaluate(kb, artifact.mlp(), ev.X, y, obj)
    la, aa = evaluate(kb, qa.mlp(), ev.X, y, obj)
    qa.metrics.update(
        {"quantized_eval_loss": la, "quantized_eval_accuracy": aa, "quantized_eval_rows": len(ev)}
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
        accuracy_before=ab,
        accuracy_after=aa,
        loss_before=lb,
        loss_after=la,
        max_abs_weight_error=err,
        rows_evaluated=len(ev),
    )
    return qa, report


__all__ = ["QuantizeReport", "quantize_artifact"]
