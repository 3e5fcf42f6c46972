"""Shared fixtures: isolated config, throwaway stores and a frozen-clock fixture store.

With `WORKBENCH_TEST_PG` set to a `postgresql://` URL (a database tests may create schemas
in; `.ci/run` starts one), the `engine` and `fixture_engine` fixtures run every test that
uses them twice: on SQLite (`[sqlite]`) and on a throwaway PostgreSQL schema
(`[postgres]`). Without it they are SQLite only and keep their plain test ids.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest

# Bytecode caching as an installed package has it: this machine's environment sets
# PYTHONDONTWRITEBYTECODE=1, so every `python -m workbench` the CLI, hook and MCP tests
# start compiled the workbench's sources again (about a third of each such process). Set
# here, before xdist starts its workers, so they and their children cache too.
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
sys.dont_write_bytecode = False

from tests import templates  # noqa: E402
from workbench.engine import Engine  # noqa: E402

FIXTURE_SEED = Path(__file__).parent / "fixtures" / "seed"
FROZEN_NOW = dt.datetime(2026, 1, 15, 9, 30, 0)


# Files whose tests take the longest (by `pytest --durations=60`, 2026-12-04), longest
# first. xdist's worksteal hands each worker a contiguous half of the collection and an
# idle worker steals from the END of the other's queue, so long tests collected late end
# the run on one core while the other idles; run first, they overlap with everything else.
# A file missing here only runs in its usual place; a name that no longer exists is ignored.
SLOW_FIRST = (
    "tests/faults/test_kill.py",
    "tests/test_cli_every_command.py",
    "tests/ui/test_models_pane.py",
    "tests/ui/test_layout.py",
    "tests/ui/test_pane_loading.py",
    "tests/ui/test_lazy_panes.py",
    "tests/ui/test_hub_search_inbox.py",
    "tests/test_mcp.py",
    "tests/neural/test_figures_from_evaluate.py",
    "tests/neural/test_parallel_catalog.py",
    "tests/ui/test_model_evaluations.py",
    "tests/patterns/test_patterns_classifier.py",
    "tests/ui/test_hub_pane.py",
    "tests/patterns/test_learn_watch.py",
    "tests/ui/test_hostile_text_ui.py",
    "tests/pipeline/test_dask_executor.py",
    "tests/ui/test_browser.py",
)


def pytest_collection_modifyitems(config, items) -> None:
    """Run the files of SLOW_FIRST first, in that order (a stable sort: the order inside a
    file, and of every other file, stays as collected)."""
    rank = {name: i for i, name in enumerate(SLOW_FIRST)}
    root = Path(str(config.rootpath))

    def key(item) -> int:
        try:
            rel = Path(str(item.path)).relative_to(root).as_posix()
        except ValueError:
            return len(SLOW_FIRST)
        return rank.get(rel, len(SLOW_FIRST))

    items.sort(key=key)


@pytest.fixture(autouse=True)
def isolated_env(tmp_path_factory, monkeypatch):
    """No test reads the user's config or store, and none writes them."""
    config_dir = tmp_path_factory.mktemp("config")
    monkeypatch.setenv("WORKBENCH_CONFIG", str(config_dir / "config.json"))
    monkeypatch.delenv("WORKBENCH_DB", raising=False)
    # never hand a command to a developer's running `workbench daemon` (tests/test_daemon.py
    # starts its own)
    monkeypatch.setenv("WORKBENCH_DAEMON", "0")
    monkeypatch.delenv("WORKBENCH_BUSY_TIMEOUT_MS", raising=False)
    monkeypatch.delenv("WORKBENCH_BACKEND", raising=False)
    monkeypatch.delenv("WORKBENCH_EMBEDDER", raising=False)
    return config_dir / "config.json"


PG_ENV = "WORKBENCH_TEST_PG"
PG_SKIP_REASON = (
    f"{PG_ENV} is not set (a postgresql:// URL of a database tests may create schemas in; "
    ".ci/run starts a throwaway server)"
)


