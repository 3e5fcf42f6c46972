"""The model registry: immutable numbered versions, movable aliases, linked training runs.

A version row is created when training starts (status `training`) so per-epoch history
can stream into `training_history` against it; when training ends the weights, measured
metrics and size are written once and the version is final. `NAME` resolves to the
`champion` alias when set, else the newest final version; `NAME@3` is version 3 and
`NAME@alias` any alias. Rolling back moves `champion`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import peewee

from workbench.store import leases
from workbench.store import models as m
from workbench.store.errors import StoreError

CHAMPION = "champion"
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$")
FINAL_STATUSES = ("trained", "imported", "quantized")


class RegistryError(StoreError):
    """A model reference or registry operation that cannot be honoured (one line)."""


@dataclass(frozen=True)
class ModelRef:
    name: str
    selector: str | None  # None, a version number as text, or an alias

    @classmethod
    def parse(cls, text: str) -> ModelRef:
        name, _, selector = text.partition("@")
        check_name(name)
        if "@" in text and not selector:
            raise RegistryError(f"model reference {text!r}: nothing after '@'")
        return cls(name, selector or None)


def check_name(name: str) -> str:
    if not NAME_RE.match(name or ""):
        raise RegistryError(
            f"model name {name!r} must be 1-80 letters, digits, '_', '-' or '.', "
            "starting with a letter or digit"
        )
    return name


def next_version(name: str) -> int:
    top = (
        m.NeuralModel.select(peewee.fn.MAX(m.NeuralModel.version))
        .where(m.NeuralModel.name == name)
        .scalar()
    )
    return (top or 0) + 1


def start_version(
    name: str,
    *,
    architecture: Mapping,
    category: str = "custom",
    description: str = "",
    tags: Sequence[str] = (),
    run_kind: str = "train",
    run_config: Mapping | None = None,
    data_hash: str | None = None,
) -> tuple[m.NeuralModel, m.TrainingRun]:
    """Reserve the next version number and open its training run."""
    check_name(name)
    with m.database_proxy.atomic():
        version = next_version(name)
        run = m.TrainingRun.create(
            model_name=name,
            model_version=version,
            kind=run_kind,
            status="running",
            config=json.dumps(run_config or {}, sort_keys=True, default=str),
            data_hash=data_hash,
        )
        leases.claim("training_runs", run.id)
        model = m.NeuralModel.create(
            name=name,
            category=category,
            version=version,
            architecture=json.dumps(architecture, sort_keys=True),
            status="training",
            description=description,
            tags=json.dumps(sorted(set(tags))),
            training_run=run,
        )
    return model, run


def record_epoch(model: m.NeuralModel, record: object) -> None:
    """One training_history row per epoch, written as training goes."""
    m.TrainingHistory.create(
        model=model,
        epoch=record.epoch,  # type: ignore[attr-defined]
        loss=float(record.loss),  # type: ignore[attr-defined]
        accuracy=_opt(getattr(record, "accuracy", None)),
        val_loss=_opt(getattr(record, "val_loss", None)),
        val_accuracy=_opt(getattr(record, "val_accuracy", None)),
    )


def finish_version(
    model: m.NeuralModel, *, weights: bytes, metrics: Mapping, status: str = "trained"
) -> m.NeuralModel:
    """Write the weights and measured metrics once; the version is final from here on."""
    with m.database_proxy.atomic():
        model.weights = weights
        model.size_bytes = len(weights)
        model.accuracy = _opt(metrics.get("accuracy"))
        model.val_accuracy = _opt(metrics.get("val_accuracy"))
        model.status = status
        model.updated = m.utcnow()
        model.save()
        if model.training_run_id:
            run = m.TrainingRun.get_by_id(model.training_run_id)
            run.status = "completed"
            run.metrics = json.dumps(dict(metrics), sort_keys=True, default=str)
            run.finished = m.utcnow()
            run.save()
        if alias_target(model.name, CHAMPION) is None:
            set_alias(model.name, CHAMPION, model.version)
    return model


def store_run_metric(name: str, version: int, key: str, value: Any) -> None:
    """Keep `value` under `key` in a version's training-run metrics JSON (where a text
    model's recipe, CV table and calibration live with the version)."""
    row = get_version(name, version)
    if row.training_run_id is None:
        raise ValueError(f"{name}@{version} has no training run to store {key} with")
    run = m.TrainingRun.get_by_id(row.training_run_id)
    metrics = json.loads(run.metrics or "{}")
    metrics[key] = value
    run.metrics = json.dumps(metrics, sort_keys=True, default=str)
    run.save()


