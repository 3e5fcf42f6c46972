"""Training: one fused kernel call per epoch, lr schedule, early stopping, checkpoints.

The model lives in a backend training session (``kb.trainer``) for the whole run: on the
WASM backend the weights, optimizer state and rows stay in linear memory between epochs
(and a batch step may use two threads); the model's arrays are brought up to date
(``sync``) only where something reads them: checkpoints, early-stopping snapshots, the end.

Determinism: all randomness comes from numpy Generators seeded from ``training.seed``
(split, shuffle order, reconstruction masks, example sample), and the shuffle Generator's
state is checkpointed, so a resumed run replays exactly the uninterrupted one.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
import time
import warnings
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from workbench.fsutil import atomic_write, private_mkdir
from workbench.kernels import MLP, Backend
from workbench.kernels import backend as get_backend

from .artifact import MAX_EXAMPLES, Examples, ModelArtifact
from .data import Dataset
from .evaluate import loss_and_accuracy
from .spec import ModelSpec, parse_spec

log = logging.getLogger(__name__)

CKPT_FORMAT = "workbench-checkpoint"
CKPT_VERSION = 1
CKPT_KEEP = 2
_CKPT_NAME = re.compile(r"^ckpt-(\d{6,})\.npz$")


@dataclass
class EpochRecord:
    """One training_history row: train loss/accuracy, held-out loss/accuracy, lr used."""

    epoch: int
    loss: float
    accuracy: float | None
    val_loss: float | None
    val_accuracy: float | None
    lr: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class TrainResult:
    """Outcome of ``train``: the artifact plus how training went (all measured)."""

    artifact: ModelArtifact
    history: list[EpochRecord]
    epochs_run: int
    stopped_early: bool
    best_epoch: int | None
    training_time_s: float
    accuracy: float | None
    val_accuracy: float | None
    loss: float | None
    val_loss: float | None
    backend: str
    cancelled: bool = False
    resumed_from: int | None = None
    transferred_layers: int = 0
    checkpoints: list[str] = field(default_factory=list)

    @property
    def metrics(self) -> dict[str, Any]:
        return dict(self.artifact.metrics)


# ---------------------------------------------------------------------- metrics


def evaluate(
    kb: Backend, model: MLP, X: np.ndarray, y: np.ndarray, objective: str
) -> tuple[float, float | None]:
    """(mean loss, accuracy or None) of ``model`` on (X, y), computed by the evaluation
    module's metric functions, so training's figures and ``neural evaluate`` agree."""
    if X.shape[0] == 0:
        return math.nan, None
    return loss_and_accuracy(kb.predict(model, X).astype(np.float64), y, objective)


def mask_segments(X: np.ndarray, ratio: float, rng: np.random.Generator) -> np.ndarray:
    """Zero one random contiguous segment (``ratio`` of the features) in every row."""
    n, d = X.shape
    seg = min(d, max(1, round(ratio * d)))
    starts = rng.integers(0, d - seg + 1, size=n)
    cols = np.arange(d)
    keep = (cols[None, :] < starts[:, None]) | (cols[None, :] >= starts[:, None] + seg)
    return (X * keep).astype(np.float32)


def split_validation(ds: Dataset, ratio: float, seed: int) -> tuple[Dataset, Dataset | None]:
    """(train, validation): the dataset's own validation part, else a seeded split."""
    if ds.validation is not None and len(ds.validation):
        return ds, ds.validation
    n = len(ds)
    if ratio <= 0 or n < 2:
        return ds, None
    perm = np.random.default_rng([seed, 1]).permutation(n)
    n_val = min(n - 1, max(1, round(n * ratio)))
    return ds.subset(np.sort(perm[n_val:])), ds.subset(np.sort(perm[:n_val]))


# ---------------------------------------------------------------------- checkpoints