def pg_server_url() -> str | None:
    return os.environ.get(PG_ENV) or None


def _backend_params() -> dict:
    return {"params": ["sqlite", "postgres"]} if pg_server_url() else {}


def with_search_path(url: str, schema: str) -> str:
    """`url` whose connections use `schema` (libpq `options=-csearch_path=...`)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "options"]
    query.append(("options", f"-csearch_path={schema}"))
    return urlunsplit(parts._replace(query=urlencode(query)))


@contextlib.contextmanager
def postgres_schema_url() -> Iterator[str]:
    """A store URL on a fresh, empty schema of the test server; dropped afterwards."""
    import psycopg2

    server = pg_server_url()
    if server is None:
        pytest.skip(PG_SKIP_REASON)
    schema = f"wbtest_{uuid.uuid4().hex[:12]}"
    admin = psycopg2.connect(server)
    admin.autocommit = True
    try:
        with admin.cursor() as cur:
            cur.execute(f'CREATE SCHEMA "{schema}"')
        yield with_search_path(server, schema)
    finally:
        with admin.cursor() as cur:
            cur.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.close()


@contextlib.contextmanager
def store_target(backend: str, tmp_path: Path, name: str) -> Iterator[str | Path]:
    """Where a test store lives: a file under tmp_path, or a throwaway PostgreSQL schema."""
    if backend == "postgres":
        with postgres_schema_url() as url:
            yield url
    else:
        yield tmp_path / name


@pytest.fixture(**_backend_params())
def engine(request, tmp_path):
    backend = getattr(request, "param", "sqlite")
    with store_target(backend, tmp_path, "store.db") as target:
        eng = Engine(target, cwd=tmp_path)
        yield eng
        eng.close()


@pytest.fixture
def sqlite_engine(tmp_path):
    """For tests of SQLite specifics (pragmas, sqlite_master, the file on disk)."""
    eng = Engine(tmp_path / "store.db")
    yield eng
    eng.close()


@pytest.fixture(scope="session", autouse=True)
def shared_dir(tmp_path_factory, worker_id) -> Iterator[Path]:
    """One directory per test run that every xdist worker sees (see tests/templates.py)."""
    base = tmp_path_factory.getbasetemp()
    # under xdist each worker's basetemp is <run>/popen-gwN: the run's directory is shared;
    # alone, basetemp is the run's directory (its parent holds earlier runs: not shared)
    path = base.parent if worker_id != "master" else base
    templates.set_shared_dir(path)
    yield path
    templates.set_shared_dir(None)


def _build_fixture_template(path: Path) -> None:
    eng = Engine(path, clock=lambda: FROZEN_NOW)
    eng.seed(FIXTURE_SEED)
    eng.close()  # checkpoints the WAL: the file alone is the whole store


def make_fixture_store(path: Path | str, cwd: Path | None = None) -> Engine:
    """The frozen fixture store at `path`. A new SQLite file is a copy of the run's seeded
    template (seeding per test cost ~0.3 s each over ~300 tests); an existing file or a
    PostgreSQL URL is seeded in place, as before."""
    local = not (isinstance(path, str) and "://" in path)
    if local and templates.active() and not Path(path).exists():
        template = templates.shared_template("fixture-store.db", _build_fixture_template)
        templates.copy_store_file(template, Path(path))
        return Engine(path, clock=lambda: FROZEN_NOW, cwd=cwd)
    eng = Engine(path, clock=lambda: FROZEN_NOW, cwd=cwd)
    eng.seed(FIXTURE_SEED)
    return eng


@pytest.fixture(**_backend_params())
def fixture_engine(request, tmp_path):
    backend = getattr(request, "param", "sqlite")
    with store_target(backend, tmp_path, "fixture.db") as target:
        eng = make_fixture_store(target, cwd=tmp_path)
        yield eng
        eng.close()
