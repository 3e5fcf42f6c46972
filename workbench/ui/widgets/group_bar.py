"""A one-line summary of a grouping: `label: a 3 · b 2 · c 1`."""

from __future__ import annotations

from collections.abc import Sequence

from textual.widgets import Static

from workbench.ui.safe import esc


class GroupBar(Static):
    DEFAULT_CSS = """
    GroupBar { height: auto; padding: 0 1; color: $text-muted; }
    """

    def __init__(self, label: str, table: str, column: str, **kwargs) -> None:
        super().__init__("", **kwargs)
        self.label = label
        self.table = table
        self.column = column

    def show(self, groups: Sequence[tuple[str, int]]) -> None:
        if not groups:
            self.update(f"[b]{self.label}[/b]: none yet")
            return
        parts = " · ".join(f"{esc(value)} [b]{n}[/b]" for value, n in groups)
        self.update(f"[b]{self.label}[/b]: {parts}")
