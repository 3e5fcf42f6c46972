"""The Hub pane's query box (`/`, ranked as `workbench hub query` ranks) and its inbox
view (`i`, an agent's deliveries), over the real hub service and the fixture store."""

from __future__ import annotations

import json

import pytest
from textual.widgets import DataTable, Input, Label, Static

from tests.ui.conftest import SIZE, wait_until
from workbench.cli import main
from workbench.store import models as m
from workbench.ui.hub import SEARCH_LIMIT, HubPane
from workbench.ui.screens.help import HelpScreen
from workbench.ui.widgets.hub_inbox import HubInbox
from workbench.ui.widgets.hub_search import HubSearch

SMALL = (80, 24)
# shared on top of the fixture's three items: more matches for "sqlite", at different
# priorities, in title, content or tags, so the ranking has something to decide
EXTRA = (
    ("fx-4", "warnings", "LOW", "SQLite WAL needs a shared disk", "NFS breaks it.", ["sqlite"]),
    ("fx-5", "debugging", "HIGH", "Read the lock holder", "Ask sqlite who holds the lock.", []),
    ("fx-6", "testing", "MEDIUM", "Parametrize over stores", "Run on sqlite and postgres.", []),
)


def with_items(app):
    """Three more items with fixed ids (the frozen clock fixes their dates) and
    deliveries: tester subscribes to warnings and testing before they are shared."""
    hub = app.engine.hub
    hub.subscribe("tester", "warnings")
    for uid, channel, priority, title, content, tags in EXTRA:
        shared = hub.share(
            channel, "best_practice", title, content, priority=priority, tags=tags, agent="coder"
        )
        m.KnowledgeItem.update(uid=uid).where(m.KnowledgeItem.uid == shared["id"]).execute()
    return app


def pane_of(app) -> HubPane:
    return app.query_one(HubPane)


def detail_text(app) -> str:
    return str(app.query_one("#hub-detail", Static).render())


def table_keys(app, table_id: str) -> list[str]:
    table = app.query_one(table_id, DataTable)
    return [table.coordinate_to_cell_key((r, 0)).row_key.value for r in range(table.row_count)]


async def open_hub(pilot) -> HubPane:
    await pilot.pause()
    await pilot.press("6")
    await pilot.pause()
    return pane_of(pilot.app)


async def search(pilot, text: str) -> list[str]:
    """Type `text` into the open query box and wait for its results (the result ids)."""
    pilot.app.query_one("#hub-query", Input).value = text
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    pane = pane_of(pilot.app)
    await wait_until(pilot, lambda: pane.results_for == text, f"the results of {text!r}")
    await pilot.pause()
    return table_keys(pilot.app, "#hub-results")


# -- search ------------------------------------------------------------------------------


async def test_search_ranks_exactly_as_the_cli_and_escape_puts_the_list_back(
    make_app, tmp_path, capsys
):
    app = with_items(make_app())
    # the real CLI over the same store (its output before the app takes the terminal)
    assert main(["hub", "query", "sqlite", "--json", "--db", str(tmp_path / "fixture.db")]) == 0
    cli = [r["id"] for r in json.loads(capsys.readouterr().out)]
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_hub(pilot)
        pane.select_item("fx-3")
        await pilot.pause()
        before = table_keys(app, "#hub-items")
        await pilot.press("slash")
        await pilot.pause()
        assert app.query_one(HubSearch).display and app.focused.id == "hub-query"
        assert not app.query_one("#hub-items").display
        shown = await search(pilot, "sqlite")
        expected = app.engine.hub.query("sqlite", limit=SEARCH_LIMIT, count_views=False)
        assert shown == [r["id"] for r in expected] and len(shown) >= 4
        assert set(shown) >= {"fx-1", "fx-3", "fx-4", "fx-5", "fx-6"}
        assert cli == shown[: len(cli)] and len(cli) == 5  # the CLI's order, the CLI's items
        # scores shown as the CLI prints them
        results = app.query_one("#hub-results", DataTable)
        assert str(results.get_cell_at((0, 3))) == f"{expected[0]['score']:.2f}"
        assert "result" in str(app.query_one("#hub-search-note", Label).render())
        await pilot.press("escape")
        await pilot.pause()
        assert pane.view == "items" and not app.query_one(HubSearch).display
        assert app.query_one("#hub-items").display
        assert table_keys(app, "#hub-items") == before and pane.selected == "fx-3"
        assert "Batch inserts in one transaction" in detail_text(app)


