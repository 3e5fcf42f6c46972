"""Resident int8 lists for an inverted-file index: each list's codes and scales stay in
the kernel's memory between searches, grow and shrink in place, and a search scans only
the probed lists.

Why: copying the probed lists into kernel scratch on every search (``search_lists``) made
a warm IVF search cost more than the exact scan it replaces. Here a list is written once
(when it is read from the store, or a row lands in it) and a search is one ``search_i8``
call per probed list on memory that is already there.

The wasm version keeps every list in lane 0's linear memory (so every thread's search
runs on the thread that owns it); the numpy version keeps numpy arrays (the oracle).
"""

from __future__ import annotations

import contextlib
import time
import weakref
from typing import TYPE_CHECKING, Any

import numpy as np

from ._validate import as_f32, as_i8

if TYPE_CHECKING:
    from ._base import Backend
    from ._runtime import Runtime

F = np.float32


class Split:
    """Adds the seconds since the last mark to ``timing[step]``; does nothing (reads no
    clock) when ``timing`` is None, so the search path keeps its hooks at no cost."""

    __slots__ = ("timing", "t")

    def __init__(self, timing: dict[str, float] | None) -> None:
        self.timing = timing
        self.t = time.perf_counter() if timing is not None else 0.0

    def __call__(self, step: str) -> None:
        if self.timing is not None:
            now = time.perf_counter()
            self.timing[step] = self.timing.get(step, 0.0) + now - self.t
            self.t = now

    def restart(self) -> None:
        if self.timing is not None:
            self.t = time.perf_counter()


def _best(s: np.ndarray, li: np.ndarray, pos: np.ndarray, k: int) -> tuple[np.ndarray, ...]:
    """The k best candidates, best first: score desc, then list, then position (the order
    ``search_lists`` gives)."""
    order = np.lexsort((pos, li, -s))[:k]
    return s[order].astype(F), li[order].astype(np.int64), pos[order].astype(np.int64)


def _empty() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    e = np.empty(0, np.int64)
    return np.empty(0, F), e, e.copy()


