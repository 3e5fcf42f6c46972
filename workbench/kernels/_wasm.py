"""The WASM SIMD backend: every public call is one (or one per lane) wasmtime call."""

from __future__ import annotations

import contextlib
import weakref
from typing import Any

import numpy as np

from ._base import Backend, SearchIndex, topk_rows
from ._runtime import WASM32_MAX, Context, Runtime
from .mlp import ACTIVATIONS, MAX_LAYERS, MLP, OPTIMIZERS

F = np.float32
SPLIT_FLOPS = 1 << 22  # below this a matmul stays on the calling thread
SPLIT_SEARCH = 1 << 21  # rows * dim * queries below which a search is not split
PREDICT_CHUNK = 256

# mlp_desc in wasm/kernels.c: 18 scalar words, then fixed-size per-layer arrays.
_D_NL, _D_N, _D_B, _D_LOSS, _D_OPT, _D_STEP = range(6)
_D_LR, _D_MU, _D_B1, _D_B2, _D_EPS, _D_LOSSSUM = range(6, 12)
_D_CORRECT, _D_X, _D_Y, _D_ORDER, _D_WORK = range(12, 17)
_D_SIZES = 18
_D_ACT = _D_SIZES + MAX_LAYERS + 1
_D_TRAIN = _D_ACT + MAX_LAYERS
_D_PTRS = _D_TRAIN + MAX_LAYERS  # W, b, mW, mb, vW, vb: MAX_LAYERS words each
_D_WORDS = _D_PTRS + 6 * MAX_LAYERS


def _r16(n: int) -> int:
    return (n + 15) // 16 * 16


def _work_floats(sizes: list[int], batch: int, train: bool) -> int:
    """Mirror of the scratch carving in mlp_train_epoch / mlp_predict."""
    total = sum(_r16(batch * s) for s in sizes)
    if train:
        maxw = max(sizes)
        maxwb = max((sizes[i] + 1) * sizes[i + 1] for i in range(len(sizes) - 1))
        total += 2 * _r16(batch * maxw) + _r16(maxwb)
    return total


