"""The pipeline-runs list shared by Runs and Trends: `/` filters, space marks runs to
overlay or compare, Enter drills into a run.

Marks live in a set owned by the app, so runs marked in one pane are marked in the other.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.events import Resize
from textual.message import Message
from textual.widgets import DataTable, Input, Label

from workbench.ui.widgets.fill_table import FillTable

STATUS_STYLE = {"running": "bold", "failed": "red", "cancelled": "yellow", "interrupted": "magenta"}
COLUMNS = {
    "full": (("mark", "✓", 1), ("id", "run", 3), ("status", "status", 9), ("mode", "mode", 10),
             ("iters", "iters", 5), ("passed", "passed", 6), ("started", "started", 11)),
    "compact": (("mark", "✓", 1), ("id", "run", 3), ("status", "status", 9),
                ("mode", "mode", 10)),
}  # fmt: skip
FULL_WIDTH = 61  # the full layout's columns at their widths, with padding and scrollbar


def fmt_time(value: Any) -> str:
    if value is None:
        return "—"
    return value.strftime("%m-%d %H:%M") if hasattr(value, "strftime") else str(value)[5:16]


def run_mode(run: dict) -> str:
    if run.get("config", {}).get("curriculum") or run.get("complexity") == "curriculum":
        return "curriculum"
    return run.get("complexity") or "all"


def passed_of(run: dict) -> str:
    summary = run.get("summary") or {}
    if "total_executions" not in summary:
        return "—"
    return f"{summary.get('passed', 0)}/{summary['total_executions']}"


def run_matches(run: dict, query: str) -> bool:
    """Every word of the filter appears in the run's id, status, mode, strategies or tasks."""
    haystack = " ".join(
        [
            f"#{run['id']} {run['id']}",
            run["status"],
            run_mode(run),
            *run.get("strategies", []),
            str(run.get("config", {}).get("tasks_dir") or "bundled"),
        ]
    ).lower()
    return all(word in haystack for word in query.lower().split())


class RunPicker(Vertical):
    """Runs newest first; posts Highlighted, Chosen (Enter) and MarksChanged."""

    BINDINGS = [
        Binding("space", "toggle_mark", "Mark", id="runs.mark"),
        Binding("slash", "filter", "Filter", id="runs.filter"),
        Binding("escape", "clear_filter", "Clear filter", show=False),
    ]

    class Highlighted(Message):
        def __init__(self, run_id: int) -> None:
            super().__init__()
            self.run_id = run_id

    class Chosen(Highlighted):
        """Enter on a run: drill into it."""

    class MarksChanged(Message):
        def __init__(self, marks: set[int]) -> None:
            super().__init__()
            self.marks = marks

    def __init__(self, title: str, marks: set[int], layout: str = "full", **kwargs) -> None:
        super().__init__(**kwargs)
        self.heading = title
        self.marks = marks
        self.layout_name = layout  # the most it shows; narrower than FULL_WIDTH: compact
        self.columns = COLUMNS[layout]
        self.runs: list[dict] = []
        self.query_text = ""
        self.selected: int | None = None

    def compose(self) -> ComposeResult:
        yield Label(self.heading, classes="panel-title run-picker-title")
        yield Input(placeholder="filter: id, status, mode, strategy, tasks", classes="run-filter")
        table = FillTable(
            "mode", classes="run-picker-table", cursor_type="row", zebra_stripes=False
        )
        self._add_columns(table)
        yield table

    def _add_columns(self, table: DataTable) -> None:
        for key, label, width in self.columns:
            table.add_column(label, key=key, width=width)

    def on_resize(self, event: Resize) -> None:
        """The full columns where they fit, the compact ones where they do not."""
        wide = self.layout_name == "full" and event.size.width >= FULL_WIDTH
        columns = COLUMNS["full" if wide else "compact"]
        if columns != self.columns:
            self.columns = columns
            table = self.table
            table.clear(columns=True)
            self._add_columns(table)
            self._fill()

    def on_mount(self) -> None:
        self.query_one(Input).display = False

    @property
    def table(self) -> DataTable:
        return self.query_one(".run-picker-table", DataTable)

    @property
    def shown(self) -> list[dict]:
        return [r for r in self.runs if run_matches(r, self.query_text)]

    def show(self, runs: list[dict], selected: int | None) -> None:
        self.runs = runs
        self.marks &= {r["id"] for r in runs}  # in place: the set is shared
        self.selected = selected
        self._fill()

    def _fill(self) -> None:
        table = self.table
        table.clear()
        shown = self.shown
        for r in shown:
            cells = {
                "mark": "✓" if r["id"] in self.marks else "",
                "id": str(r["id"]),
                "status": Text(r["status"], style=STATUS_STYLE.get(r["status"], "")),
                "mode": run_mode(r),
                "iters": str(r["iterations"]),
                "passed": passed_of(r),
                "started": fmt_time(r["started"]),
            }
            table.add_row(*(cells[key] for key, _, _ in self.columns), key=str(r["id"]))
        if self.selected is not None and any(r["id"] == self.selected for r in shown):
            table.move_cursor(row=table.get_row_index(str(self.selected)), animate=False)
        count = f"{len(shown)}/{len(self.runs)}" if self.query_text else str(len(self.runs))
        marked = f" · {len(self.marks)} marked" if self.marks else ""
        filtered = f" · “{self.query_text}”" if self.query_text else ""
        self.query_one(".run-picker-title", Label).update(
            f"{self.heading} · {count}{marked}{filtered}"
        )

    def move_to(self, run_id: int) -> None:
        self.selected = run_id
        if any(r["id"] == run_id for r in self.shown):
            self.table.move_cursor(row=self.table.get_row_index(str(run_id)), animate=False)

    # -- keys --------------------------------------------------------------------------

    def action_toggle_mark(self) -> None:
        table = self.table
        if not table.row_count:
            return
        run_id = int(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
        self.marks.symmetric_difference_update({run_id})
        self._fill()
        self.post_message(self.MarksChanged(set(self.marks)))

    def action_filter(self) -> None:
        field = self.query_one(Input)
        field.display = True
        field.focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "clear_filter":
            # nothing to clear: Escape goes on up, where it means "back"
            return self.query_one(Input).display or bool(self.query_text)
        return True

    def action_clear_filter(self) -> None:
        field = self.query_one(Input)
        field.value = ""
        field.display = False
        self.query_text = ""
        self._fill()
        self.table.focus()

    @on(Input.Changed, ".run-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.query_text = event.value.strip()
        self._fill()

    @on(Input.Submitted, ".run-filter")
    def _filter_done(self) -> None:
        self.table.focus()

    @on(DataTable.RowHighlighted, ".run-picker-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        if event.cursor_row != event.data_table.cursor_row or event.row_key.value is None:
            return
        run_id = int(event.row_key.value)
        if run_id != self.selected:
            self.selected = run_id
            self.post_message(self.Highlighted(run_id))

    @on(DataTable.RowSelected, ".run-picker-table")
    def _chosen(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value is not None:
            self.selected = int(event.row_key.value)
            self.post_message(self.Chosen(self.selected))
