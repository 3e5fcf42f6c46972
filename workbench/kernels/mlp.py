"""The MLP model state both backends train: plain numpy arrays owned by one small object.

Everything a checkpoint needs (weights, biases, optimizer moments, step counter) is a
list of numpy arrays here, so resuming, freezing layers (``trainable``) and lr schedules
(``lr`` is passed per epoch) live above the kernels without touching them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

ACTIVATIONS = ("linear", "relu", "tanh", "sigmoid", "softmax")
LOSSES = ("cross_entropy", "mse")
OPTIMIZERS = ("sgd", "momentum", "adam")
MAX_LAYERS = 16


@dataclass
class EpochResult:
    """Mean loss over the epoch's samples; accuracy for classification (else None)."""

    loss: float
    accuracy: float | None
    samples: int


@dataclass
class MLP:
    """Dense network ``sizes[0] -> ... -> sizes[-1]``; ``activations[i]`` follows layer i."""

    sizes: list[int]
    activations: list[str]
    weights: list[np.ndarray]
    biases: list[np.ndarray]
    loss: str = "cross_entropy"
    optimizer: str = "adam"
    momentum: float = 0.9
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    trainable: list[bool] = field(default_factory=list)
    step: int = 0
    m_w: list[np.ndarray] = field(default_factory=list)
    m_b: list[np.ndarray] = field(default_factory=list)
    v_w: list[np.ndarray] = field(default_factory=list)
    v_b: list[np.ndarray] = field(default_factory=list)

    @classmethod
    def create(
        cls,
        sizes: list[int],
        activations: list[str] | None = None,
        *,
        loss: str | None = None,
        optimizer: str = "adam",
        seed: int = 0,
        **hyper: float,
    ) -> MLP:
        """He (relu) / Glorot (others) initialised network, deterministic for a seed.

        Default activations: relu hidden layers, softmax output for cross-entropy,
        linear output for mse. Default loss: cross_entropy if the output is softmax.
        """
        sizes = [int(s) for s in sizes]
        if len(sizes) < 2:
            raise ValueError(f"sizes: need at least input and output sizes, got {sizes}")
        n = len(sizes) - 1
        if activations is None:
            out = "linear" if loss == "mse" else "softmax"
            activations = ["relu"] * (n - 1) + [out]
        if loss is None:
            loss = "cross_entropy" if activations[-1] == "softmax" else "mse"
        rng = np.random.default_rng(seed)
        weights, biases = [], []
        for i in range(n):
            fan_in, fan_out = sizes[i], sizes[i + 1]
            if activations[i] == "relu":
                std = np.sqrt(2.0 / fan_in)
            else:
                std = np.sqrt(2.0 / (fan_in + fan_out))
            weights.append((rng.standard_normal((fan_in, fan_out)) * std).astype(np.float32))
            biases.append(np.zeros(fan_out, np.float32))
        model = cls(
            sizes, list(activations), weights, biases, loss=loss, optimizer=optimizer, **hyper
        )
        model.validate()
        return model

    def validate(self) -> None:
        """Check the architecture and fill in missing optimizer state (zeros)."""
        n = len(self.sizes) - 1
        if not 1 <= n <= MAX_LAYERS:
            raise ValueError(f"sizes: between 1 and {MAX_LAYERS} layers, got {n}")
        if any(s < 1 for s in self.sizes):
            raise ValueError(f"sizes: every layer needs at least one unit, got {self.sizes}")
        if len(self.activations) != n:
            raise ValueError(f"activations: expected {n}, got {len(self.activations)}")
        for a in self.activations:
            if a not in ACTIVATIONS:
                raise ValueError(f"activations: unknown {a!r} (choose from {ACTIVATIONS})")
        if "softmax" in self.activations[:-1]:
            raise ValueError("activations: softmax is only supported on the output layer")
        if self.loss not in LOSSES:
            raise ValueError(f"loss: unknown {self.loss!r} (choose from {LOSSES})")
        if self.loss == "cross_entropy" and self.activations[-1] != "softmax":
            raise ValueError("loss: cross_entropy needs a softmax output layer")
        if self.loss == "mse" and self.activations[-1] == "softmax":
            raise ValueError("loss: mse with a softmax output is not supported; use cross_entropy")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer: unknown {self.optimizer!r} (choose from {OPTIMIZERS})")
        for i in range(n):
            shape = (self.sizes[i], self.sizes[i + 1])
            w = self.weights[i]
            if w.shape != shape or self.biases[i].shape != (shape[1],):
                raise ValueError(
                    f"layer {i}: weights {w.shape} / bias {self.biases[i].shape} do not match "
                    f"sizes {shape}"
                )
            self.weights[i] = np.ascontiguousarray(w, np.float32)
            self.biases[i] = np.ascontiguousarray(self.biases[i], np.float32)
        if not self.trainable:
            self.trainable = [True] * n
        if len(self.trainable) != n:
            raise ValueError(f"trainable: expected {n} flags, got {len(self.trainable)}")
        for name, ref in (("m_w", self.weights), ("v_w", self.weights)):
            self._fill(name, ref)
        for name, ref in (("m_b", self.biases), ("v_b", self.biases)):
            self._fill(name, ref)

    def _fill(self, name: str, ref: list[np.ndarray]) -> None:
        cur = getattr(self, name)
        if not cur:
            setattr(self, name, [np.zeros_like(r) for r in ref])
            return
        if [c.shape for c in cur] != [r.shape for r in ref]:
            raise ValueError(f"{name}: optimizer state shapes do not match the weights")
        setattr(self, name, [np.ascontiguousarray(c, np.float32) for c in cur])

    def copy(self) -> MLP:
        """Deep copy (arrays included)."""
        return MLP(**self.state_dict())

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to resume exactly (arrays are copies)."""
        return {
            "sizes": list(self.sizes),
            "activations": list(self.activations),
            "weights": [w.copy() for w in self.weights],
            "biases": [b.copy() for b in self.biases],
            "loss": self.loss,
            "optimizer": self.optimizer,
            "momentum": self.momentum,
            "beta1": self.beta1,
            "beta2": self.beta2,
            "eps": self.eps,
            "trainable": list(self.trainable),
            "step": self.step,
            "m_w": [a.copy() for a in self.m_w],
            "m_b": [a.copy() for a in self.m_b],
            "v_w": [a.copy() for a in self.v_w],
            "v_b": [a.copy() for a in self.v_b],
        }


def check_training_data(
    model: MLP, x: Any, y: Any, batch_size: int, order: Any, lr: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validate and convert one epoch's inputs (same rules for both backends)."""
    from ._validate import as_f32

    model.validate()
    x = as_f32(x, "x")
    n = x.shape[0]
    if x.shape[1] != model.sizes[0]:
        raise ValueError(f"x: {x.shape[1]} features, the network expects {model.sizes[0]}")
    if model.loss == "cross_entropy":
        ya = np.asarray(y)
        if ya.ndim != 1 or ya.shape[0] != n:
            raise ValueError(f"y: expected {n} integer labels, got shape {ya.shape}")
        if not np.issubdtype(ya.dtype, np.integer) and (
            not np.issubdtype(ya.dtype, np.floating) or not np.all(ya == np.round(ya))
        ):
            raise ValueError(f"y: labels must be integers, got dtype {ya.dtype}")
        if ya.min() < 0 or ya.max() >= model.sizes[-1]:
            raise ValueError(f"y: labels must be in [0, {model.sizes[-1] - 1}]")
        ya = np.ascontiguousarray(ya, np.int32)
    else:
        ya = as_f32(y, "y", ndim=(1, 2))
        ya = ya.reshape(n, -1) if ya.ndim == 1 else ya
        if ya.shape != (n, model.sizes[-1]):
            raise ValueError(f"y: expected shape {(n, model.sizes[-1])}, got {ya.shape}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int | np.integer):
        raise ValueError(f"batch_size: expected an integer, got {batch_size!r}")
    if batch_size < 1:
        raise ValueError(f"batch_size: must be at least 1, got {batch_size}")
    check_lr(lr)
    return x, ya, check_order(order, n)


def check_lr(lr: float) -> None:
    """A learning rate must be a positive finite number."""
    if not np.isfinite(lr) or lr <= 0:
        raise ValueError(f"lr: must be a positive finite number, got {lr}")


def check_order(order: Any, n: int) -> np.ndarray:
    """``order`` as int32 row indices: a permutation of ``range(n)`` (None = identity)."""
    if order is None:
        return np.arange(n, dtype=np.int32)
    order = np.asarray(order)
    if order.shape != (n,) or not np.issubdtype(order.dtype, np.integer):
        raise ValueError(f"order: expected a permutation of {n} row indices")
    seen = np.zeros(n, np.bool_)
    if n and (order.min() < 0 or order.max() >= n):
        raise ValueError("order: is not a permutation of the row indices")
    seen[order] = True
    if not seen.all():
        raise ValueError("order: is not a permutation of the row indices")
    return np.ascontiguousarray(order, np.int32)