def _split(n: int, parts: int, align: int = 1) -> list[tuple[int, int]]:
    step = -(-n // parts)
    step = -(-step // align) * align
    return [(s, min(n, s + step)) for s in range(0, n, step)]


class _Resident:
    """Index shards living in the lanes' linear memories; freed when the index goes."""

    def __init__(self, rt: Runtime, shards: list[tuple[int, int, dict[str, int]]]) -> None:
        self.shards = shards
        self._fin = weakref.finalize(self, _free_shards, rt, shards)


def _free_shards(rt: Runtime, shards: list[tuple[int, int, dict[str, int]]]) -> None:
    """Queue the frees on the owning lanes without waiting (this may run inside a lane
    thread when the garbage collector fires there, so blocking could deadlock)."""

    def job(offs: dict[str, int]) -> Any:
        return lambda: [rt.ctx().arena.free(o) for o in offs.values()]

    # RuntimeError: interpreter shutting down, the memory goes with the process
    with contextlib.suppress(RuntimeError):
        for i, (_, _, offs) in enumerate(shards):
            rt.lane(i).submit(job(offs))


class WasmBackend(Backend):
    """Kernels compiled from wasm/kernels.c, run by wasmtime."""

    name = "wasm"

    def __init__(self, max_memory: int = WASM32_MAX, threads: int | None = None) -> None:
        self.rt = Runtime(max_memory, threads)

    @property
    def threads(self) -> int:
        return self.rt.threads

    # ------------------------------------------------------------------ matmul
    def _matmul(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        m, k = a.shape
        n = b.shape[1]
        out = np.empty((m, n), F)
        t = self.rt.threads
        if t > 1 and m * n * k >= SPLIT_FLOPS and max(m, n) >= 2 * 8:
            if m >= n:
                parts = _split(m, t, 4)  # whole MR=4 row strips per lane
                jobs = [self._mm_job(a[s:e], b, out[s:e]) for s, e in parts]
            else:
                parts = _split(n, t, 8)
                jobs = [
                    self._mm_job(a, np.ascontiguousarray(b[:, s:e]), out[:, s:e]) for s, e in parts
                ]
            self.rt.on_lanes(jobs)
        else:
            self._mm_job(a, b, out)(self.rt.ctx())
        return out

    @staticmethod
    def _mm_job(a: np.ndarray, b: np.ndarray, out: np.ndarray) -> Any:
        def job(ctx: Context) -> None:
            m, k = a.shape
            n = b.shape[1]
            with ctx.scratch(a.nbytes, b.nbytes, m * n * 4) as (pa, pb, pc):
                ar = ctx.arena
                ar.view(pa, F, a.shape)[...] = a
                ar.view(pb, F, b.shape)[...] = b
                ctx.call("matmul", pa, pb, pc, m, k, n)
                out[...] = ar.view(pc, F, (m, n))

        return job

    # ------------------------------------------------------------------ quantization
    def _quantize(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        ctx = self.rt.ctx()
        n, d = x.shape
        with ctx.scratch(x.nbytes, n * d, n * 4) as (px, pq, ps):
            ar = ctx.arena
            ar.view(px, F, x.shape)[...] = x
            ctx.call("quantize_rows", px, n, d, pq, ps)
            return ar.view(pq, np.int8, (n, d)).copy(), ar.view(ps, F, n).copy()

    def _dequantize(self, q: np.ndarray, s: np.ndarray) -> np.ndarray:
        ctx = self.rt.ctx()
        n, d = q.shape
        with ctx.scratch(q.nbytes, n * 4, n * d * 4) as (pq, ps, px):
            ar = ctx.arena
            ar.view(pq, np.int8, q.shape)[...] = q
            ar.view(ps, F, n)[...] = s
            ctx.call("dequantize_rows", pq, ps, n, d, px)
            return ar.view(px, F, (n, d)).copy()

    # ------------------------------------------------------------------ search
    def _prepare(self, ix: SearchIndex) -> None:
        """Copy the rows into the lanes' memories once (sharded by rows)."""
        src = {"codes": ix.codes, "scales": ix.scales} if ix.quantized else {"f32": ix.f32}
        parts = _split(ix.n, self.rt.threads)

        def job(s: int, e: int) -> Any:
            def run(ctx: Context) -> tuple[int, int, dict[str, int]]:
                offs: dict[str, int] = {}
                try:
                    for key, arr in src.items():
                        part = arr[s:e]
                        offs[key] = ctx.arena.alloc(part.nbytes)
                        ctx.arena.view(offs[key], part.dtype, part.shape)[...] = part
                except BaseException:
                    for o in offs.values():
                        ctx.arena.free(o)
                    raise
                return s, e, offs

            return run

        shards = self.rt.on_lanes([job(s, e) for s, e in parts])
        ix.handle = _Resident(self.rt, shards)

    def _scan(self, ix: SearchIndex, q: np.ndarray, k: int, i8: bool, qs: Any = None) -> Any:
        res: _Resident | None = ix.handle
        key = "codes" if i8 else "f32"
        if res is None or key not in res.shards[0][2]:
            # not resident in this form (e.g. exact search on a quantized index)
            mat = ix.f32 if ix.f32 is not None else self._dequantize(ix.codes, ix.scales)
            tmp = SearchIndex(ix.n, ix.dim, False, f32=mat)
            self._prepare(tmp)
            return self._scan(tmp, q, k, False)
        nq, d = q.shape

        def job(s: int, e: int, offs: dict[str, int]) -> Any:
            def run(ctx: Context) -> tuple[np.ndarray, np.ndarray]:
                kk = min(k, e - s)
                sizes = (q.nbytes, nq * 4, nq * (d + 16) * 2, nq * kk * 4, nq * kk * 4, nq * 4)
                with ctx.scratch(*sizes) as (pq, pqs, pw, pso, pio, pcnt):
                    ar = ctx.arena
                    ar.view(pq, q.dtype, q.shape)[...] = q
                    if i8:
                        ar.view(pqs, F, nq)[...] = qs
                        ctx.call(
                            "search_i8", offs["codes"], offs["scales"], e - s, d,
                            pq, pqs, nq, kk, s, pw, pso, pio, pcnt,
                        )  # fmt: skip
                    else:
                        ctx.call("search_f32", offs["f32"], e - s, d, pq, nq, kk, s, pso, pio, pcnt)
                    return ar.view(pso, F, (nq, kk)).copy(), ar.view(pio, np.int32, (nq, kk)).copy()

            return run

        outs = self.rt.on_lanes([job(s, e, offs) for s, e, offs in res.shards])
        scores = np.concatenate([o[0] for o in outs], axis=1)
        idx = np.concatenate([o[1] for o in outs], axis=1).astype(np.int64)
        if len(outs) == 1:
            return scores, idx
        return topk_rows(scores, idx, k)

    def _search_lists(
        self,
        lists: list[tuple[np.ndarray, np.ndarray]],
        qc: np.ndarray,
        qs: np.ndarray,
        k: int,
        total: int,
    ) -> tuple[np.ndarray, np.ndarray]:
        """The lists copied end to end into this thread's scratch, one search_i8 call."""
        ctx = self.rt.ctx()
        d = qc.shape[1]
        sizes = (total * d, total * 4, d, 4, (d + 16) * 2, k * 4, k * 4, 4)
        with ctx.scratch(*sizes) as (pc, ps, pq, pqs, pw, pso, pio, pcnt):
            ar = ctx.arena
            codes, scales = ar.view(pc, np.int8, (total, d)), ar.view(ps, F, total)
            at = 0
            for c, s in lists:
                codes[at : at + c.shape[0]] = c
                scales[at : at + c.shape[0]] = s
                at += c.shape[0]
            ar.view(pq, np.int8, (1, d))[...] = qc
            ar.view(pqs, F, 1)[...] = qs
            ctx.call("search_i8", pc, ps, total, d, pq, pqs, 1, k, 0, pw, pso, pio, pcnt)
            return ar.view(pso, F, k).copy(), ar.view(pio, np.int32, k).astype(np.int64)

    def _scan_f32(self, ix: SearchIndex, q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        return self._scan(ix, q, k, False)

    def _scan_i8(
        self, ix: SearchIndex, qc: np.ndarray, qs: np.ndarray, k: int
    ) -> tuple[np.ndarray, np.ndarray]:
        return self._scan(ix, qc, k, True, qs)

    # ------------------------------------------------------------------ MLP
    def _mlp_call(
        self,
        m: MLP,
        x: np.ndarray,
        y: np.ndarray | None,
        order: np.ndarray | None,
        batch: int,
        lr: float,
    ) -> Any:
        """Lay the model out in linear memory, run one export, copy state back."""
        ctx = self.rt.ctx()
        nl, train = len(m.weights), y is not None
        tensors: list[tuple[int, int, np.ndarray]] = []  # (slot, layer, array)
        for li in range(nl):
            tensors += [(0, li, m.weights[li]), (1, li, m.biases[li])]
            if train and m.optimizer != "sgd":
                tensors += [(2, li, m.m_w[li]), (3, li, m.m_b[li])]
            if train and m.optimizer == "adam":
                tensors += [(4, li, m.v_w[li]), (5, li, m.v_b[li])]
        n = x.shape[0]
        work = _work_floats(m.sizes, batch, train) * 4
        sizes = [_D_WORDS * 4, x.nbytes, work, n * m.sizes[-1] * 4]
        if train:
            sizes += [y.nbytes, order.nbytes]
        sizes += [t[2].nbytes for t in tensors]
        with ctx.scratch(*sizes) as offs:
            ar = ctx.arena
            pd, px, pw, pout = offs[:4]
            toffs = offs[6:] if train else offs[4:]
            desc = ar.view(pd, np.int32, _D_WORDS)
            desc[:] = 0
            fdesc = desc.view(F)
            desc[_D_NL], desc[_D_N], desc[_D_B] = nl, n, batch
            desc[_D_LOSS] = 0 if m.loss == "cross_entropy" else 1
            desc[_D_OPT] = OPTIMIZERS.index(m.optimizer)
            desc[_D_STEP] = m.step
            fdesc[_D_LR], fdesc[_D_MU] = lr, m.momentum
            fdesc[_D_B1], fdesc[_D_B2], fdesc[_D_EPS] = m.beta1, m.beta2, m.eps
            desc[_D_X], desc[_D_WORK] = px, pw
            desc[_D_SIZES : _D_SIZES + nl + 1] = m.sizes
            desc[_D_ACT : _D_ACT + nl] = [ACTIVATIONS.index(a) for a in m.activations]
            desc[_D_TRAIN : _D_TRAIN + nl] = [int(bool(t)) for t in m.trainable]
            ar.view(px, F, x.shape)[...] = x
            if train:
                desc[_D_Y], desc[_D_ORDER] = offs[4], offs[5]
                ar.view(offs[4], y.dtype, y.shape)[...] = y
                ar.view(offs[5], np.int32, n)[...] = order
            for (slot, li, arr), off in zip(tensors, toffs, strict=True):
                desc[_D_PTRS + slot * MAX_LAYERS + li] = off
                ar.view(off, F, arr.shape)[...] = arr
            if not train:
                ctx.call("mlp_predict", pd, pout)
                return ar.view(pout, F, (n, m.sizes[-1])).copy()
            ctx.call("mlp_train_epoch", pd)
            for (_, _, arr), off in zip(tensors, toffs, strict=True):
                arr[...] = ar.view(off, F, arr.shape)
            desc = ar.view(pd, np.int32, _D_WORDS)
            m.step = int(desc[_D_STEP])
            return float(desc.view(F)[_D_LOSSSUM]), int(desc[_D_CORRECT])

    def _train_epoch(
        self, m: MLP, x: np.ndarray, y: np.ndarray, lr: float, bs: int, order: np.ndarray
    ) -> tuple[float, int]:
        return self._mlp_call(m, x, y, order, min(bs, x.shape[0]), lr)

    def _predict(self, m: MLP, x: np.ndarray) -> np.ndarray:
        return self._mlp_call(m, x, None, None, min(PREDICT_CHUNK, x.shape[0]), 0.0)

    # ------------------------------------------------------------------ roofline
    def peak_gflops(self, seconds: float = 0.2) -> float:
        """Register-only relaxed-SIMD FMA loop on every lane at once (the WASM roofline)."""
        import time

        iters = 1 << 22
        ctx = self.rt.ctx()
        t0 = time.perf_counter()
        ctx.call("peak_fma", iters)
        dt = time.perf_counter() - t0
        iters = max(iters, int(iters * seconds / max(dt, 1e-6)))

        def job(ctx: Context) -> float:
            t = time.perf_counter()
            ctx.call("peak_fma", iters)
            return time.perf_counter() - t

        self.rt.on_lanes([job] * self.rt.threads)  # warm every lane's instance
        t0 = time.perf_counter()
        self.rt.on_lanes([job] * self.rt.threads)
        wall = time.perf_counter() - t0
        return iters * 96 * self.rt.threads / wall / 1e9
