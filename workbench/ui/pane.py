"""Base class of the six panes: knows which store tables it shows and reloads them."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from textual.containers import Vertical
from textual.widget import Widget
from textual.widgets import TabbedContent, TabPane, Tabs

from workbench.store.errors import StoreError
from workbench.ui.widgets.group_bar import GroupBar
from workbench.ui.widgets.table_panel import TablePanel

T = TypeVar("T")
# what a read may raise that the pane reports as a one-line notification
READ_ERRORS = (StoreError, ValueError, OSError)


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

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # name -> None while a read runs, or the newest (read, apply) asked for meanwhile
        self._loading: dict[str, tuple[Callable[[], Any], Callable[[Any], None]] | None] = {}

    def on_mount(self) -> None:
        # the first frame comes first: panes fill in afterwards (reads run in workers)
        if getattr(self.app, "load_in_workers", True):
            self.call_after_refresh(self.refresh_data)
        else:
            self.refresh_data()

    # -- reads off the UI thread ---------------------------------------------------------

    def load(self, name: str, read: Callable[[], T], apply: Callable[[T], None]) -> None:
        """Run `read` (store reads only; it must not touch widgets) in a thread worker and
        `apply` its result on the UI thread, so a read that takes longer than a frame
        never blocks the screen. One read per `name` runs at a time: a request meanwhile
        waits, and only the newest waiting one runs when the current read ends (a burst of
        changes costs two reads, not one per change). Errors become a notification.

        With `app.load_in_workers` False (the UI tests' pictures, taken at a fixed moment)
        the read runs in place instead."""
        guard = self.app.engine.guard  # type: ignore[attr-defined]
        if not getattr(self.app, "load_in_workers", True):
            try:
                with guard():
                    result = read()
            except READ_ERRORS as exc:
                self.notify(str(exc), severity="error")
                return
            apply(result)
            return
        if name in self._loading:
            self._loading[name] = (read, apply)
            return
        self._loading[name] = None
        self.run_worker(
            lambda: self._read(self.app, name, guard, read, apply),
            name=f"{self.id}:{name}",
            group=f"pane-load-{self.id}-{name}",
            thread=True,
            exit_on_error=False,
        )

    def _read(
        self,
        app: Any,
        name: str,
        guard: Callable,
        read: Callable[[], T],
        apply: Callable[[T], None],
    ) -> None:
        """Worker thread: read (database failures as one-line StoreErrors, the engine's
        `guard`), then hand the result to the UI thread."""
        try:
            with guard():
                result, error = read(), None
        except READ_ERRORS as exc:
            result, error = None, exc
        with contextlib.suppress(RuntimeError):  # the app closed while the read ran
            app.call_from_thread(self._loaded, name, result, error, apply)

    def _loaded(
        self, name: str, result: Any, error: Exception | None, apply: Callable[[Any], None]
    ) -> None:
        waiting = self._loading.pop(name, None)
        if not self.is_attached:
            return
        if error is not None:
            self.notify(str(error), severity="error")
        else:
            apply(result)
        if waiting is not None:
            self.load(name, *waiting)

    @property
    def loading_names(self) -> set[str]:
        """Reads under way (tests wait for this to empty)."""
        return set(self._loading)

    # -- the tab this pane sits in -----------------------------------------------------

    def _tabs(self) -> TabbedContent | None:
        return next((a for a in self.ancestors if isinstance(a, TabbedContent)), None)

    def focus_default(self) -> Widget | None:
        """The part keys should go to when this pane is shown (panes override)."""
        return None

    def focus_if_shown(self) -> None:
        """Give focus to `focus_default` when this pane's tab is shown and focus is not
        already inside it. The app calls it as it switches tabs, so a key pressed right
        after a number key reaches this pane; Show, which arrives a frame later, calls it
        again and then finds focus in place (it must not take it from an input a key
        has focused in between)."""
        if not self._is_active_tab():
            return
        focused = self.app.focused
        if focused is None or self not in focused.ancestors:
            target = self.focus_default()
            if target is not None:  # at once (`focus()` waits in the queue behind keys)
                self.screen.set_focus(target)

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
            # at once, before the shown pane takes it (`focus()` would land after it)
            self.screen.set_focus(self._tabs().query_one(Tabs), scroll_visible=False)  # type: ignore[union-attr]

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
