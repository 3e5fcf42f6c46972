"""One seeded store with a trained pattern classifier per test run, copied per test.

The templates are built once per run in the directory every xdist worker shares
(tests/templates.py): training took 10-14 s per worker before.
"""

from __future__ import annotations

import datetime as dt
import shutil
import sqlite3

import pytest

from tests.templates import shared_template
from workbench.engine import Engine
from workbench.fsutil import create_private_file
from workbench.neural.selection import Candidate

START = dt.datetime(2026, 3, 2, 10, 0, 0)
EPOCHS = 30
FIXTURE_GRID = (Candidate(None, 0.1), Candidate(32, 0.01))


class Clock:
    """A clock the tests move by hand (cooldowns, windows, last_used)."""

    def __init__(self, now: dt.datetime = START) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


def _build_trained(path) -> None:
    engine = Engine(path, clock=lambda: START)
    engine.ensure_seeded()
    # a small CV grid keeps the fixture quick; the full grid runs in `patterns train`
    summary = engine.patterns.train_classifier(epochs=EPOCHS, folds=3, grid=FIXTURE_GRID)
    assert summary["status"] == "trained"
    engine.close()


def _build_seeded(path) -> None:
    engine = Engine(path, clock=lambda: START)
    engine.ensure_seeded()
    engine.close()


@pytest.fixture(scope="session")
def trained_template(shared_dir):
    """A seeded store whose adaptive-coordinator v1 is trained (and champion)."""
    return shared_template("patterns-trained.db", _build_trained)


def copy_store(source, dest) -> None:
    """A consistent copy through SQLite's backup API (the WAL included)."""
    create_private_file(dest)  # as the engine creates a store (0600): no mode warning
    with sqlite3.connect(source) as src, sqlite3.connect(dest) as dst:
        src.backup(dst)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def trained(trained_template, tmp_path, clock):
    path = tmp_path / "store.db"
    copy_store(trained_template, path)
    engine = Engine(path, clock=clock)
    yield engine
    engine.close()
    shutil.rmtree(tmp_path / "store-learning", ignore_errors=True)


@pytest.fixture(scope="session")
def seeded_template(shared_dir):
    return shared_template("patterns-seeded.db", _build_seeded)


@pytest.fixture
def seeded(seeded_template, tmp_path, clock):
    """A seeded store with nothing trained: the keyword fallback answers."""
    path = tmp_path / "store.db"
    copy_store(seeded_template, path)
    engine = Engine(path, clock=clock)
    yield engine
    engine.close()
