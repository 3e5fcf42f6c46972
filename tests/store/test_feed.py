"""The change feed sees commits made by other processes (on SQLite and PostgreSQL)."""

from __future__ import annotations

import subprocess
import sys
import threading

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
