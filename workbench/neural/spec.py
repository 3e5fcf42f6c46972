"""Model specs: the reference's custom-model JSON, validated into a typed ModelSpec.

Every mistake a user can make in the JSON (unknown key, impossible value) becomes a
one-line ValueError naming the key path, so a typo never silently trains the wrong model.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HIDDEN_ACTIVATIONS = ("relu", "tanh", "sigmoid", "linear")
OUTPUT_ACTIVATIONS = ("softmax", "linear", "sigmoid")
OPTIMIZERS = ("sgd", "momentum", "adam")
OBJECTIVES = ("classification", "regression", "reconstruction")
MONITORS = ("val_loss", "loss")
MAX_LAYERS = 16  # the kernels' limit (weight layers)
MAX_UNITS = 65536

_TOP_KEYS = {
    "modelId",
    "name",
    "type",
    "category",
    "description",
    "architecture",
    "training",
    "specialization",
    "metadata",
}
_ARCH_KEYS = {"type", "layers"}
_LAYER_KEYS = {"type", "size", "activation", "name"}
_TRAIN_KEYS = {
    "learning_rate",
    "batch_size",
    "epochs",
    "optimizer",
    "momentum",
    "beta1",
    "beta2",
    "epsilon",
    "lr_schedule",
    "early_stopping",
    "validation_split",
    "seed",
    "checkpoint_every",
    "objective",
    "mask_ratio",
    "pattern_type",
    "weight_decay",
}
_SCHED_KEYS = {"type", "step_size", "gamma"}
_ES_KEYS = {"enabled", "patience", "min_delta", "monitor"}


def _fail(path: str, msg: str) -> ValueError:
    return ValueError(f"{path} {msg}")


def _check_keys(obj: Any, allowed: set[str], path: str) -> dict[str, Any]:
    if not isinstance(obj, dict):
        raise _fail(path, f"must be an object, got {type(obj).__name__}")
    for k in obj:
        if k not in allowed:
            k = k if k.isprintable() else repr(k)  # one line, whatever the key holds
            where = f"{path}.{k}" if path != "spec" else k
            raise ValueError(f"{where}: unknown key (allowed: {', '.join(sorted(allowed))})")
    return obj


def _int(v: Any, path: str, lo: int, hi: int | None = None) -> int:
    if isinstance(v, bool) or not isinstance(v, int):
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        else:
            raise _fail(path, f"must be an integer, got {v!r}")
    if v < lo or (hi is not None and v > hi):
        rng = f">= {lo}" if hi is None else f"in [{lo}, {hi}]"
        raise _fail(path, f"must be {rng}, got {v}")
    return v


def _num(v: Any, path: str) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
        raise _fail(path, f"must be a finite number, got {v!r}")
    return float(v)


def _str(v: Any, path: str, choices: tuple[str, ...] | None = None) -> str:
    if not isinstance(v, str):
        raise _fail(path, f"must be a string, got {v!r}")
    if choices is not None and v not in choices:
        raise _fail(path, f"must be one of {', '.join(choices)}, got {v!r}")
    return v


@dataclass(frozen=True)
class LayerSpec:
    """One layer row: ``kind`` is input, hidden or output."""

    kind: str
    size: int
    activation: str | None = None
    name: str | None = None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"type": self.kind, "size": self.size}
        if self.activation is not None:
            d["activation"] = self.activation
        if self.name is not None:
            d["name"] = self.name
        return d


@dataclass(frozen=True)
class StepDecay:
    """lr = learning_rate * gamma ** ((epoch - 1) // step_size)  (epochs count from 1)."""

    step_size: int
    gamma: float

    def to_dict(self) -> dict[str, Any]:
        return {"type": "step_decay", "step_size": self.step_size, "gamma": self.gamma}


@dataclass(frozen=True)
class EarlyStopping:
    """Stop when ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs."""

    enabled: bool = True
    patience: int = 10
    min_delta: float = 0.0
    monitor: str = "val_loss"

    def to_dict(self) -> dict[str, Any]:
        return {
            "enabled": self.enabled,
            "patience": self.patience,
            "min_delta": self.min_delta,
            "monitor": self.monitor,
        }


@dataclass(frozen=True)
class TrainingSpec:
    """Optimisation settings; defaults are conventional, never measured claims."""

    learning_rate: float = 0.001
    batch_size: int = 32
    epochs: int = 20
    optimizer: str = "adam"
    momentum: float = 0.9
    beta1: float = 0.9
    beta2: float = 0.999
    epsilon: float = 1e-8
    lr_schedule: StepDecay | None = None
    early_stopping: EarlyStopping | None = None
    validation_split: float = 0.2
    seed: int = 0
    checkpoint_every: int = 0
    objective: str = "classification"
    mask_ratio: float = 0.25
    pattern_type: str | None = None
    # L2 as decoupled weight decay: weights (not biases) shrink by (1 - lr * weight_decay)
    # per mini-batch step, applied at the end of each epoch (the kernels run whole epochs)
    weight_decay: float = 0.0

    def lr_at(self, epoch: int) -> float:
        """Learning rate for 1-based ``epoch`` under the step-decay schedule."""
        if self.lr_schedule is None:
            return self.learning_rate
        k = (max(epoch, 1) - 1) // self.lr_schedule.step_size
        return self.learning_rate * self.lr_schedule.gamma**k

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "learning_rate": self.learning_rate,
            "batch_size": self.batch_size,
            "epochs": self.epochs,
            "optimizer": self.optimizer,
            "momentum": self.momentum,
            "beta1": self.beta1,
            "beta2": self.beta2,
            "epsilon": self.epsilon,
            "validation_split": self.validation_split,
            "seed": self.seed,
            "checkpoint_every": self.checkpoint_every,
            "objective": self.objective,
            "mask_ratio": self.mask_ratio,
        }
        if self.lr_schedule is not None:
            d["lr_schedule"] = self.lr_schedule.to_dict()
        if self.early_stopping is not None:
            d["early_stopping"] = self.early_stopping.to_dict()
        if self.pattern_type is not None:
            d["pattern_type"] = self.pattern_type
        if self.weight_decay:
            d["weight_decay"] = self.weight_decay
        return d


