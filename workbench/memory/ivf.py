"""An inverted-file (IVF) index over one namespace of vector memory, persisted in the store.

Why: a full int8 scan grows with the store, and every CLI, hook or MCP call is a new process
that had to read every code before its first search. Here k-means (trained on the kernels'
matmul, ``Backend.nearest``) splits the rows into about sqrt(n) lists; a search probes the
``nprobe`` lists nearest the query, scans their int8 codes in one kernel call on lists kept
resident in the kernels' memory (``kernels/lists.py``) and hands the best candidates to the
caller's f32 re-rank.

nprobe is chosen at training on held-out stored rows used as queries (their exact top 10
among the other rows is the truth): the smallest nprobe whose recall@10 reaches
TARGET_RECALL. It is stored with the index and chosen again at every retraining.

What persists (migration 0015): the header (centroids with a checksum, nprobe and its
recall, the change_log cursor the lists are current with, row count, max id) and each list
as one row of blobs (ids, scales, codes). A new process reads the header and only the lists
it probes. Writers keep the persisted lists current inside their own write transaction
(``persist_changes``); a reading process never writes: it catches up in memory from
change_log. Anything that does not add up (checksum, counts, blob sizes, a pruned
change_log) makes ``load`` refuse the index, so the caller rebuilds instead of trusting it.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import peewee

from workbench.kernels import Backend
from workbench.kernels.lists import Split
from workbench.store import models as m

TABLE = "vector_memory"
IVF_MIN = 10_000  # rows in a namespace below which search stays an exact scan
TARGET_RECALL = 0.998  # on held-out rows; text queries (memory_search.py) saw 0.007 less
RECALL_K = 10
NPROBE_QUERIES = 300
NPROBE_LADDER = (1, 2, 3, 4, 5, 6, 8, 10, 12, 16, 20, 24, 32, 40, 48, 64, 96, 128, 192, 256, 384)
PROBE_SLACK = 0.002  # recall@10 probing may lose beyond the full scan's when that misses the target
SHORTLIST = 40  # int8 candidates re-ranked in f32 for k=10 (vector.py RERANK_MIN)
TRAIN_PER_LIST = 256  # k-means sample: at most this many rows per list
KMEANS_ITERS = 20  # (64 rows and 12 iterations: recall at nprobe 1 fell from 0.98 to 0.91)
# stop once at most this share of the sample changes list: 0 = converged (a fixed point,
# so the same centroids as running on). At 100k rows 0.005 cut training 68 -> 36 s but
# doubled the nprobe needed (12 -> 24), 0.001 saved one iteration and needed 16.
KMEANS_SETTLED = 0.0
TOP_M = 1024  # int8 candidates kept per held-out query when choosing nprobe
RETRAIN_GROWTH = 2.0  # retrain when the rows reach this multiple of the trained rows
DRIFT_RATIO = 1.5  # ... or rows added since have this multiple of the training distortion
DRIFT_MIN_SHARE = 0.1  # (judged once they are this share of the trained rows)
CHUNK = 20_000  # rows dequantized at a time
IN_CHUNK = 500  # ids per SQL IN (...)
SEED = 0


Progress = Callable[[str, int, int], None]  # (step, done, total): training's progress


class IndexRefused(Exception):
    """The persisted index does not match the store (the reason is the message)."""


class IndexReplaced(IndexRefused):
    """Another process replaced the index this process was reading (read the new one)."""


@dataclass
class TrainResult:
    centroids: np.ndarray
    labels: np.ndarray
    dists: np.ndarray
    inertia: float
    nprobe: int
    recall: float
    ms: float


def nlist_for(n: int) -> int:
    """About sqrt(n) lists (at least 16): ~sqrt(n) rows a list keeps both steps small."""
    return max(16, int(round(math.sqrt(n))))


def dequantize(codes: np.ndarray, scales: np.ndarray) -> np.ndarray:
    return codes.astype(np.float32) * scales[:, None]


def kmeans(
    kb: Backend,
    x: np.ndarray,
    nlist: int,
    iters: int = KMEANS_ITERS,
    seed: int = SEED,
    progress: Progress | None = None,
) -> np.ndarray:
    """Lloyd's k-means with the assignment step on the kernels; an empty list is reseeded
    with the row farthest from its centroid. Deterministic for a seed.

    Stops early once at most KMEANS_SETTLED of the rows change list in an iteration. The
    update sums each list's rows with one sort and ``np.add.reduceat`` (``np.add.at``
    took 0.8 s an iteration at 44k rows)."""
    rng = np.random.default_rng(seed)
    c = x[rng.choice(x.shape[0], nlist, replace=False)].copy()
    prev: np.ndarray | None = None
    for it in range(iters):
        labels, dist = kb.nearest(x, c)
        counts = np.bincount(labels, minlength=nlist)
        order = np.argsort(labels, kind="stable")
        filled = counts > 0
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])[filled]
        sums = np.add.reduceat(x[order], starts, axis=0)  # f32: 3x faster than f64 here
        c[filled] = sums / counts[filled, None].astype(np.float32)
        empty = np.flatnonzero(~filled)
        if empty.size:
            far = np.argsort(-dist)[: empty.size]
            c[empty] = x[far]
        moved = x.shape[0] if prev is None else int((labels != prev).sum())
        prev = labels
        if progress is not None:
            progress("kmeans", it + 1, iters)
        if not empty.size and moved <= KMEANS_SETTLED * x.shape[0]:
            break
    return c


def list_order(q: np.ndarray, centroids: np.ndarray, c2: np.ndarray) -> np.ndarray:
    """Distance of each query to each list, as search ranks lists (|c|^2 - 2 q.c)."""
    return c2[None, :] - 2 * (q @ centroids.T)


def choose_nprobe(
    kb: Backend,
    codes: np.ndarray,
    scales: np.ndarray,
    labels: np.ndarray,
    centroids: np.ndarray,
    seed: int = SEED,
    progress: Progress | None = None,
) -> tuple[int, float]:
    """The smallest nprobe whose recall@10 on held-out stored rows reaches TARGET_RECALL
    (or comes within PROBE_SLACK of probing every list, when even that falls short), and
    that recall.

    Queries are NPROBE_QUERIES stored rows held out of the index; their truth is the exact
    top 10 among all the other rows (dequantized: the store keeps no f32). Each candidate
    nprobe runs the search path itself on them: the probed lists' int8 scores, a SHORTLIST
    of candidates, the exact re-rank. Counting only whether a neighbour's list is probed
    misjudged real recall both ways (the int8 shortlist loses near-ties). Recall grows with
    nprobe, so a binary search over a ladder of values finds the smallest that suffices.

    One pass over the rows (two kernel matmuls a chunk) gives each query its exact top 10
    and its TOP_M best int8 scores; the SHORTLIST of the probed lists is the best of those
    that lie in them, which is exact whenever at least SHORTLIST of them do (every row
    outside scores lower). Only when fewer do (few lists probed, so few rows) are the
    probed rows scored again. Scoring every probed row per query and nprobe took 45 s of
    68 at 30k rows.
    """
    n = codes.shape[0]
    rng = np.random.default_rng(seed + 1)
    nq = min(NPROBE_QUERIES, max(1, n // 10))
    held = np.sort(rng.choice(n, nq, replace=False))
    is_held = np.zeros(n, bool)
    is_held[held] = True
    q = dequantize(codes[held], scales[held])
    q /= np.maximum(np.linalg.norm(q, axis=1, keepdims=True), 1e-12)
    quantized = [_quantize_row(q[i]) for i in range(nq)]
    qc = np.stack([c for c, _ in quantized])
    qs = np.array([s for _, s in quantized], np.float32)
    k = min(RECALL_K, n - nq)
    top_m = min(TOP_M, n - nq)
    best_s = np.full((nq, k), -np.inf, np.float32)
    best_i = np.zeros((nq, k), np.int64)
    cand_s = np.full((nq, top_m), -np.inf, np.float32)
    cand_i = np.zeros((nq, top_m), np.int64)

    def merge(old_s, old_i, s, rows, keep):
        cat_s = np.concatenate([old_s, s], axis=1)
        cat_i = np.concatenate([old_i, np.broadcast_to(rows, s.shape)], axis=1)
        top = np.argpartition(-cat_s, keep - 1, axis=1)[:, :keep]
        return np.take_along_axis(cat_s, top, 1), np.take_along_axis(cat_i, top, 1)

    for s0 in range(0, n, CHUNK):
        c = codes[s0 : s0 + CHUNK].astype(np.float32)
        sc = scales[s0 : s0 + CHUNK]
        rows = np.arange(s0, s0 + c.shape[0])
        out = ~is_held[s0 : s0 + c.shape[0]]  # held-out rows are not answers
        s = kb.matmul(q, np.ascontiguousarray((c * sc[:, None]).T))
        s[:, ~out] = -np.inf
        best_s, best_i = merge(best_s, best_i, s, rows, k)
        s8 = kb.matmul(qc, np.ascontiguousarray(c.T))  # exact integer dots in f32
        s8 *= sc[None, :]
        s8 *= qs[:, None]
        s8[:, ~out] = -np.inf
        cand_s, cand_i = merge(cand_s, cand_i, s8, rows, top_m)
        if progress is not None:
            progress("truth", min(s0 + CHUNK, n), n)
    by_cand = np.argsort(-cand_s, axis=1, kind="stable")
    cand_i = np.take_along_axis(cand_i, by_cand, 1)
    nlist = centroids.shape[0]
    by_list = np.argsort(labels, kind="stable")
    bounds = np.searchsorted(labels[by_list], np.arange(nlist + 1))
    free = np.bincount(labels[~is_held], minlength=nlist)  # rows a list offers as answers
    lists_of = np.argsort(list_order(q, centroids, (centroids**2).sum(1)), axis=1, kind="stable")
    rank_of = np.empty_like(lists_of)
    rank_of[np.arange(nq)[:, None], lists_of] = np.arange(nlist)[None, :]
    cand_list = labels[cand_i]

    def shortlist(i: int, p: int) -> np.ndarray:
        offered = int(free[lists_of[i, :p]].sum())
        r = min(SHORTLIST, offered)
        if not r:
            return np.empty(0, np.int64)
        inside = cand_i[i][rank_of[i, cand_list[i]] < p]
        if inside.size >= r:
            return inside[:r]
        rows = np.concatenate([by_list[bounds[li] : bounds[li + 1]] for li in lists_of[i, :p]])
        rows = rows[~is_held[rows]]
        qc_i, qs_i = quantized[i]
        s8 = (codes[rows].astype(np.float32) @ qc_i) * (scales[rows] * qs_i)
        return rows[np.argpartition(-s8, r - 1)[:r]]

    def recall_at(p: int) -> float:
        found = 0
        for i in range(nq):
            cand = shortlist(i, p)
            if not cand.size:
                continue
            exact = dequantize(codes[cand], scales[cand]) @ q[i]
            top = cand[np.argsort(-exact, kind="stable")[:k]]
            found += np.intersect1d(top, best_i[i]).size
        return found / (nq * k)

    ladder = sorted({min(p, nlist) for p in NPROBE_LADDER} | {nlist})
    lo, hi = 0, len(ladder) - 1
    recalls: dict[int, float] = {hi: recall_at(nlist)}
    # probing every list is the exact scan's recall (the int8 shortlist loses near-ties);
    # when even that is below the target, aim at losing at most PROBE_SLACK more than it
    target = TARGET_RECALL if recalls[hi] >= TARGET_RECALL else recalls[hi] - PROBE_SLACK
    while lo < hi:  # the first ladder value whose recall reaches the target
        mid = (lo + hi) // 2
        recalls[mid] = recall_at(ladder[mid])
        if recalls[mid] >= target - 1e-9:
            hi = mid
        else:
            lo = mid + 1
    if lo not in recalls:
        recalls[lo] = recall_at(ladder[lo])
    return ladder[lo], recalls[lo]


def _quantize_row(x: np.ndarray) -> tuple[np.ndarray, np.float32]:
    """A query's int8 codes (as float32) and scale, as the kernels quantize it."""
    m = np.float32(np.abs(x).max())
    inv = np.float32(127) / m if m > 0 else np.float32(0)
    codes = np.clip(np.rint(x * inv), -127, 127).astype(np.float32)
    return codes, np.float32(m / np.float32(127))


