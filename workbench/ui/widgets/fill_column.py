"""Give one DataTable column the width the others leave (titles, texts, statements)."""

from __future__ import annotations

from textual.widgets import DataTable

MIN_WIDTH = 12


def fill_column(table: DataTable, key: str) -> None:
    """Widen (or narrow) column `key` so the table's columns span its visible width."""
    if key not in table.columns or not table.size.width:
        return
    padding = 2 * table.cell_padding
    others = sum(c.get_render_width(table) for k, c in table.columns.items() if k.value != key)
    scrollbar = table.styles.scrollbar_size_vertical if table.show_vertical_scrollbar else 0
    width = max(MIN_WIDTH, table.size.width - others - padding - scrollbar)
    column = table.columns[key]
    if column.width != width or column.auto_width:
        column.auto_width = False
        column.width = width
        table._require_update_dimensions = True  # the cached widths are now stale
        table.refresh(layout=True)
