"""The WASM SIMD backend: every public call is one (or one per lane) wasmtime call."""

from __future__ import annotations

import contextlib
import os
import statistics
import time
import weakref
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np

from ._base import Backend, SearchIndex, Trainer, topk_rows
from ._runtime import WASM32_MAX, Context, Runtime, Sibling
from .mlp import (
    ACTIVATIONS,
    MAX_LAYERS,
    MLP,
    OPTIMIZERS,
    EpochResult,
    check_lr,
    check_order,
    check_training_data,
)

F = np.float32
SPLIT_FLOPS = 1 << 22  # below this a matmul stays on the calling thread
SPLIT_SEARCH = 1 << 21  # rows * dim * queries below which a search is not split
PREDICT_CHUNK = 256

# mlp_desc in wasm/kernels.c: 24 scalar words, then fixed-size per-layer arrays.
_D_NL, _D_N, _D_B, _D_LOSS, _D_OPT, _D_STEP = range(6)
_D_LR, _D_MU, _D_B1, _D_B2, _D_EPS, _D_LOSSSUM = range(6, 12)
_D_CORRECT, _D_X, _D_Y, _D_ORDER, _D_WORK, _D_NTHREADS = range(12, 18)
_D_BAR_COUNT, _D_BAR_GEN, _D_ABORT = range(18, 21)
_D_SIZES = 24
_D_ACT = _D_SIZES + MAX_LAYERS + 1
_D_TRAIN = _D_ACT + MAX_LAYERS
_D_PTRS = _D_TRAIN + MAX_LAYERS  # W, b, mW, mb, vW, vb: MAX_LAYERS words each
_D_WORDS = _D_PTRS + 6 * MAX_LAYERS
NPART = 2  # kernels.c: a batch step is always done in two parts (one per thread, or both)
# below this many multiply-adds per batch step, a second thread costs more than it saves
THREAD_MIN_MACS = 1 << 17
PROBE_EVERY = 8  # adaptive training re-measures the other thread count this often


def _r16(n: int) -> int:
    return (n + 15) // 16 * 16


def _work_floats(sizes: list[int], batch: int, train: bool) -> int:
    """Mirror of the scratch carving in kernels.c (carve_train / mlp_predict)."""
    total = sum(_r16(batch * s) for s in sizes)
    if train:
        total += sum(_r16(batch * s) for s in sizes[1:])  # dZ per layer
        maxwb = max(sizes[i] * sizes[i + 1] for i in range(len(sizes) - 1))
        total += NPART * _r16(maxwb) + _r16(max(sizes[1:])) + 16
    return total


def train_threads(sizes: list[int], batch: int, available: int) -> int:
    """How many threads a batch step uses: 2 when the lanes allow it and the step is big
    enough to pay for two barriers per batch; ``WORKBENCH_TRAIN_THREADS=1|2`` overrides."""
    forced = os.environ.get("WORKBENCH_TRAIN_THREADS", "").strip()
    if forced in ("1", "2"):
        return int(forced)
    macs = batch * sum(sizes[i] * sizes[i + 1] for i in range(len(sizes) - 1))
    return 2 if available >= 2 and batch >= 8 and macs >= THREAD_MIN_MACS else 1


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

    def resident_lists(self, dim: int) -> Any:
        """The lists in lane 0's linear memory (see kernels/lists.py)."""
        from .lists import WasmResidentLists

        return WasmResidentLists(self, dim, self.rt)

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
    def trainer(
        self, model: MLP, x: Any, y: Any, *, batch_size: int = 32, threads: int | None = None
    ) -> WasmTrainer:
        return WasmTrainer(self, model, x, y, batch_size, threads)

    def _train_epoch(
        self, m: MLP, x: np.ndarray, y: np.ndarray, lr: float, bs: int, order: np.ndarray
    ) -> tuple[float, int]:
        # a one-off epoch stays on this thread (a session is the place for two threads)
        threads = 2 if os.environ.get("WORKBENCH_TRAIN_THREADS", "").strip() == "2" else 1
        tr = WasmTrainer(self, m, x, y, bs, threads, checked=(x, y))
        try:
            loss_sum, correct = tr._run(lr, order)
            tr.sync()
        finally:
            tr.close()
        return loss_sum, correct

    def _predict(self, m: MLP, x: np.ndarray) -> np.ndarray:
        ctx = self.rt.ctx()
        sizes = [_D_WORDS * 4]
        for w, b in zip(m.weights, m.biases, strict=True):
            sizes += [w.nbytes, b.nbytes]
        with ctx.scratch(*sizes) as offs:
            ar = ctx.arena
            desc = _describe(ar.view(offs[0], np.int32, _D_WORDS), m, 1)
            for li in range(len(m.weights)):
                pw, pb = offs[1 + 2 * li], offs[2 + 2 * li]
                desc[_D_PTRS + li], desc[_D_PTRS + MAX_LAYERS + li] = pw, pb
                ar.view(pw, F, m.weights[li].shape)[...] = m.weights[li]
                ar.view(pb, F, m.biases[li].shape)[...] = m.biases[li]
            return _predict_call(ctx, offs[0], m.sizes, x)

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


