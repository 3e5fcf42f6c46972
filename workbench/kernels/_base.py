"""The backend API both implementations share: validation, shapes, search orchestration.

Subclasses supply the primitive kernels (``_matmul``, ``_quantize``, ``_dequantize``,
``_scan_f32``, ``_scan_i8``, ``_train_epoch``, ``_predict``); everything a user can
get wrong is checked here once, so both backends reject the same inputs identically.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._validate import as_f32, as_i8, check_k, matmul_args, search_args
from .mlp import MLP, EpochResult, check_lr, check_order, check_training_data

NEAREST_BLOCK = 1 << 21  # rows x centroids scores per matmul in nearest()


@dataclass(eq=False)
class SearchIndex:
    """Rows prepared once for many searches (the wasm backend keeps them in linear memory).

    ``f32`` may be None for a codes-only index (then quantized scores are returned as is).
    """

    n: int
    dim: int
    quantized: bool
    f32: np.ndarray | None = None
    codes: np.ndarray | None = None
    scales: np.ndarray | None = None
    handle: Any = field(default=None, repr=False)


def topk_rows(scores: np.ndarray, idx: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the k best (score desc, index asc) among candidate columns."""
    out_s = np.empty((scores.shape[0], k), np.float32)
    out_i = np.empty((scores.shape[0], k), np.int64)
    for r in range(scores.shape[0]):
        order = np.lexsort((idx[r], -scores[r]))[:k]
        out_s[r] = scores[r, order]
        out_i[r] = idx[r, order]
    return out_s, out_i


class Trainer:
    """Many epochs over one training set: ``kb.trainer(model, x, y, batch_size=32)``.

    Why a session: a backend may keep the model and the data where its kernels work (the
    WASM backend keeps them resident in linear memory) instead of copying them in and out
    every epoch. While it is open the session owns the model's state; ``sync()`` copies
    it back into the MLP's arrays (checkpoints, early-stopping snapshots, the end).
    This plain version trains the model in place through ``train_epoch``.
    """

    threads = 1

    def __init__(self, kb: Backend, model: MLP, x: Any, y: Any, batch_size: int) -> None:
        self.kb, self.model, self.batch_size = kb, model, batch_size
        self.x, self.y, _ = check_training_data(model, x, y, batch_size, None, 1.0)

    def epoch(self, lr: float, order: Any = None, x: Any = None) -> EpochResult:
        """One epoch in ``order``; ``x`` replaces the inputs (same shape) from now on."""
        if x is not None:
            self.x = self._new_x(x)
        return self.kb.train_epoch(
            self.model, self.x, self.y, lr, batch_size=self.batch_size, order=order
        )

    def predict(self, x: Any) -> np.ndarray:
        """The current model's outputs for ``x`` (as ``Backend.predict``)."""
        return self.kb.predict(self.model, x)

    def sync(self) -> MLP:
        """Bring the model's arrays up to date; returns the model."""
        return self.model

    def decay(self, shrink: float) -> None:
        """Multiply the trainable weights (not biases, not optimizer state) by ``shrink``
        where they live: decoupled L2 weight decay between epochs."""
        for i, w in enumerate(self.model.weights):
            if self.model.trainable[i]:
                w *= np.float32(shrink)

    def close(self) -> None:
        """Free what the session holds (after a final ``sync``)."""

    def __enter__(self) -> Trainer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.sync()
        self.close()

    def _new_x(self, x: Any) -> np.ndarray:
        xa = as_f32(x, "x")
        if xa.shape != self.x.shape:
            raise ValueError(f"x: expected shape {self.x.shape}, got {xa.shape}")
        return xa


