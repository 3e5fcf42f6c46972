"""The Hub pane over the real hub and adaptive services: channels with subscriptions,
items by priority and popularity, detail with state and versions, share dialog, vote,
applied, and the strategy and recommendation side panel."""

from __future__ import annotations

import pytest
from textual.widgets import Checkbox, DataTable, Input, Label, Static

from tests.ui.conftest import SIZE
from workbench.store import models as m
from workbench.ui.hub import HubPane
from workbench.ui.screens.hub_share import HubShareDialog
from workbench.ui.widgets.hub_advice import HubAdvice


def with_history(app):
    """Recorded usage, versions, outcomes and executions (frozen clock: fixed pictures)."""
    hub, adaptive = app.engine.hub, app.engine.adaptive
    hub.update("fx-1", note="say why", content="Without it a second writer fails at once.")
    for agent in ("tester", "reviewer"):
        hub.vote("fx-1", agent)
    for worked in (True, True, True, False, True):
        hub.mark_applied("fx-1", "tester", worked)
    hub.mark_applied("fx-3", "optimizer", False)
    decision = adaptive.decide("Fix the crash in the parser and add a regression test")["id"]
    for _ in range(3):
        adaptive.record_outcome(decision, success=False, duration_s=80.0, iterations=3)
    for i in range(6):
        adaptive.record_execution("coder", "bug_fix", duration_s=20.0 + i, success=True)
        adaptive.record_execution(
            "reviewer", "bug_fix", duration_s=70.0 + i, success=i < 2, errors=1, iterations=3
        )
    return app


def pane_of(app) -> HubPane:
    return app.query_one(HubPane)


def detail_text(app) -> str:
    return str(app.query_one("#hub-detail", Static).render())


async def open_hub(pilot) -> HubPane:
    await pilot.press("6")
    await pilot.pause()
    return pane_of(pilot.app)


async def highlight_channel(pilot, name: str) -> None:
    table = pilot.app.query_one("#hub-channels", DataTable)
    table.move_cursor(row=table.get_row_index(name))
    await pilot.pause()


# -- snapshots ----------------------------------------------------------------------------


def test_hub_pane_with_history_snapshot(snap_compare, make_app):
    """The picture, and what it must say: priority order, the selected item's usage, state
    and versions, and the side panel computed from the recorded history."""

    async def check(pilot):
        await pilot.pause()
        pane = await open_hub(pilot)
        assert [i["priority"] for i in pane.items] == ["CRITICAL", "HIGH", "MEDIUM"]
        assert pane.selected == "fx-1"
        text = detail_text(pilot.app)
        assert "VALIDATED" in text and "useful 2 · applied 5 (4 worked, 1 failed · 80%)" in text
        assert "v2" in text and "say why" in text and "v1" in text
        advice = str(pilot.app.query_one(HubAdvice).render())
        # three failed sequential outcomes: its posterior mean 2/5 falls below the others'
        assert "MODERATE   single" in advice
        assert "Route bug_fix tasks from reviewer to coder" in advice

    app = with_history(make_app())
    assert snap_compare(app, run_before=check, terminal_size=SIZE)


def test_share_dialog_snapshot(snap_compare, make_app):
    async def fill(pilot):
        await pilot.pause()  # let start-up focus settle before the keys
        await pilot.press("6")
        await pilot.pause()
        await pilot.press("n")
        await pilot.pause()
        pilot.app.screen.query_one("#share-title", Input).value = "Close cursors"
        await pilot.press("tab", "enter")  # submit from the empty content field
        await pilot.pause()

    assert snap_compare(make_app(), run_before=fill, terminal_size=SIZE)


# -- behaviour ----------------------------------------------------------------------------


