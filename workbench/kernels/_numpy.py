"""The numpy backend: the oracle the WASM kernels are tested against, and the peer
they are benchmarked against. Written the straightforward way a user would write it."""

from __future__ import annotations

import numpy as np

from ._base import Backend, SearchIndex, topk_rows
from .mlp import MLP

F = np.float32


def _act(z: np.ndarray, act: str) -> np.ndarray:
    if act == "relu":
        return np.maximum(z, F(0), out=z)
    if act == "tanh":
        return np.tanh(z, out=z)
    if act == "sigmoid":
        np.negative(z, out=z)
        np.exp(z, out=z)
        z += F(1)
        return np.reciprocal(z, out=z)
    if act == "softmax":
        z -= z.max(axis=1, keepdims=True)
        np.exp(z, out=z)
        z /= z.sum(axis=1, keepdims=True)
        return z
    return z


def _act_backward(dz: np.ndarray, a: np.ndarray, act: str) -> np.ndarray:
    if act == "relu":
        dz *= a > 0
    elif act == "tanh":
        dz *= F(1) - a * a
    elif act == "sigmoid":
        dz *= a * (F(1) - a)
    return dz


def forward(m: MLP, x: np.ndarray) -> list[np.ndarray]:
    acts = [x]
    for w, b, act in zip(m.weights, m.biases, m.activations, strict=True):
        z = acts[-1] @ w
        z += b
        acts.append(_act(z, act))
    return acts


class NumpyBackend(Backend):
    """Reference implementation of every kernel."""

    name = "numpy"

    def _matmul(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return a @ b

    def _quantize(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        m = np.abs(x).max(axis=1)
        with np.errstate(divide="ignore"):
            inv = np.where(m > 0, F(127) / m, F(0)).astype(F)
        scales = (m / F(127)).astype(F)
        q = np.clip(np.rint(x * inv[:, None]), -127, 127).astype(np.int8)
        return q, scales

    def _dequantize(self, q: np.ndarray, s: np.ndarray) -> np.ndarray:
        return q.astype(F) * s[:, None]

    def _scan_f32(self, ix: SearchIndex, q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        mat = ix.f32 if ix.f32 is not None else self._dequantize(ix.codes, ix.scales)
        scores = q @ mat.T
        return _topk(scores, k)

    def _scan_i8(
        self, ix: SearchIndex, qc: np.ndarray, qs: np.ndarray, k: int
    ) -> tuple[np.ndarray, np.ndarray]:
        # int8 products summed in f32 are exact while |sum| < 2**24 (d <= 1040).
        codes = ix.handle
        if codes is None:
            codes = ix.handle = ix.codes.astype(F)
        dots = qc.astype(F) @ codes.T
        # same association as the C kernel: dot * (row_scale * query_scale)
        scores = dots * (ix.scales[None, :] * qs[:, None])
        return _topk(scores, k)

    def _search_lists(
        self,
        lists: list[tuple[np.ndarray, np.ndarray]],
        qc: np.ndarray,
        qs: np.ndarray,
        k: int,
        total: int,
    ) -> tuple[np.ndarray, np.ndarray]:
        codes = np.concatenate([c for c, _ in lists]).astype(F)
        scales = np.concatenate([s for _, s in lists])
        # same association as the C kernel: dot * (row_scale * query_scale)
        scores = (codes @ qc[0].astype(F)) * (scales * qs[0])
        s, i = _topk(scores[None, :].astype(F), k)
        return s[0], i[0]

    def _train_epoch(
        self, m: MLP, x: np.ndarray, y: np.ndarray, lr: float, bs: int, order: np.ndarray
    ) -> tuple[float, int]:
        n, nl = x.shape[0], len(m.weights)
        lowest = next((i for i, t in enumerate(m.trainable) if t), nl)
        lr32 = F(lr)
        b1, b2 = F(m.beta1), F(m.beta2)
        ob1, ob2, eps, mu = F(1) - b1, F(1) - b2, F(m.eps), F(m.momentum)
        loss_sum, correct = 0.0, 0
        for s0 in range(0, n, bs):
            idx = order[s0 : s0 + bs]
            rows = idx.shape[0]
            acts = forward(m, x[idx])
            out = acts[-1]
            if m.loss == "cross_entropy":
                yb = y[idx]
                py = np.maximum(out[np.arange(rows), yb], F(1e-30))
                loss_sum -= float(np.log(py.astype(np.float64)).sum())
                correct += int((out.argmax(axis=1) == yb).sum())
                dz = out * (F(1) / F(rows))
                dz[np.arange(rows), yb] -= F(1) / F(rows)
            else:
                err = out - y[idx]
                loss_sum += float((err * err).mean(axis=1, dtype=F).astype(np.float64).sum())
                dz = err * (F(2) / (F(rows) * F(out.shape[1])))
                dz = _act_backward(dz, out, m.activations[-1])
            m.step += 1
            c1 = c2 = F(1)
            if m.optimizer == "adam":
                c1 = F(1.0 / (1.0 - float(b1) ** m.step))
                c2 = F(1.0 / (1.0 - float(b2) ** m.step))
            for li in range(nl - 1, lowest - 1, -1):
                w = m.weights[li]
                da = dz @ w.T if li > lowest else None
                if m.trainable[li]:
                    gw = acts[li].T @ dz
                    gb = dz.sum(axis=0)
                    for p, g, mm, vv in (
                        (w, gw, m.m_w[li], m.v_w[li]),
                        (m.biases[li], gb, m.m_b[li], m.v_b[li]),
                    ):
                        if m.optimizer == "sgd":
                            p -= lr32 * g
                        elif m.optimizer == "momentum":
                            mm *= mu
                            mm += g
                            p -= lr32 * mm
                        else:
                            mm *= b1
                            mm += ob1 * g
                            vv *= b2
                            vv += ob2 * (g * g)
                            p -= (lr32 * (mm * c1)) / (np.sqrt(vv * c2) + eps)
                if da is not None:
                    dz = _act_backward(da, acts[li], m.activations[li - 1])
        return loss_sum, correct

    def _predict(self, m: MLP, x: np.ndarray) -> np.ndarray:
        return forward(m, x)[-1]


def _topk(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    n = scores.shape[1]
    if k < n:
        part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    else:
        part = np.broadcast_to(np.arange(n), scores.shape).copy()
    cand = np.take_along_axis(scores, part, axis=1)
    return topk_rows(cand, part.astype(np.int64), k)
