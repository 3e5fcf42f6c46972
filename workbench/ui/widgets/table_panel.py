"""A titled DataTable showing a table's row count and its most recent rows."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, Label

from workbench.ui.safe import plain
from workbench.ui.widgets.fill_table import FillTable

MAX_CELL = 48


def cell(value: object) -> Text:
    """A stored value as a table cell: clipped, cleaned, never parsed as markup."""
    if value is None:
        return plain("—")
    if isinstance(value, float):
        return plain(f"{value:.3f}")
    text = str(value).replace("\n", " ")
    return plain(text if len(text) <= MAX_CELL else text[: MAX_CELL - 1] + "…")


class TablePanel(Vertical):
    """Shows `title · N rows` over the newest rows of one store table."""

    DEFAULT_CSS = """
    TablePanel { height: 1fr; min-height: 5; }
    TablePanel > DataTable { height: 1fr; }
    """

    def __init__(
        self,
        title: str,
        table: str,
        columns: Sequence[str],
        limit: int = 50,
        empty: str = "no rows yet",
        text_columns: Sequence[str] = (),
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.title_text = title
        self.table = table
        self.columns = list(columns)
        self.limit = limit
        self.empty = empty
        self.text_columns = list(text_columns)  # these give way; the others never do

    def compose(self) -> ComposeResult:
        yield Label(self.title_text, classes="panel-title")
        data = FillTable(self.text_columns, cursor_type="row", zebra_stripes=True)
        for column in self.columns:
            data.add_column(column, key=column)
        yield data

    def show(self, count: int, rows: Sequence[dict]) -> None:
        shown = f" (newest {len(rows)})" if count > len(rows) else ""
        note = f" · {self.empty}" if count == 0 else ""
        self.query_one(".panel-title", Label).update(
            f"{self.title_text} · {count} {'row' if count == 1 else 'rows'}{shown}{note}"
        )
        data = self.query_one(DataTable)
        data.clear()
        for row in rows:
            data.add_row(*(cell(row.get(c)) for c in self.columns))