def _fingerprint(spec: ModelSpec, tr: Dataset, va: Dataset | None, extra: dict) -> str:
    """What a checkpoint must agree with to be resumed (epochs may change)."""
    t = spec.training
    h = hashlib.sha256()
    cfg = {
        "sizes": spec.sizes,
        "activations": spec.activations,
        "objective": spec.objective,
        "optimizer": t.optimizer,
        "lr": t.learning_rate,
        "schedule": t.lr_schedule.to_dict() if t.lr_schedule else None,
        "batch_size": t.batch_size,
        "seed": t.seed,
        "mask_ratio": t.mask_ratio,
        "hyper": [t.momentum, t.beta1, t.beta2, t.epsilon],
        **({"weight_decay": t.weight_decay} if t.weight_decay else {}),
        **extra,
    }
    h.update(json.dumps(cfg, sort_keys=True).encode())
    for part in (tr, va):
        if part is not None:
            h.update(np.ascontiguousarray(part.X).tobytes())
            if part.y is not None:
                h.update(np.ascontiguousarray(part.y).tobytes())
    return h.hexdigest()


def list_checkpoints(checkpoint_dir: str | Path) -> list[Path]:
    """Checkpoint files, oldest first."""
    d = Path(checkpoint_dir)
    if not d.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in d.iterdir() if (m := _CKPT_NAME.match(p.name))]
    return [p for _, p in sorted(found)]


def _write_checkpoint(
    d: Path, epoch: int, model: MLP, best: list[np.ndarray] | None, meta: dict
) -> Path:
    private_mkdir(d)  # checkpoints hold what the model learned from the store
    arrays: dict[str, np.ndarray] = {}
    for i in range(len(model.weights)):
        arrays[f"w{i}"], arrays[f"b{i}"] = model.weights[i], model.biases[i]
        arrays[f"mw{i}"], arrays[f"mb{i}"] = model.m_w[i], model.m_b[i]
        arrays[f"vw{i}"], arrays[f"vb{i}"] = model.v_w[i], model.v_b[i]
    if best is not None:
        for i, a in enumerate(best):
            arrays[f"best{i}"] = a
    raw = json.dumps(meta, sort_keys=True).encode("utf-8")
    arrays["meta"] = np.frombuffer(raw, np.uint8)
    final = d / f"ckpt-{epoch:06d}.npz"
    with atomic_write(final) as f:
        np.savez_compressed(f, **arrays)
    for old in list_checkpoints(d)[:-CKPT_KEEP]:
        old.unlink(missing_ok=True)
    return final


def _read_checkpoint(path: Path, model: MLP) -> tuple[dict, dict[str, np.ndarray]]:
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    meta = json.loads(arrays.pop("meta").tobytes().decode("utf-8"))
    if meta.get("format") != CKPT_FORMAT or meta.get("version") != CKPT_VERSION:
        raise ValueError("not a workbench checkpoint of a supported version")
    for i, w in enumerate(model.weights):
        for k, ref in (("w", w), ("mw", w), ("vw", w)):
            if arrays[f"{k}{i}"].shape != ref.shape:
                raise ValueError(f"{k}{i} has shape {arrays[f'{k}{i}'].shape}")
        for k in ("b", "mb", "vb"):
            if arrays[f"{k}{i}"].shape != model.biases[i].shape:
                raise ValueError(f"{k}{i} has the wrong shape")
    return meta, arrays


def load_latest_checkpoint(
    checkpoint_dir: str | Path, model: MLP
) -> tuple[Path, dict, dict[str, np.ndarray]] | None:
    """The newest readable checkpoint; unreadable ones are skipped with a warning."""
    for path in reversed(list_checkpoints(checkpoint_dir)):
        try:
            meta, arrays = _read_checkpoint(path, model)
        except (
            OSError,
            EOFError,
            ValueError,
            KeyError,
            TypeError,
            zipfile.BadZipFile,
            zlib.error,
            json.JSONDecodeError,
            UnicodeDecodeError,
        ) as e:
            msg = f"checkpoint {path} is unreadable ({type(e).__name__}: {e}); trying an older one"
            log.warning(msg)
            warnings.warn(msg, RuntimeWarning, stacklevel=3)
            continue
        return path, meta, arrays
    return None


# ---------------------------------------------------------------------- training


