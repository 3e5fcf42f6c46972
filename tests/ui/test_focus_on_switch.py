"""A key pressed right after a number key reaches the pane just shown.

The pane used to take focus when its Show event arrived, a frame after the switch; a
quick `5` `/` (or a loaded machine) then sent `/` to the tab bar and the search box never
got it. The app now focuses the shown pane as it switches (`Pane.focus_if_shown`)."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable, Input

from workbench.ui.memory import MemoryPane
from workbench.ui.pane import Pane


async def test_slash_right_after_five_focuses_the_memory_search(make_app, monkeypatch):
    # Show never arrives: only the switch itself can put focus in the pane
    monkeypatch.setattr(MemoryPane, "on_show", lambda self: None)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("5", "slash")
        assert app.query_one("#memory-query", Input).has_focus


@pytest.mark.parametrize(
    ("key", "pane_id", "table_id"),
    [("2", "trends", None), ("4", "models", "model-table"), ("5", "memory", "memory-results"),
     ("6", "hub", "hub-items"), ("7", "agents", "agents-sessions")],
)  # fmt: skip
async def test_the_switch_focuses_the_pane_shown(make_app, key, pane_id, table_id):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press(key)
        pane = app.query_one(f"#{pane_id}-pane", Pane)
        focused = app.focused
        assert isinstance(focused, DataTable) and pane in focused.ancestors
        if table_id is not None:
            assert focused.id == table_id
        await pilot.press("1")  # and back: focus leaves the hidden pane
        assert pane not in app.focused.ancestors