async def test_enter_shows_a_result_and_counts_one_view(make_app):
    app = with_items(make_app())
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_hub(pilot)
        await pilot.press("slash")
        shown = await search(pilot, "lock timeout")
        assert shown[0] == "fx-1"  # title "busy timeout", content "database is locked"
        views = {uid: app.engine.hub.item(uid)["views"] for uid in shown}
        second = shown[1]
        await pilot.press("down", "down", "enter")  # into the results, second row, open
        await pilot.pause()
        assert pane.selected == second
        assert app.engine.hub.item(second)["title"] in detail_text(app)
        after = {uid: app.engine.hub.item(uid)["views"] for uid in shown}
        assert after == {**views, second: views[second] + 1}  # typing counted no view
        # the chosen item's actions work from the search: vote for it
        await pilot.press("v")
        await pilot.pause()
        assert app.engine.hub.item(second)["useful_votes"] == 1
        assert pane.view == "search" and pane.selected == second
        await pilot.press("escape")
        await pilot.pause()
        assert pane.view == "items" and pane.selected == "fx-1"


async def test_enter_in_the_box_opens_the_best_result(make_app):
    app = with_items(make_app())
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_hub(pilot)
        pane.select_item("fx-2")
        await pilot.press("slash")
        shown = await search(pilot, "postgres")
        await pilot.press("enter")
        await pilot.pause()
        assert shown == ["fx-6"] and pane.selected == "fx-6"
        assert app.focused.id == "hub-results"


@pytest.mark.parametrize(
    "text",
    [
        '"',
        '"sqlite',
        "sqlite*",
        "*",
        "NEAR(",
        "NEAR(sqlite busy",
        "(sqlite",
        "sqlite) OR (",
        "title:sqlite",
        "AND OR NOT",
        "sqlite - -",
        "^busy",
    ],
)
async def test_fts_syntax_is_searched_as_text(make_app, text):
    """Operators, quotes and parentheses reach no query parser: the same results as the
    words alone, and never an error."""
    app = with_items(make_app())
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_hub(pilot)
        await pilot.press("slash")
        shown = await search(pilot, text)
        words = app.engine.hub.query(text, limit=SEARCH_LIMIT, count_views=False)
        assert shown == [r["id"] for r in words]
        assert not [n for n in app._notifications if n.severity == "error"]
        note = str(app.query_one("#hub-search-note", Label).render())
        assert ("no matching items" in note) == (not shown)
        assert pane.view == "search"


async def test_empty_and_wordless_queries_show_a_hint_not_an_error(make_app):
    app = with_items(make_app())
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_hub(pilot)
        await pilot.press("slash")
        assert await search(pilot, "sqlite")
        assert await search(pilot, "") == []
        assert "type words to search" in str(app.query_one("#hub-search-note", Label).render())
        assert await search(pilot, '  "()*  ') == []
        assert "no matching items" in str(app.query_one("#hub-search-note", Label).render())
        await pilot.press("enter")  # nothing to open: nothing happens
        await pilot.pause()
        assert pane.view == "search" and not app._notifications


async def test_search_follows_writes_from_elsewhere(make_app):
    app = with_items(make_app())
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_hub(pilot)
        await pilot.press("slash")
        assert "fx-9" not in await search(pilot, "vacuum")
        shared = app.engine.hub.share("general", "solution", "Vacuum into a copy", "VACUUM INTO")
        m.KnowledgeItem.update(uid="fx-9").where(m.KnowledgeItem.uid == shared["id"]).execute()
        pane.refresh_data({"knowledge_items"})  # as the change feed reports it
        await app.workers.wait_for_complete()
        await wait_until(pilot, lambda: [r["id"] for r in pane.results] == ["fx-9"], "rerun")


# -- inbox -------------------------------------------------------------------------------


async def test_inbox_shows_deliveries_marks_read_and_applies(make_app):
    app = with_items(make_app())
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_hub(pilot)
        while pane.agent != "tester":
            await pilot.press("a")
            await pilot.pause()
        pane.select_item("fx-2")
        await pilot.press("i")
        await pilot.pause()
        assert pane.view == "inbox" and app.query_one(HubInbox).display
        delivered = [d["id"] for d in app.engine.hub.deliveries("tester")]
        assert table_keys(app, "#hub-inbox") == delivered == ["fx-6", "fx-4"]
        title = str(app.query_one("#hub-inbox-title", Label).render())
        assert "tester · 2 delivered · 2 unread" in title
        assert pane.selected == "fx-6" and "Parametrize over stores" in detail_text(app)
        await pilot.press("m")
        await pilot.pause()
        assert [d["read"] for d in app.engine.hub.deliveries("tester")] == [True, False]
        assert "1 unread" in str(app.query_one("#hub-inbox-title", Label).render())
        await pilot.press("m")  # already read: said so, nothing changes
        await pilot.pause()
        assert any("already read" in n.message for n in app._notifications)
        await pilot.press("down", "p")
        await pilot.pause()
        inbox = app.query_one("#hub-inbox", DataTable)
        assert pane.selected == "fx-4"
        assert str(inbox.get_cell("fx-4", "used")) == "1✓"
        assert app.engine.hub.deliveries("tester")[1]["worked"] == 1
        await pilot.press("i")  # i again (or esc) goes back to the list
        await pilot.pause()
        assert pane.view == "items" and pane.selected == "fx-2"


