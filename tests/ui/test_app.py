"""Behaviour of the shell: pane keys, help, themes, live refresh from another process."""

from __future__ import annotations

import json
import subprocess
import sys

from textual.widgets import DataTable, Label, TabbedContent

from tests.conftest import make_fixture_store
from tests.ui.conftest import wait_for_command, wait_for_screen
from workbench.ui.app import PANES, StoreChanged, WorkbenchApp
from workbench.ui.screens.help import HelpScreen
from workbench.ui.themes import load_theme, load_themes
from workbench.ui.widgets.table_panel import TablePanel


async def test_number_keys_switch_panes(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        tabs = app.query_one(TabbedContent)
        assert tabs.active == "runs"
        for key, pane_id in zip("7654321", reversed(list(PANES)), strict=True):
            await pilot.press(key)
            assert tabs.active == pane_id


async def test_every_pane_shows_its_tables_counts(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        counts = app.engine.stats()
        for panel in app.query(TablePanel):
            title = str(panel.query_one(".panel-title", Label).render())
            n = counts[panel.table]
            assert f"· {n} row" in title, (panel.table, title)
            assert panel.query_one(DataTable).row_count == min(n, panel.limit)


async def test_help_opens_and_closes(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("5", "question_mark")
        await wait_for_screen(pilot, HelpScreen)
        assert "Memory pane" in app.screen.markdown
        assert "| `6` | Hub |" in app.screen.markdown
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_quit_key(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0


async def test_theme_choice_is_remembered(tmp_path, isolated_env):
    engine = make_fixture_store(tmp_path / "t.db")
    try:
        app = WorkbenchApp(engine, watch=False, settings_path=isolated_env)
        async with app.run_test(size=(120, 40)) as pilot:
            assert app.theme == "workbench-dark"
            app.theme = "workbench-high-contrast"
            await pilot.pause()
        assert json.loads(isolated_env.read_text())["theme"] == "workbench-high-contrast"
        again = WorkbenchApp(engine, watch=False, settings_path=isolated_env)
        assert again.theme == "workbench-high-contrast"
    finally:
        engine.close()


async def test_command_palette_offers_panes_and_themes(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("ctrl+p")
        await pilot.press(*"Show Hub")
        await wait_for_command(pilot, "Show Hub")
        await pilot.press("enter")
        await pilot.pause()
        assert app.query_one(TabbedContent).active == "hub"


def test_bundled_themes_all_load():
    from workbench import config

    themes, errors = load_themes(config.THEMES_DIR)
    assert errors == []
    assert {t.name for t in themes} >= {
        "workbench-dark",
        "workbench-light",
        "workbench-high-contrast",
    }


def test_bad_theme_file_is_reported_not_fatal(tmp_path):
    (tmp_path / "good.toml").write_text('name = "ok"\nprimary = "#123456"\n')
    (tmp_path / "broken.toml").write_text("name = [unclosed\n")
    (tmp_path / "colour.toml").write_text('name = "c"\nprimary = "not-a-colour"\n')
    (tmp_path / "extra.toml").write_text('name = "e"\nprimary = "#fff"\nsparkle = 1\n')
    themes, errors = load_themes(tmp_path)
    assert [t.name for t in themes] == ["ok"]
    assert len(errors) == 3
    assert any(e.startswith("broken.toml:") for e in errors)
    assert any(e.startswith("colour.toml:") for e in errors)
    assert any("unknown theme keys sparkle" in e for e in errors)
    assert load_theme(tmp_path / "good.toml").primary == "#123456"


WRITER = """
import sys
from workbench.engine import Engine
from workbench.store import models as m
with Engine(sys.argv[1]) as e:
    channel = m.Channel.get(m.Channel.name == "debugging")
    m.KnowledgeItem.create(uid="live-1", channel=channel, type="discovery",
                           title="Written by another process", content="seen live", priority=4)
"""


async def test_pane_updates_when_another_process_writes(make_app):
    app = make_app(watch=True)
    messages = []
    async with app.run_test(size=(120, 40), message_hook=messages.append) as pilot:
        await pilot.press("6")
        table = app.query_one("#hub-pane #hub-items", DataTable)
        assert table.row_count == 3
        await pilot.pause(0.3)  # let the watcher register before the write
        subprocess.run(
            [sys.executable, "-c", WRITER, str(app.engine.db_path)], check=True, timeout=60
        )
        for _ in range(100):
            await pilot.pause(0.1)
            if table.row_count == 4:
                break
        assert table.row_count == 4
        titles = [str(table.get_row_at(row)[2]) for row in range(table.row_count)]
        assert "Written by another process" in titles
        assert any(isinstance(m, StoreChanged) and "knowledge_items" in m.tables for m in messages)
