"""A DataTable that fits its columns to its width (see fill_column.py): numbers and
statuses keep their full width, the named text columns give way and end with an
ellipsis, and what still does not fit scrolls horizontally. It refits whenever its own
size or its content changes (a panel shown, hidden or narrowed; rows added), not only
when its pane is resized."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from rich.text import Text
from textual.events import Resize
from textual.widgets import DataTable

from workbench.ui.widgets.fill_column import fit_columns


def ellipsized(cell: Any) -> Any:
    """A cell that ends with `…` when its column is narrower than it (one line)."""
    if isinstance(cell, str):  # DataTable reads a str cell as markup; keep that
        cell = Text.from_markup(cell)
    if isinstance(cell, Text):
        cell = cell.copy()
        cell.overflow = "ellipsis"
        cell.no_wrap = True
    return cell


class FillTable(DataTable):
    """`fill`: the text column(s) that take the width the others leave, in order."""

    def __init__(self, fill: str | Sequence[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.fill = [fill] if isinstance(fill, str) else list(fill)

    def add_row(self, *cells: Any, **kwargs: Any):
        return super().add_row(*(ellipsized(c) for c in cells), **kwargs)

    def update_cell(self, row_key: Any, column_key: Any, value: Any, **kwargs: Any) -> None:
        super().update_cell(row_key, column_key, ellipsized(value), **kwargs)

    def on_resize(self, event: Resize) -> None:
        self._require_update_dimensions = True
        self.refresh(layout=True)

    def _update_dimensions(self, new_rows: Iterable[Any]) -> None:
        # DataTable measures its content here; the fit needs those measures, and the
        # table's virtual width then needs the fitted widths
        super()._update_dimensions(new_rows)
        if fit_columns(self, self.fill):
            self._clear_caches()
            super()._update_dimensions(())

    def fit(self) -> None:
        """Fit the columns now (after a change of what is shown beside the table)."""
        if fit_columns(self, self.fill):
            self._clear_caches()
            super()._update_dimensions(())
            self.refresh(layout=True)
