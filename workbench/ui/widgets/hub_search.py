"""The Hub pane's query box: an Input over a table of ranked results.

The widget only shows what the pane gives it and says what the user did (typed, chose a
result, closed); the pane asks the engine (`hub.query`, the call `workbench hub query`
makes) and formats the rows.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Input, Label

from workbench.ui.widgets.fill_table import FillTable

# (key, label, width): the title column gets whatever the others leave
COLUMNS = (
    ("priority", "prio"),
    ("title", "title"),
    ("channel", "channel"),
    ("score", "score"),
)


class HubSearch(Vertical):
    """`/` in the Hub pane: type words, see the items `hub query` ranks best, first."""

    BINDINGS = [
        Binding("down", "to_results", "Results", show=False),
        Binding("escape", "close", "Close search", id="hub.search.close"),
    ]

    class Changed(Message):
        """The query text changed: search again."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    class Chosen(Message):
        """Enter on a result: show that item."""

        def __init__(self, uid: str) -> None:
            super().__init__()
            self.uid = uid

    class Closed(Message):
        """Escape: put the list back as it was."""

    def compose(self) -> ComposeResult:
        yield Input(placeholder="search the hub: words, ranked as `hub query` ranks them",
                    id="hub-query")  # fmt: skip
        yield Label("", id="hub-search-note")
        # the title gives way (with an ellipsis); the other columns keep their full width
        table = FillTable("title", id="hub-results", cursor_type="row", zebra_stripes=True)
        for key, label in COLUMNS:
            table.add_column(label, key=key)
        yield table

    @property
    def text(self) -> str:
        return self.query_one("#hub-query", Input).value

    def open(self) -> None:
        """Show the box and put the cursor in it (the last query stays, selected)."""
        self.display = True
        field = self.query_one("#hub-query", Input)
        field.focus()
        field.select_all()

    def show(self, text: str, rows: Sequence[tuple[str, Sequence[Text | str]]]) -> None:
        """The results of `text`, best first: (item id, cells) each."""
        table = self.query_one("#hub-results", DataTable)
        table.clear()
        for uid, cells in rows:
            table.add_row(*cells, key=uid)
        note = self.query_one("#hub-search-note", Label)
        if not text.strip():
            note.update("type words to search titles, content and tags · esc closes")
        elif not rows:
            note.update("no matching items · esc closes")
        else:
            many = "s" if len(rows) != 1 else ""
            note.update(f"{len(rows)} result{many}, best first · enter shows one · esc closes")

    @on(Input.Changed, "#hub-query")
    def _changed(self, event: Input.Changed) -> None:
        event.stop()
        self.post_message(self.Changed(event.value))

    @on(Input.Submitted, "#hub-query")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        table = self.query_one("#hub-results", DataTable)
        if table.row_count:
            table.focus()
            self._choose(table, table.cursor_row)

    @on(DataTable.RowSelected, "#hub-results")
    def _selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self._choose(event.data_table, event.cursor_row)

    def _choose(self, table: DataTable, row: int) -> None:
        key = table.coordinate_to_cell_key((row, 0)).row_key.value
        if key is not None:
            self.post_message(self.Chosen(key))

    def action_to_results(self) -> None:
        table = self.query_one("#hub-results", DataTable)
        if table.row_count and not table.has_focus:
            table.focus()

    def action_close(self) -> None:
        self.display = False
        self.post_message(self.Closed())