def _describe(desc: np.ndarray, m: MLP, batch: int) -> np.ndarray:
    """Fill an mlp_desc (a view of _D_WORDS int32) with the model's architecture."""
    nl = len(m.weights)
    desc[:] = 0
    fdesc = desc.view(F)
    desc[_D_NL], desc[_D_B] = nl, batch
    desc[_D_LOSS] = 0 if m.loss == "cross_entropy" else 1
    desc[_D_OPT] = OPTIMIZERS.index(m.optimizer)
    desc[_D_STEP] = m.step
    fdesc[_D_MU], fdesc[_D_B1], fdesc[_D_B2], fdesc[_D_EPS] = m.momentum, m.beta1, m.beta2, m.eps
    desc[_D_SIZES : _D_SIZES + nl + 1] = m.sizes
    desc[_D_ACT : _D_ACT + nl] = [ACTIVATIONS.index(a) for a in m.activations]
    desc[_D_TRAIN : _D_TRAIN + nl] = [int(bool(t)) for t in m.trainable]
    return desc


def _predict_call(ctx: Context, pd: int, sizes: list[int], x: np.ndarray) -> np.ndarray:
    """Run mlp_predict with the weights a desc at ``pd`` points to (batch chunks); the
    desc is copied, so a training session's own desc is left as it was."""
    n, nout = x.shape[0], sizes[-1]
    batch = min(PREDICT_CHUNK, n)
    work = _work_floats(sizes, batch, False) * 4
    with ctx.scratch(_D_WORDS * 4, x.nbytes, work, n * nout * 4) as offs:
        pdc, px, pw, pout = offs
        ar = ctx.arena
        ar.view(px, F, x.shape)[...] = x
        desc = ar.view(pdc, np.int32, _D_WORDS)
        desc[...] = ar.view(pd, np.int32, _D_WORDS)
        desc[_D_N], desc[_D_B], desc[_D_X], desc[_D_WORK] = n, batch, px, pw
        ctx.call("mlp_predict", pdc, pout)
        return ar.view(pout, F, (n, nout)).copy()


