"""The Textual app: seven panes on tabs over one Engine, refreshed by the change feed."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.events import Resize
from textual.message import Message
from textual.widgets import (
    DataTable,
    Footer,
    Header,
    Input,
    Static,
    TabbedContent,
    TabPane,
    TextArea,
)

from workbench import config
from workbench.ui.commands import WorkbenchCommands
from workbench.ui.pane import Pane
from workbench.ui.safe import ControlFilter
from workbench.ui.themes import load_themes
from workbench.ui.widgets.footer import WorkbenchFooter
from workbench.ui.widgets.pane_tabs import PaneTabs

if TYPE_CHECKING:
    from workbench.engine import Engine
    from workbench.store.feed import ChangeFeed

CONTROL_FILTER = ControlFilter()

# The tabs, in key order: pane id -> (title, module, class). A pane's module is imported and
# the pane mounted when its tab is first shown (`WorkbenchApp.show_pane`), so the first
# frame pays for the Runs pane only: not numpy (Models -> neural), Markdown (dialogs), or
# six more panes' widgets (benchmarks/ui_first_frame.py). Titles are checked against the
# classes' TITLE in tests/ui/test_lazy_panes.py.
PANE_SPECS: dict[str, tuple[str, str, str]] = {
    "runs": ("Runs", "workbench.ui.runs", "RunsPane"),
    "trends": ("Trends", "workbench.ui.trends", "TrendsPane"),
    "patterns": ("Patterns", "workbench.ui.patterns", "PatternsPane"),
    "models": ("Models", "workbench.ui.models", "ModelsPane"),
    "memory": ("Memory", "workbench.ui.memory", "MemoryPane"),
    "hub": ("Hub", "workbench.ui.hub", "HubPane"),
    "agents": ("Agents", "workbench.ui.agents", "AgentsPane"),
}
PANES: dict[str, str] = {pane_id: spec[0] for pane_id, spec in PANE_SPECS.items()}
FIRST_PANE = "runs"


def pane_class(pane_id: str) -> type[Pane]:
    """The pane class of a tab, its module imported on first use."""
    _title, module, name = PANE_SPECS[pane_id]
    return getattr(importlib.import_module(module), name)


# app.tcss at start; a pane's own stylesheet (memory.tcss next to memory.py, ...) is added
# when the pane is first mounted (`WorkbenchApp._load_pane_css`): Textual parses every
# source it holds, so stylesheets of panes not shown yet would only cost start-up time.
# Each pane's rules select nodes inside that pane only (or its own dialogs), so the order
# they arrive in cannot change the cascade (tests/ui/test_lazy_panes.py checks both).
# Layout classes on the screen by terminal width and height (Textual breakpoints): panes
# and dialogs style `Screen.-narrow ...` etc. in their .tcss. Below 80x24 the app shows
# one line with the minimum size instead of a broken layout (`-too-narrow`/`-too-short`).
MIN_SIZE = (80, 24)
HORIZONTAL_BREAKPOINTS = [(0, "-too-narrow"), (80, "-narrow"), (110, "-normal"), (160, "-wide")]
VERTICAL_BREAKPOINTS = [(0, "-too-short"), (24, "-short"), (36, "-tall")]
# Panes whose parts take turns on `\` where the terminal is too small for all of them
# (their .tcss says below which size); Runs and Agents take turns on enter / esc.
SIDE_PANES = frozenset({"patterns", "models", "memory", "hub"})
UI_DIR = Path(__file__).parent
APP_STYLESHEET = "app.tcss"


def pane_stylesheet(pane_id: str) -> Path | None:
    """The pane's own stylesheet, `<pane>.tcss` next to its module, if it has one."""
    path = UI_DIR / f"{pane_id}.tcss"
    return path if path.is_file() else None


class StoreChanged(Message):
    """Tables changed in the store (from this or any other process)."""

    def __init__(self, tables: set[str]) -> None:
        super().__init__()
        self.tables = tables