@dataclass(frozen=True)
class ModelSpec:
    """A validated architecture + training config (``to_dict`` round-trips)."""

    layers: tuple[LayerSpec, ...]
    training: TrainingSpec
    model_id: str | None = None
    name: str | None = None
    category: str | None = None
    description: str | None = None
    arch_type: str = "feedforward"
    specialization: Any = None
    metadata: Any = None

    @property
    def sizes(self) -> list[int]:
        return [layer.size for layer in self.layers]

    @property
    def activations(self) -> list[str]:
        return [str(layer.activation) for layer in self.layers[1:]]

    @property
    def input_size(self) -> int:
        return self.layers[0].size

    @property
    def output_size(self) -> int:
        return self.layers[-1].size

    @property
    def objective(self) -> str:
        return self.training.objective

    @property
    def loss(self) -> str:
        """Kernel loss: cross-entropy for classification, MSE otherwise."""
        return "cross_entropy" if self.objective == "classification" else "mse"

    @property
    def display_name(self) -> str:
        return self.name or self.model_id or "model"

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {}
        if self.model_id is not None:
            d["modelId"] = self.model_id
        if self.name is not None:
            d["name"] = self.name
        if self.category is not None:
            d["category"] = self.category
        if self.description is not None:
            d["description"] = self.description
        d["architecture"] = {
            "type": self.arch_type,
            "layers": [layer.to_dict() for layer in self.layers],
        }
        d["training"] = self.training.to_dict()
        if self.specialization is not None:
            d["specialization"] = self.specialization
        if self.metadata is not None:
            d["metadata"] = self.metadata
        return d


def _parse_layers(arch: Any) -> tuple[str, tuple[LayerSpec, ...]]:
    arch = _check_keys(arch, _ARCH_KEYS, "architecture")
    atype = _str(arch.get("type", "feedforward"), "architecture.type", ("feedforward",))
    raw = arch.get("layers")
    if not isinstance(raw, list):
        raise _fail("architecture.layers", f"must be a list of layers, got {raw!r}")
    if not 2 <= len(raw) <= MAX_LAYERS + 1:
        raise _fail(
            "architecture.layers",
            f"must hold between 2 and {MAX_LAYERS + 1} layers (input ... output), got {len(raw)}",
        )
    layers = []
    last = len(raw) - 1
    for i, lr in enumerate(raw):
        p = f"architecture.layers[{i}]"
        lr = _check_keys(lr, _LAYER_KEYS, p)
        want = "input" if i == 0 else "output" if i == last else "hidden"
        kind = _str(lr.get("type", want), f"{p}.type", ("input", "hidden", "output"))
        if kind != want:
            raise _fail(f"{p}.type", f"must be {want!r} at this position, got {kind!r}")
        if "size" not in lr:
            raise _fail(f"{p}.size", "is required")
        size = _int(lr["size"], f"{p}.size", 1, MAX_UNITS)
        act = lr.get("activation")
        if kind == "input":
            if act is not None:
                raise _fail(f"{p}.activation", "is not allowed on the input layer")
        elif kind == "hidden":
            act = _str(act if act is not None else "relu", f"{p}.activation", HIDDEN_ACTIVATIONS)
        elif act is not None:
            act = _str(act, f"{p}.activation", OUTPUT_ACTIVATIONS)
        name = lr.get("name")
        if name is not None:
            name = _str(name, f"{p}.name")
        layers.append(LayerSpec(kind, size, act, name))
    return atype, tuple(layers)