def run_metric(row: m.NeuralModel | None, key: str) -> dict[str, Any] | None:
    """The object stored under `key` with a version's training run, or None."""
    if row is None or row.training_run_id is None:
        return None
    run = m.TrainingRun.get_or_none(m.TrainingRun.id == row.training_run_id)
    value = json.loads(run.metrics or "{}").get(key) if run else None
    return value if isinstance(value, dict) else None


def abandon_version(model: m.NeuralModel, status: str, reason: str) -> None:
    """Training failed or was cancelled: keep the row and its history, mark why."""
    with m.database_proxy.atomic():
        model.status = status
        model.updated = m.utcnow()
        model.save()
        if model.training_run_id:
            run = m.TrainingRun.get_by_id(model.training_run_id)
            run.status = status
            run.metrics = json.dumps({"reason": reason})
            run.finished = m.utcnow()
            run.save()


def alias_target(name: str, alias: str) -> m.NeuralModel | None:
    row = (
        m.ModelAlias.select()
        .where((m.ModelAlias.name == name) & (m.ModelAlias.alias == alias))
        .first()
    )
    return row.model if row else None


def set_alias(name: str, alias: str, version: int) -> m.NeuralModel:
    """Point `NAME@alias` at a final version (moving it if it exists)."""
    if alias.isdigit():
        raise RegistryError(f"alias {alias!r} cannot be a number (numbers are versions)")
    check_name(alias)
    target = get_version(name, version)
    if target.status not in FINAL_STATUSES:
        raise RegistryError(f"{name}@{version} is {target.status}; aliases need a final version")
    now = m.utcnow()
    (
        m.ModelAlias.insert(name=name, alias=alias, model=target, updated=now)
        .on_conflict(
            conflict_target=[m.ModelAlias.name, m.ModelAlias.alias],
            update={m.ModelAlias.model: target.id, m.ModelAlias.updated: now},
        )
        .execute()
    )
    return target


def get_version(name: str, version: int) -> m.NeuralModel:
    row = (
        m.NeuralModel.select()
        .where((m.NeuralModel.name == name) & (m.NeuralModel.version == version))
        .first()
    )
    if row is None:
        raise RegistryError(f"unknown model version {name}@{version}")
    return row


def resolve(reference: str) -> m.NeuralModel:
    """`NAME`, `NAME@VERSION` or `NAME@alias` → the version row."""
    ref = ModelRef.parse(reference)
    if ref.selector is None:
        champion = alias_target(ref.name, CHAMPION)
        if champion is not None:
            return champion
        row = (
            m.NeuralModel.select()
            .where((m.NeuralModel.name == ref.name) & (m.NeuralModel.status.in_(FINAL_STATUSES)))
            .order_by(m.NeuralModel.version.desc())
            .first()
        )
        if row is None:
            known = m.NeuralModel.select().where(m.NeuralModel.name == ref.name).exists()
            raise RegistryError(
                f"model {ref.name!r} has no trained version yet"
                if known
                else f"unknown model {ref.name!r}"
            )
        return row
    if ref.selector.isdigit():
        return get_version(ref.name, int(ref.selector))
    target = alias_target(ref.name, ref.selector)
    if target is None:
        raise RegistryError(f"unknown alias {ref.name}@{ref.selector}")
    return target


def load_weights(reference: str) -> tuple[m.NeuralModel, bytes]:
    row = resolve(reference)
    if row.weights is None:
        raise RegistryError(f"{row.name}@{row.version} has no weights ({row.status})")
    return row, bytes(row.weights)


