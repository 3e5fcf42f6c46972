"""The change feed sees commits made by other processes (on SQLite and PostgreSQL)."""

from __future__ import annotations

import subprocess
import sys
import threading

import peewee
import pytest

from workbench.store import models as m
from workbench.store.feed import ChangeFeed

WRITER = """
import sys
from workbench.engine import Engine
from workbench.store import models as m
with Engine(sys.argv[1]) as e:
    m.Channel.create(name="from-another-process")
"""


def test_poll_reports_tables_changed_since_the_cursor(engine):
    feed = ChangeFeed()
    assert feed.poll() == set()
    m.Channel.create(name="a")
    m.Learning.create(type="best_practice", description="d")
    assert feed.poll() == {"channels", "learnings"}
    assert feed.poll() == set()


def test_feed_from_the_start_sees_history(engine):
    m.Channel.create(name="early")
    assert ChangeFeed(start_at_end=False).poll() == {"channels"}


def test_watcher_sees_a_write_from_another_process(engine, tmp_path):
    feed = engine.change_feed()
    stop = threading.Event()
    seen: list[set[str]] = []
    ready = threading.Event()

    def watch():
        # Own connection in this thread (peewee connections are per thread).
        ready.set()
        for tables in engine.watch_changes(feed, stop_event=stop):
            seen.append(tables)
            stop.set()

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    ready.wait()
    # Give the inotify watch a moment to be registered before writing.
    stop.wait(0.3)
    subprocess.run(
        [sys.executable, "-c", WRITER, engine.store_target], check=True, timeout=60, cwd=tmp_path
    )
    thread.join(timeout=15)
    stop.set()
    assert seen and "channels" in seen[0]


def _first_report(engine, feed) -> set[str] | None:
    """The watcher's first report within 10 s, with no write while it watches."""
    stop = threading.Event()
    seen: list[set[str]] = []

    def watch():
        for tables in engine.watch_changes(feed, stop_event=stop):
            seen.append(tables)
            stop.set()

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    thread.join(timeout=10)
    stop.set()
    thread.join(timeout=10)
    return seen[0] if seen else None


def test_a_commit_before_the_watch_starts_is_reported(engine):
    """The UI takes its cursor at mount and watches from after the first frame: a commit in
    between raises no file event once the watch runs, and must still be reported."""
    feed = engine.change_feed()
    m.Channel.create(name="between-cursor-and-watch")
    assert _first_report(engine, feed) == {"channels"}


def test_a_change_the_file_events_missed_is_caught_up(engine):
    """Without any file event, the watcher reads the feed every CATCH_UP_MS (SQLite: on
    PostgreSQL a notification comes with each commit)."""
    if not isinstance(engine.db, peewee.SqliteDatabase):
        pytest.skip("file events are SQLite's")
    feed = engine.change_feed()
    m.Learning.create(type="best_practice", description="missed")
    started = threading.Event()
    original = feed.poll

    def poll_after_start():
        if not started.is_set():  # the read at start sees nothing: as if it came later
            started.set()
            return set()
        return original()

    feed.poll = poll_after_start
    assert _first_report(engine, feed) == {"learnings"}