def train(
    kb: Backend,
    codes: np.ndarray,
    scales: np.ndarray,
    seed: int = SEED,
    progress: Progress | None = None,
) -> TrainResult:
    """Centroids for int8 rows, every row's list and distance, and the nprobe to use.
    ``progress(step, done, total)`` hears of each k-means iteration, assignment chunk and
    truth chunk (``memory optimize`` draws a bar from it)."""
    started = time.perf_counter()
    n = codes.shape[0]
    nlist = min(nlist_for(n), n)
    rng = np.random.default_rng(seed)
    sample = rng.choice(n, min(n, TRAIN_PER_LIST * nlist), replace=False)
    sample.sort()
    x = dequantize(codes[sample], scales[sample])
    centroids = kmeans(kb, x, nlist, seed=seed, progress=progress)
    labels = np.empty(n, np.int64)
    dists = np.empty(n, np.float32)
    for s0 in range(0, n, CHUNK):
        x = dequantize(codes[s0 : s0 + CHUNK], scales[s0 : s0 + CHUNK])
        labels[s0 : s0 + CHUNK], dists[s0 : s0 + CHUNK] = kb.nearest(x, centroids)
        if progress is not None:
            progress("assign", min(s0 + CHUNK, n), n)
    nprobe, recall = choose_nprobe(kb, codes, scales, labels, centroids, seed, progress)
    return TrainResult(
        centroids, labels, dists, float(dists.mean()), nprobe, recall,
        (time.perf_counter() - started) * 1e3,
    )  # fmt: skip


