"""The change feed: the store is the bus.

Triggers append to `change_log`; a watcher on the database file and its `-wal` wakes up
when another connection commits, reads the new `change_log` rows and reports which tables
changed. Any process writing the store (a headless run, an agent) is seen the same way.
On PostgreSQL the wake-up is a NOTIFY instead of a file event (`watch_store` picks).
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import peewee

from workbench.store.db import is_postgres_target

if TYPE_CHECKING:
    import watchfiles
from workbench.store.models import ChangeLog

# Measured (benchmarks/change_feed_latency.py): step 2 ms gives ~3 ms p50 from commit to
# event for ~2% of a core while idle; step 5 ms ~9 ms for ~1.4%. The UI coalesces bursts.
DEBOUNCE_MS = 5
STEP_MS = 2
# The watchers also read the feed once as they start and then every CATCH_UP_MS without a
# file event: a commit made before the file watch is registered raises no event of its own
# (the UI takes its cursor at mount and starts watching after the first frame).
CATCH_UP_MS = 1000


class ChangeFeed:
    """A cursor over change_log: each poll returns the tables changed since the last one."""

    def __init__(self, start_at_end: bool = True) -> None:
        self.cursor = self.latest_id() if start_at_end else 0

    @staticmethod
    def latest_id() -> int:
        return ChangeLog.select(peewee.fn.MAX(ChangeLog.id)).scalar() or 0

    def poll(self) -> set[str]:
        rows = list(
            ChangeLog.select(ChangeLog.id, ChangeLog.table_name)
            .where(ChangeLog.id > self.cursor)
            .order_by(ChangeLog.id)
            .tuples()
        )
        if not rows:
            return set()
        self.cursor = rows[-1][0]
        return {name for _, name in rows}


def _store_files(db_path: Path) -> set[str]:
    return {db_path.name, f"{db_path.name}-wal"}


def _filter_for(db_path: Path):
    names = _store_files(db_path)

    def keep(_change: watchfiles.Change, path: str) -> bool:
        return Path(path).name in names

    return keep


def watch_tables(
    db_path: Path, feed: ChangeFeed, stop_event: threading.Event | None = None
) -> Iterator[set[str]]:
    """Blocking: yield the set of changed tables after each commit seen on disk."""
    import watchfiles  # here, not at import: `hooks run` opens the store without a watcher

    tables = feed.poll()
    if tables:
        yield tables
    for _changes in watchfiles.watch(
        db_path.parent,
        watch_filter=_filter_for(db_path),
        debounce=DEBOUNCE_MS,
        step=STEP_MS,
        stop_event=stop_event,
        recursive=False,
        raise_interrupt=False,
        rust_timeout=CATCH_UP_MS,
        yield_on_timeout=True,
    ):
        tables = feed.poll()
        if tables:
            yield tables


async def awatch_tables(
    db_path: Path, feed: ChangeFeed, stop_event=None
) -> AsyncIterator[set[str]]:
    """Async twin of `watch_tables` for the UI's watcher worker."""
    import watchfiles

    tables = feed.poll()
    if tables:
        yield tables
    async for _changes in watchfiles.awatch(
        db_path.parent,
        watch_filter=_filter_for(db_path),
        debounce=DEBOUNCE_MS,
        step=STEP_MS,
        stop_event=stop_event,
        recursive=False,
        rust_timeout=CATCH_UP_MS,
        yield_on_timeout=True,
    ):
        tables = feed.poll()
        if tables:
            yield tables


def watch_store(
    target: str | Path,
    feed: ChangeFeed,
    busy_timeout_ms: int,
    stop_event: threading.Event | None = None,
) -> Iterator[set[str]]:
    """`watch_tables` for any store: file events for SQLite, LISTEN for PostgreSQL."""
    if is_postgres_target(target):
        from workbench.store.postgres import watch_notifications

        yield from watch_notifications(str(target), feed, busy_timeout_ms, stop_event)
    else:
        yield from watch_tables(Path(target), feed, stop_event)


async def awatch_store(
    target: str | Path, feed: ChangeFeed, busy_timeout_ms: int, stop_event=None
) -> AsyncIterator[set[str]]:
    """Async twin of `watch_store`: the UI follows either backend through this one call."""
    if is_postgres_target(target):
        from workbench.store.postgres import awatch_notifications

        source = awatch_notifications(str(target), feed, busy_timeout_ms, stop_event)
    else:
        source = awatch_tables(Path(target), feed, stop_event)
    async for tables in source:
        yield tables
