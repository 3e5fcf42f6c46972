"""The tabs the seven panes sit on: they change only when the user changes them."""

from __future__ import annotations

from textual.widgets import TabbedContent, TabPane


class PaneTabs(TabbedContent):
    """Textual's TabbedContent also switches to a tab when a widget inside it takes focus.
    That message arrives a few steps after the focus call, so a pane that focused its
    table (after its tab was shown, or when its read came back from a worker) just before
    the user pressed another number key pulled its own tab back over the one asked for.
    Here tabs change by the number keys, the tab bar and the command palette only; focus
    left in a hidden pane is handed back to the tab bar (`Pane.hand_back_focus_on_leave`)
    and its keys do not act there (`Pane._is_active_tab`)."""

    def _on_tab_pane_focused(self, event: TabPane.Focused) -> None:
        event.prevent_default()  # Textual runs the base class's handler unless prevented
        event.stop()
