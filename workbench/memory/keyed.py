"""Memory by key: exact get / put / list / delete of vector entries, with an optional TTL.

Agents keep notes the way the reference's `memory_usage` does: a value under a key in a
namespace, read back exactly (a primary-key read on the (namespace, key) unique index, not
a similarity search), listed per namespace, deleted, and optionally expiring. The entries
are ordinary vector-memory rows, so they are searchable too. An expired entry is never
returned; the next keyed call deletes expired rows and records a memory_events row.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable, Mapping
from typing import Any

from workbench.memory.episodic import record_event
from workbench.store import models as m


class MissingEntry(ValueError):
    """No live entry under a (namespace, key): a user-facing one-line error."""


def missing(namespace: str, key: str) -> MissingEntry:
    return MissingEntry(f"no memory entry {namespace}/{key} (never stored, deleted or expired)")


MAX_NAME = 200  # characters in a namespace or key
MAX_TTL_S = 10 * 365 * 24 * 3600.0
LIST_LIMIT = 1000


def check_name(what: str, value: Any) -> str:
    """A namespace or key: a non-empty string of at most MAX_NAME characters, no control
    characters (they would break one-line output)."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{what} must be a non-empty string")
    if len(value) > MAX_NAME:
        raise ValueError(f"{what} is {len(value)} characters (at most {MAX_NAME})")
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValueError(f"{what} must not contain control characters")
    return value


def check_ttl(ttl_s: Any) -> float | None:
    """Seconds until an entry expires: a positive finite number, or None for never."""
    if ttl_s is None:
        return None
    if isinstance(ttl_s, bool) or not isinstance(ttl_s, int | float):
        raise ValueError(f"ttl must be a number of seconds (got {ttl_s!r})")
    ttl = float(ttl_s)
    if not math.isfinite(ttl) or ttl <= 0:
        raise ValueError(f"ttl must be a positive number of seconds (got {ttl_s!r})")
    if ttl > MAX_TTL_S:
        raise ValueError(f"ttl is {ttl:g} s (at most {MAX_TTL_S:g}, ten years)")
    return ttl


def parse_ttl(text: str) -> float:
    """A TTL given as text (CLI): seconds, positive."""
    try:
        ttl = check_ttl(float(text))
    except ValueError:
        raise ValueError(f"ttl must be a positive number of seconds (got {text!r})") from None
    assert ttl is not None
    return ttl


def _live(now: dt.datetime):
    vm = m.VectorMemory
    return vm.expires.is_null() | (vm.expires > now)


def _entry(row: Mapping[str, Any]) -> dict[str, Any]:
    out = {
        "namespace": row["namespace"],
        "key": row["key"],
        "value": row["text"],
        "metadata": json.loads(row["metadata"]) if row.get("metadata") else {},
        "created": _iso(row.get("created")),
        "updated": _iso(row.get("updated")),
        "expires": _iso(row.get("expires")),
    }
    return out


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    return str(value)


class KeyedMemory:
    """get/put/list/delete by (namespace, key) over the vector tier."""

    def __init__(self, db, vector, clock: Callable[[], dt.datetime]) -> None:
        self.db = db
        self.vector = vector
        self.clock = clock

    def purge_expired(self) -> int:
        """Delete entries past their expiry; one memory_events row when any went."""
        now = self.clock()
        vm = m.VectorMemory
        with self.db.atomic():
            gone = list(
                vm.select(vm.namespace, vm.key)
                .where(vm.expires.is_null(False) & (vm.expires <= now))
                .tuples()
            )
            if not gone:
                return 0
            vm.delete().where(vm.expires.is_null(False) & (vm.expires <= now)).execute()
            detail = {"entries": [f"{ns}/{key}" for ns, key in gone[:20]]}
            record_event("vector", "expire", "ttl", len(gone), detail, now)
        return len(gone)

    def put(
        self,
        namespace: str,
        key: str,
        value: str,
        *,
        ttl_s: float | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Store `value` under (namespace, key), replacing what was there (and its TTL)."""
        from workbench.memory.vector import check_entry

        check_name("namespace", namespace)
        check_name("key", key)
        ttl = check_ttl(ttl_s)
        meta = check_entry(namespace, key, value, dict(metadata or {}))
        now = self.clock()
        expires = now + dt.timedelta(seconds=ttl) if ttl is not None else None
        vm = m.VectorMemory
        entries = [(namespace, key, value, meta)]
        rows = self.vector.prepare(entries)  # embedded before the write lock is taken
        with self.db.atomic():
            self.purge_expired()
            replaced = (
                vm.select(vm.id).where((vm.namespace == namespace) & (vm.key == key)).exists()
            )
            self.vector.put_many(entries, rows)
            vm.update(expires=expires).where(
                (vm.namespace == namespace) & (vm.key == key)
            ).execute()
        return {
            "namespace": namespace,
            "key": key,
            "replaced": replaced,
            "expires": _iso(expires),
        }

    def get(self, namespace: str, key: str) -> dict[str, Any]:
        """The live entry under (namespace, key); MissingEntry naming it when there is none."""
        check_name("namespace", namespace)
        check_name("key", key)
        vm = m.VectorMemory
        row = (
            vm.select(
                vm.namespace, vm.key, vm.text, vm.metadata, vm.created, vm.updated, vm.expires
            )
            .where((vm.namespace == namespace) & (vm.key == key) & _live(self.clock()))
            .dicts()
            .first()
        )
        if row is None:
            raise MissingEntry(
                f"no memory entry {namespace}/{key} (never stored, deleted or expired)"
            )
        return _entry(row)

    def list(
        self, namespace: str, prefix: str = "", limit: int = LIST_LIMIT
    ) -> list[dict[str, Any]]:
        """Live entries of a namespace (optionally keys starting with `prefix`), by key."""
        check_name("namespace", namespace)
        if limit < 1:
            raise ValueError("limit must be >= 1")
        self.purge_expired()
        vm = m.VectorMemory
        query = vm.select(
            vm.namespace, vm.key, vm.text, vm.metadata, vm.created, vm.updated, vm.expires
        ).where((vm.namespace == namespace) & _live(self.clock()))
        if prefix:
            query = query.where(vm.key.startswith(prefix))
        return [_entry(r) for r in query.order_by(vm.key).limit(limit).dicts()]

    def delete(self, namespace: str, key: str) -> dict[str, Any]:
        """Remove (namespace, key); MissingEntry when there is no live entry."""
        check_name("namespace", namespace)
        check_name("key", key)
        vm = m.VectorMemory
        with self.db.atomic():
            live = (
                vm.select(vm.id)
                .where((vm.namespace == namespace) & (vm.key == key) & _live(self.clock()))
                .exists()
            )
            if not live:
                raise MissingEntry(
                    f"no memory entry {namespace}/{key} (never stored, deleted or expired)"
                )
            self.vector.delete(namespace, key)
        return {"namespace": namespace, "key": key, "deleted": True}
