"""The vector tier: texts with int8 embeddings, searched by a WASM scan and an f32 re-rank.

The store keeps int8 codes with one scale per row (and f32 only for embedders that are
expensive to re-run). In memory, each namespace is a kernel index of its codes; a search
scans the codes for a few dozen candidates and re-scores them in f32 by re-embedding their
text. The index follows the store through ``change_log``, so writes by other processes are
searchable without a restart.

A namespace of ``ivf_min`` rows or more is searched through an inverted-file index instead
(memory/ivf.py): trained once, persisted in the store, kept current row by row, so a new
process reads only the lists it probes. Below that size the scan stays exact.

Training takes seconds to minutes, so no search waits for it (``training``): a namespace
with no usable index is scanned exactly while ``memory optimize`` (``train_index``) or, in a
long-lived process (UI, MCP server), a background thread trains one; a search picks it up
once it is persisted. An index due for retraining (grown, drifted) keeps serving meanwhile:
its lists are still current, only less even.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import peewee

from workbench.kernels import Backend, SearchIndex
from workbench.memory import ivf as ivf_mod
from workbench.memory.embedder import Embedder
from workbench.memory.ivf import IndexRefused, IndexReplaced, IvfIndex
from workbench.store import models as m
from workbench.store.dialect import byte_length

TABLE = "vector_memory"
RERANK_MIN = ivf_mod.SHORTLIST  # candidates re-scored in f32 per search (at least 4 × k)
MAX_K = 1000
TRAINING_MODES = ("off", "background", "foreground")
MAX_TEXT = 100_000
LATENCY_WINDOW = 1000
INSERT_CHUNK = 500


@dataclass(frozen=True)
class Hit:
    id: int
    namespace: str
    key: str
    text: str
    score: float
    metadata: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "namespace": self.namespace,
            "key": self.key,
            "text": self.text,
            "score": round(self.score, 6),
            "metadata": self.metadata,
        }


@dataclass
class _Shard:
    """One namespace's rows as a kernel index (rebuilt from the store when dirty)."""

    ids: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    index: SearchIndex | None = None
    dirty: bool = True

    @property
    def n(self) -> int:
        return int(self.ids.shape[0])


def entry_rows(
    entries: list[tuple[str, str, str, Mapping[str, Any]]],
    embedder: Embedder,
    quantize: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]],
    now: Any,
    keep_f32: bool = False,
) -> list[dict[str, Any]]:
    """vector_memory rows for (namespace, key, text, meta): int8 codes + per-row scale,
    f32 only when the embedder is expensive enough to keep it (see embedder.py)."""
    vectors = embedder.embed([text for _, _, text, _ in entries])
    codes, scales = quantize(vectors)
    return [
        {
            "namespace": ns,
            "key": key,
            "text": text,
            "embedding_i8": codes[i].tobytes(),
            "scale": float(scales[i]),
            "embedding_f32": vectors[i].tobytes() if keep_f32 else None,
            "dim": embedder.dim,
            "embedder": embedder.name,
            "metadata": json.dumps(dict(meta), sort_keys=True),
            "created": now,
            "updated": now,
        }
        for i, (ns, key, text, meta) in enumerate(entries)
    ]


def check_entry(namespace: str, key: str, text: str, meta: Any) -> dict[str, Any]:
    """Validate one vector entry; the metadata back as a dict."""
    for name, value in (("namespace", namespace), ("key", key)):
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"{name} must be a non-empty string")
    if not isinstance(text, str) or not text.strip():
        raise ValueError("text must be a non-empty string")
    if len(text) > MAX_TEXT:
        raise ValueError(f"text is {len(text)} characters (at most {MAX_TEXT})")
    if meta is None:
        return {}
    if not isinstance(meta, dict):
        raise ValueError("meta must be a JSON object")
    return meta


