"""The footer with the app-wide keys (help, quit, the command palette) kept at its right
end, so a pane with many keys never pushes them off a narrow terminal: the pane's keys
that do not fit scroll, and `?` lists them all.

Lighter than Textual's Footer, which it draws the same: Textual's rebuilds every key
widget on each bindings update (every focus change) and binds each key's `compact` to the
footer's, so each new key is re-styled twice more as it mounts. Here the keys are rebuilt
only when what they show changed, and are built already in the footer's compact state.
"""

from __future__ import annotations

from collections import defaultdict
from itertools import groupby

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import HorizontalGroup
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer
from textual.widgets._footer import FooterKey, FooterLabel, KeyGroup

APP_ACTIONS = frozenset({"help", "quit", "toggle_side"})


def footer_key(compact: bool, *args: object, classes: str = "", **kwargs: object) -> FooterKey:
    """A FooterKey born in the footer's compact state (Textual's data_bind sets it after
    mount, re-styling the key each time)."""
    key = FooterKey(*args, classes=f"{classes} -compact" if compact else classes, **kwargs)  # type: ignore[arg-type]
    key.set_reactive(FooterKey.compact, compact)
    return key


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

    _shown: tuple | None = None  # what the keys show now (see `_what_to_show`)

    def _what_to_show(self) -> tuple:
        """Everything the composed keys depend on, to skip a rebuild that would change
        nothing (most focus changes keep the same keys)."""
        bindings = tuple(
            (binding, enabled, tooltip, self.app.get_key_display(binding))
            for (_, binding, enabled, tooltip) in self.screen.active_bindings.values()
            if binding.show
        )
        palette = self.show_command_palette and self.app.ENABLE_COMMAND_PALETTE
        if palette:
            found = self.screen.active_bindings.get(self.app.COMMAND_PALETTE_BINDING)
            palette = found[1:] if found else None
        return bindings, palette, self.combine_groups

    def bindings_changed(self, screen: Screen) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen:
            self.call_after_refresh(self._recompose_if_changed)

    async def _recompose_if_changed(self) -> None:
        if self.is_attached and self._what_to_show() != self._shown:
            await self.recompose()

    def watch_compact(self, compact: bool) -> None:
        # as Textual's data_bind did: every key but the palette's, which it never bound
        for key in self.query(FooterKey).exclude(".-command-palette"):
            key.compact = compact

    def _keys(self) -> ComposeResult:
        """Textual's Footer.compose, with keys made by `footer_key`."""
        self._shown = self._what_to_show()
        bindings, palette, _combine = self._shown
        compact = self.compact
        action_to_bindings: defaultdict[str, list[tuple[Binding, bool, str, str]]]
        action_to_bindings = defaultdict(list)
        for binding, enabled, tooltip, display in bindings:
            action_to_bindings[binding.action].append((binding, enabled, tooltip, display))
        self.styles.grid_size_columns = len(action_to_bindings)
        for group, multi_bindings_iterable in groupby(
            action_to_bindings.values(), lambda multi: multi[0][0].group
        ):
            multi_bindings = list(multi_bindings_iterable)
            if group is not None and len(multi_bindings) > 1:
                with KeyGroup(classes="-compact" if group.compact else ""):
                    for multi in multi_bindings:
                        binding, enabled, tooltip, display = multi[0]
                        yield footer_key(
                            compact, binding.key, display, "", binding.action,
                            disabled=not enabled, tooltip=tooltip or binding.description,
                            classes="-grouped",
                        )  # fmt: skip
                yield FooterLabel(group.description)
            else:
                for multi in multi_bindings:
                    binding, enabled, tooltip, display = multi[0]
                    yield footer_key(
                        compact, binding.key, display, binding.description, binding.action,
                        disabled=not enabled, tooltip=tooltip,
                    )  # fmt: skip
        if palette:
            binding, enabled, tooltip = palette
            yield FooterKey(  # Textual's Footer does not bind this one's `compact` either
                binding.key,
                self.app.get_key_display(binding),
                binding.description,
                binding.action,
                classes="-command-palette",
                disabled=not enabled,
                tooltip=binding.tooltip or binding.description,
            )

    def compose(self) -> ComposeResult:
        if not self._bindings_ready:
            return
        kept: list[Widget] = []
        for widget in self._keys():
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