class ResidentLists:
    """Lists of int8 rows (codes + one scale per row) kept for many searches (numpy)."""

    def __init__(self, kb: Backend, dim: int) -> None:
        self.kb = kb
        self.dim = int(dim)
        self._lists: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def _check(self, codes: Any, scales: Any) -> tuple[np.ndarray, np.ndarray]:
        if np.size(codes) == 0 and np.size(scales) == 0:  # a list may become empty
            return np.empty((0, self.dim), np.int8), np.empty(0, F)
        c = as_i8(np.asarray(codes).reshape(-1, self.dim), "codes")
        s = as_f32(scales, "scales", ndim=(1,))
        if s.shape[0] != c.shape[0]:
            raise ValueError(f"lists: {c.shape[0]} rows of codes but {s.shape[0]} scales")
        return c, s

    def __contains__(self, no: int) -> bool:
        return no in self._lists

    def size(self, no: int) -> int:
        return int(self._lists[no][0].shape[0]) if no in self._lists else 0

    def set(self, no: int, codes: Any, scales: Any) -> None:
        """Replace list ``no`` with these rows."""
        c, s = self._check(codes, scales)
        self._lists[no] = (c.copy(), s.copy())

    def append(self, no: int, codes: Any, scales: Any) -> None:
        c, s = self._check(codes, scales)
        old_c, old_s = self._lists.get(no, (np.empty((0, self.dim), np.int8), np.empty(0, F)))
        self._lists[no] = (np.concatenate([old_c, c]), np.concatenate([old_s, s]))

    def keep(self, no: int, mask: np.ndarray) -> None:
        """Keep only the rows of list ``no`` where ``mask`` is true (order kept)."""
        c, s = self._lists[no]
        self._lists[no] = (c[mask], s[mask])

    def rows(self, no: int) -> tuple[np.ndarray, np.ndarray]:
        """A copy of list ``no``'s codes and scales (tests, persistence)."""
        c, s = self._lists[no]
        return c.copy(), s.copy()

    @property
    def nbytes(self) -> int:
        return sum(c.nbytes + s.nbytes for c, s in self._lists.values())

    def search(
        self, nos: list[int], query: Any, k: int, timing: dict[str, float] | None = None
    ) -> tuple[np.ndarray, ...]:
        """int8 top-k over the listed lists: ``(scores, list numbers, positions)``.
        ``timing``: seconds per step are added to it (a benchmark's split), see Split."""
        q = as_f32(query, "query", ndim=(1,))
        if q.shape[0] != self.dim:
            raise ValueError(f"lists: a {q.shape[0]}-d query for {self.dim}-d lists")
        split = Split(timing)
        found = self._scan(nos, q, k, split)
        split.restart()
        out = _best(*found, k)
        split("merge")
        return out

    def _scan(
        self, nos: list[int], q: np.ndarray, k: int, split: Split
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        qc, qs = self.kb._quantize(q.reshape(1, -1))
        parts = []
        qf = qc[0].astype(F)
        for no in nos:
            c, s = self._lists.get(no, (None, None))
            if c is None or not c.shape[0]:
                continue
            scores = (c.astype(F) @ qf) * (s * qs[0])  # dot * (row scale * query scale)
            kk = min(k, c.shape[0])
            top = np.argpartition(-scores, kk - 1)[:kk] if kk < c.shape[0] else np.arange(kk)
            parts.append((scores[top].astype(F), np.full(kk, no, np.int64), top))
        if not parts:
            return _empty()
        split("scan")
        return tuple(np.concatenate([p[i] for p in parts]) for i in range(3))  # type: ignore[return-value]


class WasmResidentLists(ResidentLists):
    """The lists in lane 0's linear memory: per list a codes block and a scales block with
    spare capacity, so a row landing in a list is a copy of that row only."""

    def __init__(self, kb: Backend, dim: int, rt: Runtime) -> None:
        super().__init__(kb, dim)
        self.rt = rt
        self._blocks: dict[int, list[int]] = {}  # no -> [codes off, scales off, n, capacity]
        self._scratch: dict[str, Any] = {}  # query/result buffers kept between searches
        self._fin = weakref.finalize(self, _free_blocks, rt, self._blocks, self._scratch)

    def _on_lane(self, fn: Any) -> Any:
        return self.rt.lane(0).submit(lambda: fn(self.rt.ctx())).result()

    def __contains__(self, no: int) -> bool:
        return no in self._blocks

    def size(self, no: int) -> int:
        return self._blocks[no][2] if no in self._blocks else 0

    def _write(self, no: int, c: np.ndarray, s: np.ndarray, at_end: bool) -> None:
        d = self.dim

        def run(ctx: Any) -> None:
            ar = ctx.arena
            blk = self._blocks.get(no)
            start = blk[2] if (blk is not None and at_end) else 0
            need = start + c.shape[0]
            if blk is None or need > blk[3] or (not at_end and blk[3] > 2 * need + 16):
                cap = max(need + need // 2, 16) if at_end else need  # slack only for growth
                oc, os_ = ar.alloc(cap * d), ar.alloc(cap * 4)
                if blk is not None and start:
                    ar.view(oc, np.int8, (start, d))[...] = ar.view(blk[0], np.int8, (start, d))
                    ar.view(os_, F, start)[...] = ar.view(blk[1], F, start)
                if blk is not None:
                    ar.free(blk[0])
                    ar.free(blk[1])
                blk = self._blocks[no] = [oc, os_, start, cap]
            if c.shape[0]:
                ar.view(blk[0] + start * d, np.int8, c.shape)[...] = c
                ar.view(blk[1] + start * 4, F, c.shape[0])[...] = s
            blk[2] = need

        self._on_lane(run)

    def set(self, no: int, codes: Any, scales: Any) -> None:
        c, s = self._check(codes, scales)
        self._write(no, c, s, at_end=False)

    def append(self, no: int, codes: Any, scales: Any) -> None:
        c, s = self._check(codes, scales)
        self._write(no, c, s, at_end=True)

    def rows(self, no: int) -> tuple[np.ndarray, np.ndarray]:
        def run(ctx: Any) -> tuple[np.ndarray, np.ndarray]:
            oc, os_, n, _ = self._blocks[no]
            ar = ctx.arena
            return ar.view(oc, np.int8, (n, self.dim)).copy(), ar.view(os_, F, n).copy()

        return self._on_lane(run)

    def keep(self, no: int, mask: np.ndarray) -> None:
        c, s = self.rows(no)
        self._write(no, c[mask], s[mask], at_end=False)

    @property
    def nbytes(self) -> int:
        return sum(b[3] * (self.dim + 4) for b in self._blocks.values())

    def _scan(
        self, nos: list[int], q: np.ndarray, k: int, split: Split
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """One ``search_i8_lists`` call over the probed lists where they lie (one trip to
        lane 0; the query and result buffers stay allocated between searches)."""
        d = self.dim
        blocks = [(no, self._blocks[no]) for no in nos if self._blocks.get(no, [0, 0, 0])[2]]
        if not blocks:
            return _empty()
        qc, qs = quantize_query(q)
        sizes = np.array([b[2] for _, b in blocks], np.int64)
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        desc = np.empty((len(blocks), 4), np.int32)
        desc[:, 0] = [b[0] for _, b in blocks]
        desc[:, 1] = [b[1] for _, b in blocks]
        desc[:, 2] = sizes
        desc[:, 3] = starts
        kk = int(min(k, sizes.sum()))
        split("prepare")
        kernel = [0.0]

        def run(ctx: Any) -> tuple[np.ndarray, np.ndarray]:
            ar = ctx.arena
            sc = self._scratch
            if sc.get("k", 0) < kk or sc.get("m", 0) < len(blocks):
                for o in sc.pop("offs", []):
                    ar.free(o)
                kc, mc = max(kk, 64), max(len(blocks), 64)
                sc["offs"] = [ar.alloc(x) for x in (mc * 16, d, (d + 16) * 2, kc * 4, kc * 4, 4)]
                sc["k"], sc["m"] = kc, mc
            pd, pq, pw, pso, pio, pcnt = sc["offs"]
            ar.view(pd, np.int32, desc.shape)[...] = desc
            ar.view(pq, np.int8, d)[...] = qc
            t = time.perf_counter() if split.timing is not None else 0.0
            ctx.call("search_i8_lists", pd, len(blocks), d, pq, qs, kk, pw, pso, pio, pcnt)
            if split.timing is not None:
                kernel[0] = time.perf_counter() - t
            return ar.view(pso, F, kk).copy(), ar.view(pio, np.int32, kk).astype(np.int64)

        s, flat = self._on_lane(run)
        if split.timing is not None:  # the trip to lane 0 and back, apart from the call
            split("hop")
            split.timing["hop"] -= kernel[0]
            split.timing["kernel"] = split.timing.get("kernel", 0.0) + kernel[0]
        which = np.searchsorted(starts, flat, side="right") - 1
        nos_arr = np.array([no for no, _ in blocks], np.int64)
        split("decode")
        return s, nos_arr[which], flat - starts[which]


def quantize_query(q: np.ndarray) -> tuple[np.ndarray, float]:
    """A query's int8 codes and scale, the arithmetic of the kernels' ``quantize_rows``
    (max |x| / 127, round half to even, clip to +-127), done in numpy: a kernel call
    costs more than this for one row."""
    m = F(np.abs(q).max())
    inv = F(127) / m if m > 0 else F(0)
    codes = np.clip(np.rint(q * inv), -127, 127).astype(np.int8)
    return codes, float(m / F(127))


def _free_blocks(rt: Runtime, blocks: dict[int, list[int]], scratch: dict[str, Any]) -> None:
    """Queue the frees on lane 0 without waiting (the collector may run on a lane)."""
    offs = [o for b in blocks.values() for o in b[:2]] + list(scratch.get("offs", []))

    def job() -> None:
        ar = rt.ctx().arena
        for o in offs:
            ar.free(o)

    with contextlib.suppress(RuntimeError):  # interpreter shutting down
        rt.lane(0).submit(job)