class Backend:
    """Kernel backend; ``name`` is "wasm" or "numpy"."""

    name = "base"

    # ------------------------------------------------------------------ matmul
    def matmul(self, a: Any, b: Any) -> np.ndarray:
        """float32 ``a @ b`` for 1-D/2-D operands (numpy shape rules)."""
        a, b = matmul_args(a, b)
        a2 = a.reshape(1, -1) if a.ndim == 1 else a
        b2 = b.reshape(-1, 1) if b.ndim == 1 else b
        out = self._matmul(a2, b2)
        shape = a.shape[:-1] + b.shape[1:]
        return out.reshape(shape)

    # ------------------------------------------------------------------ quantization
    def quantize(self, x: Any) -> tuple[np.ndarray, np.ndarray]:
        """Per-row symmetric int8: ``x ≈ q * scales[:, None]`` (1-D input = one row)."""
        arr = as_f32(x, "x", ndim=(1, 2))
        single = arr.ndim == 1
        q, s = self._quantize(arr.reshape(1, -1) if single else arr)
        return (q[0], s[:1]) if single else (q, s)

    def dequantize(self, q: Any, scales: Any) -> np.ndarray:
        """float32 rows back from int8 codes and per-row scales."""
        qa = np.asarray(q)
        single = qa.ndim == 1
        qa = as_i8(qa.reshape(1, -1) if single else qa, "q")
        s = as_f32(scales, "scales", ndim=(1,))
        if s.shape[0] != qa.shape[0]:
            raise ValueError(f"scales: {s.shape[0]} scales for {qa.shape[0]} rows")
        out = self._dequantize(qa, s)
        return out[0] if single else out

    # ------------------------------------------------------------------ search
    def index(
        self,
        matrix: Any = None,
        *,
        codes: Any = None,
        scales: Any = None,
        quantized: bool = True,
    ) -> SearchIndex:
        """Prepare rows for repeated search: from float32 rows, or from int8 codes + scales."""
        if matrix is not None:
            f32 = as_f32(matrix, "matrix")
            n, d = f32.shape
            if quantized:
                c, s = self._quantize(f32)
                ix = SearchIndex(n, d, True, f32=f32, codes=c, scales=s)
            else:
                ix = SearchIndex(n, d, False, f32=f32)
        elif codes is not None:
            c = as_i8(codes, "codes")
            s = as_f32(scales, "scales", ndim=(1,))
            if s.shape[0] != c.shape[0]:
                raise ValueError(f"scales: {s.shape[0]} scales for {c.shape[0]} rows")
            ix = SearchIndex(c.shape[0], c.shape[1], True, codes=c, scales=s)
        else:
            raise ValueError("index: give a matrix or codes + scales")
        self._prepare(ix)
        return ix

    def nearest(self, x: Any, centroids: Any) -> tuple[np.ndarray, np.ndarray]:
        """Per row of ``x``, the nearest centroid by squared L2 distance: ``(labels int64,
        distances float32)``; ties go to the lower centroid index.

        ``|x - c|^2 = |x|^2 - 2 x.c + |c|^2``: the cross term is the backend's matmul,
        taken in row chunks so the (rows x centroids) block stays small. k-means
        assignment and IVF list choice both use it.
        """
        xa = as_f32(x, "x")
        ca = as_f32(centroids, "centroids")
        if ca.shape[1] != xa.shape[1]:
            raise ValueError(f"centroids: dimension {ca.shape[1]} does not match x ({xa.shape[1]})")
        cn = np.einsum("ij,ij->i", ca, ca)
        ct = np.ascontiguousarray(ca.T)
        labels = np.empty(xa.shape[0], np.int64)
        dist = np.empty(xa.shape[0], np.float32)
        step = max(1, NEAREST_BLOCK // ca.shape[0])
        for s0 in range(0, xa.shape[0], step):
            xs = xa[s0 : s0 + step]
            d2 = self._matmul(xs, ct)
            d2 *= np.float32(-2)
            d2 += cn[None, :]
            lab = d2.argmin(axis=1)
            labels[s0 : s0 + step] = lab
            xn = np.einsum("ij,ij->i", xs, xs)
            dist[s0 : s0 + step] = np.maximum(d2[np.arange(xs.shape[0]), lab] + xn, 0)
        return labels, dist

    def resident_lists(self, dim: int) -> Any:
        """An empty store of int8 lists kept in this backend's memory between searches
        (``kernels/lists.py``): what a warm IVF index searches without copying."""
        from .lists import ResidentLists

        return ResidentLists(self, dim)

    def search_lists(
        self, lists: list[tuple[np.ndarray, np.ndarray]], query: Any, k: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """int8 inner-product top-k over several (codes, scales) lists at once (the probed
        lists of an IVF index): ``(scores, list numbers, row positions in that list)``,
        best first (score desc, then list, then position).

        The lists stay numpy arrays the caller may grow or shrink between searches; the
        wasm backend copies the probed ones into scratch memory and scans them in one
        kernel call (a wasmtime call costs ~0.1 ms, so one call per list would not do).
        """
        q = as_f32(query, "query", ndim=(1,))
        keep = [i for i, (c, _) in enumerate(lists) if len(c)]  # list numbers of the caller's
        lists = [
            (as_i8(lists[i][0], "codes"), as_f32(lists[i][1], "scales", ndim=(1,))) for i in keep
        ]
        total = sum(c.shape[0] for c, _ in lists)
        for c, s in lists:
            if c.shape[1] != q.shape[0] or s.shape[0] != c.shape[0]:
                raise ValueError(
                    f"search_lists: a list of shape {c.shape} with {s.shape[0]} scales "
                    f"does not match a {q.shape[0]}-d query"
                )
        if not total:
            empty = np.empty(0, np.int64)
            return np.empty(0, np.float32), empty, empty.copy()
        k = check_k(k, total)
        qc, qs = self._quantize(q.reshape(1, -1))
        s, flat = self._search_lists(lists, qc, qs, k, total)
        starts = np.cumsum([0] + [c.shape[0] for c, _ in lists])
        li = np.searchsorted(starts, flat, side="right") - 1
        pos = flat - starts[li]
        li = np.asarray(keep, np.int64)[li]
        order = np.lexsort((pos, li, -s))[:k]
        return s[order], li[order], pos[order].astype(np.int64)

    def search(
        self,
        matrix: Any,
        queries: Any,
        k: int,
        quantized: bool | None = None,
        *,
        candidates: int | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Inner-product top-k: ``(scores float32, indices int64)``, best first.

        ``quantized=True`` scans int8 codes for ``candidates`` rows (default max(4k, 32))
        and re-ranks them with exact float32 scores. ``matrix`` may be a SearchIndex;
        ``quantized=None`` (default) then follows the index, else means False.
        A 1-D query gives 1-D results.
        """
        if isinstance(matrix, SearchIndex):
            ix = matrix
            quantized = ix.quantized if quantized is None else quantized
        else:
            ix = self.index(matrix, quantized=bool(quantized))
        q, k, single = search_args(np.empty((ix.n, 0)), queries, k, ix.dim)
        use_i8 = ix.quantized and (quantized or ix.f32 is None)
        if use_i8:
            r = min(ix.n, max(4 * k, 32) if candidates is None else check_k(candidates, ix.n))
            r = max(r, k)
            qc, qs = self._quantize(q)
            cs, ci = self._scan_i8(ix, qc, qs, r)
            if ix.f32 is not None:
                exact = np.einsum("qrd,qd->qr", ix.f32[ci], q, dtype=np.float32)
                s, i = topk_rows(exact.astype(np.float32), ci, k)
            else:
                s, i = cs[:, :k], ci[:, :k]
        else:
            s, i = self._scan_f32(ix, q, k)
        return (s[0], i[0]) if single else (s, i)

    # ------------------------------------------------------------------ MLP
    def train_epoch(
        self,
        model: MLP,
        x: Any,
        y: Any,
        lr: float,
        *,
        batch_size: int = 32,
        order: Any = None,
    ) -> EpochResult:
        """Train one whole epoch in place (weights, optimizer state, ``model.step``).

        ``order`` is the row permutation (e.g. ``rng.permutation(n)``) so shuffling is
        decided in Python and both backends are deterministic for a seed.
        """
        xa, ya, oa = check_training_data(model, x, y, batch_size, order, lr)
        loss_sum, correct = self._train_epoch(model, xa, ya, float(lr), int(batch_size), oa)
        n = xa.shape[0]
        acc = correct / n if model.loss == "cross_entropy" else None
        return EpochResult(loss=float(loss_sum) / n, accuracy=acc, samples=n)

    def trainer(
        self, model: MLP, x: Any, y: Any, *, batch_size: int = 32, threads: int | None = None
    ) -> Trainer:
        """A training session over (x, y) (see ``Trainer``); ``threads`` only matters to
        backends that can split a batch step (wasm: None = decide by the network's size)."""
        return Trainer(self, model, x, y, batch_size)

    def predict(self, model: MLP, x: Any) -> np.ndarray:
        """Batch inference: the output layer's activations, shape (n, sizes[-1])."""
        model.validate()
        xa = as_f32(x, "x", ndim=(1, 2))
        single = xa.ndim == 1
        xa = xa.reshape(1, -1) if single else xa
        if xa.shape[1] != model.sizes[0]:
            raise ValueError(f"x: {xa.shape[1]} features, the network expects {model.sizes[0]}")
        out = self._predict(model, xa)
        return out[0] if single else out

    # ------------------------------------------------------------------ primitives
    def _matmul(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _quantize(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def _dequantize(self, q: np.ndarray, s: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _prepare(self, ix: SearchIndex) -> None:
        pass

    def _search_lists(
        self,
        lists: list[tuple[np.ndarray, np.ndarray]],
        qc: np.ndarray,
        qs: np.ndarray,
        k: int,
        total: int,
    ) -> tuple[np.ndarray, np.ndarray]:
        """At least the k best (score, position in the lists laid end to end)."""
        raise NotImplementedError

    def _scan_f32(self, ix: SearchIndex, q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def _scan_i8(
        self, ix: SearchIndex, qc: np.ndarray, qs: np.ndarray, k: int
    ) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def _train_epoch(
        self, m: MLP, x: np.ndarray, y: np.ndarray, lr: float, bs: int, order: np.ndarray
    ) -> tuple[float, int]:
        raise NotImplementedError

    def _predict(self, m: MLP, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError


__all__ = ["Backend", "SearchIndex", "Trainer", "topk_rows", "check_k", "check_lr", "check_order"]