def _parse_training(t: Any, out_act: str | None) -> TrainingSpec:
    t = _check_keys(t if t is not None else {}, _TRAIN_KEYS, "training")
    p = "training."
    kw: dict[str, Any] = {}
    if "learning_rate" in t:
        lr = _num(t["learning_rate"], p + "learning_rate")
        if lr <= 0:
            raise _fail(p + "learning_rate", f"must be > 0, got {t['learning_rate']}")
        kw["learning_rate"] = lr
    if "batch_size" in t:
        kw["batch_size"] = _int(t["batch_size"], p + "batch_size", 1, 1 << 20)
    if "epochs" in t:
        kw["epochs"] = _int(t["epochs"], p + "epochs", 1, 100_000)
    if "optimizer" in t:
        kw["optimizer"] = _str(t["optimizer"], p + "optimizer", OPTIMIZERS)
    for key in ("momentum", "beta1", "beta2"):
        if key in t:
            v = _num(t[key], p + key)
            if not 0 <= v < 1:
                raise _fail(p + key, f"must be in [0, 1), got {t[key]}")
            kw[key] = v
    if "epsilon" in t:
        v = _num(t["epsilon"], p + "epsilon")
        if v <= 0:
            raise _fail(p + "epsilon", f"must be > 0, got {t['epsilon']}")
        kw["epsilon"] = v
    if "validation_split" in t:
        v = _num(t["validation_split"], p + "validation_split")
        if not 0 <= v < 1:
            raise _fail(p + "validation_split", f"must be in [0, 1), got {t['validation_split']}")
        kw["validation_split"] = v
    if "seed" in t:
        kw["seed"] = _int(t["seed"], p + "seed", 0, 2**63 - 1)
    if "checkpoint_every" in t:
        kw["checkpoint_every"] = _int(t["checkpoint_every"], p + "checkpoint_every", 0)
    if "mask_ratio" in t:
        v = _num(t["mask_ratio"], p + "mask_ratio")
        if not 0 < v < 1:
            raise _fail(p + "mask_ratio", f"must be in (0, 1), got {t['mask_ratio']}")
        kw["mask_ratio"] = v
    if "pattern_type" in t:
        kw["pattern_type"] = _str(t["pattern_type"], p + "pattern_type")
    if "weight_decay" in t:
        v = _num(t["weight_decay"], p + "weight_decay")
        if not 0 <= v < 1:
            raise _fail(p + "weight_decay", f"must be in [0, 1), got {t['weight_decay']}")
        kw["weight_decay"] = v
    if "objective" in t:
        kw["objective"] = _str(t["objective"], p + "objective", OBJECTIVES)
    else:
        kw["objective"] = "classification" if out_act in (None, "softmax") else "regression"
    sched = t.get("lr_schedule")
    if sched is not None:
        sp = p + "lr_schedule"
        sched = _check_keys(sched, _SCHED_KEYS, sp)
        _str(sched.get("type", "step_decay"), sp + ".type", ("step_decay",))
        if "step_size" not in sched:
            raise _fail(sp + ".step_size", "is required")
        step = _int(sched["step_size"], sp + ".step_size", 1)
        gamma = _num(sched.get("gamma", 0.5), sp + ".gamma")
        if not 0 < gamma <= 1:
            raise _fail(sp + ".gamma", f"must be in (0, 1], got {sched.get('gamma')}")
        kw["lr_schedule"] = StepDecay(step, gamma)
    es = t.get("early_stopping")
    if es is not None:
        ep = p + "early_stopping"
        es = _check_keys(es, _ES_KEYS, ep)
        enabled = es.get("enabled", True)
        if not isinstance(enabled, bool):
            raise _fail(ep + ".enabled", f"must be true or false, got {enabled!r}")
        patience = _int(es.get("patience", 10), ep + ".patience", 1)
        md = _num(es.get("min_delta", 0.0), ep + ".min_delta")
        if md < 0:
            raise _fail(ep + ".min_delta", f"must be >= 0, got {es.get('min_delta')}")
        mon = _str(es.get("monitor", "val_loss"), ep + ".monitor", MONITORS)
        kw["early_stopping"] = EarlyStopping(enabled, patience, md, mon)
    return TrainingSpec(**kw)