class WorkbenchApp(App[None]):
    CSS_PATH = APP_STYLESHEET  # panes' stylesheets follow as they mount
    TITLE = "workbench"
    COMMANDS = App.COMMANDS | {WorkbenchCommands}
    HORIZONTAL_BREAKPOINTS = HORIZONTAL_BREAKPOINTS
    VERTICAL_BREAKPOINTS = VERTICAL_BREAKPOINTS
    PANES_TITLES = PANES
    pane_class = staticmethod(pane_class)
    BINDINGS = [
        *(
            # the tab labels carry the keys, so the footer keeps room for the pane's own
            # priority: run by the app as the key arrives, so a key typed right after
            # (`5` `/`) goes to the pane shown, not to where focus was (check_action below)
            Binding(
                str(i),
                f"show_pane('{pane_id}')",
                title,
                id=f"pane.{pane_id}",
                show=False,
                priority=True,
            )  # fmt: skip
            for i, (pane_id, title) in enumerate(PANES.items(), start=1)
        ),
        # below 110 columns panes show one part at a time; the footer shows this key there
        Binding("backslash", "toggle_side", "Panels", id="app.side"),
        Binding("r", "refresh", "Refresh", id="app.refresh"),
        Binding("question_mark", "help", "Help", id="app.help"),
        Binding("q", "quit", "Quit", id="app.quit"),
    ]

    def __init__(
        self,
        engine: Engine,
        *,
        watch: bool = True,
        settings_path: Path | None = None,
        theme: str | None = None,
        load_in_workers: bool = True,
        lazy_panes: bool = True,
    ) -> None:
        # the stylesheets of the panes mounted at start; the others come with their pane
        at_start = [FIRST_PANE] if lazy_panes else list(PANES)
        sheets = [path for pane_id in at_start if (path := pane_stylesheet(pane_id))]
        super().__init__(css_path=[UI_DIR / APP_STYLESHEET, *sheets])
        self.engine = engine
        # hidden panes are imported and mounted when first shown; False mounts all seven at
        # start (the UI tests that query any pane at any time; tests/ui/test_lazy_panes.py
        # covers the lazy path, which the app uses)
        self.lazy_panes = lazy_panes
        self._mounted_panes: set[str] = set()
        # panes read the store in thread workers (ui/pane.py `load`); False reads in place
        # (the UI tests' pictures, taken at one fixed moment)
        self.load_in_workers = load_in_workers
        self.watch_store = watch
        self.settings_path = settings_path if settings_path is not None else config.config_file()
        self.requested_theme = theme
        self._pending: set[str] = set()
        self._flush_scheduled = False
        self.slow_log = None  # the slow-handler log (debug setting), when on
        # pipeline runs marked in Runs or Trends (shared: compare in one, overlay in the other)
        self.marked_runs: set[int] = set()
        themes, self.theme_errors = load_themes(config.THEMES_DIR)
        self.WORKBENCH_THEMES = [t.name for t in themes]
        for t in themes:
            self.register_theme(t)
        self._quiet_theme_refresh = False
        theme_name = self._initial_theme()
        if theme_name != self.theme:
            # Textual's theme watcher sets the theme classes and queues `refresh_css`, which
            # re-parses every stylesheet without its cache and re-styles every node just
            # after start. Nothing is parsed yet: the new theme's variables now suffice.
            self.theme = theme_name
            self.stylesheet.set_variables(self.get_css_variables())
            self._quiet_theme_refresh = True

    def refresh_css(self, animate: bool = True) -> None:
        """Skip the one refresh queued by choosing the theme in `__init__` (see there);
        every later theme change or CSS refresh runs in full."""
        if self._quiet_theme_refresh:
            self._quiet_theme_refresh = False
            return
        super().refresh_css(animate)

    def _load_pane_css(self, pane_id: str) -> None:
        """Add a pane's stylesheet as the pane first mounts. Its rules select nodes inside
        the pane only, so nodes already styled need no update; the pane's nodes are styled
        with it as they register (Textual re-parses lazily, the other sources from its
        cache)."""
        path = pane_stylesheet(pane_id)
        if path is None or self.stylesheet.has_source(str(path)):
            return
        self.stylesheet.add_source(
            path.read_text(encoding="utf-8"), read_from=(str(path), ""), is_default_css=False
        )
        self.css_path.append(path)  # `textual run --dev` reloads it on change, as app.tcss
        if self.css_monitor is not None:
            self.css_monitor.add_paths([path])

    def notify(self, message: str, *, markup: bool = False, **kwargs) -> None:
        """Notifications quote stored names and error messages, so they are never read as
        markup (widgets' `notify` passes markup=True explicitly; none of ours uses any)."""
        super().notify(message, markup=False, **kwargs)

    def get_line_filters(self):
        """Textual's filters plus one that keeps control characters in stored text from
        ever reaching the terminal (see ui/safe.py)."""
        return [*super().get_line_filters(), CONTROL_FILTER]

    def _initial_theme(self) -> str:
        wanted = self.requested_theme or config.load_settings(self.settings_path).get("theme")
        if wanted in self.available_themes:
            return wanted
        if config.DEFAULT_THEME in self.available_themes:
            return config.DEFAULT_THEME
        return "textual-dark"

    def compose(self) -> ComposeResult:
        yield Header(icon="◆")
        with PaneTabs(initial=FIRST_PANE):
            for i, (pane_id, title) in enumerate(PANES.items(), start=1):
                with TabPane(f"{i} {title}", id=pane_id):
                    if pane_id == FIRST_PANE or not self.lazy_panes:
                        self._mounted_panes.add(pane_id)
                        yield pane_class(pane_id)(id=f"{pane_id}-pane")
        yield WorkbenchFooter()
        yield Static("", id="too-small")

    def on_mount(self) -> None:
        self.sub_title = f"{self.engine.store_name} · kernels: {self.engine.backend_name}"
        for error in self.theme_errors:
            self.notify(f"theme not loaded: {error}", severity="warning")
        for warning in getattr(self.engine, "warnings", []):
            self.notify(
                warning, title="Store permissions", severity="warning", timeout=15, markup=False
            )
        if self.requested_theme is None:
            self.theme_changed_signal.subscribe(self, self._remember_theme)
        if self.watch_store:
            # the cursor now (one MAX(id) on change_log's key), so a commit between the
            # panes' first reads and the watcher's start is still seen; the watcher itself
            # (watchfiles, anyio, its thread) starts after the first frame
            feed = self.engine.change_feed()
            self.call_after_refresh(self.follow_store, feed)
        self._watch_slow_handlers()

    def _watch_slow_handlers(self) -> None:
        """Debug setting WORKBENCH_SLOW_HANDLER_MS: log slow UI-thread handlers to a file
        beside the store (ui/slowlog.py)."""
        try:
            threshold = config.slow_handler_ms()
        except ValueError as exc:
            self.notify(str(exc), severity="warning")
            return
        if threshold is None:
            return
        import asyncio

        from workbench.ui.slowlog import watch_slow_handlers

        path = self.engine.db_path.parent / "slow-handlers.log"
        self.slow_log = watch_slow_handlers(asyncio.get_running_loop(), threshold, path)
        self.notify(f"logging UI handlers slower than {threshold:g} ms to {path}")

    def _remember_theme(self, theme) -> None:
        try:
            config.save_settings({"theme": theme.name}, self.settings_path)
        except OSError as exc:
            self.notify(f"could not save theme choice: {exc}", severity="warning")

    # -- live updates ------------------------------------------------------------------

    @work(exclusive=True, group="change-feed", exit_on_error=False)
    async def follow_store(self, feed: ChangeFeed) -> None:
        async for tables in self.engine.awatch_changes(feed):
            self.post_message(StoreChanged(tables))

    @on(StoreChanged)
    def _collect_changes(self, message: StoreChanged) -> None:
        """Coalesce bursts of changes into one refresh per pane, by the next frame (not a
        fixed window: the change feed reports in a few ms, and waiting longer only delays
        the repaint)."""
        self._pending |= message.tables
        if not self._flush_scheduled:
            self._flush_scheduled = self.call_after_refresh(self._flush_changes)

    def _flush_changes(self) -> None:
        changed, self._pending, self._flush_scheduled = self._pending, set(), False
        for pane in self.query(Pane):
            if pane.tables & changed:
                pane.refresh_data(changed)

    # -- size ------------------------------------------------------------------------

    def on_resize(self, event: Resize) -> None:
        """Keep the footer's keys on one line when narrow; say the minimum size when the
        terminal is below it (the breakpoint classes hide the layout; see app.tcss)."""
        width, height = event.size
        for footer in self.query(Footer):
            footer.compact = width < 110
            footer.show_command_palette = width >= 110  # ctrl+p still opens it
        if width < MIN_SIZE[0] or height < MIN_SIZE[1]:
            self.query_one("#too-small", Static).update(
                f"workbench needs at least {MIN_SIZE[0]}×{MIN_SIZE[1]}; "
                f"this terminal is {width}×{height}"
            )

    # -- actions -----------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "toggle_side":  # only where a pane has parts that take turns
            return self.query_one(TabbedContent).active in SIDE_PANES
        if action == "show_pane":  # a digit typed into a text box or a dialog is text
            return self.screen is self.screen_stack[0] and not isinstance(
                self.focused, Input | TextArea
            )
        return True

    def action_toggle_side(self) -> None:
        """Below a width panes hide their side panel; `\\` swaps it in and out."""
        active = self.query_one(TabbedContent).active
        pane = self.query_one(f"#{active}-pane", Pane)
        pane.toggle_class("side-open")
        self.call_after_refresh(self._focus_shown, pane)

    def _focus_shown(self, pane: Pane) -> None:
        """Focus left on a part just hidden moves to the first table shown in the pane (not
        an input: it would take the next keys as text)."""
        chain = self.screen.focus_chain
        if self.focused not in chain or pane not in self.focused.ancestors:
            shown = [w for w in chain if pane in w.ancestors]
            target = next((w for w in shown if isinstance(w, DataTable)), None)
            if target is not None:
                target.focus()

    async def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        if not self.screen_stack:  # the app is closing
            return
        self.refresh_bindings()  # `\` applies to some panes only
        pane_id = event.pane.id
        if pane_id is not None and pane_id not in self._mounted_panes:  # a tab clicked
            await self.show_pane(pane_id)

    async def action_show_pane(self, pane_id: str) -> None:
        await self.show_pane(pane_id)

    async def show_pane(self, pane_id: str) -> Pane:
        """Show a tab, importing and mounting its pane the first time. Awaited, so a key
        pressed next (another number key) runs after the mount: focus then goes to the
        first table of the pane shown, never to one mounted for a tab already left."""
        tabs = self.query_one(TabbedContent)
        if pane_id not in self._mounted_panes:
            self._mounted_panes.add(pane_id)
            pane = pane_class(pane_id)(id=f"{pane_id}-pane")
            self._load_pane_css(pane_id)
            # mounted while its tab is hidden, then shown: the tab switch is the last step,
            # as for a pane mounted at start
            await self.query_one(f"TabPane#{pane_id}", TabPane).mount(pane)
            if tabs.active == pane_id and self.screen is pane.screen:  # a clicked tab
                self._focus_shown(pane)
        tabs.active = pane_id
        shown = self.query_one(f"#{pane_id}-pane", Pane)
        if self.screen is shown.screen:
            shown.focus_if_shown()  # now, not at Show: the next key must find it focused
        return shown

    def action_refresh(self) -> None:
        for pane in self.query(Pane):
            pane.refresh_data()

    def action_help(self) -> None:
        # imported here: Markdown (markdown-it) is not needed for the first frame
        from workbench.ui.screens.help import HelpScreen, bindings_markdown

        if isinstance(self.screen, HelpScreen):
            self.screen.dismiss()
            return
        active = self.query_one(TabbedContent).active
        pane = self.query_one(f"#{active}-pane", Pane)
        keys = [
            (b.key_display or self.get_key_display(b), b.description)
            for b in self.BINDINGS
            if isinstance(b, Binding)
        ]
        self.push_screen(HelpScreen(bindings_markdown(f"{pane.TITLE} pane", pane.HELP, keys)))
