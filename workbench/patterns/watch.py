"""`workbench learn watch`: continuous learning that runs itself.

One process per store follows the change feed (the same change_log cursor the UI reads)
and, when something changed or at least every `check_s` seconds (cooldowns and training
windows run out without a write), runs the training trigger for each model — the same
conditions, gates and cooldown as `learn trigger`, never forced. The trigger itself keeps
one training at a time across processes (a running training run's trainer pid is checked
before another starts), and only marks experience trained after a deploy, so a stopped
watcher loses nothing.

Exactly one watcher per store: it claims the `learn_watchers` row with its owner (host,
pid, process start, as a work lease) and a second one is refused with the holder's name.
A holder whose process is gone (same host) or whose heartbeat is older than `STALE_S`
(another host) is taken over. The row carries the heartbeat the Patterns pane shows.
SIGTERM/SIGINT set the stop event: a training under way finishes (its gates decide), then
the row is marked stopped and the process exits 0.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import peewee

from workbench.store import leases
from workbench.store import models as m
from workbench.store.feed import ChangeFeed

WATCHER = "default"
CHECK_S = 60.0
HEARTBEAT_S = 5.0
POLL_S = 0.5
STALE_S = 120.0  # a heartbeat older than this from another host: the holder is gone
IGNORED_TABLES = frozenset({"learn_watchers", "training_history"})
WATCHING, STOPPED = "watching", "stopped"


class WatchRefused(ValueError):
    """Another `learn watch` holds this store (the message names it)."""


def _iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat(sep=" ", timespec="seconds")


def watcher_dict(row: m.LearnWatcher | None, now: dt.datetime) -> dict[str, Any] | None:
    """The watcher row as plain data, with whether its holder still looks alive."""
    if row is None:
        return None
    return {
        "status": row.status,
        "alive": row.status == WATCHING and holder_alive(row, now),
        "host": row.host,
        "pid": row.pid,
        "started": _iso(row.started),
        "heartbeat": _iso(row.heartbeat),
        "next_check": _iso(row.next_check),
        "stopped": _iso(row.stopped),
        "checks": row.checks,
        "trainings": row.trainings,
        "last_result": json.loads(row.last_result or "{}"),
    }


def status(clock: Callable[[], dt.datetime] = m.utcnow) -> dict[str, Any] | None:
    """What the Patterns pane and `learn status` show about the watcher (None: never ran)."""
    return watcher_dict(m.LearnWatcher.get_or_none(m.LearnWatcher.name == WATCHER), clock())


def holder_alive(row: m.LearnWatcher, now: dt.datetime) -> bool:
    if row.host == leases.host_name():
        return leases.owner_alive(row.pid, row.proc_start)
    return (now - row.heartbeat).total_seconds() < STALE_S


def describe_holder(row: m.LearnWatcher) -> str:
    return (
        f"pid {row.pid} on {row.host}, watching since {_iso(row.started)} UTC "
        f"(last heartbeat {_iso(row.heartbeat)} UTC)"
    )


class LearnWatcher:
    """Claims the store's watcher row, follows the feed, triggers when due, beats."""

    def __init__(
        self,
        trigger: Callable[[str], dict[str, Any]],
        models: Sequence[str],
        clock: Callable[[], dt.datetime] = m.utcnow,
        check_s: float = CHECK_S,
        heartbeat_s: float = HEARTBEAT_S,
        poll_s: float = POLL_S,
        on_result: Callable[[str, dict[str, Any]], None] | None = None,
    ) -> None:
        if check_s <= 0 or heartbeat_s <= 0 or poll_s <= 0:
            raise ValueError("check, heartbeat and poll intervals must be positive seconds")
        if not models:
            raise ValueError("learn watch needs at least one model")
        self.trigger = trigger
        self.models = list(models)
        self.clock = clock
        self.check_s = check_s
        self.heartbeat_s = heartbeat_s
        self.poll_s = poll_s
        self.on_result = on_result
        self.row_id: int | None = None
        self.checks = 0
        self.trainings = 0
        self.last_result: dict[str, Any] = {}

    # -- ownership ---------------------------------------------------------------------

    def claim(self) -> None:
        """Become the store's watcher, or raise WatchRefused naming the one that is."""
        now = self.clock()
        pid = os.getpid()
        mine = {
            "host": leases.host_name(),
            "pid": pid,
            "proc_start": leases.process_start(pid),
            "status": WATCHING,
            "started": now,
            "heartbeat": now,
            "next_check": now,
            "stopped": None,
            "checks": 0,
            "trainings": 0,
            "last_result": "{}",
        }
        w = m.LearnWatcher
        with m.database_proxy.atomic():
            row = w.get_or_none(w.name == WATCHER)
            if row is None:
                try:
                    with m.database_proxy.atomic():
                        self.row_id = w.create(name=WATCHER, **mine).id
                except peewee.IntegrityError:
                    raise WatchRefused("learn watch: another watcher started just now") from None
                return
            if row.status == WATCHING and holder_alive(row, now):
                raise WatchRefused(
                    f"learn watch already runs on this store: {describe_holder(row)}"
                )
            taken = (
                w.update(**mine)
                .where(
                    (w.id == row.id)
                    & (w.pid == row.pid)
                    & (w.host == row.host)
                    & (w.proc_start == row.proc_start)
                    & (w.status == row.status)
                )
                .execute()
            )
            if not taken:
                raise WatchRefused("learn watch: another watcher took this store just now")
            self.row_id = row.id

    def _mine(self):
        w = m.LearnWatcher
        return (w.id == self.row_id) & (w.pid == os.getpid()) & (w.host == leases.host_name())

    def beat(self, next_check: dt.datetime, status: str = WATCHING) -> None:
        """Write the heartbeat; a watcher whose row was taken over stops."""
        now = self.clock()
        fields: dict[str, Any] = {
            "heartbeat": now,
            "next_check": next_check if status == WATCHING else None,
            "checks": self.checks,
            "trainings": self.trainings,
            "last_result": json.dumps(self.last_result, sort_keys=True, default=str),
            "status": status,
        }
        if status == STOPPED:
            fields["stopped"] = now
        if not m.LearnWatcher.update(**fields).where(self._mine()).execute():
            raise WatchRefused("learn watch: another watcher took over this store")

    # -- the loop ----------------------------------------------------------------------

    def check(self) -> dict[str, Any]:
        """Run the (unforced) trigger for every model; what each did."""
        results: dict[str, Any] = {}
        for model in self.models:
            try:
                result = self.trigger(model)
            except ValueError as exc:  # no champion yet, a trainer still running, ...
                result = {"model": model, "status": "not run", "reasons": [str(exc)]}
            if result.get("status") not in ("skipped", "not run"):
                self.trainings += 1
            results[model] = _summary(result)
            if self.on_result is not None:
                self.on_result(model, result)
        self.checks += 1
        self.last_result = {"at": _iso(self.clock()), "models": results}
        return results

    def run(self, stop: threading.Event, max_checks: int | None = None) -> dict[str, Any]:
        """Until `stop` is set: check on feed changes and every `check_s`; beat."""
        if self.row_id is None:
            self.claim()
        feed = ChangeFeed()
        due = True  # one check at start-up
        next_check = self.clock()
        last_beat = time.monotonic()
        try:
            while not stop.is_set():
                if feed.poll() - IGNORED_TABLES:
                    due = True
                if due or self.clock() >= next_check:
                    self.check()
                    feed.poll()  # the check's own writes are not news
                    due = False
                    next_check = self.clock() + dt.timedelta(seconds=self.check_s)
                    self.beat(next_check)
                    last_beat = time.monotonic()
                    if max_checks is not None and self.checks >= max_checks:
                        break
                elif time.monotonic() - last_beat >= self.heartbeat_s:
                    self.beat(next_check)
                    last_beat = time.monotonic()
                stop.wait(self.poll_s)
        finally:
            with contextlib.suppress(WatchRefused):  # taken over: the row is no longer ours
                self.beat(self.clock(), status=STOPPED)
        return {"checks": self.checks, "trainings": self.trainings, "last": self.last_result}


def _summary(result: dict[str, Any]) -> dict[str, Any]:
    keep = ("status", "deployed", "reasons", "id", "candidate_version", "previous_version")
    return {k: result[k] for k in keep if k in result}