def versions(name: str) -> list[dict]:
    """Every version of a model with its aliases, oldest first."""
    check_name(name)
    aliases: dict[int, list[str]] = {}
    for a in m.ModelAlias.select().where(m.ModelAlias.name == name):
        aliases.setdefault(a.model_id, []).append(a.alias)
    rows = m.NeuralModel.select().where(m.NeuralModel.name == name).order_by(m.NeuralModel.version)
    run_ids = [r.training_run_id for r in rows if r.training_run_id]
    run_metrics = {
        run.id: run.metrics
        for run in m.TrainingRun.select(m.TrainingRun.id, m.TrainingRun.metrics).where(
            m.TrainingRun.id.in_(run_ids)
        )
    }
    out = [
        {
            "id": r.id,
            "name": r.name,
            "version": r.version,
            "status": r.status,
            "category": r.category,
            "accuracy": r.accuracy,
            "val_accuracy": r.val_accuracy,
            **rows_behind(run_metrics.get(r.training_run_id)),
            "size_bytes": r.size_bytes,
            "description": r.description,
            "tags": json.loads(r.tags or "[]"),
            "aliases": sorted(aliases.get(r.id, [])),
            "training_run": r.training_run_id,
            "created": r.created.isoformat(sep=" ", timespec="seconds"),
        }
        for r in rows
    ]
    if not out:
        raise RegistryError(f"unknown model {name!r}")
    return out


def rows_behind(metrics_json: str | None) -> dict[str, int | None]:
    """How many rows the stored accuracy and val_accuracy were measured on (a figure
    on 3 rows must not read like one on 3,000)."""
    try:
        metrics = json.loads(metrics_json) if metrics_json else {}
    except json.JSONDecodeError:
        metrics = {}
    if not isinstance(metrics, dict):
        metrics = {}
    quant = metrics.get("quantization")
    val_rows = metrics.get("n_val")
    train_rows = metrics.get("n_train")
    if isinstance(quant, dict):
        measured = quant.get("rows_evaluated")
        if quant.get("evaluated_on") == "stored training examples":
            train_rows = measured
        else:
            val_rows = measured
    ok = lambda v: v if isinstance(v, int) and not isinstance(v, bool) else None  # noqa: E731
    return {"train_rows": ok(train_rows), "val_rows": ok(val_rows)}


def rollback(name: str, version: int) -> m.NeuralModel:
    """Move `champion` to another final version; the versions themselves never change."""
    return set_alias(name, CHAMPION, version)


def delete(reference: str) -> list[int]:
    """Delete one version (`NAME@V`) or every version of `NAME`; returns versions removed."""
    ref = ModelRef.parse(reference)
    if ref.selector is None:
        rows = list(m.NeuralModel.select().where(m.NeuralModel.name == ref.name))
        if not rows:
            raise RegistryError(f"unknown model {ref.name!r}")
    else:
        rows = [resolve(reference)]
    with m.database_proxy.atomic():
        for row in rows:
            row.delete_instance()  # history and aliases cascade
    return sorted(r.version for r in rows)


def history(model_id: int) -> list[dict]:
    """Per-epoch metrics of one version, in epoch order."""
    rows = (
        m.TrainingHistory.select()
        .where(m.TrainingHistory.model == model_id)
        .order_by(m.TrainingHistory.epoch)
        .dicts()
    )
    keys = ("epoch", "loss", "accuracy", "val_loss", "val_accuracy")
    return [{k: r[k] for k in keys} for r in rows]


def run_status(run_id: int) -> dict:
    """A training run, its model version and the epochs recorded so far."""
    run = m.TrainingRun.get_or_none(m.TrainingRun.id == run_id)
    if run is None:
        raise RegistryError(f"no training run {run_id}")
    config = json.loads(run.config or "{}")
    model = run.versions.first()
    epochs = history(model.id) if model is not None else []
    return {
        "run_id": run.id,
        "name": run.model_name,
        "version": run.model_version,
        "kind": run.kind,
        "status": run.status,
        "model_status": model.status if model is not None else None,
        "epochs_planned": config.get("epochs") or _spec_epochs(config.get("spec") or {}),
        "epochs_done": len(epochs),
        "latest": epochs[-1] if epochs else None,
        "val_accuracy": _opt(model.val_accuracy) if model is not None else None,
        "metrics": json.loads(run.metrics or "{}"),
        "started": run.started,
        "finished": run.finished,
    }


def _spec_epochs(spec: Mapping) -> int | None:
    training = spec.get("training")
    return training.get("epochs") if isinstance(training, Mapping) else None


def _opt(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]
