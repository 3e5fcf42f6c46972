"""An inverted-file (IVF) index over one namespace of vector memory, persisted in the store.

Why: a full int8 scan grows with the store, and every CLI, hook or MCP call is a new process
that had to read every code before its first search. Here k-means (trained on the kernels'
matmul, ``Backend.nearest``) splits the rows into about sqrt(n) lists; a search probes the
``nprobe`` lists nearest the query, scans their int8 codes in one kernel call
(``Backend.search_lists``) and hands the best candidates to the caller's f32 re-rank.

What persists (migration 0015): the centroids with a checksum, nprobe and the recall it was
chosen for, and each row's list (``vector_ivf_members``); the codes stay in
``vector_memory``. A new process reads the centroids and only the lists it probes. The index
records what it is current with (change_log cursor, member count, the namespace's row count
and max id); it catches up from change_log (a new row lands in its list, a deleted row leaves
it), and anything that does not add up (checksum, counts, a pruned change_log, list numbers
out of range) makes ``load`` refuse it, so the caller rebuilds instead of trusting it.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import peewee

from workbench.kernels import Backend
from workbench.store import models as m

TABLE = "vector_memory"
IVF_MIN = 10_000  # rows in a namespace below which search stays an exact scan
TARGET_RECALL = 0.999  # on the training queries: held-out text queries measured ~0.5 pt lower
RECALL_K = 10
NPROBE_QUERIES = 300
TRAIN_PER_LIST = 64  # k-means sample: at most this many rows per list
KMEANS_ITERS = 12
RETRAIN_GROWTH = 2.0  # retrain when the members reach this multiple of the trained rows
DRIFT_RATIO = 1.5  # ... or rows added since have this multiple of the training distortion
DRIFT_MIN_SHARE = 0.1  # (judged once they are this share of the trained rows)
CHUNK = 20_000  # rows dequantized at a time when assigning
IN_CHUNK = 500  # ids per SQL IN (...)
SEED = 0


class IndexRefused(Exception):
    """The persisted index does not match the store (the reason is the message)."""


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
    kb: Backend, x: np.ndarray, nlist: int, iters: int = KMEANS_ITERS, seed: int = SEED
) -> np.ndarray:
    """Lloyd's k-means with the assignment step on the kernels; an empty list is reseeded
    with the row farthest from its centroid. Deterministic for a seed."""
    rng = np.random.default_rng(seed)
    c = x[rng.choice(x.shape[0], nlist, replace=False)].copy()
    for _ in range(iters):
        labels, dist = kb.nearest(x, c)
        counts = np.bincount(labels, minlength=nlist)
        sums = np.zeros_like(c, dtype=np.float64)
        np.add.at(sums, labels, x)
        filled = counts > 0
        c[filled] = (sums[filled] / counts[filled, None]).astype(np.float32)
        empty = np.flatnonzero(~filled)
        if empty.size:
            far = np.argsort(-dist)[: empty.size]
            c[empty] = x[far]
    return c


def choose_nprobe(
    kb: Backend, x: np.ndarray, labels: np.ndarray, centroids: np.ndarray, seed: int = SEED
) -> tuple[int, float]:
    """The smallest nprobe whose recall@10 reaches TARGET_RECALL, and that recall.

    Queries are stored rows moved by a random direction of half their length; the truth is
    the exact top 10 over all rows. A true neighbour is found exactly when its list is among
    the probed ones (the re-rank is exact), so recall(p) is the share of true neighbours whose
    list ranks below p for their query: one pass gives every p.
    """
    rng = np.random.default_rng(seed + 1)
    nq = min(NPROBE_QUERIES, x.shape[0])
    pick = rng.choice(x.shape[0], nq, replace=False)
    noise = rng.standard_normal((nq, x.shape[1])).astype(np.float32)
    noise *= (0.5 * np.linalg.norm(x[pick], axis=1) / np.linalg.norm(noise, axis=1))[:, None]
    q = x[pick] + noise
    q /= np.maximum(np.linalg.norm(q, axis=1, keepdims=True), 1e-12)
    k = min(RECALL_K, x.shape[0])
    scores = kb.matmul(q, np.ascontiguousarray(x.T))
    truth = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    # rank of every list per query, by the distance search uses to choose lists
    cd = -2 * kb.matmul(q, np.ascontiguousarray(centroids.T)) + (centroids**2).sum(1)[None, :]
    order = np.argsort(cd, axis=1, kind="stable")
    rank = np.empty_like(order)
    rank[np.arange(nq)[:, None], order] = np.arange(centroids.shape[0])[None, :]
    needed = rank[np.arange(nq)[:, None], labels[truth]]  # list rank of each true neighbour
    hist = np.bincount(needed.ravel(), minlength=centroids.shape[0])
    recall = np.cumsum(hist) / needed.size
    p = int(np.searchsorted(recall, TARGET_RECALL - 1e-9)) + 1
    p = min(p, centroids.shape[0])
    return p, float(recall[p - 1])


def train(kb: Backend, codes: np.ndarray, scales: np.ndarray, seed: int = SEED) -> TrainResult:
    """Centroids for int8 rows, every row's list and distance, and the nprobe to use."""
    started = time.perf_counter()
    n = codes.shape[0]
    nlist = min(nlist_for(n), n)
    rng = np.random.default_rng(seed)
    sample = rng.choice(n, min(n, TRAIN_PER_LIST * nlist), replace=False)
    sample.sort()
    centroids = kmeans(kb, dequantize(codes[sample], scales[sample]), nlist, seed=seed)
    labels = np.empty(n, np.int64)
    dists = np.empty(n, np.float32)
    for s0 in range(0, n, CHUNK):
        x = dequantize(codes[s0 : s0 + CHUNK], scales[s0 : s0 + CHUNK])
        labels[s0 : s0 + CHUNK], dists[s0 : s0 + CHUNK] = kb.nearest(x, centroids)
    qsample = rng.choice(n, min(n, 50_000), replace=False)
    nprobe, recall = choose_nprobe(
        kb, dequantize(codes[qsample], scales[qsample]), labels[qsample], centroids, seed
    )
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
    return _change_cursor()


