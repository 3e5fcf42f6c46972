"""Command palette provider: every pane and app action, so nothing is key-only."""

from __future__ import annotations

import inspect
from functools import partial

from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider

from workbench.ui.pane import Pane


async def run_pane_action(app, pane_id: str, action: str) -> None:
    """Show the pane's tab (mounting its pane the first time), then run one of its
    actions (as its key would)."""
    pane = await app.show_pane(pane_id)
    result = getattr(pane, f"action_{action}")()
    if inspect.isawaitable(result):
        await result


class WorkbenchCommands(Provider):
    def _commands(self) -> list[tuple[str, str, object]]:
        app = self.app
        commands: list[tuple[str, str, object]] = []
        for pane_id, title in app.PANES_TITLES.items():  # type: ignore[attr-defined]
            commands.append(
                (
                    f"Show {title} pane",
                    f"Switch to the {title} tab",
                    partial(app.action_show_pane, pane_id),
                )
            )
        # every pane's actions, mounted yet or not (panes mount when first shown)
        for pane_id in app.PANES_TITLES:  # type: ignore[attr-defined]
            pane: type[Pane] = app.pane_class(pane_id)  # type: ignore[attr-defined]
            for binding in pane.BINDINGS:
                if isinstance(binding, Binding) and binding.id and "(" not in binding.action:
                    commands.append(
                        (
                            f"{pane.TITLE}: {binding.description}",
                            f"{binding.description} (key {binding.key}, {pane.TITLE} pane)",
                            partial(run_pane_action, app, pane_id, binding.action),
                        )
                    )
        commands.append(
            ("Refresh all panes", "Reload every pane from the store", app.action_refresh)
        )
        commands.append(("Help: keys", "Show the keys of the current pane", app.action_help))
        for theme in app.WORKBENCH_THEMES:  # type: ignore[attr-defined]
            commands.append(
                (
                    f"Theme: {theme}",
                    "Switch theme (remembered)",
                    partial(setattr, app, "theme", theme),
                )
            )
        return commands

    async def discover(self) -> Hits:
        for name, help_text, callback in self._commands():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, callback in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)
