"""Shared fixtures: isolated config, throwaway stores and a frozen-clock fixture store."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from workbench.engine import Engine

FIXTURE_SEED = Path(__file__).parent / "fixtures" / "seed"
FROZEN_NOW = dt.datetime(2026, 1, 15, 9, 30, 0)


@pytest.fixture(autouse=True)
def isolated_env(tmp_path_factory, monkeypatch):
    """No test reads the user's config or store, and none writes them."""
    config_dir = tmp_path_factory.mktemp("config")
    monkeypatch.setenv("WORKBENCH_CONFIG", str(config_dir / "config.json"))
    monkeypatch.delenv("WORKBENCH_DB", raising=False)
    monkeypatch.delenv("WORKBENCH_BUSY_TIMEOUT_MS", raising=False)
    monkeypatch.delenv("WORKBENCH_BACKEND", raising=False)
    return config_dir / "config.json"


@pytest.fixture
def engine(tmp_path):
    eng = Engine(tmp_path / "store.db")
    yield eng
    eng.close()


def make_fixture_store(path: Path) -> Engine:
    eng = Engine(path, clock=lambda: FROZEN_NOW)
    eng.seed(FIXTURE_SEED)
    return eng


@pytest.fixture
def fixture_engine(tmp_path):
    eng = make_fixture_store(tmp_path / "fixture.db")
    yield eng
    eng.close()