async def test_inbox_follows_the_agent_and_says_when_empty(make_app):
    app = with_items(make_app())
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_hub(pilot)
        await pilot.press("i")
        await pilot.pause()
        seen = {}
        for _ in pane.agents:
            seen[pane.agent] = table_keys(app, "#hub-inbox")
            await pilot.press("a")
            await pilot.pause()
        for agent, keys in seen.items():
            assert keys == [d["id"] for d in app.engine.hub.deliveries(agent)]
        assert seen["coder"] == []  # the author is not sent its own items
        while pane.agent != "coder":
            await pilot.press("a")
            await pilot.pause()
        assert "Nothing delivered to coder yet" in detail_text(app)
        await pilot.press("m")  # nothing highlighted: a warning, no write
        await pilot.pause()
        assert any("highlight a delivery" in n.message for n in app._notifications)
        await pilot.press("escape")
        await pilot.pause()
        assert pane.view == "items"


async def test_mark_read_is_only_offered_in_the_inbox_and_help_lists_the_keys(make_app):
    app = with_items(make_app())
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_hub(pilot)
        keys = {b.binding.key for b in app.screen.active_bindings.values() if b.enabled}
        assert {"slash", "i"} <= keys and "m" not in keys
        await pilot.press("i")
        await pilot.pause()
        keys = {b.binding.key for b in app.screen.active_bindings.values() if b.enabled}
        assert {"m", "escape"} <= keys
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        text = app.screen.markdown
        for key in ("`/`", "`i`", "`m`", "`enter`", "`esc`"):
            assert key in text
        assert pane.view == "inbox"


async def test_leaving_the_tab_and_coming_back_keeps_the_view_and_its_focus(make_app):
    app = with_items(make_app())
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_hub(pilot)
        await pilot.press("i")
        await pilot.pause()
        await pilot.press("4")
        await pilot.pause()
        await pilot.press("6")
        await wait_until(pilot, lambda: app.focused is not None, "focus")
        await wait_until(pilot, lambda: app.focused.id == "hub-inbox", "the inbox focused")
        assert pane.view == "inbox"
        await pilot.press("slash")
        await search(pilot, "sqlite")
        await pilot.press("enter", "4")
        await pilot.pause()
        await pilot.press("6")
        await wait_until(pilot, lambda: app.focused.id == "hub-results", "the results focused")
        assert pane.view == "search"


# -- snapshots ---------------------------------------------------------------------------


def _search_view(text: str):
    async def run(pilot):
        await open_hub(pilot)
        await pilot.press("slash")
        await search(pilot, text)
        await pilot.press("down", "down", "enter")
        await pilot.pause()

    return run


async def _inbox_view(pilot):
    pane = await open_hub(pilot)
    while pane.agent != "tester":
        await pilot.press("a")
        await pilot.pause()
    await pilot.press("i")
    await pilot.pause()
    await pilot.press("m", "down", "p")
    await pilot.pause()


@pytest.mark.parametrize("size", [SIZE, SMALL], ids=["120x40", "80x24"])
def test_hub_search_snapshot(snap_compare, make_app, size):
    app = with_items(make_app())
    assert snap_compare(app, run_before=_search_view("sqlite"), terminal_size=size)


@pytest.mark.parametrize("size", [SIZE, SMALL], ids=["120x40", "80x24"])
def test_hub_inbox_snapshot(snap_compare, make_app, size):
    app = with_items(make_app())
    assert snap_compare(app, run_before=_inbox_view, terminal_size=size)


async def test_hostile_titles_in_results_and_inbox_are_data(tmp_path, isolated_env):
    """An item whose title and author carry control sequences and markup, broadcast to
    every subscriber: the results and the inbox show it escaped, markup as text."""
    from tests.test_hostile_text import make_hostile_store
    from tests.ui.test_hostile_text_ui import raw_controls, screen_text
    from workbench.ui.app import WorkbenchApp

    engine, _agent = make_hostile_store(tmp_path / "hostile.db")
    app = WorkbenchApp(engine, watch=False, theme="workbench-dark", settings_path=isolated_env)
    try:
        async with app.run_test(size=SIZE) as pilot:
            pane = await open_hub(pilot)
            await pilot.press("slash")
            assert await search(pilot, "evil loud")
            cell = str(app.query_one("#hub-results", DataTable).get_cell_at((0, 1)))
            assert "[bold]loud[/bold] [/oops]" in cell and not raw_controls(cell)
            assert not raw_controls(screen_text(app))
            await pilot.press("escape", "i")  # out of the box (it takes letters), inbox
            await pilot.pause()
            while not pane.deliveries and pane.agent != pane.agents[-1]:
                await pilot.press("a")
                await pilot.pause()
            assert pane.view == "inbox" and pane.deliveries
            assert not raw_controls(screen_text(app))
            assert not [n for n in app._notifications if n.severity == "error"]
    finally:
        engine.close()