async def test_subscription_toggle_agent_choice_and_outside_writes(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_hub(pilot)
        agent = pane.agent
        await highlight_channel(pilot, "debugging")
        assert pane.channel == "debugging"
        await pilot.press("s")
        await pilot.pause()
        assert app.engine.hub.channels(agent)[-1]["subscribed"] is True
        table = app.query_one("#hub-channels", DataTable)
        assert str(table.get_cell("debugging", "sub")) == "✓"
        await pilot.press("s")
        await pilot.pause()
        assert app.engine.hub.channels(agent)[-1]["subscribed"] is False
        await pilot.press("a")
        await pilot.pause()
        assert pane.agent != agent
        assert pane.agent in str(app.query_one("#hub-channels-title", Label).render())
        # a write from elsewhere (as the change feed reports it)
        app.engine.hub.share("debugging", "discovery", "From elsewhere", "Written by an agent.")
        pane.refresh_data({"knowledge_items"})
        await pilot.pause()
        assert [i["title"] for i in pane.items] == ["From elsewhere"]


async def test_vote_once_and_applied_moves_the_state(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_hub(pilot)
        pane.select_item("fx-2")
        agent = pane.agent
        await pilot.press("v", "v")  # the second vote is refused, with a notification
        await pilot.pause()
        votes = m.KnowledgeVote.select().join(m.KnowledgeItem).where(m.KnowledgeItem.uid == "fx-2")
        assert [v.agent for v in votes] == [agent]
        assert any("already voted" in n.message for n in app._notifications)
        await pilot.press(*"ppppf")
        await pilot.pause()
        item = app.engine.hub.item("fx-2")
        assert (item["success_count"], item["failure_count"], item["state"]) == (4, 1, "VALIDATED")
        assert "VALIDATED" in detail_text(app) and "4 worked, 1 failed" in detail_text(app)


async def test_share_through_the_dialog(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_hub(pilot)
        await highlight_channel(pilot, "testing")
        await pilot.press("n")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, HubShareDialog)
        before = m.KnowledgeItem.select().count()
        await pilot.click("#ok")  # nothing typed: an inline error, the dialog stays
        await pilot.pause()
        assert app.screen is dialog and m.KnowledgeItem.select().count() == before
        assert "title" in str(dialog.query_one("#share-error", Label).render())
        dialog.query_one("#share-title", Input).value = "Reuse the fixture store"
        dialog.query_one("#share-content", Input).value = "One frozen store for every test."
        dialog.query_one("#share-tags", Input).value = "pytest, fixtures"
        dialog.query_one("#share-broadcast", Checkbox).value = True
        dialog.query_one("#share-content", Input).focus()
        await pilot.press("enter")  # submits, like the Share button
        await pilot.pause()
        assert not isinstance(app.screen, HubShareDialog)
        item = m.KnowledgeItem.get(m.KnowledgeItem.title == "Reuse the fixture store")
        assert item.channel.name == "testing" and item.tags == '["fixtures", "pytest"]'
        assert pane.selected == item.uid
        delivered = {d.agent for d in item.deliveries}
        assert delivered == {s.agent for s in m.Subscription.select()} - {pane.agent}


async def test_item_titles_take_the_width_the_other_columns_leave(make_app):
    widths = {}
    for size in ((120, 40), (150, 45)):  # one layout (breakpoints: app.py)
        app = make_app()
        async with app.run_test(size=size) as pilot:
            await open_hub(pilot)
            await pilot.pause()
            table = app.query_one("#hub-items", DataTable)
            used = sum(c.get_render_width(table) for c in table.columns.values())
            scrollbar = table.styles.scrollbar_size_vertical if table.show_vertical_scrollbar else 0
            assert used + scrollbar == table.size.width
            widths[size[0]] = table.columns["title"].width
    assert widths[150] - widths[120] == 30  # every extra column goes to the titles


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_share_dialog_fits_without_scrolling(make_app, size):
    """At 80x24 the fields go borderless so the whole form, title to buttons, is on screen
    when it opens (it used to open scrolled past its first rows)."""
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await open_hub(pilot)
        await pilot.press("n")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, HubShareDialog)
        box = dialog.query_one("#share-box")
        assert box.max_scroll_y == 0 and box.scroll_y == 0
        assert dialog.query_one("#share-title", Input).compact is (size[1] < 36)
        screen_region = dialog.region
        for widget in (dialog.query_one(".dialog-title"), dialog.query_one("#ok")):
            assert screen_region.contains_region(widget.region), widget