def checksum(header: dict[str, Any], centroids: bytes) -> str:
    """blake2b over the parameters that shape the index and the centroid bytes."""
    h = hashlib.blake2b(digest_size=16)
    for name in ("namespace", "embedder", "dim", "nlist", "nprobe"):
        h.update(f"{name}={header[name]};".encode())
    h.update(centroids)
    return h.hexdigest()


def change_cursor() -> int:
    """The newest change_log id (read before reading rows to build an index from)."""
    return int(m.ChangeLog.select(peewee.fn.MAX(m.ChangeLog.id)).scalar() or 0)


def _oldest_change() -> int | None:
    return m.ChangeLog.select(peewee.fn.MIN(m.ChangeLog.id)).scalar()


def _extent(namespace: str, embedder: str, dim: int) -> tuple[int, int]:
    """Rows of the namespace this index covers (same embedder and dim), and their max id."""
    v = m.VectorMemory
    count, top = (
        v.select(peewee.fn.COUNT(v.id), peewee.fn.MAX(v.id))
        .where((v.namespace == namespace) & (v.embedder == embedder) & (v.dim == dim))
        .tuples()
        .first()
    )
    return int(count or 0), int(top or 0)


def _changed_since(cursor: int, newest: int) -> list[int]:
    """vector_memory row ids written or deleted in change_log (cursor, newest]."""
    c = m.ChangeLog
    return sorted(
        {
            rid
            for (rid,) in c.select(c.row_id)
            .where((c.id > cursor) & (c.id <= newest) & (c.table_name == TABLE))
            .where(c.row_id.is_null(False))
            .tuples()
        }
    )