def _change_cursor() -> int:
    return int(m.ChangeLog.select(peewee.fn.MAX(m.ChangeLog.id)).scalar() or 0)


def _namespace_extent(namespace: str) -> tuple[int, int]:
    v = m.VectorMemory
    count, top = (
        v.select(peewee.fn.COUNT(v.id), peewee.fn.MAX(v.id))
        .where(v.namespace == namespace)
        .tuples()
        .first()
    )
    return int(count or 0), int(top or 0)


@dataclass
class _List:
    ids: np.ndarray
    codes: np.ndarray
    scales: np.ndarray


@dataclass
class IvfIndex:
    """One namespace's IVF index: the persisted header, and the lists read so far."""

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
    lists: dict[int, _List] = field(default_factory=dict)
    where_list: dict[int, int] = field(default_factory=dict)  # row id -> list, loaded rows

    @property
    def nlist(self) -> int:
        return int(self.centroids.shape[0])

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
    ) -> tuple[IvfIndex, TrainResult]:
        """Train on the given rows and persist the index (replacing any old one).

        ``cursor`` is the change_log id read before the rows were: anything written since
        comes in by ``catch_up``."""
        result = train(kb, codes, scales)
        db = m.VectorIvf._meta.database
        with db.atomic():
            store_rows, max_id = _namespace_extent(namespace)
            drop(namespace, embedder, dim)
            header = {
                "namespace": namespace, "embedder": embedder, "dim": dim,
                "nlist": int(result.centroids.shape[0]), "nprobe": result.nprobe,
            }  # fmt: skip
            blob = np.ascontiguousarray(result.centroids, np.float32).tobytes()
            ivf_id = m.VectorIvf.insert(
                **header,
                recall=result.recall,
                trained_rows=int(ids.shape[0]),
                inertia=result.inertia,
                added_rows=0,
                added_dist=0.0,
                rows=int(ids.shape[0]),
                store_rows=store_rows,
                max_id=max_id,
                cursor=cursor,
                centroids=blob,
                checksum=checksum(header, blob),
                built=now,
                updated=now,
            ).execute()
            members = list(
                zip(ids.tolist(), [ivf_id] * len(ids), result.labels.tolist(), strict=True)
            )
            fields = [m.VectorIvfMember.row_id, m.VectorIvfMember.ivf_id, m.VectorIvfMember.list_no]
            for s0 in range(0, len(members), IN_CHUNK):
                m.VectorIvfMember.insert_many(members[s0 : s0 + IN_CHUNK], fields=fields).execute()
        index = cls(
            ivf_id, namespace, embedder, dim, result.centroids, result.nprobe, result.recall,
            int(ids.shape[0]), result.inertia, 0, 0.0, int(ids.shape[0]), cursor,
        )  # fmt: skip
        for list_no in range(index.nlist):
            sel = np.flatnonzero(result.labels == list_no)
            index._set_list(list_no, _List(ids[sel], codes[sel], scales[sel]))
        return index, result

    # ------------------------------------------------------------------ loading
    @classmethod
    def load(cls, namespace: str, embedder: str, dim: int) -> IvfIndex | None:
        """The persisted index of a namespace, None if there is none; IndexRefused if it
        does not check out (the caller rebuilds it)."""
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
        index = cls(
            row.id, namespace, embedder, dim, centroids, row.nprobe, row.recall,
            row.trained_rows, row.inertia, row.added_rows, row.added_dist, row.rows, row.cursor,
        )  # fmt: skip
        mb = m.VectorIvfMember
        count, top = (
            mb.select(peewee.fn.COUNT(mb.row_id), peewee.fn.MAX(mb.list_no))
            .where(mb.ivf_id == row.id)
            .tuples()
            .first()
        )
        if int(count or 0) != row.rows:
            raise IndexRefused(f"{count} members, the index says {row.rows}")
        if top is not None and not 0 <= int(top) < row.nlist:
            raise IndexRefused(f"list {top} out of range (nlist {row.nlist})")
        index._check_extent(row.store_rows, row.max_id)
        return index

    def _check_extent(self, store_rows: int, max_id: int) -> None:
        """The namespace still has the rows the index was current with (or change_log
        says what changed since): anything else is a store the index was not built on."""
        oldest = m.ChangeLog.select(peewee.fn.MIN(m.ChangeLog.id)).scalar()
        newest = _change_cursor()
        if newest < self.cursor:
            raise IndexRefused("the index is ahead of the store's change_log")
        if oldest is not None and oldest > self.cursor + 1 and newest > self.cursor:
            raise IndexRefused("change_log was pruned past the index's cursor")
        if newest == self.cursor and _namespace_extent(self.namespace) != (store_rows, max_id):
            raise IndexRefused("the namespace's rows differ from those the index was built on")

    # ------------------------------------------------------------------ following the store
    def catch_up(self, kb: Backend, persist: bool = True) -> int:
        """Apply vector_memory changes since the cursor: new or changed rows land in their
        nearest list, deleted ones leave. Returns how many rows changed."""
        newest = _change_cursor()
        if newest <= self.cursor:
            return 0
        oldest = m.ChangeLog.select(peewee.fn.MIN(m.ChangeLog.id)).scalar()
        if oldest is not None and oldest > self.cursor + 1:
            raise IndexRefused("change_log was pruned past the index's cursor")
        changed = sorted(
            {
                rid
                for (rid,) in m.ChangeLog.select(m.ChangeLog.row_id)
                .where(
                    (m.ChangeLog.id > self.cursor)
                    & (m.ChangeLog.id <= newest)
                    & (m.ChangeLog.table_name == TABLE)
                    & m.ChangeLog.row_id.is_null(False)
                )
                .tuples()
            }
        )
        if changed:
            self._apply(kb, changed, persist)
        self.cursor = newest
        if persist:
            mb = m.VectorIvfMember
            self.rows = mb.select().where(mb.ivf_id == self.id).count()  # another writer's too
            store_rows, max_id = _namespace_extent(self.namespace)
            m.VectorIvf.update(
                cursor=self.cursor, rows=self.rows, added_rows=self.added_rows,
                added_dist=self.added_dist, store_rows=store_rows, max_id=max_id,
            ).where(m.VectorIvf.id == self.id).execute()  # fmt: skip
        return len(changed)

    def _apply(self, kb: Backend, changed: list[int], persist: bool) -> None:
        v, mb = m.VectorMemory, m.VectorIvfMember
        ids, codes, scales = [], [], []
        old: dict[int, int] = {}
        for s0 in range(0, len(changed), IN_CHUNK):
            chunk = changed[s0 : s0 + IN_CHUNK]
            old.update(
                mb.select(mb.row_id, mb.list_no)
                .where((mb.row_id.in_(chunk)) & (mb.ivf_id == self.id))
                .tuples()
            )
            for rid, code, scale in (
                v.select(v.id, v.embedding_i8, v.scale)
                .where(
                    v.id.in_(chunk)
                    & (v.namespace == self.namespace)
                    & (v.embedder == self.embedder)
                    & (v.dim == self.dim)
                )
                .tuples()
            ):
                ids.append(rid)
                codes.append(bytes(code))
                scales.append(scale)
        for rid, list_no in old.items():  # deleted, changed, or moved out: leave the list
            self._remove(rid, list_no)
        if persist and old:
            gone = list(old)
            for s0 in range(0, len(gone), IN_CHUNK):
                mb.delete().where(mb.row_id.in_(gone[s0 : s0 + IN_CHUNK])).execute()
        self.rows -= len(old)
        if not ids:
            return
        id_arr = np.array(ids, np.int64)
        code_arr = np.frombuffer(b"".join(codes), np.int8).reshape(len(ids), self.dim)
        scale_arr = np.array(scales, np.float32)
        labels, dists = kb.nearest(dequantize(code_arr, scale_arr), self.centroids)
        for list_no in np.unique(labels).tolist():
            if list_no in self.lists:
                sel = labels == list_no
                cur = self.lists[list_no]
                self._set_list(
                    list_no,
                    _List(
                        np.concatenate([cur.ids, id_arr[sel]]),
                        np.concatenate([cur.codes, code_arr[sel]]),
                        np.concatenate([cur.scales, scale_arr[sel]]),
                    ),
                )
        self.rows += len(ids)
        fresh = np.array([rid not in old for rid in ids], bool)  # not counted by another writer
        self.added_rows += int(fresh.sum())
        self.added_dist += float(dists[fresh].sum())
        if persist:
            rows = list(zip(ids, [self.id] * len(ids), labels.tolist(), strict=True))
            fields = [mb.row_id, mb.ivf_id, mb.list_no]
            for s0 in range(0, len(rows), IN_CHUNK):
                mb.insert_many(rows[s0 : s0 + IN_CHUNK], fields=fields).on_conflict(
                    conflict_target=[mb.row_id],
                    update={mb.ivf_id: peewee.EXCLUDED.ivf_id, mb.list_no: peewee.EXCLUDED.list_no},
                ).execute()

    def _remove(self, rid: int, list_no: int) -> None:
        if self.where_list.pop(rid, None) is None or list_no not in self.lists:
            return
        cur = self.lists[list_no]
        keep = cur.ids != rid
        self.lists[list_no] = _List(cur.ids[keep], cur.codes[keep], cur.scales[keep])

    def _set_list(self, list_no: int, lst: _List) -> None:
        self.lists[list_no] = lst
        for rid in lst.ids.tolist():
            self.where_list[rid] = list_no

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
    def probe(self, kb: Backend, q: np.ndarray, nprobe: int) -> list[int]:
        """The nprobe lists nearest the query (the distance lists were assigned by)."""
        d2 = self.centroids @ (-2 * q) + (self.centroids**2).sum(1)
        nprobe = min(nprobe, self.nlist)
        part = (
            np.argpartition(d2, nprobe - 1)[:nprobe]
            if nprobe < self.nlist
            else np.arange(self.nlist)
        )
        return sorted(part.tolist())

    def ensure_lists(self, wanted: list[int]) -> None:
        """Read the lists not yet in memory: members joined to their codes in one query."""
        missing = [n for n in wanted if n not in self.lists]
        if not missing:
            return
        v, mb = m.VectorMemory, m.VectorIvfMember
        got: dict[int, tuple[list[int], list[bytes], list[float]]] = {
            n: ([], [], []) for n in missing
        }
        for s0 in range(0, len(missing), IN_CHUNK):
            query = (
                mb.select(mb.list_no, v.id, v.embedding_i8, v.scale)
                .join(v, on=(v.id == mb.row_id))
                .where((mb.ivf_id == self.id) & mb.list_no.in_(missing[s0 : s0 + IN_CHUNK]))
                .order_by(mb.list_no, v.id)
            )
            # peewee builds and parameterises the SQL; the rows come back in one fetchall
            # (row by row through peewee cost half the time of a cold search)
            sql, params = query.sql()
            for list_no, rid, code, scale in mb._meta.database.execute_sql(sql, params).fetchall():
                ids, codes, scales = got[list_no]
                ids.append(rid)
                codes.append(code)
                scales.append(scale)
        for list_no, (ids, codes, scales) in got.items():
            n = len(ids)
            blob = b"".join(bytes(c) for c in codes)
            if len(blob) != n * self.dim:
                raise IndexRefused(f"list {list_no} holds codes of another dimension")
            self._set_list(
                list_no,
                _List(
                    np.array(ids, np.int64),
                    np.frombuffer(blob, np.int8).reshape(n, self.dim),
                    np.array(scales, np.float32),
                ),
            )

    def candidates(
        self, kb: Backend, q: np.ndarray, wanted: int, nprobe: int
    ) -> tuple[list[int], int]:
        """Row ids of the ``wanted`` best int8 scores in the probed lists, and how many rows
        those lists hold (so the caller knows when probing more would help)."""
        probed = self.probe(kb, q, nprobe)
        self.ensure_lists(probed)
        lists = [self.lists[n] for n in probed]
        held = sum(lst.ids.shape[0] for lst in lists)
        if not held:
            return [], 0
        _, li, pos = kb.search_lists(
            [(lst.codes, lst.scales) for lst in lists], q, min(wanted, held)
        )
        return [int(lists[a].ids[b]) for a, b in zip(li.tolist(), pos.tolist(), strict=True)], held

    def resident_bytes(self) -> int:
        return self.centroids.nbytes + sum(
            lst.ids.nbytes + lst.codes.nbytes + lst.scales.nbytes for lst in self.lists.values()
        )

    def info(self) -> dict[str, Any]:
        return {
            "namespace": self.namespace, "nlist": self.nlist, "nprobe": self.nprobe,
            "recall_at_10": round(self.recall, 4), "rows": self.rows,
            "trained_rows": self.trained_rows, "lists_loaded": len(self.lists),
        }  # fmt: skip


def drop(namespace: str, embedder: str, dim: int) -> None:
    """Delete a namespace's persisted index (its members first)."""
    for (ivf_id,) in (
        m.VectorIvf.select(m.VectorIvf.id)
        .where(
            (m.VectorIvf.namespace == namespace)
            & (m.VectorIvf.embedder == embedder)
            & (m.VectorIvf.dim == dim)
        )
        .tuples()
    ):
        m.VectorIvfMember.delete().where(m.VectorIvfMember.ivf_id == ivf_id).execute()
        m.VectorIvf.delete().where(m.VectorIvf.id == ivf_id).execute()