class VectorTier:
    """Reads and writes ``vector_memory`` and keeps the in-memory index in step with it."""

    def __init__(
        self,
        embedder: Embedder,
        kernels: Backend,
        clock: Callable[[], Any],
        keep_f32: bool,
        ivf_min: int = ivf_mod.IVF_MIN,
    ) -> None:
        self.embedder = embedder
        self.kernels = kernels
        self.clock = clock
        self.keep_f32 = keep_f32
        self.ivf_min = ivf_min
        # What a search does about a large namespace with no usable index (or one due for
        # retraining): "off" scans exactly (or keeps the old index) and notes it in
        # ``unindexed`` (a CLI call or the hook: it must answer now and ends soon after);
        # "background" starts a thread that trains and persists one (the UI, the MCP
        # server: they live long enough to use it); "foreground" trains before answering
        # (tests, benchmarks).
        self.training = "off"
        self.unindexed: dict[str, str] = {}  # namespace -> why its search was not indexed
        self.background_errors: list[str] = []
        self._trainers: dict[str, threading.Thread] = {}
        self._fresh: set[str] = set()  # namespaces whose index was persisted anew
        self._failed: set[str] = set()  # namespaces whose background training failed
        self._lock = threading.Lock()
        self._shards: dict[str, _Shard] = {}
        self._ivf: dict[str, IvfIndex] = {}
        self.trainings = 0  # IVF indexes trained by this process
        self.ivf_loads = 0  # ... and read from the store instead
        self.refusals: list[str] = []  # why a persisted index was not trusted
        self._centroids: dict[str, np.ndarray] = {}  # checksum -> centroids, for writes
        self._cursor: int | None = None
        self.generation = 0  # bumped whenever the indexed rows change
        self.latencies_ms: deque[float] = deque(maxlen=LATENCY_WINDOW)
        self.build_ms: deque[float] = deque(maxlen=LATENCY_WINDOW)

    @property
    def train_on_search(self) -> bool:
        """Whether a search may train in the foreground (the old switch; see ``training``)."""
        return self.training == "foreground"

    @train_on_search.setter
    def train_on_search(self, value: bool) -> None:
        self.training = "foreground" if value else "off"

    # ------------------------------------------------------------------ writing
    def prepare(self, entries: Iterable[tuple[str, str, str, Mapping[str, Any]]]) -> list[dict]:
        """The rows `put_many` writes for these entries, embedded and quantized. A caller
        that wraps the write in its own transaction prepares them first: the store's write
        lock is then held for the insert only, and another writing process gets its turn
        (holding it through the embedding starved a second writer past its busy timeout
        under load)."""
        return entry_rows(
            list(entries), self.embedder, self.kernels.quantize, self.clock(), self.keep_f32
        )

    def put_many(
        self,
        entries: Iterable[tuple[str, str, str, Mapping[str, Any]]],
        rows: list[dict] | None = None,
    ) -> list[dict]:
        """Insert or replace (namespace, key, text, meta) entries in one transaction
        (`rows`: what `prepare` made of the same entries, if the caller already has it)."""
        entries = list(entries)
        if not entries:
            return []
        if rows is None:
            rows = self.prepare(entries)
        update = {
            getattr(m.VectorMemory, name): peewee.EXCLUDED[name]
            for name in (
                "text", "embedding_i8", "scale", "embedding_f32", "dim", "embedder",
                "metadata", "updated",
            )
        }  # fmt: skip
        with m.VectorMemory._meta.database.atomic():
            for start in range(0, len(rows), INSERT_CHUNK):
                (
                    m.VectorMemory.insert_many(rows[start : start + INSERT_CHUNK])
                    .on_conflict(
                        conflict_target=[m.VectorMemory.namespace, m.VectorMemory.key],
                        update=update,
                    )
                    .execute()
                )
            self._follow_persisted({ns for ns, _, _, _ in entries})
        return [{"namespace": ns, "key": key} for ns, key, _, _ in entries]

    def get(self, namespace: str, key: str) -> dict[str, Any] | None:
        row = (
            m.VectorMemory.select(
                m.VectorMemory.id,
                m.VectorMemory.namespace,
                m.VectorMemory.key,
                m.VectorMemory.text,
                m.VectorMemory.metadata,
                m.VectorMemory.updated,
            )  # fmt: skip
            .where((m.VectorMemory.namespace == namespace) & (m.VectorMemory.key == key))
            .dicts()
            .first()
        )
        if row is not None:
            row["metadata"] = json.loads(row["metadata"])
        return row

    def delete(self, namespace: str, key: str) -> bool:
        query = m.VectorMemory.delete().where(
            (m.VectorMemory.namespace == namespace) & (m.VectorMemory.key == key)
        )
        with m.VectorMemory._meta.database.atomic():
            gone = query.execute() > 0
            if gone:
                self._follow_persisted({namespace})
        return gone

    # ------------------------------------------------------------------ the IVF indexes
    def _follow_persisted(self, namespaces: set[str]) -> None:
        """Keep the persisted IVF index of written namespaces current in the caller's
        write transaction (a new row lands in its list, a deleted one leaves), so a new
        process finds it current. Nothing is read before the write lock is held: the
        transaction took it at BEGIN (IMMEDIATE) and the rows were written first."""
        for ns in namespaces:
            ivf_mod.persist_changes(
                self.kernels, ns, self.embedder.name, self.embedder.dim, self.clock(),
                cache=self._centroids,
            )  # fmt: skip

    def _refuse(self, namespace: str, why: str) -> None:
        self.refusals.append(f"{namespace}: {why}")
        self._ivf.pop(namespace, None)
        with m.VectorMemory._meta.database.atomic():
            ivf_mod.drop(namespace, self.embedder.name, self.embedder.dim)
        self._shards.setdefault(namespace, _Shard()).dirty = True

    def _load_ivf(self, namespace: str) -> IvfIndex | None:
        """The namespace's persisted index, checked and caught up in memory (reads only);
        None if there is none, it does not check out (dropped), it became small, or it is
        due for retraining and this tier trains in the foreground."""
        try:
            ix = IvfIndex.load(self.kernels, namespace, self.embedder.name, self.embedder.dim)
            if ix is None:
                return None
            ix.catch_up(self.kernels)
        except IndexRefused as exc:
            self._refuse(namespace, str(exc))
            return None
        if ix.rows < self.ivf_min // 2 or not self._keep_due(namespace, ix):
            return None
        self.ivf_loads += 1
        return ix

    def _keep_due(self, namespace: str, ix: IvfIndex) -> bool:
        """Whether an index may keep serving: yes unless it is due for retraining and this
        tier trains in the foreground. Due: noted, or retrained in the background."""
        why = ix.needs_retrain()
        if why is None:
            return True
        if self.training == "foreground":
            return False
        self._due(namespace, f"index due for retraining: {why}")
        return True

    def _due(self, namespace: str, why: str) -> None:
        """A namespace needs an index trained: start it (background) or note it (off)."""
        if self.training == "background" and namespace not in self._failed:
            self.start_training(namespace)
        else:  # (a failed background training is not started again on every search)
            self.unindexed[namespace] = why

    def _follow_ivf(self) -> None:
        """Catch every open IVF index up with the store (in memory); retrain or drop what
        is due."""
        for ns, ix in list(self._ivf.items()):
            try:
                ix.catch_up(self.kernels)
            except IndexRefused as exc:
                self._refuse(ns, str(exc))
                continue
            if ix.rows < self.ivf_min // 2 or not self._keep_due(ns, ix):
                del self._ivf[ns]
                self._shards.setdefault(ns, _Shard()).dirty = True

    def index_info(self) -> list[dict[str, Any]]:
        """The IVF indexes open in this process (namespace, lists, nprobe, recall)."""
        return [ix.info() for _, ix in sorted(self._ivf.items())]

    # ------------------------------------------------------------------ training
    def _read_rows(self, namespace: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(ids, codes, scales) of a namespace's rows for the current embedder, by id."""
        v = m.VectorMemory
        rows = list(
            v.select(v.id, v.embedding_i8, v.scale)
            .where(
                (v.namespace == namespace)
                & (v.embedder == self.embedder.name)
                & (v.dim == self.embedder.dim)
            )
            .order_by(v.id)
            .tuples()
        )
        ids = np.fromiter((r[0] for r in rows), np.int64, len(rows))
        codes = np.frombuffer(b"".join(r[1] for r in rows), np.int8).reshape(len(rows), -1)
        return ids, codes, np.fromiter((r[2] for r in rows), np.float32, len(rows))

    def index_state(self, namespace: str) -> dict[str, Any]:
        """What the persisted index of a namespace is: its rows, whether it is above the IVF
        threshold, and the index (nlist, nprobe, recall) or why none is usable."""
        rows = ivf_mod._extent(namespace, self.embedder.name, self.embedder.dim)[0]
        state: dict[str, Any] = {
            "namespace": namespace, "rows": rows, "indexed": rows >= self.ivf_min,
            "index": None, "due": None,
        }  # fmt: skip
        try:
            ix = IvfIndex.load(self.kernels, namespace, self.embedder.name, self.embedder.dim)
            if ix is not None:
                ix.catch_up(self.kernels)
                state["index"] = ix.info()
                state["due"] = ix.needs_retrain()
        except IndexRefused as exc:
            state["due"] = f"refused: {exc}"
        if state["indexed"] and state["index"] is None and state["due"] is None:
            state["due"] = "no index"
        return state

    def train_index(
        self, namespace: str, progress: ivf_mod.Progress | None = None, why: str = ""
    ) -> dict[str, Any]:
        """Train and persist a namespace's IVF index now (``memory optimize``, a trainer
        thread); the next search reads it. What was done: lists, nprobe, recall, seconds."""
        started = time.perf_counter()
        cursor = ivf_mod.change_cursor()
        ids, codes, scales = self._read_rows(namespace)
        if ids.size < ivf_mod.NPROBE_QUERIES:
            raise ValueError(
                f"namespace {namespace!r} has {ids.size} rows for {self.embedder.name}: "
                "too few to train an index"
            )
        ix, result = IvfIndex.build(
            self.kernels, namespace, self.embedder.name, self.embedder.dim,
            ids, codes, scales, self.clock(), cursor, progress=progress, resident=False,
        )  # fmt: skip
        with self._lock:
            self.trainings += 1
            self._fresh.add(namespace)
            self._failed.discard(namespace)
        self.unindexed.pop(namespace, None)
        return {
            "namespace": namespace, "action": "trained", "why": why, "rows": int(ids.size),
            "nlist": ix.nlist, "nprobe": ix.nprobe, "recall_at_10": round(ix.recall, 4),
            "seconds": round(time.perf_counter() - started, 2),
        }  # fmt: skip

    def optimize_indexes(
        self,
        namespace: str | None = None,
        retrain: bool = False,
        progress: Callable[[str, str, int, int], None] | None = None,
    ) -> list[dict[str, Any]]:
        """Train the index of every namespace (or the one named) at or above the IVF
        threshold that has none usable or is due for retraining (all of them with
        ``retrain``); report each namespace: trained (why), current, or exact scan.
        ``progress(namespace, step, done, total)`` follows each training."""
        names = [namespace] if namespace is not None else self.namespaces()
        out = []
        for ns in names:
            state = self.index_state(ns)
            if not state["rows"]:
                raise ValueError(f"namespace {ns!r} has no vector entries")
            if not state["indexed"]:
                out.append({"namespace": ns, "action": "exact", "rows": state["rows"],
                            "why": f"below {self.ivf_min} rows: searched exactly"})  # fmt: skip
                continue
            if state["index"] is not None and state["due"] is None and not retrain:
                info = state["index"]
                out.append({"namespace": ns, "action": "current", "rows": state["rows"],
                            "nlist": info["nlist"], "nprobe": info["nprobe"],
                            "recall_at_10": info["recall_at_10"], "why": "up to date"})  # fmt: skip
                continue
            report = (
                (lambda step, done, total, ns=ns: progress(ns, step, done, total))
                if progress is not None
                else None
            )
            out.append(self.train_index(ns, report, why=state["due"] or "asked to retrain"))
        return out

    def start_training(self, namespace: str) -> bool:
        """Train a namespace's index in a background thread unless one already is; the
        thread only persists it (its own store connection), and the search after it ends
        reads it. False if one was running."""
        with self._lock:
            running = self._trainers.get(namespace)
            if running is not None and running.is_alive():
                return False
            thread = threading.Thread(
                target=self._train_in_background, args=(namespace,),
                name=f"wb-ivf-train-{namespace}", daemon=True,
            )  # fmt: skip
            self._trainers[namespace] = thread
        thread.start()
        return True

    def _train_in_background(self, namespace: str) -> None:
        db = m.VectorMemory._meta.database
        try:
            self.train_index(namespace, why="background")
        except Exception as exc:  # noqa: BLE001 - kept for the faces; the search goes on exactly
            self.background_errors.append(f"{namespace}: {type(exc).__name__}: {exc}")
            self._failed.add(namespace)
            self.unindexed[namespace] = f"background training failed ({type(exc).__name__})"
        finally:
            if not db.is_closed():
                db.close()  # this thread's connection (peewee keeps one per thread)

    def wait_for_training(self, timeout: float | None = None) -> bool:
        """Join the background trainers (tests, shutdown); True if none is still running."""
        for thread in list(self._trainers.values()):
            thread.join(timeout)
        return not any(t.is_alive() for t in self._trainers.values())

    def training_now(self) -> list[str]:
        """Namespaces a background thread is training right now."""
        return sorted(ns for ns, t in list(self._trainers.items()) if t.is_alive())

    # ------------------------------------------------------------------ following the store
    def sync(self) -> bool:
        """Apply vector_memory changes since the last look (any process); True if any."""
        if self._cursor is None:
            self._reset()
            return True
        rows = list(
            m.ChangeLog.select(m.ChangeLog.id, m.ChangeLog.table_name, m.ChangeLog.row_id)
            .where(m.ChangeLog.id > self._cursor)
            .order_by(m.ChangeLog.id)
            .tuples()
        )
        if not rows:
            return False
        if rows[0][0] > self._cursor + 1 and self._pruned_past_cursor():
            self._reset()
            return True
        self._cursor = rows[-1][0]
        ids = {row_id for _, table, row_id in rows if table == TABLE and row_id is not None}
        if not ids:
            return False
        self._mark_dirty(ids)
        if self._ivf:
            self._follow_ivf()
        return True

    def _pruned_past_cursor(self) -> bool:
        oldest = m.ChangeLog.select(peewee.fn.MIN(m.ChangeLog.id)).scalar()
        return oldest is not None and oldest > self._cursor + 1

    def _reset(self) -> None:
        self._cursor = m.ChangeLog.select(peewee.fn.MAX(m.ChangeLog.id)).scalar() or 0
        self._shards = {ns: _Shard() for ns in self.namespaces()}
        self._ivf = {}
        self.generation += 1

    def _mark_dirty(self, ids: set[int]) -> None:
        wanted = list(ids)
        live = set()
        for start in range(0, len(wanted), INSERT_CHUNK):
            chunk = wanted[start : start + INSERT_CHUNK]
            query = m.VectorMemory.select(m.VectorMemory.id, m.VectorMemory.namespace).where(
                m.VectorMemory.id.in_(chunk)
            )
            for row_id, ns in query.tuples():
                live.add(row_id)
                if ns not in self._ivf:  # an IVF namespace catches up row by row instead
                    self._shards.setdefault(ns, _Shard()).dirty = True
        gone = np.fromiter(ids - live, np.int64)
        if gone.size:
            for shard in self._shards.values():
                if not shard.dirty and np.isin(gone, shard.ids).any():
                    shard.dirty = True
        self.generation += 1

    def namespaces(self) -> list[str]:
        query = m.VectorMemory.select(m.VectorMemory.namespace).distinct().tuples()
        return sorted(ns for (ns,) in query)

    def _shard(self, namespace: str) -> _Shard | IvfIndex:
        """What searches a namespace: its IVF index (persisted, or trained now when the
        namespace is large), else the exact shard."""
        with self._lock:
            fresh = namespace in self._fresh
            self._fresh.discard(namespace)
        if fresh:  # trained and persisted by optimize or a trainer thread: read it
            self._ivf.pop(namespace, None)
            self._shards.setdefault(namespace, _Shard()).dirty = True
        ix = self._ivf.get(namespace)
        if ix is not None:
            return ix
        shard = self._shards.setdefault(namespace, _Shard())
        if shard.dirty:
            ix = self._load_ivf(namespace)
            if ix is not None:
                self._ivf[namespace] = ix
                shard.dirty, shard.ids, shard.index = False, np.empty(0, np.int64), None
                return ix
            self._load(namespace, shard)
        return self._ivf.get(namespace, shard)

    def _load(self, namespace: str, shard: _Shard) -> None:
        """Rebuild a namespace's index from the int8 codes in the store (an IVF index,
        trained and persisted, when the namespace has ``ivf_min`` rows or more)."""
        started = time.perf_counter()
        cursor = ivf_mod.change_cursor()
        rows = list(
            m.VectorMemory.select(
                m.VectorMemory.id, m.VectorMemory.embedding_i8, m.VectorMemory.scale
            )
            .where(
                (m.VectorMemory.namespace == namespace)
                & (m.VectorMemory.embedder == self.embedder.name)
                & (m.VectorMemory.dim == self.embedder.dim)
            )
            .order_by(m.VectorMemory.id)
            .tuples()
        )
        shard.dirty = False
        shard.ids = np.fromiter((r[0] for r in rows), np.int64, len(rows))
        if not rows:
            shard.index = None
            return
        codes = np.frombuffer(b"".join(r[1] for r in rows), np.int8).reshape(len(rows), -1)
        scales = np.fromiter((r[2] for r in rows), np.float32, len(rows))
        if len(rows) >= self.ivf_min and self.training != "foreground":
            self._due(namespace, f"no index over its {len(rows)} rows (exact scan)")
        if len(rows) >= self.ivf_min and self.training == "foreground":
            ix, _ = IvfIndex.build(
                self.kernels, namespace, self.embedder.name, self.embedder.dim,
                shard.ids, codes, scales, self.clock(), cursor,
            )  # fmt: skip
            ix.catch_up(self.kernels)  # rows written while it trained
            self.trainings += 1
            self._ivf[namespace] = ix
            shard.ids, shard.index = np.empty(0, np.int64), None
            self.build_ms.append((time.perf_counter() - started) * 1e3)
            return
        if len(rows) <= RERANK_MIN:
            # every search re-ranks all of these rows (_candidates): no kernel index, so a
            # short process searching small namespaces never loads the WASM kernels
            shard.index = SearchIndex(len(rows), codes.shape[1], True, codes=codes, scales=scales)
            self.build_ms.append((time.perf_counter() - started) * 1e3)
            return
        index = self.kernels.index(codes=codes, scales=scales)
        if self.kernels.name == "wasm":
            # the codes now live in the kernel's linear memory; no second copy here
            index.codes = index.scales = None
        shard.index = index
        self.build_ms.append((time.perf_counter() - started) * 1e3)

    # ------------------------------------------------------------------ searching
    def search(
        self,
        query: str,
        namespace: str | None = None,
        k: int = 10,
        where: Mapping[str, Any] | None = None,
    ) -> list[Hit]:
        """The k entries most similar to ``query`` (cosine), best first."""
        if not isinstance(query, str) or not query.strip():
            raise ValueError("query must be a non-empty string")
        if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_K:
            raise ValueError(f"k must be an integer from 1 to {MAX_K}")
        if where is not None and not isinstance(where, Mapping):
            raise ValueError("where must be a JSON object of metadata values")
        self.sync()
        names = [namespace] if namespace is not None else sorted(self._shards)
        # (re)building an index after writes is counted apart from the search itself
        shards = [
            s
            for s in (self._shard(ns) for ns in names)
            if isinstance(s, IvfIndex) or s.index is not None
        ]
        started = time.perf_counter()
        q = self.embedder.embed([query])[0]
        largest = max((s.rows if isinstance(s, IvfIndex) else s.n for s in shards), default=0)
        wanted = max(RERANK_MIN, 4 * k)
        widen = 1  # IVF: probe this many times nprobe lists (more when filters drop rows)
        rows: list[dict] = []
        while shards:
            try:
                candidates = self._candidates(shards, q, wanted, widen)
            except IndexRefused as exc:  # replaced by another process: read the new one;
                for ns in names:  # a corrupt list: drop the index, rebuild it
                    if ns not in self._ivf:
                        continue
                    if isinstance(exc, IndexReplaced):
                        del self._ivf[ns]
                        self._shards.setdefault(ns, _Shard()).dirty = True
                    else:
                        self._refuse(ns, str(exc))
                shards = [
                    s
                    for s in (self._shard(ns) for ns in names)
                    if isinstance(s, IvfIndex) or s.index is not None
                ]
                candidates = self._candidates(shards, q, wanted, widen)
            rows = self._rows(candidates)
            if where:
                rows = [r for r in rows if _matches(r["metadata"], where)]
            if len(rows) >= k or wanted >= largest:
                break
            wanted *= 4
            widen *= 4
        hits = self._rerank(rows, q, k)
        self.latencies_ms.append((time.perf_counter() - started) * 1e3)
        return hits

    def _candidates(
        self, shards: list[_Shard | IvfIndex], q: np.ndarray, wanted: int, widen: int = 1
    ) -> list[int]:
        ids: list[int] = []
        for shard in shards:
            if isinstance(shard, IvfIndex):
                got, _ = shard.candidates(q, wanted, shard.nprobe * widen)
                ids.extend(got)
                continue
            r = min(wanted, shard.n)
            if r == shard.n:  # all rows are candidates: the re-rank orders them exactly
                ids.extend(shard.ids.tolist())
                continue
            _, positions = self.kernels.search(shard.index, q, k=r, candidates=r)
            ids.extend(shard.ids[positions].tolist())
        return ids

    def _rows(self, ids: list[int]) -> list[dict]:
        out: list[dict] = []
        fields = (
            m.VectorMemory.id, m.VectorMemory.namespace, m.VectorMemory.key, m.VectorMemory.text,
            m.VectorMemory.metadata, m.VectorMemory.embedding_f32,
        )  # fmt: skip
        for start in range(0, len(ids), INSERT_CHUNK):
            chunk = ids[start : start + INSERT_CHUNK]
            query = m.VectorMemory.select(*fields).where(m.VectorMemory.id.in_(chunk)).dicts()
            for row in query:
                row["metadata"] = json.loads(row["metadata"])
                out.append(row)
        return out

    def _rerank(self, rows: list[dict], q: np.ndarray, k: int) -> list[Hit]:
        """Exact f32 scores: stored f32 where kept, else the text embedded again."""
        if not rows:
            return []
        vectors = np.empty((len(rows), self.embedder.dim), np.float32)
        again = [i for i, r in enumerate(rows) if r["embedding_f32"] is None]
        if again:
            vectors[again] = self.embedder.embed([rows[i]["text"] for i in again])
        for i, r in enumerate(rows):
            if r["embedding_f32"] is not None:
                vectors[i] = np.frombuffer(r["embedding_f32"], np.float32)
        scores = vectors @ q
        order = sorted(range(len(rows)), key=lambda i: (-float(scores[i]), rows[i]["id"]))[:k]
        return [
            Hit(
                rows[i]["id"],
                rows[i]["namespace"],
                rows[i]["key"],
                rows[i]["text"],
                float(scores[i]),
                rows[i]["metadata"],
            )  # fmt: skip
            for i in order
        ]

    # ------------------------------------------------------------------ numbers
    def footprint(self) -> dict[str, Any]:
        """Embedding bytes in the store and in memory against plain float32.

        ``bytes`` is all stored data of the tier: UTF-8 text, blobs, 8 per number (row
        timestamps aside)."""
        v = m.VectorMemory
        count, i8, f32, text = (
            v.select(
                peewee.fn.COUNT(v.id),
                peewee.fn.SUM(byte_length(v.embedding_i8)),
                peewee.fn.SUM(byte_length(v.embedding_f32)),
                peewee.fn.SUM(
                    byte_length(v.namespace)
                    + byte_length(v.key)
                    + byte_length(v.text)
                    + byte_length(v.metadata)
                    + byte_length(v.embedder)
                    + 8  # dim
                ),
            )
            .tuples()
            .first()
        )
        count, i8, f32, text = int(count or 0), int(i8 or 0), int(f32 or 0), int(text or 0)
        stored = i8 + 8 * count + f32  # the scale is an 8-byte REAL in SQLite
        baseline = 4 * self.embedder.dim * count
        resident = sum(_resident_bytes(s) for s in self._shards.values() if not s.dirty)
        indexed = sum(s.n for s in self._shards.values() if not s.dirty)
        resident += sum(ix.resident_bytes() for ix in self._ivf.values())
        indexed += sum(ix.resident_rows() for ix in self._ivf.values())
        return {
            "count": count,
            "bytes": stored + text,
            "embedding_bytes": stored,
            "float32_bytes": baseline,
            "compression_ratio": baseline / stored if stored else None,
            "smaller_than_float32": 1 - stored / baseline if baseline else None,
            "f32_kept": f32 > 0,
            "index_rows": indexed,
            "index_bytes": resident,
            "index_compression_ratio": (
                4 * self.embedder.dim * indexed / resident if resident else None
            ),
        }

    def latency(self) -> dict[str, Any]:
        values = np.array(self.latencies_ms, dtype=np.float64)
        if not values.size:
            return {"searches": 0, "p50_ms": None, "p95_ms": None}
        return {
            "searches": int(values.size),
            "p50_ms": float(np.percentile(values, 50)),
            "p95_ms": float(np.percentile(values, 95)),
        }


def _resident_bytes(shard: _Shard) -> int:
    """Bytes the index of a shard holds: codes, scales, ids (and any numpy-side copy)."""
    ix = shard.index
    if ix is None:
        return 0
    total = shard.ids.nbytes
    if ix.handle is not None and not isinstance(ix.handle, np.ndarray):
        total += ix.n * (ix.dim + 4)  # codes + scales in the kernel's linear memory
    for arr in (ix.codes, ix.scales, ix.handle):
        if isinstance(arr, np.ndarray):
            total += arr.nbytes
    return total


def _matches(metadata: Mapping[str, Any], where: Mapping[str, Any]) -> bool:
    """Every filter key equals the metadata value (a list filter means "any of")."""
    for key, wanted in where.items():
        value = metadata.get(key)
        if isinstance(wanted, list):
            if value not in wanted:
                return False
        elif value != wanted:
            return False
    return True
