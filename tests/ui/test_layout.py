"""Layouts that adapt (issue 17): every pane at 80x24, 120x40 and 200x60 shows its numbers
whole; a terminal below 80x24 says so in one line; the column fit gives way in text only.

The numeric test reads the screen as a user sees it (the rendered lines, cut where the
table's region ends) and compares each number and status cell of every visible table
with what the engine holds: a cut "185" reading as "18" fails it.
"""

from __future__ import annotations

import io
import re

import pytest
from rich.console import Console
from textual.coordinate import Coordinate
from textual.widgets import DataTable, Static

from tests.ui.conftest import prepared_store, wait_until
from tests.ui.test_models_pane import DATA, MODEL, SPEC, freeze_registry
from tests.ui.test_runs_trends import freeze_pipeline, write_task
from workbench.store import models as m
from workbench.ui.app import MIN_SIZE, SIDE_PANES
from workbench.ui.models import ModelsPane, shown_accuracy
from workbench.ui.pane import Pane
from workbench.ui.widgets.fill_table import MIN_WIDTH, FillTable, fill_widths

SIZES = [(80, 24), (120, 40), (200, 60)]
PANE_KEYS = {"1": "runs", "2": "trends", "3": "patterns", "4": "models", "5": "memory",
             "6": "hub", "7": "agents"}  # fmt: skip
# a number, a ratio, a percentage, an accuracy with its rows: what must never be cut
NUMBER = re.compile(r"^[+\-−]?[\d.,]+(%|/\d+| n=[\d,]+| ms)?$")
STATUS = {"untrained", "passed", "failed", "pass", "success", "failure", "completed"}


# -- reading the screen -------------------------------------------------------------------


def screen_lines(app) -> list[str]:
    """The terminal's lines as plain text, as the app last composited them."""
    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), force_terminal=True,
                      color_system="truecolor", record=True, legacy_windows=False)  # fmt: skip
    update = app.screen._compositor.render_update(full=True)
    console.print(update)
    return console.export_text().splitlines()


def shown_cells(app, table: DataTable) -> list[tuple[str, str, str, str]]:
    """(row key, column key, cell value, text on screen) for every cell drawn, the text cut
    where the table's visible region ends (a column scrolled wholly out of view is left
    out)."""
    lines = screen_lines(app)
    region = table.content_region  # where the table draws, clipped by what holds it
    visible = region.intersection(app.screen.find_widget(table).visible_region)
    scrollbar = table.styles.scrollbar_size_vertical if table.show_vertical_scrollbar else 0
    right = min(visible.right, region.right - scrollbar)
    top = region.y + (1 if table.show_header else 0)
    shown = []
    for row_index in range(table.row_count):
        y = top + row_index - round(table.scroll_y)
        if not (top <= y < visible.bottom and y >= visible.y) or y >= len(lines):
            continue
        row_key = table.coordinate_to_cell_key(Coordinate(row_index, 0)).row_key.value
        x = region.x - round(table.scroll_x)
        for column_index, column in enumerate(table.ordered_columns):
            width = column.get_render_width(table)
            start, end = max(x, visible.x), min(x + width, right)
            if start < end:
                value = plain_text(table.get_cell_at(Coordinate(row_index, column_index)))
                text = lines[y][start:end].strip()
                shown.append((str(row_key), str(column.key.value), value, text))
            x += width
    return shown


async def settle(pilot) -> None:
    """Wait until the app's workers are done and two frames in a row look the same (a
    table's new widths reach the screen a frame or two after they are set)."""
    await pilot.app.workers.wait_for_complete()
    previous = None
    for _ in range(200):
        await pilot.pause()
        lines = screen_lines(pilot.app)
        if lines == previous:
            return
        previous = lines
    raise AssertionError("the screen never settled")


def plain_text(value: object) -> str:
    return getattr(value, "plain", str(value)).strip()


# -- what the store holds, through the engine ---------------------------------------------


