"""`workbench learn watch` as its users run it: a subprocess over a store other processes
write to. It trains once when due, respects the cooldown, refuses a second watcher by
name, and stops cleanly on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from workbench.engine import Engine

ROOT = Path(__file__).resolve().parents[2]
MODEL = "adaptive-coordinator"
DEADLINE_S = 120.0

FEED = """
import sys
from workbench.engine import Engine
from workbench.patterns import continuous
with Engine(sys.argv[1]) as engine:
    engine.ensure_seeded()
    for i in range(int(sys.argv[2]), int(sys.argv[3])):
        continuous.add_entry(
            "adaptive-coordinator", "test", {"operation": f"split the service into modules {i}"},
            {}, "gold", "systems", f"feed-{i}", engine.clock(),
        )
"""


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "workbench", *args]


def query(db: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30) as conn:
        return conn.execute(sql).fetchall()


def wait_for(condition, what: str) -> None:
    """Poll the store until `condition()` holds (a bound, not a fixed sleep)."""
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"gave up waiting for {what}")


def watcher(db: Path) -> dict | None:
    rows = query(db, "SELECT status, pid, checks, trainings, last_result FROM learn_watchers")
    if not rows:
        return None
    status, pid, checks, trainings, last = rows[0]
    return {"status": status, "pid": pid, "checks": checks, "trainings": trainings,
            "last": json.loads(last)}  # fmt: skip


def runs(db: Path) -> list[tuple]:
    return query(db, f"SELECT id, status FROM training_runs WHERE kind = 'continuous' "
                     f"AND model_name = '{MODEL}'")  # fmt: skip


def feed(db: Path, start: int, stop: int) -> None:
    subprocess.run([sys.executable, "-c", FEED, str(db), str(start), str(stop)], cwd=ROOT,
                   check=True, timeout=60)  # fmt: skip


@pytest.fixture
def store(tmp_path) -> Path:
    db = tmp_path / "watch.db"
    with Engine(db) as engine:
        engine.seed()
    done = subprocess.run(cli("patterns", "train", "--db", str(db), "--epochs", "2"), cwd=ROOT,
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return db


@pytest.mark.slow
def test_learn_watch_trains_once_when_due_keeps_cooldown_refuses_a_second_and_stops(store):
    proc = subprocess.Popen(
        cli("learn", "watch", "--db", str(store), "--models", MODEL, "--threshold", "3",
            "--cooldown", "3600", "--check-interval", "1", "--heartbeat", "0.2",
            "--epochs", "1", "--json"),
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        wait_for(lambda: (watcher(store) or {}).get("checks", 0) >= 1, "the first check")
        first = watcher(store)
        assert first["status"] == "watching" and first["pid"] == proc.pid
        assert "untrained entries" in " ".join(first["last"]["models"][MODEL]["reasons"])
        assert runs(store) == []

        second = subprocess.run(cli("learn", "watch", "--db", str(store)), cwd=ROOT,
                                capture_output=True, text=True, timeout=60)  # fmt: skip
        assert second.returncode == 2
        assert second.stderr.count("\n") == 1
        assert f"already runs on this store: pid {proc.pid}" in second.stderr

        feed(store, 0, 3)  # another process: the buffer reaches the threshold
        wait_for(lambda: len(runs(store)) == 1 and runs(store)[0][1] != "running",
                 "one finished training run")  # fmt: skip
        wait_for(lambda: watcher(store)["trainings"] == 1, "the watcher to count it")

        feed(store, 3, 6)  # due again by count, but inside the cooldown
        seen = watcher(store)["checks"]
        wait_for(lambda: watcher(store)["checks"] >= seen + 2, "two more checks")
        assert len(runs(store)) == 1
        reasons = " ".join(watcher(store)["last"]["models"][MODEL].get("reasons", []))
        assert "cooldown" in reasons
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)
        out, err = proc.communicate(timeout=DEADLINE_S)
    assert proc.returncode == 0, err
    assert json.loads(out)["trainings"] == 1
    assert watcher(store)["status"] == "stopped"
    # a stopped watcher is no holder: the next one starts
    again = subprocess.Popen(cli("learn", "watch", "--db", str(store), "--models", MODEL,
                                 "--check-interval", "1"), cwd=ROOT, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    try:
        wait_for(lambda: watcher(store)["pid"] == again.pid, "the next watcher")
    finally:
        again.send_signal(signal.SIGTERM)
        text, _ = again.communicate(timeout=DEADLINE_S)
    assert again.returncode == 0
    assert text.startswith("learn watch: watching ")  # text mode prints for people
    assert "learn watch: stopped after" in text


def test_learn_watch_bad_flags_are_one_line_errors(tmp_path):
    db = str(tmp_path / "s.db")
    for args, fragment in (
        (("--models", "nope"), "--models: choose from"),
        (("--check-interval", "0"), "intervals must be positive"),
        (("--cooldown", "-1"), "cooldown must be >= 0"),
    ):
        done = subprocess.run(cli("learn", "watch", "--db", db, *args), cwd=ROOT,
                              capture_output=True, text=True, timeout=60)  # fmt: skip
        assert done.returncode == 2, done.stderr
        assert done.stderr.startswith("workbench: error: ") and fragment in done.stderr
        assert done.stderr.count("\n") == 1
