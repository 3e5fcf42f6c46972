"""Hidden panes are imported and mounted when their tab is first shown (ui/app.py
`show_pane`): the first frame pays for the Runs pane only. These tests run the app as
users get it (`lazy=True`); the rest of tests/ui mount every pane at start."""

from __future__ import annotations

import re
import subprocess
import sys

from textual.widgets import TabbedContent

from tests.ui.test_layout import settle
from workbench.ui.app import FIRST_PANE, PANE_SPECS, PANES, pane_class
from workbench.ui.commands import WorkbenchCommands
from workbench.ui.pane import Pane

SIZE = (120, 40)
PANES_BY_KEY = dict(zip("1234567", PANES, strict=True))


def mounted(app) -> set[str]:
    return {(p.id or "").removesuffix("-pane") for p in app.query(Pane)}


def test_titles_and_classes_agree():
    for pane_id, (title, _module, _name) in PANE_SPECS.items():
        cls = pane_class(pane_id)
        assert issubclass(cls, Pane)
        assert cls.TITLE == title == PANES[pane_id]


def test_the_first_frame_imports_no_hidden_pane_nor_numpy():
    """What the first frame needs (the app, the engine and the first pane) loads no other
    pane, no numpy or kernels, no Markdown (dialogs and help load on use)."""
    code = (
        "import sys, workbench.engine, workbench.ui.app as a; a.pane_class(a.FIRST_PANE)\n"
        "print(' '.join(sorted(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(out.stdout.split())
    hidden = {module for pane_id, (_t, module, _n) in PANE_SPECS.items() if pane_id != FIRST_PANE}
    assert not loaded & hidden, loaded & hidden
    heavy = {"numpy", "wasmtime", "markdown_it", "workbench.neural", "workbench.kernels"}
    assert not loaded & heavy, loaded & heavy


async def test_only_the_first_pane_is_mounted_until_its_tab_is_shown(make_app):
    app = make_app(lazy=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert mounted(app) == {FIRST_PANE}
        await pilot.press("4")
        assert mounted(app) == {FIRST_PANE, "models"}
        assert app.query_one(TabbedContent).active == "models"
        # the pane read the store when mounted, as an eager one does at start
        assert app.query_one("#models-pane").query("DataTable")


async def test_quick_keys_leave_focus_in_the_shown_pane_only(make_app):
    """A pane mounted for a tab already left never takes focus (the race that kept
    panes eager before: a late pane's table took focus after a second key)."""
    app = make_app(lazy=True)
    async with app.run_test(size=SIZE) as pilot:
        tabs = app.query_one(TabbedContent)
        for key, pane_id in zip("7654321", reversed(list(PANES)), strict=True):
            await pilot.press(key)
            assert tabs.active == pane_id
        await pilot.pause()
        assert mounted(app) == set(PANES)
        assert app.focused is not None
        assert app.query_one(f"#{FIRST_PANE}-pane") in app.focused.ancestors
        for key, pane_id in zip("4567", ["models", "memory", "hub", "agents"], strict=True):
            await pilot.press(key)
            await pilot.pause()
            assert app.query_one(f"#{pane_id}-pane") in app.focused.ancestors, (key, app.focused)


async def test_clicking_a_tab_mounts_its_pane(make_app):
    app = make_app(lazy=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.click("#--content-tab-hub")
        await pilot.pause()
        assert app.query_one(TabbedContent).active == "hub"
        assert "hub" in mounted(app)
        assert app.query_one("#hub-pane") in app.focused.ancestors


async def test_palette_offers_and_runs_actions_of_panes_not_mounted_yet(make_app):
    app = make_app(lazy=True)
    async with app.run_test(size=SIZE) as pilot:
        commands = {name: run for name, _, run in WorkbenchCommands(app.screen)._commands()}
        assert "memory" not in mounted(app)
        memory_actions = [name for name in commands if name.startswith("Memory: ")]
        assert memory_actions
        await commands[memory_actions[0]]()
        await pilot.pause()
        assert app.query_one(TabbedContent).active == "memory"
        assert "memory" in mounted(app)


async def test_a_lazy_pane_shows_what_an_eager_one_shows(make_app):
    """Each pane, mounted when its tab is first shown, paints what the same pane mounted at
    start paints: one eager and one lazy app walk the tabs in the same order (two app runs,
    not two per pane)."""
    texts: dict[bool, list[str]] = {}
    for lazy in (False, True):
        app = make_app(lazy=lazy)
        texts[lazy] = []
        async with app.run_test(size=SIZE) as pilot:
            for key in "234567":
                await pilot.press(key)
                await settle(pilot)  # until two frames in a row are the same
                if lazy:
                    assert PANES_BY_KEY[key] in mounted(app)
                # the SVG's ids are random per export; the picture is the rest
                texts[lazy].append(re.sub(r"terminal-\d+", "terminal", app.export_screenshot()))
    for key, eager, lazy in zip("234567", texts[False], texts[True], strict=True):
        assert eager == lazy, key