def expected_cells(engine, table_id: str) -> dict[tuple[str, str], str] | None:
    """The number and status cells a table must show, computed from the engine's rows (an
    oracle written apart from the panes' code), or None for tables checked generically."""
    if table_id == "executions":
        run_id = engine.pipeline.runs()[0]["id"]
        cells = {}
        for e in engine.pipeline.executions(run_id):
            key = str(e["id"])
            cells[(key, "score")] = f"{e['score']:.1f}"
            cells[(key, "ms")] = f"{e['exec_ms']:.0f}"
            cells[(key, "it")] = str(e["iteration"])
        return cells
    if table_id == "runs-picker":
        cells = {}
        for run in engine.pipeline.runs():
            summary = run["summary"]
            cells[(str(run["id"]), "id")] = str(run["id"])
            cells[(str(run["id"]), "status")] = run["status"]
            cells[(str(run["id"]), "iters")] = str(run["iterations"])
            cells[(str(run["id"]), "passed")] = f"{summary['passed']}/{summary['total_executions']}"
        return cells
    if table_id == "hub-items":
        cells = {}
        for item in engine.hub.items(None):
            cells[(item["id"], "useful")] = str(item["useful_votes"])
            cells[(item["id"], "applied")] = str(item["applied_count"])
        return cells
    if table_id == "model-table":
        return {
            (e["name"], "acc"): shown_accuracy(
                e.get("val_accuracy"), e.get("status"), e.get("val_rows")
            )  # fmt: skip
            for e in engine.neural.catalog()
        }
    if table_id == "facts-table":
        return {(str(f["id"]), "ev"): str(f["evidence_count"]) for f in engine.memory.facts(100)}
    if table_id == "profiles":
        cells = {}
        for name, p in engine.pipeline.status().items():
            cells[(name, "score")] = f"{p['avg_score']:.1f}"
            cells[(name, "time ms")] = f"{p['avg_exec_ms']:.0f}"
            cells[(name, "uses")] = str(p["uses"])
        return cells
    return None


def _prepare_layout_store(engine, folder) -> None:
    tasks = folder / "tasks"
    write_task(tasks, "tiny_add")
    write_task(tasks, "a_task_with_a_rather_long_name_that_must_give_way")
    engine.pipeline.run(iterations=1, strategies=("balanced", "aggressive"),
                        tasks_dir=tasks, workers=2)  # fmt: skip
    freeze_pipeline()
    engine.neural.train(SPEC, DATA, epochs=4)  # a version with accuracies to show
    freeze_registry()
    for i, e in enumerate(m.TaskExecution.select().order_by(m.TaskExecution.id)):
        e.exec_ms = [185.0, 18534.0, 1234567.0, 99.0][i % 4]
        e.save()


def layout_store(make_app, tmp_path):
    """The fixture store with one real pipeline run whose times are long numbers (built
    once per test run by `prepared_store`, copied into each test)."""
    return make_app(lazy=False, store=prepared_store("layout", _prepare_layout_store))


def table_id(table: DataTable) -> str:
    if table.has_class("run-picker-table"):
        return "runs-picker"
    return table.id or ""


def check_numbers(app, pane: Pane) -> int:
    """Assert every number/status on screen in `pane`'s tables reads whole and, where the
    engine says what it must be, equals it; return how many cells were checked. A failure
    lists every wrong cell, not just the first (a cut column behind another shows too)."""
    checked = 0
    wrong: list[str] = []
    for table in pane.query(DataTable):
        if not table.display or not table.region.area or not table.row_count:
            continue
        if any(not a.display for a in table.ancestors_with_self if hasattr(a, "display")):
            continue
        shown = shown_cells(app, table)
        expected = expected_cells(app.engine, table_id(table))
        for row, column, value, text in shown:
            if expected is not None and (row, column) in expected:
                want = expected[(row, column)]
                if value != want:
                    wrong.append(f"{table_id(table)}[{row}, {column}]: {value!r} ≠ {want!r}")
                    continue
            elif not (NUMBER.match(value) or value in STATUS):
                continue
            else:
                want = value
            if text != want:
                wrong.append(
                    f"{pane.TITLE} at {app.size.width}x{app.size.height}: {table_id(table)} "
                    f"row {row} column {column} shows {text!r}, the store holds {want!r}"
                )
            checked += 1
    assert not wrong, "\n".join(wrong)
    return checked


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
async def test_numbers_on_screen_equal_the_store_at_every_size(make_app, tmp_path, size):
    app = layout_store(make_app, tmp_path)
    checked = {}
    async with app.run_test(size=size) as pilot:
        for key, pane_id in PANE_KEYS.items():
            await pilot.press(key)
            if pane_id == "models":
                app.query_one(ModelsPane).select_model(MODEL)  # the trained one
            await settle(pilot)
            pane = app.query_one(f"#{pane_id}-pane", Pane)
            if pane_id == "runs":
                checked["runs-picker"] = check_numbers(app, pane)
                if not app.query_one("#run-detail").display:
                    await pilot.press("enter")  # narrow: the list and the run take turns
                    await settle(pilot)
            checked[pane_id] = check_numbers(app, pane)
            if pane_id in SIDE_PANES:  # the parts that take turns below some size
                await pilot.press("backslash")
                await settle(pilot)
                checked[pane_id] += check_numbers(app, pane)
                await pilot.press("backslash")
                await settle(pilot)
            if pane_id == "runs":
                await pilot.press("escape")
                await settle(pilot)
    # the test looked at something: the runs' times, the hub's votes, the catalog, facts
    assert checked["runs"] >= 12 and checked["runs-picker"] >= 4
    assert checked["hub"] >= 6 and checked["models"] >= 12 and checked["memory"] >= 2


