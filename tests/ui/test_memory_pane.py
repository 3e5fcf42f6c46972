"""The Memory pane over the real memory service and the frozen fixture store."""

from __future__ import annotations

import json
from pathlib import Path

from textual.widgets import DataTable, Input, Label, Static

from tests.ui.conftest import SIZE, wait_for_screen
from workbench.ui.memory import MemoryPane
from workbench.ui.screens.model_dialogs import ReportScreen

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data" / "memory"


def records(name: str) -> list[dict]:
    return [json.loads(line) for line in (SAMPLE / name).read_text().splitlines() if line]


def sample_app(make_app):
    """The fixture store plus the bundled memory samples (at the frozen time)."""
    app = make_app()
    memory = app.engine.memory
    memory.import_jsonl(SAMPLE / "vector.jsonl")
    for o in records("episodes.jsonl"):
        memory.episodic.insert(
            o["session"], o["kind"], o["text"], o["context"], o["outcome"], o["sequence"]
        )
    for o in records("facts.jsonl"):
        memory.semantic.put(
            o["statement"], o["kind"], o["subject"], o["confidence"], o["source"],
            o["evidence_count"],
        )  # fmt: skip
    return app


def pane(app) -> MemoryPane:
    return app.query_one(MemoryPane)


async def searched(pilot) -> None:
    """Searches run in a worker: wait for it and for the results it hands the UI."""
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    while pane(pilot.app).searching:
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


def freeze_latency(app) -> None:
    """Search latency is measured (it varies run to run); pictures need a fixed figure."""
    vector = app.engine.memory.vector
    vector.latency = lambda: {"searches": len(vector.latencies_ms), "p50_ms": 4.2, "p95_ms": 6.0}


def cell_texts(table: DataTable, column: str) -> list[str]:
    return [str(table.get_cell(row, column)) for row in table.rows]


async def test_search_ranks_results_fills_the_working_set_and_follows_new_entries(make_app):
    app = sample_app(make_app)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("5", "slash")
        query = app.query_one("#memory-query", Input)
        assert query.has_focus
        await pilot.press(*"sqlite database is locked", "enter")
        await searched(pilot)
        results = app.query_one("#memory-results", DataTable)
        assert results.has_focus and results.row_count == 20
        scores = [float(s) for s in cell_texts(results, "score")]
        assert scores == sorted(scores, reverse=True) and scores[0] > 0.2
        assert "sqlite" in cell_texts(results, "text")[0].lower()
        working = app.query_one("#working-table", DataTable)
        # stored whole; the table's ellipsis cuts it on screen where it must
        assert "search 'sqlite database is locked'" in cell_texts(working, "item")
        pane(app).search("sqlite database is locked")  # again: served by the working tier
        await searched(pilot)
        stats = app.engine.memory.working.stats()
        assert (stats["hits"], stats["misses"]) == (1, 1)
        card = str(app.query_one("#card-working", Static).render())
        assert "hits 1 · misses 1" in card

        pane(app).search("bloom filter false positive rate")
        await searched(pilot)
        assert "bloom" not in cell_texts(results, "text")[0].lower()
        text = "A bloom filter's false positive rate grows with its fill ratio."
        app.engine.memory.vector.put_many([("docs", "bloom", text, {})])
        pane(app).refresh_data({"vector_memory"})  # what the change feed delivers
        await searched(pilot)
        assert cell_texts(results, "entry")[0] == "docs/bloom"


async def test_consolidate_key_shows_the_report_and_the_timeline_shows_evictions(make_app):
    app = sample_app(make_app)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("5")
        facts = app.query_one("#facts-table", DataTable)
        before = facts.row_count
        await pilot.press("c")
        await pilot.pause()
        await wait_for_screen(pilot, ReportScreen)
        assert "Promoted to facts · 4" in app.screen.markdown
        assert "strategy=aggressive end in failure" in app.screen.markdown
        await pilot.press("escape")
        assert facts.row_count == before + 4
        events = app.query_one("#memory-events", Label)
        assert "consolidation (manual): promoted 4" in str(events.render())

        timeline = app.query_one("#timeline-table", DataTable)
        assert timeline.row_count == 60
        memory = app.engine.memory
        memory.episodic.capacity = 75
        result = memory.record("s-new", "result", "latest event", {"tool": "pytest"}, "success")
        assert result["evicted"][0]["count"] == 1
        pane(app).refresh_data({"episodic_memory", "memory_events"})
        await pilot.pause()
        assert cell_texts(timeline, "text")[0] == "latest event"
        assert "75 events" in str(app.query_one("#timeline-title", Label).render())
        assert "evicted 1 episodic event(s) by the capacity limit" in str(events.render())


def test_memory_pane_after_a_search(snap_compare, make_app):
    app = sample_app(make_app)

    async def run_before(pilot) -> None:
        await pilot.pause()  # the app has started (and focused its tab bar)
        await pilot.press("5")
        freeze_latency(app)
        pane(app).search("retry a locked sqlite write")
        await searched(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_memory_consolidation_report(snap_compare, make_app):
    app = sample_app(make_app)

    async def run_before(pilot) -> None:
        await pilot.pause()  # the app has started (and focused its tab bar)
        await pilot.press("5")
        freeze_latency(app)
        await pilot.press("c")
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


async def test_search_runs_off_the_ui_thread_and_defers_what_arrives_meanwhile(make_app):
    import threading

    app = sample_app(make_app)
    memory = app.engine.memory
    real_search, gate, threads = memory.search, threading.Event(), []

    def slow_search(*args, **kwargs):
        threads.append(threading.current_thread())
        gate.wait(10)
        return real_search(*args, **kwargs)

    memory.search = slow_search
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("5")
        timeline = app.query_one("#timeline-table", DataTable)
        pane(app).search("sqlite database is locked")
        await pilot.pause()
        assert pane(app).searching and "Searching for" in str(
            app.query_one("#results-title", Label).render()
        )
        # the UI keeps running: a write arrives and a newer query is typed meanwhile
        memory.record("s-new", "result", "arrived during the search", {}, "success")
        pane(app).refresh_data({"episodic_memory"})
        pane(app).search("bloom filter false positive rate")
        await pilot.pause()
        assert cell_texts(timeline, "text")[0] != "arrived during the search"  # deferred
        gate.set()
        await searched(pilot)
        assert threads and all(t is not threading.main_thread() for t in threads)
        assert len(threads) == 2  # the newer query ran after the first, never beside it
        assert cell_texts(timeline, "text")[0] == "arrived during the search"
        title = str(app.query_one("#results-title", Label).render())
        assert "bloom filter" in title