def _rows(
    ids: list[int], namespace: str, embedder: str, dim: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ids, codes, scales) of those rows that are (still) in the namespace."""
    v = m.VectorMemory
    got: list[tuple[int, bytes, float]] = []
    for s0 in range(0, len(ids), IN_CHUNK):
        query = v.select(v.id, v.embedding_i8, v.scale).where(
            v.id.in_(ids[s0 : s0 + IN_CHUNK])
            & (v.namespace == namespace)
            & (v.embedder == embedder)
            & (v.dim == dim)
        )
        sql, params = query.sql()
        got.extend(v._meta.database.execute_sql(sql, params).fetchall())
    got.sort()
    id_arr = np.array([r[0] for r in got], np.int64)
    blob = b"".join(bytes(r[1]) for r in got)
    if len(blob) != len(got) * dim:
        raise IndexRefused("a row's codes are not of the index's dimension")
    codes = np.frombuffer(blob, np.int8).reshape(len(got), dim)
    return id_arr, codes, np.array([r[2] for r in got], np.float32)


def _blobs(ids: np.ndarray, codes: np.ndarray, scales: np.ndarray) -> dict[str, Any]:
    return {
        "n": int(ids.shape[0]),
        "ids": np.ascontiguousarray(ids, "<i8").tobytes(),
        "scales": np.ascontiguousarray(scales, "<f4").tobytes(),
        "codes": np.ascontiguousarray(codes, np.int8).tobytes(),
    }


def _unpack(n: int, ids: Any, scales: Any, codes: Any, dim: int, list_no: int) -> tuple:
    ids, scales, codes = bytes(ids), bytes(scales), bytes(codes)
    if len(ids) != 8 * n or len(scales) != 4 * n or len(codes) != n * dim:
        raise IndexRefused(f"list {list_no}: blob sizes do not match its {n} rows")
    return (
        np.frombuffer(ids, "<i8").astype(np.int64),
        np.frombuffer(codes, np.int8).reshape(n, dim),
        np.frombuffer(scales, "<f4").astype(np.float32),
    )


@dataclass
class IvfIndex:
    """One namespace's IVF index: the persisted header, and the lists read so far (their
    codes resident in the kernels' memory, their ids here)."""

    id: int
    namespace: str
    embedder: str
    dim: int
    centroids: np.ndarray
    nprobe: int
    recall: float
    trained_rows: int
    inertia: float
    added_rows: int
    added_dist: float
    rows: int
    cursor: int
    max_id: int = 0
    lists: Any = None  # kernels ResidentLists, set by attach()
    ids: dict[int, np.ndarray] = field(default_factory=dict)  # list -> row ids, loaded lists
    pending: dict[int, list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = field(
        default_factory=dict
    )  # rows caught up into lists not loaded yet
    changed: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))

    def __post_init__(self) -> None:
        self.c2 = (self.centroids.astype(np.float32) ** 2).sum(1)

    @property
    def nlist(self) -> int:
        return int(self.centroids.shape[0])

    def attach(self, kb: Backend) -> IvfIndex:
        """Give the index its resident list store on ``kb``."""
        if self.lists is None:
            self.lists = kb.resident_lists(self.dim)
        return self

    # ------------------------------------------------------------------ building
    @classmethod
    def build(
        cls,
        kb: Backend,
        namespace: str,
        embedder: str,
        dim: int,
        ids: np.ndarray,
        codes: np.ndarray,
        scales: np.ndarray,
        now: Any,
        cursor: int,
        progress: Progress | None = None,
        resident: bool = True,
    ) -> tuple[IvfIndex, TrainResult]:
        """Train on the given rows and persist the index (replacing any old one) in one
        write transaction, then bring the persisted lists up to date with what was written
        while it trained.

        ``cursor`` is the change_log id read before the rows were. ``resident=False``
        leaves the lists out of the kernels' memory (a trainer that only persists: the
        searching thread reads the index back as any new process does)."""
        result = train(kb, codes, scales, progress=progress)
        nlist = int(result.centroids.shape[0])
        order = np.argsort(result.labels, kind="stable")
        bounds = np.searchsorted(result.labels[order], np.arange(nlist + 1))
        header = {"namespace": namespace, "embedder": embedder, "dim": dim,
                  "nlist": nlist, "nprobe": result.nprobe}  # fmt: skip
        blob = np.ascontiguousarray(result.centroids, np.float32).tobytes()
        max_id = int(ids.max()) if ids.size else 0
        db = m.VectorIvf._meta.database
        with db.atomic():
            drop(namespace, embedder, dim)
            ivf_id = m.VectorIvf.insert(
                **header, recall=result.recall, trained_rows=int(ids.shape[0]),
                inertia=result.inertia, added_rows=0, added_dist=0.0, rows=int(ids.shape[0]),
                max_id=max_id, cursor=cursor, centroids=blob, checksum=checksum(header, blob),
                built=now, updated=now,
            ).execute()  # fmt: skip
            for li in range(nlist):
                sel = order[bounds[li] : bounds[li + 1]]
                m.VectorIvfList.insert(
                    ivf_id=ivf_id, list_no=li, **_blobs(ids[sel], codes[sel], scales[sel])
                ).execute()
            persist_changes(kb, namespace, embedder, dim, now, centroids=result.centroids)
        index = cls(
            ivf_id, namespace, embedder, dim, result.centroids, result.nprobe, result.recall,
            int(ids.shape[0]), result.inertia, 0, 0.0, int(ids.shape[0]), cursor, max_id,
        )  # fmt: skip
        if not resident:
            return index, result
        index.attach(kb)
        for li in range(nlist):
            sel = order[bounds[li] : bounds[li + 1]]
            index.lists.set(li, codes[sel], scales[sel])
            index.ids[li] = ids[sel].copy()
        return index, result

    # ------------------------------------------------------------------ loading
    @classmethod
    def load(cls, kb: Backend, namespace: str, embedder: str, dim: int) -> IvfIndex | None:
        """The persisted index of a namespace (header only; lists load when probed), None if
        there is none; IndexRefused if it does not check out (the caller rebuilds it)."""
        row = (
            m.VectorIvf.select()
            .where(
                (m.VectorIvf.namespace == namespace)
                & (m.VectorIvf.embedder == embedder)
                & (m.VectorIvf.dim == dim)
            )
            .first()
        )
        if row is None:
            return None
        centroids = _checked_centroids(row, namespace, embedder, dim)
        index = cls(
            row.id, namespace, embedder, dim, centroids, row.nprobe, row.recall,
            row.trained_rows, row.inertia, row.added_rows, row.added_dist, row.rows, row.cursor,
            row.max_id,
        ).attach(kb)  # fmt: skip
        lst = m.VectorIvfList
        count, total, top = (
            lst.select(peewee.fn.COUNT(lst.id), peewee.fn.SUM(lst.n), peewee.fn.MAX(lst.list_no))
            .where(lst.ivf_id == row.id)
            .tuples()
            .first()
        )
        if int(count or 0) != row.nlist or int(top if top is not None else -1) != row.nlist - 1:
            raise IndexRefused(f"{count} lists stored, the index has {row.nlist}")
        if int(total or 0) != row.rows:
            raise IndexRefused(f"its lists hold {total} rows, the index says {row.rows}")
        newest = change_cursor()
        _check_cursor(row.cursor, newest)
        if newest == row.cursor and _extent(namespace, embedder, dim) != (row.rows, row.max_id):
            raise IndexRefused("the namespace's rows differ from those the index was built on")
        return index

    # ------------------------------------------------------------------ following the store
    def catch_up(self, kb: Backend) -> int:
        """Apply vector_memory changes since the cursor to this process's copy (reads only:
        the persisted lists are the writers' to keep): a changed row leaves its list, a row
        still in the namespace lands in its nearest one. Returns how many rows changed."""
        newest = change_cursor()
        if newest <= self.cursor:
            return 0
        _check_cursor(self.cursor, newest)
        changed = _changed_since(self.cursor, newest)
        if changed:
            self._apply(kb, np.array(changed, np.int64))
            self.rows = _extent(self.namespace, self.embedder, self.dim)[0]
        self.cursor = newest
        return len(changed)

    def _apply(self, kb: Backend, changed: np.ndarray) -> None:
        for li, ids in list(self.ids.items()):
            out = np.isin(ids, changed)
            if out.any():
                self.lists.keep(li, ~out)
                self.ids[li] = ids[~out]
        for li, parts in list(self.pending.items()):
            kept = []
            for i, c, s in parts:
                keep = ~np.isin(i, changed)
                kept.append((i[keep], c[keep], s[keep]))
            self.pending[li] = kept
        ids, codes, scales = _rows(changed.tolist(), self.namespace, self.embedder, self.dim)
        if len(self.ids) < self.nlist:  # lists still to read must drop these rows
            self.changed = np.union1d(self.changed, changed)
        if not ids.size:
            return
        labels, dists = kb.nearest(dequantize(codes, scales), self.centroids)
        for li in np.unique(labels).tolist():
            sel = labels == li
            if li in self.ids:
                self.lists.append(li, codes[sel], scales[sel])
                self.ids[li] = np.concatenate([self.ids[li], ids[sel]])
            else:
                self.pending.setdefault(li, []).append((ids[sel], codes[sel], scales[sel]))
        fresh = ids > self.max_id
        self.added_rows += int(fresh.sum())
        self.added_dist += float(dists[fresh].sum())
        self.max_id = max(self.max_id, int(ids.max()))

    def needs_retrain(self) -> str | None:
        """Why the index should be trained again (grown or drifted), or None."""
        if self.rows >= RETRAIN_GROWTH * self.trained_rows:
            return f"grown from {self.trained_rows} to {self.rows} rows"
        if self.added_rows >= DRIFT_MIN_SHARE * self.trained_rows and self.inertia > 0:
            added = self.added_dist / self.added_rows
            if added > DRIFT_RATIO * self.inertia:
                return f"drifted: new rows sit {added / self.inertia:.2f}x farther from their lists"
        return None

    # ------------------------------------------------------------------ searching
    def probe(self, q: np.ndarray, nprobe: int) -> list[int]:
        """The nprobe lists nearest the query (the distance lists were assigned by)."""
        d2 = self.c2 - 2 * (self.centroids @ q)
        nprobe = min(nprobe, self.nlist)
        if nprobe >= self.nlist:
            return list(range(self.nlist))
        return sorted(np.argpartition(d2, nprobe - 1)[:nprobe].tolist())

    def ensure_lists(self, wanted: list[int]) -> None:
        """Read the lists not yet resident, in one query, into the kernels' memory (rows
        changed since the index's cursor are dropped from them; caught-up rows added)."""
        missing = [n for n in wanted if n not in self.ids]
        if not missing:
            return
        lst = m.VectorIvfList
        got = {}
        for s0 in range(0, len(missing), IN_CHUNK):
            query = lst.select(lst.list_no, lst.n, lst.ids, lst.scales, lst.codes).where(
                (lst.ivf_id == self.id) & lst.list_no.in_(missing[s0 : s0 + IN_CHUNK])
            )
            sql, params = query.sql()
            for li, n, ids, scales, codes in lst._meta.database.execute_sql(sql, params):
                got[li] = _unpack(n, ids, scales, codes, self.dim, li)
        if len(got) != len(missing):
            raise IndexReplaced("the index's lists are gone (replaced by another process)")
        for li, (ids, codes, scales) in got.items():
            if self.changed.size:
                keep = ~np.isin(ids, self.changed)
                ids, codes, scales = ids[keep], codes[keep], scales[keep]
            parts = [(ids, codes, scales)] + self.pending.pop(li, [])
            self.lists.set(
                li, np.concatenate([p[1] for p in parts]), np.concatenate([p[2] for p in parts])
            )
            self.ids[li] = np.concatenate([p[0] for p in parts])
        if len(self.ids) == self.nlist:
            self.changed = np.empty(0, np.int64)  # every list is resident and current

    def candidates(
        self, q: np.ndarray, wanted: int, nprobe: int, timing: dict[str, float] | None = None
    ) -> tuple[list[int], int]:
        """Row ids of the ``wanted`` best int8 scores in the probed lists, and how many rows
        those lists hold (so the caller knows when probing more would help).

        ``timing``: when given, seconds per step are added to it (probe, gather, lists
        search — hop, kernel — and ids) so a benchmark can see which step costs what; None
        (every caller but benchmarks) reads no clock."""
        split = Split(timing)
        probed = self.probe(q, nprobe)
        split("probe")
        self.ensure_lists(probed)
        held = sum(self.ids[n].shape[0] for n in probed)
        split("gather")
        if not held:
            return [], 0
        _, li, pos = self.lists.search(probed, q, min(wanted, held), timing=timing)
        split.restart()
        out = [int(self.ids[a][b]) for a, b in zip(li.tolist(), pos.tolist(), strict=True)]
        split("ids")
        return out, held

    def resident_bytes(self) -> int:
        return (
            self.centroids.nbytes
            + (self.lists.nbytes if self.lists is not None else 0)
            + sum(ids.nbytes for ids in self.ids.values())
        )

    def resident_rows(self) -> int:
        return sum(ids.shape[0] for ids in self.ids.values())

    def info(self) -> dict[str, Any]:
        return {
            "namespace": self.namespace, "nlist": self.nlist, "nprobe": self.nprobe,
            "recall_at_10": round(self.recall, 4), "rows": self.rows,
            "trained_rows": self.trained_rows, "lists_loaded": len(self.ids),
        }  # fmt: skip