def _load_obj(obj: dict | str | Path) -> dict[str, Any]:
    if isinstance(obj, dict):
        return obj
    if isinstance(obj, str) and obj.lstrip().startswith("{"):
        text, where = obj, "spec"
    elif isinstance(obj, str | Path):
        p = Path(obj)
        try:
            text = p.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise ValueError(f"spec: cannot read {p}: {e}") from None
        where = str(p)
    else:
        raise ValueError(f"spec: expected a dict, JSON text or a path, got {type(obj).__name__}")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise ValueError(
            f"{where}: invalid JSON at line {e.lineno} column {e.colno}: {e.msg}"
        ) from None
    if not isinstance(data, dict):
        raise ValueError(f"{where}: the spec must be a JSON object")
    return data


def parse_spec(obj: dict | str | Path) -> ModelSpec:
    """Validate a custom-model JSON (dict, JSON text or file path) into a ModelSpec."""
    d = _check_keys(_load_obj(obj), _TOP_KEYS, "spec")
    if "architecture" not in d:
        raise ValueError("architecture is required")
    atype, layers = _parse_layers(d["architecture"])
    training = _parse_training(d.get("training"), layers[-1].activation)
    obj_ = training.objective
    out = layers[-1]
    p_out = f"architecture.layers[{len(layers) - 1}]"
    act = out.activation
    if act is None:
        act = "softmax" if obj_ == "classification" else "linear"
    if obj_ == "classification":
        if act != "softmax":
            raise _fail(f"{p_out}.activation", f"must be softmax for classification, got {act!r}")
        if out.size < 2:
            raise _fail(f"{p_out}.size", f"must be >= 2 for classification, got {out.size}")
    elif act == "softmax":
        raise _fail(f"{p_out}.activation", f"must be linear or sigmoid for {obj_}, got 'softmax'")
    if obj_ == "reconstruction" and out.size != layers[0].size:
        raise _fail(
            f"{p_out}.size",
            f"must equal the input size {layers[0].size} for reconstruction, got {out.size}",
        )
    layers = layers[:-1] + (LayerSpec(out.kind, out.size, act, out.name),)
    meta: dict[str, Any] = {}
    for key in ("modelId", "name", "description"):
        if key in d and d[key] is not None:
            meta[key] = _str(d[key], key)
    cat = d.get("category", d.get("type"))
    if "category" in d and "type" in d and d["category"] != d["type"]:
        raise ValueError("type: conflicts with category (give one of them)")
    if cat is not None:
        cat = _str(cat, "category" if "category" in d else "type")
    return ModelSpec(
        layers=layers,
        training=training,
        model_id=meta.get("modelId"),
        name=meta.get("name"),
        category=cat,
        description=meta.get("description"),
        arch_type=atype,
        specialization=d.get("specialization"),
        metadata=d.get("metadata"),
    )


__all__ = [
    "EarlyStopping",
    "LayerSpec",
    "ModelSpec",
    "StepDecay",
    "TrainingSpec",
    "parse_spec",
]


OVERRIDABLE = ("learning_rate", "batch_size", "epochs", "patience", "min_delta", "validation_split")


def with_overrides(spec: ModelSpec, overrides: Mapping[str, Any]) -> ModelSpec:
    """`spec` with training hyper-parameters replaced (the `neural train` flags), checked
    like a spec file; refuses combinations the spec cannot honour."""
    unknown = sorted(set(overrides) - set(OVERRIDABLE))
    if unknown:
        raise ValueError(f"cannot override {', '.join(unknown)} (only {', '.join(OVERRIDABLE)})")
    given = {k: v for k, v in overrides.items() if v is not None}
    if not given:
        return spec
    d = spec.to_dict()
    training = dict(d.get("training") or {})
    for key in ("learning_rate", "batch_size", "epochs", "validation_split"):
        if key in given:
            training[key] = given[key]
    es = training.get("early_stopping")
    if "patience" in given or "min_delta" in given:
        if es is None and "patience" not in given:
            raise ValueError(
                "--min-delta needs early stopping: give --patience too, or an early_stopping "
                "block in the spec"
            )
        es = {**(es or {"enabled": True, "monitor": "val_loss"})}
        es["enabled"] = True
        for key in ("patience", "min_delta"):
            if key in given:
                es[key] = given[key]
        training["early_stopping"] = es
    watches_val = es and es.get("enabled", True) and str(es.get("monitor", "")).startswith("val_")
    if watches_val and float(training.get("validation_split", 0.2)) == 0:
        raise ValueError(
            f"early stopping watches {es['monitor']}, which needs validation data: "
            "--validation-split 0 conflicts with it"
        )
    d["training"] = training
    return parse_spec(d)