def _sample_examples(ds: Dataset, seed: int) -> Examples | None:
    n = len(ds)
    if n == 0:
        return None
    idx = np.arange(n)
    if n > MAX_EXAMPLES:
        idx = np.sort(np.random.default_rng([seed, 4]).choice(n, MAX_EXAMPLES, replace=False))
    codes, scales = get_backend("numpy").quantize(ds.X[idx])
    labels = None
    if ds.y is not None:
        labels = ds.y[idx] if ds.y.ndim == 1 else ds.y[idx, 0]
        labels = np.ascontiguousarray(
            labels, np.int32 if ds.feature_spec.objective == "classification" else np.float32
        )
    return Examples(codes, scales, labels, [ds.texts[i] for i in idx])


def _transfer(model: MLP, src: ModelArtifact) -> int:
    """Copy leading layers whose shapes match; returns how many were copied."""
    k = 0
    for i, w in enumerate(model.weights):
        if i >= len(src.weights) or src.weights[i].shape != w.shape:
            break
        model.weights[i] = np.array(src.weights[i], np.float32)
        model.biases[i] = np.array(src.biases[i], np.float32)
        k += 1
    return k


def train(
    spec: ModelSpec | dict,
    dataset: Dataset,
    *,
    backend: str = "wasm",
    on_epoch: Callable[[EpochRecord], None] | None = None,
    checkpoint_dir: str | Path | None = None,
    resume: bool = False,
    init_from: ModelArtifact | None = None,
    freeze_layers: int = 0,
    should_stop: Callable[[], bool] | None = None,
    epochs: int | None = None,
) -> TrainResult:
    """Train ``spec`` on ``dataset``; deterministic for the spec's seed on one backend.

    ``epochs`` overrides ``training.epochs`` (the CLI's ``--epochs``).
    """
    if not isinstance(spec, ModelSpec):
        spec = parse_spec(spec)
    t = spec.training
    n_epochs = t.epochs if epochs is None else int(epochs)
    if n_epochs < 1:
        raise ValueError(f"epochs must be >= 1, got {n_epochs}")
    if dataset.X.shape[1] != spec.input_size:
        raise ValueError(
            f"data has {dataset.X.shape[1]} input features, the input layer {spec.input_size}"
        )
    if dataset.feature_spec.objective != spec.objective:
        raise ValueError(
            f"data was encoded for {dataset.feature_spec.objective}, the spec is {spec.objective}"
        )
    if len(dataset) == 0:
        raise ValueError("data: no training rows")
    n_layers = len(spec.sizes) - 1
    if isinstance(freeze_layers, bool) or not 0 <= freeze_layers < n_layers:
        raise ValueError(f"freeze_layers must be in [0, {n_layers - 1}], got {freeze_layers}")
    if checkpoint_dir is None and resume:
        raise ValueError("resume needs a checkpoint_dir")
    kb = get_backend(backend)
    obj = spec.objective
    tr, va = split_validation(dataset, t.validation_split, t.seed)
    Xtr = np.ascontiguousarray(tr.X, np.float32)
    ytr: np.ndarray = Xtr if obj == "reconstruction" else tr.y  # type: ignore[assignment]
    Xva_in = yva = None
    if va is not None:
        if obj == "reconstruction":
            yva = np.ascontiguousarray(va.X, np.float32)
            Xva_in = mask_segments(yva, t.mask_ratio, np.random.default_rng([t.seed, 3]))
        else:
            Xva_in, yva = va.X, va.y
    Xtr_eval = (
        mask_segments(Xtr, t.mask_ratio, np.random.default_rng([t.seed, 5]))
        if obj == "reconstruction"
        else Xtr
    )

    model = MLP.create(
        spec.sizes,
        spec.activations,
        loss=spec.loss,
        optimizer=t.optimizer,
        seed=t.seed,
        momentum=t.momentum,
        beta1=t.beta1,
        beta2=t.beta2,
        eps=t.epsilon,
    )
    transferred = 0
    init_info = None
    if init_from is not None:
        transferred = _transfer(model, init_from)
        if transferred == 0:
            raise ValueError(
                f"init_from: no leading layer of {init_from.name} {init_from.sizes} matches "
                f"the architecture {spec.sizes}"
            )
        if (
            init_from.feature_spec.feature_names != dataset.feature_spec.feature_names
            and dataset.feature_spec.kind == "records"
        ):
            warnings.warn(
                "init_from: the pretrained model was trained on different features",
                RuntimeWarning,
                stacklevel=2,
            )
        init_info = {"name": init_from.name, "layers": transferred}
    model.trainable = [i >= freeze_layers for i in range(n_layers)]
    fp = _fingerprint(
        spec, tr, va, {"init": init_info, "freeze": freeze_layers, "w0": _wsum(model)}
    )
    rng = np.random.default_rng([t.seed, 2])
    history: list[EpochRecord] = []
    monitor_val = va is not None and (
        t.early_stopping is None or t.early_stopping.monitor != "loss"
    )
    best_metric = math.inf
    best_epoch: int | None = None
    best_w: list[np.ndarray] | None = None
    wait = 0
    start_epoch = 0
    stopped_early = False
    elapsed_before = 0.0
    resumed_from = None
    ck_dir = Path(checkpoint_dir) if checkpoint_dir is not None else None
    written: list[str] = []

    if resume and ck_dir is not None:
        got = load_latest_checkpoint(ck_dir, model)
        if got is None:
            if list_checkpoints(ck_dir):
                warnings.warn(
                    f"no readable checkpoint in {ck_dir}; training from scratch",
                    RuntimeWarning,
                    stacklevel=2,
                )
        else:
            path, meta, arrays = got
            if meta.get("fingerprint") != fp:
                raise ValueError(
                    f"checkpoint {path} was made with a different spec, data or initial "
                    "weights; refusing to resume (delete the checkpoints to start over)"
                )
            for i in range(n_layers):
                model.weights[i] = arrays[f"w{i}"].astype(np.float32)
                model.biases[i] = arrays[f"b{i}"].astype(np.float32)
                model.m_w[i], model.m_b[i] = arrays[f"mw{i}"], arrays[f"mb{i}"]
                model.v_w[i], model.v_b[i] = arrays[f"vw{i}"], arrays[f"vb{i}"]
            model.step = int(meta["step"])
            model.validate()
            rng.bit_generator.state = meta["rng"]
            history = [EpochRecord(**h) for h in meta["history"]]
            best_metric = (
                float(meta["best_metric"]) if meta["best_metric"] is not None else math.inf
            )
            best_epoch = meta["best_epoch"]
            wait = int(meta["wait"])
            stopped_early = bool(meta["stopped_early"])
            elapsed_before = float(meta["elapsed_s"])
            start_epoch = resumed_from = int(meta["epoch"])
            if f"best{0}" in arrays:
                best_w = [arrays[f"best{i}"] for i in range(2 * n_layers)]

    def checkpoint(epoch: int) -> None:
        assert ck_dir is not None
        session.sync()  # the session holds the current weights and optimizer state
        meta = {
            "format": CKPT_FORMAT,
            "version": CKPT_VERSION,
            "epoch": epoch,
            "step": model.step,
            "rng": rng.bit_generator.state,
            "history": [h.to_dict() for h in history],
            "best_metric": best_metric if math.isfinite(best_metric) else None,
            "best_epoch": best_epoch,
            "wait": wait,
            "stopped_early": stopped_early,
            "elapsed_s": elapsed_before + (time.perf_counter() - t0),
            "fingerprint": fp,
        }
        written.append(str(_write_checkpoint(ck_dir, epoch, model, best_w, meta)))

    es = t.early_stopping if (t.early_stopping and t.early_stopping.enabled) else None
    cancelled = False
    t0 = time.perf_counter()
    epoch = start_epoch
    session = kb.trainer(model, Xtr, ytr, batch_size=t.batch_size)
    try:
        while epoch < n_epochs and not stopped_early:
            if should_stop is not None and should_stop():
                cancelled = True
                if ck_dir is not None and epoch > start_epoch:
                    checkpoint(epoch)
                break
            epoch += 1
            lr = t.lr_at(epoch)
            order = rng.permutation(Xtr.shape[0])
            xin = mask_segments(Xtr, t.mask_ratio, rng) if obj == "reconstruction" else None
            res = session.epoch(lr, order, x=xin)
            if t.weight_decay:
                session.decay(decay_factor(lr * t.weight_decay, -(-Xtr.shape[0] // t.batch_size)))
            if not math.isfinite(res.loss):
                raise ValueError(
                    f"training diverged at epoch {epoch} (loss {res.loss}); lower "
                    "training.learning_rate"
                )
            vl = vacc = None
            if va is not None:
                vl, vacc = loss_and_accuracy(
                    session.predict(Xva_in).astype(np.float64),
                    yva,  # type: ignore[arg-type]
                    obj,
                )
            rec = EpochRecord(epoch, float(res.loss), res.accuracy, vl, vacc, float(lr))
            history.append(rec)
            metric = vl if monitor_val and vl is not None else rec.loss
            min_delta = es.min_delta if es else 0.0
            if metric < best_metric - min_delta:
                best_metric, best_epoch, wait = metric, epoch, 0
                if es is not None:
                    session.sync()
                    best_w = [a.copy() for a in model.weights] + [b.copy() for b in model.biases]
            else:
                wait += 1
                if es is not None and wait >= es.patience:
                    stopped_early = True
            if on_epoch is not None:
                on_epoch(rec)
            if ck_dir is not None and t.checkpoint_every and epoch % t.checkpoint_every == 0:
                checkpoint(epoch)
    finally:
        session.sync()
        session.close()
    elapsed = elapsed_before + (time.perf_counter() - t0)

    if es is not None and best_w is not None:
        model.weights = [a.copy() for a in best_w[:n_layers]]
        model.biases = [a.copy() for a in best_w[n_layers:]]
    loss, acc = evaluate(kb, model, Xtr_eval, ytr, obj)
    vloss = vacc = None
    if va is not None:
        vloss, vacc = evaluate(kb, model, Xva_in, yva, obj)  # type: ignore[arg-type]
    metrics: dict[str, Any] = {
        "objective": obj,
        "accuracy": acc,
        "val_accuracy": vacc,
        "loss": loss,
        "val_loss": vloss,
        "n_train": len(tr),
        "n_val": 0 if va is None else len(va),
        "epochs_run": len(history),
        "best_epoch": best_epoch,
        "training_time_s": round(elapsed, 4),
    }
    if obj == "regression":
        metrics["mse"], metrics["val_mse"] = loss, vloss
    fs = tr.feature_spec
    train_info: dict[str, Any] = {
        "backend": kb.name,
        "seed": t.seed,
        "epochs_requested": n_epochs,
        "stopped_early": stopped_early,
        "cancelled": cancelled,
        "init_from": init_info,
        "freeze_layers": freeze_layers,
        "resumed_from": resumed_from,
    }
    if fs.kind == "array":
        # Array rows are used as given, so drift needs the training columns' statistics.
        Xs = tr.X.astype(np.float64)
        train_info["feature_stats"] = {
            "mean": [float(v) for v in Xs.mean(axis=0)],
            "std": [float(v) for v in Xs.std(axis=0)],
        }
    artifact = ModelArtifact(
        spec=spec.to_dict(),
        feature_spec=fs,
        weights=[w.copy() for w in model.weights],
        biases=[b.copy() for b in model.biases],
        metrics=metrics,
        examples=_sample_examples(tr, t.seed),
        train_info=train_info,
    )
    return TrainResult(
        artifact=artifact,
        history=history,
        epochs_run=len(history),
        stopped_early=stopped_early,
        best_epoch=best_epoch,
        training_time_s=elapsed,
        accuracy=acc,
        val_accuracy=vacc,
        loss=loss,
        val_loss=vloss,
        backend=kb.name,
        cancelled=cancelled,
        resumed_from=resumed_from,
        transferred_layers=transferred,
        checkpoints=written,
    )


def decay_factor(rate: float, steps: int) -> float:
    """L2 as decoupled weight decay over one epoch's `steps` updates: the factor the
    trainable weights are multiplied by once, after the epoch (the kernels train a whole
    epoch per call)."""
    return float(np.float32(max(0.0, 1.0 - rate) ** steps))


def _wsum(model: MLP) -> str:
    h = hashlib.sha256()
    for w in model.weights:
        h.update(w.tobytes())
    return h.hexdigest()[:16]


__all__ = [
    "EpochRecord",
    "TrainResult",
    "evaluate",
    "list_checkpoints",
    "load_latest_checkpoint",
    "mask_segments",
    "split_validation",
    "train",
]