async def test_the_check_fails_on_a_cut_number(make_app, tmp_path, monkeypatch):
    """The oracle is not vacuous: a times column narrower than its numbers is caught."""
    app = layout_store(make_app, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        pane = app.query_one("#runs-pane", Pane)
        table = app.query_one("#executions", DataTable)
        # the old layout: no fit, the times squeezed to two cells
        monkeypatch.setattr(FillTable, "_update_dimensions", DataTable._update_dimensions)

        def squeeze() -> None:  # again whenever a refresh rebuilt the columns
            column = table.columns["ms"]
            if column.auto_width or column.width != 2:
                column.auto_width, column.width = False, 2
                table._require_update_dimensions = True
                table.refresh(layout=True)

        squeeze()
        await settle(pilot)
        # the squeezed width reaches the screen a frame or more later under load: look
        # until the check catches it (it must, within a few hundred frames)
        # (the stock layout patched in above can also leave another column unsized for
        # many frames; the check lists every wrong cell, so the times show among them)
        cut_times = re.compile(r"column ms shows '\d+', the store holds '\d+'")
        caught = None
        for _ in range(300):
            try:
                check_numbers(app, pane)
            except AssertionError as exc:
                caught = exc
                if cut_times.search(str(exc)):
                    break
            squeeze()
            await pilot.pause()
        assert caught is not None, "the check never saw the cut number"
        assert cut_times.search(str(caught)), caught


# -- too small ----------------------------------------------------------------------------


async def test_a_terminal_below_the_minimum_says_so_and_recovers(make_app):
    app = make_app()
    async with app.run_test(size=(70, 20)) as pilot:
        await pilot.pause()
        message = app.query_one("#too-small", Static)
        assert message.display and not app.query_one("TabbedContent").display
        lines = [line.strip() for line in screen_lines(app) if line.strip()]
        assert lines == [
            f"workbench needs at least {MIN_SIZE[0]}×{MIN_SIZE[1]}; this terminal is 70×20"
        ]
        await pilot.resize_terminal(100, 20)  # wide enough, still too short
        await pilot.pause()
        assert "this terminal is 100×20" in str(message.render())
        await pilot.resize_terminal(80, 24)
        await wait_until(pilot, lambda: not message.display, "the layout to come back")
        assert app.query_one("TabbedContent").display
        assert any("Runs" in line for line in screen_lines(app))


# -- the column fit ------------------------------------------------------------------------


def test_fill_widths_give_text_what_is_left():
    assert fill_widths([10, 20], 50) == [10, 40]  # room: the last takes the rest
    assert fill_widths([10, 40], 30) == [10, 20]  # the widest gives way first
    assert fill_widths([30, 30], 30) == [15, 15]
    assert fill_widths([30, 30], 4) == [MIN_WIDTH, MIN_WIDTH]  # never below the minimum
    assert fill_widths([3, 30], 4) == [3, MIN_WIDTH]  # nor wider than needed
    assert fill_widths([], 10) == []
    for naturals, space in (([5, 17, 9], 20), ([12, 12, 12], 25), ([40], 10)):
        widths = fill_widths(naturals, space)
        assert sum(widths) <= max(space, sum(min(n, MIN_WIDTH) for n in naturals))
        assert all(w <= n or i == len(naturals) - 1 for i, (w, n) in
                   enumerate(zip(widths, naturals, strict=True)))  # fmt: skip


async def test_a_cut_text_ends_with_an_ellipsis_and_numbers_keep_their_width(make_app, tmp_path):
    app = layout_store(make_app, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        table = app.query_one("#executions", DataTable)
        shown = shown_cells(app, table)
        tasks = [text for _, column, _, text in shown if column == "task"]
        assert any(t.endswith("…") for t in tasks)  # the long task name gave way
        assert all(len(t) <= table.columns["task"].width for t in tasks)
        assert table.columns["ms"].auto_width and not table.columns["task"].auto_width
        assert sorted(text for _, c, _, text in shown if c == "ms") == sorted(
            ["185", "18534", "1234567", "99"]
        )
