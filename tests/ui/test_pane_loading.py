"""Panes read the store in thread workers (ui/pane.py `Pane.load`), as the app runs them.

Also the issue's "no UI-thread handler reads the big tables" check at 10k hub items, 100k
memories and 1,000 runs. It counts structurally instead of timing: every store query the
panes' heavy reads make (the catalog, the patterns overview, the memory stats) is counted
by thread while the app starts and every pane is shown, and the test fails if one ran on
the UI thread. A measured threshold (the slow-handler log) would pass or fail with the
machine's load; which thread ran a read does not.
"""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path

import pytest
from textual.widgets import DataTable, Label, TabbedContent

from tests.ui.conftest import wait_until
from workbench.engine import Engine
from workbench.store.errors import StoreError
from workbench.ui.app import PANES, StoreChanged, WorkbenchApp
from workbench.ui.pane import Pane

ROOT = Path(__file__).resolve().parents[2]


def _large_store_module():
    spec = importlib.util.spec_from_file_location(
        "large_store", ROOT / "benchmarks" / "large_store.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def idle(app: WorkbenchApp) -> bool:
    return all(not pane.loading_names for pane in app.query(Pane))


async def test_panes_fill_from_workers(make_app):
    app = make_app(workers=True, lazy=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(
            pilot,
            lambda: idle(app) and app.query_one("#model-table", DataTable).row_count > 0,
            "the Models list",
        )
        catalog = app.engine.neural.catalog()
        assert {e["name"] for e in catalog} <= set(app.query_one("#models-pane").catalog_entries)
        title = str(app.query_one("#patterns-title", Label).render())
        assert title  # the classifier line came from the worker's overview
        assert app.query_one("#patterns-pane").overview["distribution"] is not None


async def test_a_failed_read_is_a_notification(make_app, monkeypatch):
    app = make_app(workers=True, lazy=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: idle(app), "the first loads")

        def broken(*args, **kwargs):
            raise StoreError("store: database is locked")

        monkeypatch.setattr(type(app.engine.patterns), "overview", broken)
        app.query_one("#patterns-pane", Pane).refresh_data()
        await wait_until(
            pilot,
            lambda: any("database is locked" in str(n.message) for n in app._notifications),
            "the error notification",
        )
        # the worker posts the notification before it ends: it must then end, not hang
        await wait_until(pilot, lambda: idle(app), "the failed read's worker to end")


async def test_a_burst_of_refreshes_reads_at_most_twice(make_app):
    app = make_app(workers=True, lazy=False)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = app.query_one("#patterns-pane", Pane)
        await wait_until(pilot, lambda: idle(app), "the first loads")
        gate, calls, applied = threading.Event(), [], []

        def read() -> int:
            calls.append(threading.get_ident())
            gate.wait(10)
            return len(calls)

        for _ in range(5):
            pane.load("probe", read, applied.append)
        await wait_until(pilot, lambda: len(calls) == 1, "the first read")
        gate.set()
        await wait_until(pilot, lambda: len(applied) == 2 and idle(app), "the reads")
        assert len(calls) == 2  # one running + the newest waiting; the other three dropped
        assert applied == [1, 2]
        assert threading.get_ident() not in calls  # never on the UI thread


# engine service -> the reads at 10k hub items / 100k memories / 1,000 runs that take
# longer than a frame or scale with the store (each pane's refresh makes some of them)
HEAVY_READS = {
    "neural": ("catalog",),
    "patterns": ("overview",),
    "memory": ("stats", "timeline", "facts", "events"),
    "hub": ("agents", "channels", "items", "state_counts", "deliveries"),
    "adaptive": ("strategy_table", "statistics", "perf_report"),
    "pipeline": ("runs", "status", "executions", "select"),
}


@pytest.fixture(scope="session")
def large_store(tmp_path_factory) -> Path:
    """Seeded + 10k hub items + 100k memories + 1,000 runs, bulk-written once (~5 s)."""
    path = tmp_path_factory.mktemp("large") / "large.db"
    return _large_store_module().build(path, embed=False)


async def test_no_heavy_read_on_the_ui_thread_at_scale(large_store, isolated_env, monkeypatch):
    engine = Engine(large_store)
    ui_thread = threading.get_ident()
    on_ui: list[str] = []

    def watch(owner, name):
        original = getattr(owner, name)

        def counted(*args, **kwargs):
            if threading.get_ident() == ui_thread:
                on_ui.append(name)
            return original(*args, **kwargs)

        monkeypatch.setattr(owner, name, counted)

    for owner, names in HEAVY_READS.items():
        for name in names:
            watch(type(getattr(engine, owner)), name)
    app = WorkbenchApp(engine, watch=False, theme="workbench-dark", settings_path=isolated_env)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            for key in [str(i) for i in range(1, len(PANES) + 1)]:
                await pilot.press(key)
                await wait_until(pilot, lambda: idle(app), f"pane {key} loaded")
            await wait_until(
                pilot, lambda: app.query_one("#model-table", DataTable).row_count > 0, "models"
            )
            # then every table changes at once, as the change feed reports it
            app.post_message(StoreChanged({t for pane in app.query(Pane) for t in pane.tables}))
            await wait_until(pilot, lambda: not app._pending and idle(app), "the refreshes")
    finally:
        engine.close()
    assert on_ui == []


async def test_number_keys_switch_panes_while_reads_come_back(make_app):
    """Panes focus their table when shown and fill from workers; a key pressed meanwhile
    still decides the tab (the focus race a Hub read in a worker once exposed)."""
    app = make_app(workers=True, lazy=False)
    async with app.run_test(size=(120, 40)) as pilot:
        tabs = app.query_one(TabbedContent)
        for _ in range(3):
            for key, pane_id in zip("7654321", reversed(list(PANES)), strict=True):
                await pilot.press(key)
                assert tabs.active == pane_id


async def test_focus_in_a_hidden_pane_does_not_switch_tabs(make_app):
    app = make_app(lazy=False)
    async with app.run_test(size=(120, 40)) as pilot:
        tabs = app.query_one(TabbedContent)
        app.query_one("#hub-items", DataTable).focus()  # as a late apply() might
        await pilot.pause()
        await pilot.pause()
        assert tabs.active == "runs"
        await pilot.press("6")
        assert tabs.active == "hub"
