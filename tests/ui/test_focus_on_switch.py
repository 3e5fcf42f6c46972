"""A key pressed right after a number key reaches the pane just shown.

The pane used to take focus when its Show event arrived, a frame after the switch; a
quick `5` `/` (or a loaded machine) then sent `/` to the tab bar and the search box never
got it. The app now focuses the shown pane as it switches (`Pane.focus_if_shown`)."""

from __future__ import annotations

import pytest
from textual import events
from textual.widgets import DataTable, Input, TabbedContent

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


async def test_keys_arriving_together_go_to_the_pane_shown(make_app):
    """As a terminal delivers a quick `5/`: both keys are queued before either is handled
    (Pilot's `press` would wait in between). The number key is the app's own (priority)
    and sets focus at once, so `/` is forwarded to the Memory pane."""
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("6")  # from another pane, focus in its table
        app.post_message(events.Key("5", "5"))
        app.post_message(events.Key("slash", "/"))
        await pilot.pause()
        await app.workers.wait_for_complete()
        assert app.query_one("#memory-query", Input).has_focus


async def test_digits_typed_into_a_text_box_stay_text(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("5", "slash", "4", "2")
        assert app.query_one("#memory-query", Input).value == "42"
        assert app.query_one(TabbedContent).active == "memory"
        await pilot.press("escape", "6")  # out of the box, the digit switches again
        assert app.query_one(TabbedContent).active == "hub"
