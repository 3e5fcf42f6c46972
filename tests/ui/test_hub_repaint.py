"""Commit → repainted Hub pane, with as little work as the change needs (issue 16 part 3):
a refresh after one changed item rebuilds that row's cells only and keeps the cursor and
the selection; labels whose text did not change are not updated (an update asks for a
layout of the whole screen and a repaint, which made every frame after a commit slow)."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable, Label, Static

from tests.ui.conftest import SIZE
from workbench.ui.hub import HubPane
from workbench.ui.widgets.quiet import show


async def open_hub(pilot) -> HubPane:
    await pilot.press("6")
    await pilot.pause()
    return pilot.app.query_one(HubPane)


async def test_one_changed_item_rebuilds_one_row_and_keeps_the_selection(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_hub(pilot)
        table = app.query_one("#hub-items", DataTable)
        ids = [row.value for row in table.rows]
        assert len(ids) >= 3
        chosen = ids[-1]
        table.move_cursor(row=table.get_row_index(chosen))
        await pilot.pause()
        assert pane.selected == chosen
        before = {uid: pane._row_cells[uid][1] for uid in ids}
        # another item gets a useful vote: its row changes, every other row is as it was
        voted = ids[1]
        app.engine.hub.vote(voted, "reviewer")
        pane.refresh_data({"knowledge_items", "knowledge_votes"})
        await pilot.pause()
        assert table.last_sync == {"updated": 1, "added": 0, "removed": 0}
        after = {uid: pane._row_cells[uid][1] for uid in ids}
        assert [uid for uid in ids if after[uid] is not before[uid]] == [voted]
        votes_cell = table.get_cell(voted, table.ordered_columns[3].key)
        assert str(votes_cell) == str(app.engine.hub.item(voted)["useful_votes"])
        # the cursor and the selection stay on the item the user chose
        assert table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value == chosen
        assert pane.selected == chosen


async def test_a_refresh_that_changes_nothing_updates_no_label(make_app, monkeypatch):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_hub(pilot)
        updated: list[str | None] = []
        original = Static.update

        def counting(self, *args, **kwargs):
            updated.append(self.id)
            return original(self, *args, **kwargs)

        monkeypatch.setattr(Static, "update", counting)
        pane.refresh_data(None)  # every table, nothing changed in the store
        await pilot.pause()
        assert updated == []
        # a change that alters a label's text updates that label
        app.engine.hub.share(
            channel="general", type="discovery", title="New one", content="x", agent="tester"
        )
        pane.refresh_data({"knowledge_items"})
        await pilot.pause()
        assert "hub-items-title" in updated
        title = app.query_one("#hub-items-title", Label)
        assert str(title.render()).endswith(str(len(pane.items)))


async def test_show_updates_only_on_a_difference(make_app):
    app = make_app()
    async with app.run_test(size=SIZE):
        label = app.query_one(Label)
        assert show(label, "one") is True
        assert show(label, "one") is False
        assert show(label, Text("two", style="bold")) is True
        assert show(label, Text("two", style="bold")) is False
        assert show(label, Text("two", style="red")) is True  # same words, another style
        assert str(label.render()) == "two"