def _checked_centroids(row: Any, namespace: str, embedder: str, dim: int) -> np.ndarray:
    blob = bytes(row.centroids)
    header = {"namespace": namespace, "embedder": embedder, "dim": dim,
              "nlist": row.nlist, "nprobe": row.nprobe}  # fmt: skip
    if checksum(header, blob) != row.checksum:
        raise IndexRefused("checksum of the centroids does not match")
    if row.nlist < 1 or len(blob) != row.nlist * dim * 4 or not 1 <= row.nprobe <= row.nlist:
        raise IndexRefused("centroid shape or nprobe out of range")
    centroids = np.frombuffer(blob, np.float32).reshape(row.nlist, dim).copy()
    if not np.isfinite(centroids).all():
        raise IndexRefused("centroids are not finite")
    return centroids


def _check_cursor(cursor: int, newest: int) -> None:
    if newest < cursor:
        raise IndexRefused("the index is ahead of the store's change_log")
    oldest = _oldest_change()
    if newest > cursor and oldest is not None and oldest > cursor + 1:
        raise IndexRefused("change_log was pruned past the index's cursor")


def persist_changes(
    kb: Backend,
    namespace: str,
    embedder: str,
    dim: int,
    now: Any,
    centroids: np.ndarray | None = None,
    cache: dict[str, np.ndarray] | None = None,
) -> int:
    """Bring a namespace's persisted lists up to date with change_log; call it inside the
    write transaction that wrote the rows (SQLite's BEGIN IMMEDIATE holds the write lock
    from its start, so nothing here reads and then upgrades). Rows changed since the
    cursor leave their lists and, if still there, land in their nearest list; only the
    lists touched are rewritten. ``cache`` maps checksums to centroids already read.

    Returns the rows changed; an index that does not check out is dropped (rebuilt later).
    """
    h = m.VectorIvf
    row = (
        h.select(
            h.id,
            h.nlist,
            h.nprobe,
            h.cursor,
            h.checksum,
            h.rows,
            h.max_id,
            h.added_rows,
            h.added_dist,
        )  # fmt: skip
        .where((h.namespace == namespace) & (h.embedder == embedder) & (h.dim == dim))
        .first()
    )
    if row is None:
        return 0
    newest = change_cursor()
    if newest <= row.cursor:
        return 0
    try:
        _check_cursor(row.cursor, newest)
        if centroids is None:
            centroids = (cache or {}).get(row.checksum)
        if centroids is None:
            full = h.get_by_id(row.id)
            centroids = _checked_centroids(full, namespace, embedder, dim)
            if cache is not None:
                cache[row.checksum] = centroids
        changed = _changed_since(row.cursor, newest)
        ids, codes, scales = _rows(changed, namespace, embedder, dim)
    except IndexRefused:
        drop(namespace, embedder, dim)
        return 0
    lst = m.VectorIvfList
    touched: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    old = np.array([rid for rid in changed if rid <= row.max_id], np.int64)
    if old.size:  # rows the lists may hold: find them by the id blobs alone
        query = lst.select(lst.list_no, lst.ids).where(lst.ivf_id == row.id)
        for li, blob in query.tuples():
            if np.isin(np.frombuffer(bytes(blob), "<i8"), old).any():
                touched[li] = None  # type: ignore[assignment]
    labels, dists = (np.empty(0, np.int64), np.empty(0, np.float32))
    if ids.size:
        labels, dists = kb.nearest(dequantize(codes, scales), centroids)
        touched.update({li: None for li in np.unique(labels).tolist() if li not in touched})  # type: ignore[misc]
    removed = added = 0
    wanted = sorted(touched)
    for s0 in range(0, len(wanted), IN_CHUNK):
        for li, n, bids, bscales, bcodes in (
            lst.select(lst.list_no, lst.n, lst.ids, lst.scales, lst.codes)
            .where((lst.ivf_id == row.id) & lst.list_no.in_(wanted[s0 : s0 + IN_CHUNK]))
            .tuples()
        ):
            try:
                touched[li] = _unpack(n, bids, bscales, bcodes, dim, li)
            except IndexRefused:
                drop(namespace, embedder, dim)
                return 0
    changed_arr = np.array(changed, np.int64)
    for li in wanted:
        lids, lcodes, lscales = touched[li]
        keep = ~np.isin(lids, changed_arr)
        removed += int((~keep).sum())
        parts = [(lids[keep], lcodes[keep], lscales[keep])]
        if ids.size:
            sel = labels == li
            added += int(sel.sum())
            parts.append((ids[sel], codes[sel], scales[sel]))
        blobs = _blobs(*(np.concatenate([p[i] for p in parts]) for i in range(3)))
        lst.update(**blobs).where((lst.ivf_id == row.id) & (lst.list_no == li)).execute()
    fresh = ids > row.max_id
    h.update(
        cursor=newest, rows=row.rows - removed + added,
        max_id=max(row.max_id, int(ids.max()) if ids.size else 0),
        added_rows=row.added_rows + int(fresh.sum()),
        added_dist=row.added_dist + float(dists[fresh].sum()) if ids.size else row.added_dist,
        updated=now,
    ).where(h.id == row.id).execute()  # fmt: skip
    return len(changed)


def drop(namespace: str, embedder: str, dim: int) -> None:
    """Delete a namespace's persisted index (its lists first)."""
    for (ivf_id,) in (
        m.VectorIvf.select(m.VectorIvf.id)
        .where(
            (m.VectorIvf.namespace == namespace)
            & (m.VectorIvf.embedder == embedder)
            & (m.VectorIvf.dim == dim)
        )
        .tuples()
    ):
        m.VectorIvfList.delete().where(m.VectorIvfList.ivf_id == ivf_id).execute()
        m.VectorIvf.delete().where(m.VectorIvf.id == ivf_id).execute()
