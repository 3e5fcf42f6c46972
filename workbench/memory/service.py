"""The memory service the Engine hands out: four tiers, import, stats and consolidation."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import peewee

from workbench.kernels import backend as kernel_backend
from workbench.memory.consolidation import ConsolidationPolicy, ConsolidationReport, consolidate
from workbench.memory.embedder import Embedder, HashingEmbedder
from workbench.memory.episodic import DEFAULT_CAPACITY, DEFAULT_MAX_AGE, EpisodicTier
from workbench.memory.keyed import KeyedMemory
from workbench.memory.semantic import SemanticTier
from workbench.memory.vector import Hit, VectorTier, check_entry
from workbench.memory.working import DEFAULT_MAX_BYTES, WorkingMemory
from workbench.store import models as m
from workbench.store.dialect import byte_length

TIERS = ("vector", "episodic", "semantic")
SHOW_TIERS = ("episodic", "semantic", "working")
PROBE_QUERIES = 20
MAX_IMPORT_ERRORS = 100  # bad lines listed in an import report (all are counted)
IMPORT_BATCH = 2000


class MemoryService:
    def __init__(
        self,
        db: peewee.Database,
        *,
        clock: Callable[[], dt.datetime] = m.utcnow,
        backend: str = "wasm",
        embedder: Embedder | None = None,
        capacity: int = DEFAULT_CAPACITY,
        max_age: dt.timedelta = DEFAULT_MAX_AGE,
        working_bytes: int = DEFAULT_MAX_BYTES,
        policy: ConsolidationPolicy | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.embedder = embedder or HashingEmbedder()
        self.vector = VectorTier(
            self.embedder, kernel_backend(backend), clock, keep_f32=self.embedder.expensive
        )
        self.episodic = EpisodicTier(clock, capacity, max_age)
        self.semantic = SemanticTier(clock)
        self.working = WorkingMemory(working_bytes)
        self.keyed = KeyedMemory(db, self.vector, clock)
        self.policy = policy or ConsolidationPolicy()
        self._records_since_consolidation = 0

    # ------------------------------------------------------------------ writing
    def store(
        self,
        tier: str,
        text: str,
        *,
        namespace: str | None = None,
        key: str | None = None,
        meta: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """One entry into a tier.

        vector: ``namespace``/``key`` (key defaults to a hash of the text), ``meta``
        metadata. episodic: ``namespace`` is the session, ``key`` the event kind, ``meta``
        the context plus optional ``outcome`` and ``sequence``. semantic: ``namespace`` is
        fact|rule, ``key`` the subject, ``meta`` optional ``confidence``, ``source``,
        ``evidence_count``.
        """
        if tier not in TIERS:
            raise ValueError(f"tier must be one of {', '.join(TIERS)} (got {tier!r})")
        if meta is not None and not isinstance(meta, Mapping):
            raise ValueError("meta must be a JSON object")
        meta = dict(meta or {})
        if tier == "vector":
            namespace = namespace or "default"
            key = key or text_key(text)
            meta = check_entry(namespace, key, text, meta)
            entries = [(namespace, key, text, meta)]
            rows = self.vector.prepare(entries)  # embedded before the write lock is taken
            with self.db.atomic():
                replaced = self.vector.get(namespace, key) is not None
                self.vector.put_many(entries, rows)
            return {"tier": tier, "namespace": namespace, "key": key, "replaced": replaced}
        if tier == "episodic":
            outcome = meta.pop("outcome", "neutral")
            sequence = meta.pop("sequence", None)
            context = meta.pop("context", None)
            if context is not None and not isinstance(context, dict):
                raise ValueError("meta.context must be a JSON object")
            result = self.record(
                namespace or "cli",
                key or "observation",
                text,
                {**meta, **(context or {})},
                outcome,
                sequence,
            )
            return {"tier": tier, **result}
        result = self.semantic.put(
            text,
            kind=namespace or "fact",
            subject=key or "",
            confidence=meta.get("confidence"),
            source=str(meta.get("source", "user")),
            evidence=meta.get("evidence_count", 1),
        )
        return {"tier": tier, **result}

    def record(
        self,
        session: str,
        kind: str,
        text: str = "",
        context: Mapping[str, Any] | None = None,
        outcome: str = "neutral",
        sequence: int | None = None,
    ) -> dict[str, Any]:
        """Append an episode and enforce the limits.

        At capacity, consolidation runs first (at most once per tenth of the capacity in
        writes) so patterns are promoted before old events are evicted; a scheduled
        consolidation runs when the last one is older than the policy's interval. What was
        evicted or consolidated is part of the result.
        """
        consolidation = None
        with self.db.atomic():
            row = self.episodic.insert(session, kind, text, context, outcome, sequence)
        self._records_since_consolidation += 1
        over = self.episodic.count() > self.episodic.capacity
        if over and self._records_since_consolidation >= max(1, self.episodic.capacity // 10):
            consolidation = self.consolidate("capacity")
        elif self.consolidation_due():
            consolidation = self.consolidate("schedule")
        with self.db.atomic():
            evictions = self.episodic.enforce()
        return {
            **row,
            "evicted": [e.as_dict() for e in evictions],
            "consolidation": consolidation.summary() if consolidation else None,
        }

    def import_jsonl(self, path: str | Path, namespace: str = "default") -> dict[str, Any]:
        """Bulk vector import: good lines are stored, bad ones reported by line number."""
        path = Path(path)
        if not path.is_file():
            raise ValueError(f"{path}: not a file")
        errors: list[dict[str, Any]] = []
        bad = stored = 0
        batch: list[tuple[str, str, str, dict]] = []
        seen: dict[tuple[str, str], int] = {}
        try:
            handle = path.open(encoding="utf-8")
        except OSError as exc:
            raise ValueError(f"{path}: {exc.strerror or exc}") from None
        with handle:
            try:
                for number, line in enumerate(handle, 1):
                    if not line.strip():
                        continue
                    try:
                        entry = _import_entry(line, namespace)
                    except ValueError as exc:
                        bad += 1
                        if len(errors) < MAX_IMPORT_ERRORS:
                            errors.append({"line": number, "error": str(exc)})
                        continue
                    seen[entry[:2]] = number
                    batch.append(entry)
                    if len(batch) >= IMPORT_BATCH:
                        stored += len(self.vector.put_many(batch))
                        batch = []
            except UnicodeDecodeError as exc:
                raise ValueError(f"{path}: not UTF-8 text ({exc.reason})") from None
        stored += len(self.vector.put_many(batch))
        return {
            "file": str(path),
            "stored": stored,
            "unique_keys": len(seen),
            "bad_lines": bad,
            "errors": errors,
        }

    # ------------------------------------------------------------------ reading
    def search(
        self,
        query: str,
        namespace: str | None = None,
        k: int = 10,
        where: Mapping[str, Any] | None = None,
    ) -> list[Hit]:
        """Vector search through the working tier: a repeated query is a working-set hit
        until the vector tier changes."""
        changed = self.vector.sync()
        if changed:
            self._drop_stale_results()
        cache_key = ("search", query, namespace, k, json.dumps(where, sort_keys=True))
        cached = self.working.get(cache_key)
        if cached is not None and cached[0] == self.vector.generation:
            return cached[1]
        hits = self.vector.search(query, namespace, k, where)
        label = f"search {query!r}" + (f" in {namespace}" if namespace else "")
        self.working.put(cache_key, (self.vector.generation, hits), label)
        for hit in hits[:3]:
            self.working.put(("entry", hit.namespace, hit.key), hit, f"{hit.namespace}/{hit.key}")
        return hits

    # ------------------------------------------------------------------ memory by key
    def put(
        self,
        namespace: str,
        key: str,
        value: str,
        *,
        ttl_s: float | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Store `value` under (namespace, key) in the vector tier, optionally expiring after
        `ttl_s` seconds; replaces what was there (see memory/keyed.py)."""
        return self.keyed.put(namespace, key, value, ttl_s=ttl_s, metadata=metadata)

    def get(self, namespace: str, key: str) -> dict[str, Any]:
        """The live entry under (namespace, key), read by primary key (never a search);
        `MissingEntry` (a ValueError) when there is none. Kept in the working set."""
        entry = self.keyed.get(namespace, key)
        self.working.put(("entry", namespace, key), entry, f"{namespace}/{key}")
        return entry

    def list(self, namespace: str, prefix: str = "", limit: int = 1000) -> list[dict[str, Any]]:
        """Live entries of a namespace by key (expired ones are skipped and purged)."""
        return self.keyed.list(namespace, prefix, limit)

    def delete(self, namespace: str, key: str) -> dict[str, Any]:
        """Remove the entry under (namespace, key); `MissingEntry` when there is none."""
        result = self.keyed.delete(namespace, key)
        self.working.discard(("entry", namespace, key))
        return result

    def show(self, tier: str, since: dt.datetime | None = None, limit: int = 100) -> dict[str, Any]:
        """Every tier readable: episodic events (newest first) or semantic facts (most
        important first) written at or after `since`; the working set of this process."""
        if tier not in SHOW_TIERS:
            raise ValueError(f"tier must be one of {', '.join(SHOW_TIERS)} (got {tier!r})")
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ValueError("limit must be a positive integer")
        if tier == "episodic":
            e = m.EpisodicMemory
            query = e.select()
            if since is not None:
                query = query.where(e.created >= since)
            total = query.count()
            rows = query.order_by(e.created.desc(), e.id.desc()).limit(limit)
            entries = [
                {
                    "session": r.session,
                    "sequence": r.sequence,
                    "kind": r.kind,
                    "outcome": r.outcome,
                    "text": r.text,
                    "context": json.loads(r.context or "{}"),
                    "created": r.created.isoformat(sep=" ", timespec="seconds"),
                }
                for r in rows
            ]
        elif tier == "semantic":
            s = m.SemanticMemory
            query = s.select()
            if since is not None:
                query = query.where(s.updated >= since)
            from workbench.memory.semantic import fact_dict

            facts = [fact_dict(r) for r in query]
            facts.sort(key=lambda r: (-r["importance"], r["statement"]))
            total, entries = len(facts), facts[:limit]
        else:
            if since is not None:
                raise ValueError("--since does not apply to the working tier (it keeps no times)")
            entries = self.working_set(limit)
            total = len(self.working)
        return {
            "tier": tier,
            "since": since.isoformat(sep=" ", timespec="seconds") if since else None,
            "total": total,
            "entries": entries,
        }

    def _drop_stale_results(self) -> None:
        for item in self.working.items():
            if isinstance(item.key, tuple) and item.key[0] in ("search", "entry"):
                self.working.discard(item.key)

    def timeline(self, limit: int = 50) -> list[dict[str, Any]]:
        return self.episodic.timeline(limit)

    def facts(self, limit: int = 100) -> list[dict[str, Any]]:
        return self.semantic.facts(limit)

    def working_set(self, limit: int = 50) -> list[dict[str, Any]]:
        return [{"item": i.label, "bytes": i.bytes} for i in self.working.items()[:limit]]

    def events(self, limit: int = 20) -> list[dict[str, Any]]:
        ev = m.MemoryEvent
        rows = ev.select().order_by(ev.at.desc(), ev.id.desc()).limit(limit).dicts()
        out = []
        for row in rows:
            row["detail"] = json.loads(row["detail"])
            row["at"] = row["at"].isoformat(sep=" ", timespec="seconds")
            out.append(row)
        return out

    def replay(self, n: int, mode: str = "uniform", seed: int | None = None) -> list[dict]:
        return self.episodic.replay(n, mode, seed)

    def stats(self, probe: bool = True) -> dict[str, Any]:
        """Per tier count and bytes; vector compression and search latency.

        Latency is what this process measured; with ``probe`` and no searches yet, up to
        20 stored texts' first words are searched now (bypassing the working tier).
        """
        self.vector.sync()
        vector = self.vector.footprint()
        latency = self.vector.latency()
        source = "session"
        if probe and latency["searches"] == 0 and vector["count"]:
            self._probe()
            latency = self.vector.latency()
            source = "probe"
        episodic_bytes = data_bytes(
            m.EpisodicMemory, ("session", "kind", "text", "context", "outcome", "created"), 1
        )
        semantic_bytes = data_bytes(
            m.SemanticMemory,
            ("kind", "subject", "statement", "source", "created", "updated"),
            2,
        )
        return {
            "vector": {
                **vector,
                "search_p50_ms": latency["p50_ms"],
                "search_p95_ms": latency["p95_ms"],
                "searches": latency["searches"],
                "latency_source": source if latency["searches"] else None,
                "namespaces": self.vector.namespaces(),
                "embedder": self.embedder.name,
            },
            "episodic": {
                "count": self.episodic.count(),
                "bytes": int(episodic_bytes or 0),
                "capacity": self.episodic.capacity,
                "max_age_days": self.episodic.max_age.total_seconds() / 86400,
            },
            "semantic": {
                "count": self.semantic.count(),
                "bytes": int(semantic_bytes or 0),
                **self.semantic.summary(),
            },
            "working": self.working.stats(),
        }

    def _probe(self) -> None:
        v = m.VectorMemory
        total = v.select().count()
        step = max(1, total // PROBE_QUERIES)
        texts = [t for (t,) in v.select(v.text).order_by(v.id).tuples()][::step][:PROBE_QUERIES]
        for text in texts:
            query = " ".join(text.split()[:6]) or text
            self.vector.search(query, k=10)

    # ------------------------------------------------------------------ consolidation
    def optimize(
        self,
        namespace: str | None = None,
        retrain: bool = False,
        progress: Callable[[str, str, int, int], None] | None = None,
    ) -> dict[str, Any]:
        """Consolidate, drop expired keyed entries, re-quantize vectors made by another
        embedder (or dimension) than the current one, train the IVF index of large vector
        namespaces that have none usable or are due (``namespace``: only that one;
        ``retrain``: even when current), and VACUUM the SQLite file; the tiers' counts and
        bytes (and the file size) before and after, and what each index step did.

        Training here, not in a search: no search waits minutes for k-means."""
        from workbench.store import postgres

        def snapshot() -> dict[str, Any]:
            st = self.stats(probe=False)
            out = {tier: {"count": st[tier]["count"], "bytes": st[tier]["bytes"]}
                   for tier in ("vector", "episodic", "semantic")}  # fmt: skip
            out["file_bytes"] = self._file_bytes()
            return out

        before = snapshot()
        report = self.consolidate("optimize").summary()
        expired = self.keyed.purge_expired()
        vm = m.VectorMemory
        stale = (vm.embedder != self.embedder.name) | (vm.dim != self.embedder.dim)
        requantized = 0
        while True:
            rows = list(
                vm.select(vm.namespace, vm.key, vm.text, vm.metadata).where(stale).limit(500)
            )
            if not rows:
                break
            entries = [(r.namespace, r.key, r.text, json.loads(r.metadata or "{}")) for r in rows]
            prepared = self.vector.prepare(entries)
            with self.db.atomic():
                self.vector.put_many(entries, prepared)
            requantized += len(rows)
        self.vector.sync()
        indexes = self.vector.optimize_indexes(namespace, retrain, progress)
        vacuumed = not postgres.is_postgres(self.db)
        if vacuumed:
            self.db.execute_sql("VACUUM")
            # in WAL mode the rewritten pages land in the -wal file until a checkpoint
            self.db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        after = snapshot()
        return {
            "before": before,
            "after": after,
            "consolidation": {
                k: report[k]
                for k in (
                    "promoted_count",
                    "reinforced_count",
                    "pruned_episodes_count",
                    "pruned_facts_count",
                )
            },  # fmt: skip
            "expired_entries": expired,
            "requantized": requantized,
            "indexes": indexes,
            "vacuumed": vacuumed,
        }

    def _file_bytes(self) -> int | None:
        """Size of the SQLite file and its WAL (None on PostgreSQL)."""
        from workbench.store import postgres

        if postgres.is_postgres(self.db):
            return None
        path = Path(self.db.database)
        return sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())

    def consolidate(self, reason: str = "manual") -> ConsolidationReport:
        with self.db.atomic():
            report = consolidate(self.clock, reason, self.policy)
        self._records_since_consolidation = 0
        return report

    def last_consolidation(self) -> dt.datetime | None:
        ev = m.MemoryEvent
        return ev.select(peewee.fn.MAX(ev.at)).where(ev.action == "consolidate").scalar()

    def consolidation_due(self) -> bool:
        last = self.last_consolidation()
        if isinstance(last, str):
            last = dt.datetime.fromisoformat(last)
        return last is None or self.clock() - last >= self.policy.schedule

    def consolidate_if_due(self) -> ConsolidationReport | None:
        """The scheduled run (the UI calls this on a timer)."""
        return self.consolidate("schedule") if self.consolidation_due() else None


def data_bytes(model: type[peewee.Model], text_columns: tuple[str, ...], numbers: int) -> int:
    """Bytes of the stored values of a table: UTF-8 text and blobs, 8 per number."""
    fields = [getattr(model, c) for c in text_columns]
    size = byte_length(fields[0])
    for field in fields[1:]:
        size = size + byte_length(field)
    total = model.select(peewee.fn.SUM(size), peewee.fn.COUNT(model.id)).tuples().first()
    return int(total[0] or 0) + 8 * numbers * int(total[1] or 0)


def text_key(text: str) -> str:
    """A stable key for an entry stored without one."""
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def _import_entry(line: str, namespace: str) -> tuple[str, str, str, dict]:
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON ({exc.msg})") from None
    if not isinstance(obj, dict):
        raise ValueError("not a JSON object")
    text = obj.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ValueError("text must be a non-empty string")
    ns = obj.get("namespace", namespace)
    key = obj.get("key", text_key(text) if isinstance(text, str) else None)
    if isinstance(key, int) and not isinstance(key, bool):
        key = str(key)
    meta = check_entry(ns, key, text, obj.get("meta"))
    return ns, key, text, meta
