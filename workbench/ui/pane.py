"""Base class of the six panes: knows which store tables it shows and reloads them."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from textual.containers import Vertical
from textual.widgets import TabbedContent, TabPane, Tabs

from workbench.ui.widgets.group_bar import GroupBar
from workbench.ui.widgets.table_panel import TablePanel


class Pane(Vertical):
    """A tab's content. Subclasses compose TablePanels and GroupBars; refresh is generic."""

    DEFAULT_CSS = """
    Pane { height: 1fr; }
    Pane Horizontal { height: 1fr; }
    """

    TITLE = ""
    HELP = ""
    # column -> formatter applied before display (presentation only)
    FORMATTERS: Mapping[str, Callable[[object], object]] = {}

    # Tables a pane follows; empty means "those its TablePanels and GroupBars show".
    TABLES: frozenset[str] = frozenset()

    @property
    def tables(self) -> set[str]:
        if self.TABLES:
            return set(self.TABLES)
        return {w.table for w in self.query(TablePanel)} | {w.table for w in self.query(GroupBar)}

    def on_mount(self) -> None:
        self.refresh_data()

    # -- the tab this pane sits in -----------------------------------------------------

    def _tabs(self) -> TabbedContent | None:
        return next((a for a in self.ancestors if isinstance(a, TabbedContent)), None)

    def _is_active_tab(self) -> bool:
        """Focus can linger in a pane while another tab is shown; its keys then must not
        act (panes use this in check_action)."""
        tabs = self._tabs()
        tab = next((a for a in self.ancestors if isinstance(a, TabPane)), None)
        return tabs is None or tab is None or tabs.active == tab.id

    def hand_back_focus_on_leave(self) -> None:
        """When another tab is shown while focus is in this pane, give focus to the tab
        bar, as at start, instead of leaving it on a hidden widget."""
        tabs = self._tabs()
        if tabs is not None:
            self.watch(tabs, "active", self._tab_changed, init=False)

    def _tab_changed(self, active: str) -> None:
        focused = self.app.focused
        if not self._is_active_tab() and focused is not None and self in focused.ancestors:
            self._tabs().query_one(Tabs).focus(scroll_visible=False)  # type: ignore[union-attr]

    def refresh_data(self, changed: set[str] | None = None) -> None:
        """Reload the widgets whose table changed (all of them when `changed` is None)."""
        engine = self.app.engine  # type: ignore[attr-defined]
        for panel in self.query(TablePanel):
            if changed is None or panel.table in changed:
                rows = engine.recent(panel.table, panel.columns, panel.limit)
                for row in rows:
                    for column, fmt in self.FORMATTERS.items():
                        if column in row and row[column] is not None:
                            row[column] = fmt(row[column])
                panel.show(engine.count(panel.table), rows)
        for bar in self.query(GroupBar):
            if changed is None or bar.table in changed:
                bar.show(engine.group_counts(bar.table, bar.column))