class WasmTrainer(Trainer):
    """A training session whose model, optimizer state and data stay in one instance's
    linear memory between epochs: an epoch writes its row order and calls the kernel.

    With ``threads == 2`` a second instance over the same (shared) memory runs on a
    thread of its own and takes half of every batch step (kernels.c: mlp_train_epoch);
    the weights are bit-identical to one thread's. The session belongs to the thread
    that made it.
    """

    def __init__(
        self,
        be: WasmBackend,
        model: MLP,
        x: Any,
        y: Any,
        batch_size: int,
        threads: int | None,
        *,
        checked: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> None:
        if checked is None:
            xa, ya, _ = check_training_data(model, x, y, batch_size, None, 1.0)
        else:
            xa, ya = checked
        self.kb, self.model, self.x = be, model, xa
        self.n = n = xa.shape[0]
        self.batch_size = batch_size
        batch = min(batch_size, n)
        # None: two threads where the step is big enough, but which of 1 and 2 is used is
        # decided each epoch by measurement (the weights are the same either way)
        self.adaptive = threads is None
        if threads is None:
            threads = train_threads(model.sizes, batch, be.rt.threads)
            self.adaptive = threads == 2 and "WORKBENCH_TRAIN_THREADS" not in os.environ
        if threads not in (1, 2):
            raise ValueError(f"threads: 1 or 2, got {threads}")
        self.threads = threads
        self.epochs_by_threads = {1: 0, 2: 0}
        self._times: dict[int, list[float]] = {1: [], 2: []}
        self.ctx = ctx = be.rt.ctx()
        nl = len(model.weights)
        # one block for all parameters and optimizer state, 64-byte aligned tensors
        self._tensors: list[tuple[int, int, np.ndarray, int]] = []  # (slot, layer, array, off)
        off = 0
        for li in range(nl):
            for slot, arr in enumerate(
                (model.weights[li], model.biases[li], model.m_w[li], model.m_b[li],
                 model.v_w[li], model.v_b[li])
            ):  # fmt: skip
                self._tensors.append((slot, li, arr, off))
                off += _r16(arr.size)
        self._pfloats = off
        work = _work_floats(model.sizes, batch, True) * 4
        self._offs: list[int] = []
        self._sib: Sibling | None = None
        self._pool: ThreadPoolExecutor | None = None
        try:
            for nbytes in (_D_WORDS * 4, xa.nbytes, ya.nbytes, n * 4, work, off * 4):
                self._offs.append(ctx.arena.alloc(nbytes))
            pd, px, py, po, pw, pp = self._offs
            ar = ctx.arena
            desc = _describe(ar.view(pd, np.int32, _D_WORDS), model, batch)
            desc[_D_N], desc[_D_X], desc[_D_Y], desc[_D_ORDER], desc[_D_WORK] = n, px, py, po, pw
            desc[_D_NTHREADS] = threads
            params = ar.view(pp, F, off)
            for slot, li, arr, o in self._tensors:
                desc[_D_PTRS + slot * MAX_LAYERS + li] = pp + 4 * o
                params[o : o + arr.size] = arr.reshape(-1)
            ar.view(px, F, xa.shape)[...] = xa
            ar.view(py, ya.dtype, ya.shape)[...] = ya
            if threads == 2:
                self._sib = ctx.sibling()
                self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="wasm-train")
        except BaseException:
            self.close()
            raise

    def _desc(self) -> np.ndarray:
        return self.ctx.arena.view(self._offs[0], np.int32, _D_WORDS)

    def epoch(self, lr: float, order: Any = None, x: Any = None) -> EpochResult:
        check_lr(lr)
        order = check_order(order, self.n)
        if x is not None:
            self.x = self._new_x(x)
            self.ctx.arena.view(self._offs[1], F, self.x.shape)[...] = self.x
        loss_sum, correct = self._run(float(lr), order)
        acc = correct / self.n if self.model.loss == "cross_entropy" else None
        return EpochResult(loss=float(loss_sum) / self.n, accuracy=acc, samples=self.n)

    def _run(self, lr: float, order: np.ndarray) -> tuple[float, int]:
        if not self._offs:
            raise RuntimeError("trainer is closed")
        ctx, ar = self.ctx, self.ctx.arena
        ar.view(self._offs[3], np.int32, self.n)[...] = order
        desc = self._desc()
        desc.view(F)[_D_LR] = lr
        desc[_D_BAR_COUNT] = desc[_D_ABORT] = 0
        pd = self._offs[0]
        mode = self._pick_mode()
        desc[_D_NTHREADS] = mode
        t0 = time.perf_counter()
        if mode == 1:
            ctx.call("mlp_train_epoch", pd, 0)
        else:
            assert self._pool is not None
            fut = self._pool.submit(self._sib.call, "mlp_train_epoch", pd, 1)
            fut.add_done_callback(self._abort_if_failed)
            try:
                aborted = ctx.call("mlp_train_epoch", pd, 0)
            except BaseException:
                self._set_abort()
                fut.exception()  # wait for the other thread before the memory is reused
                raise
            fut.result()
            if aborted:  # pragma: no cover - the other thread's exception is raised above
                raise RuntimeError("training thread 1 stopped the epoch")
        self._times[mode].append(time.perf_counter() - t0)
        self.epochs_by_threads[mode] += 1
        desc = self._desc()
        self.model.step = int(desc[_D_STEP])
        return float(desc.view(F)[_D_LOSSSUM]), int(desc[_D_CORRECT])

    def _pick_mode(self) -> int:
        """Threads for the next epoch. Fixed unless adaptive; adaptive tries both, then
        keeps the faster by the median of its last three epochs and tries the other
        again every PROBE_EVERY epochs (on a shared host the second core comes and goes:
        a barrier that waits for a descheduled thread costs a time slice)."""
        if not self.adaptive:
            return self.threads
        t1, t2 = self._times[1], self._times[2]
        if not t2:
            return 2
        if not t1:
            return 1
        best = 1 if statistics.median(t1[-3:]) <= statistics.median(t2[-3:]) else 2
        done = len(t1) + len(t2)
        return 3 - best if done % PROBE_EVERY == 0 else best

    def _set_abort(self) -> None:
        if self._offs:
            self._desc()[_D_ABORT] = 1

    def _abort_if_failed(self, fut: Future[Any]) -> None:
        if fut.exception() is not None:
            self._set_abort()

    def predict(self, x: Any) -> np.ndarray:
        """Outputs of the resident (current) weights for ``x``, without a sync."""
        xa = np.asarray(x)
        if not self._offs or xa.ndim != 2 or xa.shape[1] != self.model.sizes[0]:
            return self.kb.predict(self.sync(), x)  # the general path validates and errors
        xa = np.ascontiguousarray(xa, F)
        if xa.shape[0] == 0:
            return np.empty((0, self.model.sizes[-1]), F)
        return _predict_call(self.ctx, self._offs[0], self.model.sizes, xa)

    def decay(self, shrink: float) -> None:
        if not self._offs:
            raise RuntimeError("trainer is closed")
        params = self.ctx.arena.view(self._offs[5], F, self._pfloats)
        for slot, li, arr, o in self._tensors:
            if slot == 0 and self.model.trainable[li]:  # slot 0: the layer's weights
                params[o : o + arr.size] *= np.float32(shrink)

    def sync(self) -> MLP:
        if self._offs:
            params = self.ctx.arena.view(self._offs[5], F, self._pfloats)
            for _, _, arr, o in self._tensors:
                arr[...] = params[o : o + arr.size].reshape(arr.shape)
        return self.model

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        if self._sib is not None:
            self._sib.close()
            self._sib = None
        for o in self._offs:
            self.ctx.arena.free(o)
        self._offs = []
