"""The footer with the app-wide keys (help, quit, the command palette) kept at its right
end, so a pane with many keys never pushes them off a narrow terminal: the pane's keys
that do not fit scroll, and `?` lists them all."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import HorizontalGroup
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

APP_ACTIONS = frozenset({"help", "quit", "toggle_side"})


class WorkbenchFooter(Footer):
    DEFAULT_CSS = """
    WorkbenchFooter #footer-app-keys {
        dock: right;
        width: auto;
        height: 1;
        padding-left: 1;
        background: $footer-background;
    }
    WorkbenchFooter #footer-app-keys FooterKey.-command-palette { dock: none; }
    /* `\\` swaps a pane's parts where they take turns: below 110 columns or 36 rows */
    WorkbenchFooter .-side-key { display: none; }
    Screen.-narrow WorkbenchFooter .-side-key, Screen.-short WorkbenchFooter .-side-key {
        display: block;
    }
    """

    def compose(self) -> ComposeResult:
        kept: list[FooterKey] = []
        for widget in super().compose():
            if isinstance(widget, FooterKey) and (
                widget.action in APP_ACTIONS or widget.has_class("-command-palette")
            ):
                if widget.action == "toggle_side":
                    widget.add_class("-side-key")
                kept.append(widget)
                continue
            yield widget
        if kept:
            yield HorizontalGroup(*kept, id="footer-app-keys")
