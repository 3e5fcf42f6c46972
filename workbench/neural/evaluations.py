"""Stored evaluations: one row per (model version, data file hash, label column).

``neural evaluate`` measures and writes; the Models pane, the CLI and comparisons read
the stored figures, so an evaluation on screen is the one that was measured, never
recomputed. Two versions compare only on the same data (same hash, same label column).
"""

from __future__ import annotations

import json
from typing import Any

from workbench.store import models as m
from workbench.store.models import utcnow


def save(
    row: m.NeuralModel, result: dict[str, Any], *, data_hash: str, data_name: str, backend: str
) -> m.Evaluation:
    """Write (or replace) the evaluation of ``row`` on this data, in one transaction."""
    text = json.dumps(result, sort_keys=True, allow_nan=False)
    label = result.get("label_column") or ""
    metrics = result.get("metrics", {})
    with m.database_proxy.atomic():
        m.Evaluation.delete().where(
            (m.Evaluation.model == row.id)
            & (m.Evaluation.data_hash == data_hash)
            & (m.Evaluation.label_column == label)
        ).execute()
        return m.Evaluation.create(
            model=row.id,
            data_hash=data_hash,
            data_name=data_name,
            label_column=label,
            objective=result["objective"],
            rows=result["rows"],
            evaluated=result["evaluated"],
            accuracy=metrics.get("accuracy"),
            result=text,
            backend=backend,
            created=utcnow(),
        )


def to_dict(ev: m.Evaluation) -> dict[str, Any]:
    """The stored evaluation as the CLI's JSON: identity first, then every figure."""
    model = ev.model
    return {
        "evaluation_id": ev.id,
        "name": model.name,
        "version": model.version,
        "model_id": model.id,
        "data": ev.data_name,
        "data_hash": ev.data_hash,
        "backend": ev.backend,
        "created": ev.created.isoformat() if ev.created else None,
        **json.loads(ev.result),
    }


def for_model(model_id: int) -> list[dict[str, Any]]:
    """Every stored evaluation of one version, newest first."""
    q = (
        m.Evaluation.select()
        .where(m.Evaluation.model == model_id)
        .order_by(m.Evaluation.created.desc(), m.Evaluation.id.desc())
    )
    return [to_dict(ev) for ev in q]


def compare(a: int, b: int, data_hash: str | None = None) -> dict[str, Any]:
    """Versions ``a`` and ``b`` on the newest data both were evaluated on (or ``data_hash``).

    Differences are b − a: accuracy, log loss, ECE, and per class precision/recall/F1.
    """
    if a == b:
        raise ValueError("compare: pick two different versions")
    evs = {mid: for_model(mid) for mid in (a, b)}
    keys_b = {(e["data_hash"], e["label_column"] or "") for e in evs[b]}
    common = [
        e
        for e in evs[a]
        if (e["data_hash"], e["label_column"] or "") in keys_b
        and (data_hash is None or e["data_hash"] == data_hash)
    ]
    if not common:
        names = [m.NeuralModel.get_by_id(mid) for mid in (a, b)]
        shown = " and ".join(f"{r.name}@{r.version}" for r in names)
        raise ValueError(
            f"no evaluation of {shown} on the same data: run `workbench neural evaluate` "
            "on one file for both"
        )
    left = common[0]
    key = (left["data_hash"], left["label_column"] or "")
    right = next(e for e in evs[b] if (e["data_hash"], e["label_column"] or "") == key)
    out: dict[str, Any] = {"a": left, "b": right, "data": left["data"],
                           "data_hash": left["data_hash"], "differences": {}}  # fmt: skip
    if left["objective"] != right["objective"]:
        out["note"] = f"objectives differ ({left['objective']} vs {right['objective']})"
        return out
    ma, mb = left["metrics"], right["metrics"]
    diffs = out["differences"]
    for k in ("accuracy", "log_loss", "ece", "macro_f1", "mae", "rmse", "r2", "mean_error"):
        if ma.get(k) is not None and mb.get(k) is not None:
            diffs[k] = mb[k] - ma[k]
    if left["objective"] == "classification":
        if left.get("labels") != right.get("labels"):
            out["note"] = "label sets differ: per-class differences are not comparable"
            return out
        per = []
        for ca, cb in zip(ma["per_class"], mb["per_class"], strict=True):
            d = {"label": ca["label"], "support": ca["support"]}
            for k in ("precision", "recall", "f1"):
                d[k] = cb[k] - ca[k] if ca[k] is not None and cb[k] is not None else None
            per.append(d)
        diffs["per_class"] = per
    return out


__all__ = ["compare", "for_model", "save", "to_dict"]
