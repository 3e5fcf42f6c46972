"""A DataTable whose text column takes the width the others leave, refitted whenever the
table itself is resized (a panel shown, hidden or narrowed), not only when its pane is."""

from __future__ import annotations

from typing import Any

from textual.events import Resize
from textual.widgets import DataTable

from workbench.ui.widgets.fill_column import fill_column


class FillTable(DataTable):
    def __init__(self, fill: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.fill = fill

    def on_resize(self, event: Resize) -> None:
        self.call_after_refresh(self.fit)

    def fit(self) -> None:
        """Give the fill column what the other columns leave (numbers keep their width)."""
        fill_column(self, self.fill)
