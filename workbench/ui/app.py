"""The Textual app: seven panes on tabs over one Engine, refreshed by the change feed."""

from __future__ import annotations

from pathlib import Path

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.events import Resize
from textual.message import Message
from textual.widgets import DataTable, Footer, Header, Static, TabbedContent, TabPane

from workbench import config
from workbench.engine import Engine
from workbench.ui.agents import AgentsPane
from workbench.ui.commands import WorkbenchCommands
from workbench.ui.hub import HubPane
from workbench.ui.memory import MemoryPane
from workbench.ui.models import ModelsPane
from workbench.ui.pane import Pane
from workbench.ui.patterns import PatternsPane
from workbench.ui.runs import RunsPane
from workbench.ui.safe import ControlFilter
from workbench.ui.screens.help import HelpScreen, bindings_markdown
from workbench.ui.themes import load_themes
from workbench.ui.trends import TrendsPane
from workbench.ui.widgets.footer import WorkbenchFooter

CONTROL_FILTER = ControlFilter()

PANES: dict[str, type[Pane]] = {
    "runs": RunsPane,
    "trends": TrendsPane,
    "patterns": PatternsPane,
    "models": ModelsPane,
    "memory": MemoryPane,
    "hub": HubPane,
    "agents": AgentsPane,
}
# app.tcss first, then each pane's own stylesheet (memory.tcss next to memory.py, ...).
# Layout classes on the screen by terminal width and height (Textual breakpoints): panes
# and dialogs style `Screen.-narrow ...` etc. in their .tcss. Below 80x24 the app shows
# one line with the minimum size instead of a broken layout (`-too-narrow`/`-too-short`).
MIN_SIZE = (80, 24)
HORIZONTAL_BREAKPOINTS = [(0, "-too-narrow"), (80, "-narrow"), (110, "-normal"), (160, "-wide")]
VERTICAL_BREAKPOINTS = [(0, "-too-short"), (24, "-short"), (36, "-tall")]
# Panes whose parts take turns on `\` where the terminal is too small for all of them
# (their .tcss says below which size); Runs and Agents take turns on enter / esc.
SIDE_PANES = frozenset({"patterns", "models", "memory", "hub"})
STYLESHEETS = [
    "app.tcss",
    *sorted(p.name for p in Path(__file__).parent.glob("*.tcss") if p.name != "app.tcss"),
]


class StoreChanged(Message):
    """Tables changed in the store (from this or any other process)."""

    def __init__(self, tables: set[str]) -> None:
        super().__init__()
        self.tables = tables


class WorkbenchApp(App[None]):
    CSS_PATH = STYLESHEETS
    TITLE = "workbench"
    COMMANDS = App.COMMANDS | {WorkbenchCommands}
    HORIZONTAL_BREAKPOINTS = HORIZONTAL_BREAKPOINTS
    VERTICAL_BREAKPOINTS = VERTICAL_BREAKPOINTS
    PANES_TITLES = {pane_id: cls.TITLE for pane_id, cls in PANES.items()}
    BINDINGS = [
        *(
            # the tab labels carry the keys, so the footer keeps room for the pane's own
            Binding(str(i), f"show_pane('{pane_id}')", cls.TITLE, id=f"pane.{pane_id}", show=False)
            for i, (pane_id, cls) in enumerate(PANES.items(), start=1)
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
    ) -> None:
        super().__init__()
        self.engine = engine
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
        self.theme = self._initial_theme()

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
        with TabbedContent(initial="runs"):
            for i, (pane_id, cls) in enumerate(PANES.items(), start=1):
                with TabPane(f"{i} {cls.TITLE}", id=pane_id):
                    yield cls(id=f"{pane_id}-pane")
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
            self.follow_store()
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
    async def follow_store(self) -> None:
        feed = self.engine.change_feed()
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

    def on_tabbed_content_tab_activated(self) -> None:
        self.refresh_bindings()  # `\` applies to some panes only

    def action_show_pane(self, pane_id: str) -> None:
        self.query_one(TabbedContent).active = pane_id

    def action_refresh(self) -> None:
        for pane in self.query(Pane):
            pane.refresh_data()

    def action_help(self) -> None:
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
