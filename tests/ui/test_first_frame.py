"""Nothing heavy before the first paint (issue 16 part 3; times in
benchmarks/ui_first_frame.py, never asserted here): the first frame loads no pipeline
service, no file watcher and no stylesheet of a pane not shown; those arrive after it
(the Runs pane's first read, the watcher, a pane's tab shown). Pictures of panes mounted
later are the snapshots in test_snapshots.py, unchanged by this."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from textual.widgets._footer import FooterKey

from tests.conftest import make_fixture_store
from tests.ui.conftest import wait_until
from workbench.ui import app as app_module
from workbench.ui.widgets.footer import WorkbenchFooter

SIZE = (120, 40)

# Runs the app as `workbench` does (Engine, ensure_seeded, WorkbenchApp with workers and
# the watcher) in a fresh interpreter; records sys.modules and the stylesheet sources at
# the first frame written (`_display`; the panes' first reads start after it), then after
# the Runs pane's read and the watcher started, then after `4` showed the Models pane.
PROBE = """
import asyncio, json, sys
from workbench.engine import Engine
from workbench.ui.app import WorkbenchApp

seen = {}

def snapshot(app):
    return {"modules": sorted(sys.modules), "css": sorted(p for p, _ in app.stylesheet.source)}

class Probe(WorkbenchApp):
    def _display(self, screen, renderable):
        if renderable is not None:
            seen.setdefault("first frame", snapshot(self))
        super()._display(screen, renderable)

Probe.__module__ = WorkbenchApp.__module__  # relative stylesheet paths resolve as the app's

async def main():
    engine = Engine(sys.argv[1], long_lived=True)
    engine.ensure_seeded()
    app = Probe(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        runs = app.query_one("#runs-pane")
        for _ in range(2000):
            if "workbench.pipeline.service" in sys.modules and not runs.loading_names \\
                    and "watchfiles" in sys.modules:
                break
            await pilot.pause()
        seen["after"] = snapshot(app)
        await pilot.press("4")
        await pilot.pause()
        seen["models shown"] = snapshot(app)
    engine.close()
    print(json.dumps(seen))

asyncio.run(main())
"""

# loaded by the first frame of the Runs pane before this change, now after it
DEFERRED = ("workbench.pipeline.service", "workbench.pipeline.commands", "watchfiles", "anyio")
HEAVY = ("numpy", "wasmtime", "markdown_it", "plotext", "textual_plotext", "workbench.neural")


@pytest.fixture(scope="module")
def probe(tmp_path_factory) -> dict:
    tmp = tmp_path_factory.mktemp("first-frame")
    make_fixture_store(tmp / "fixture.db").close()
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKBENCH_")}
    env["WORKBENCH_CONFIG"] = str(tmp / "config.json")
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(tmp / "fixture.db")],
        capture_output=True, text=True, check=True, env=env, cwd=tmp, timeout=300,
    )  # fmt: skip
    return json.loads(out.stdout.splitlines()[-1])


def top(modules: list[str]) -> set[str]:
    return {m.split(".")[0] for m in modules} | set(modules)


def test_first_frame_loads_no_pipeline_service_watcher_or_heavy_module(probe):
    first = top(probe["first frame"]["modules"])
    assert not first & set(DEFERRED), first & set(DEFERRED)
    assert not first & set(HEAVY), first & set(HEAVY)
    hidden = {module for pane_id, (_t, module, _n) in app_module.PANE_SPECS.items()}
    assert not first & (hidden - {"workbench.ui.runs"})


def test_what_the_first_frame_deferred_arrives_after_it(probe):
    """The same probe sees them load: the Runs pane's worker imports the pipeline service
    and the watcher starts, so the first test cannot pass by not running the app."""
    after = top(probe["after"]["modules"])
    assert set(DEFERRED) <= after, set(DEFERRED) - after


def test_first_frame_parses_only_the_shown_panes_stylesheet(probe):
    def pane_sheets(css: list[str]) -> set[str]:
        return {Path(p).name for p in css if p.endswith(".tcss")}

    assert pane_sheets(probe["first frame"]["css"]) == {"app.tcss", "runs.tcss"}
    assert pane_sheets(probe["models shown"]["css"]) == {"app.tcss", "runs.tcss", "models.tcss"}


def test_every_ui_stylesheet_belongs_to_the_app_or_a_pane():
    """A .tcss no pane names would never be loaded now that panes bring their own."""
    sheets = {p.name for p in app_module.UI_DIR.glob("*.tcss")}
    owned = {app_module.APP_STYLESHEET} | {
        p.name for pane_id in app_module.PANES if (p := app_module.pane_stylesheet(pane_id))
    }
    assert sheets == owned


async def test_eager_panes_bring_all_stylesheets_at_start(make_app):
    app = make_app(lazy=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        sources = {Path(p).name for p, _ in app.stylesheet.source if p.endswith(".tcss")}
        expected = {p.name for p in app_module.UI_DIR.glob("*.tcss")}
        assert sources == expected


async def test_the_theme_chosen_at_start_costs_no_stylesheet_reparse(make_app, monkeypatch):
    """Choosing the theme in __init__ used to queue Textual's full reparse and restyle; the
    stylesheet carries the theme's variables from the start, and a later change still
    refreshes everything."""
    calls: list[int] = []
    real = app_module.App.refresh_css

    def counting(self, animate: bool = True) -> None:
        calls.append(1)
        real(self, animate)

    monkeypatch.setattr(app_module.App, "refresh_css", counting)
    app = make_app(theme="workbench-light")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert calls == []
        assert app.theme == "workbench-light"
        assert app.stylesheet._variables["background"] == app.get_css_variables()["background"]
        light = app.screen.styles.background
        app.theme = "workbench-dark"
        await pilot.pause()
        assert calls == [1]
        assert app.screen.styles.background != light


async def test_footer_rebuilds_keys_only_when_they_change(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        footer = app.query_one(WorkbenchFooter)
        await wait_until(pilot, lambda: bool(footer.query(FooterKey)), "the footer's keys")
        keys = list(footer.query(FooterKey))
        # a bindings update that leaves the same keys (most focus changes): no rebuild
        app.screen.bindings_updated_signal.publish(app.screen)
        app.refresh_bindings()
        for _ in range(3):
            await pilot.pause()
        assert list(footer.query(FooterKey)) == keys
        await pilot.press("4")  # the Models pane's keys
        await wait_until(
            pilot, lambda: list(footer.query(FooterKey)) != keys, "the Models pane's keys"
        )
        actions = {k.action for k in footer.query(FooterKey)}
        assert "train" in actions or any("train" in a for a in actions), actions


async def test_footer_keys_follow_compact_without_a_rebuild(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        footer = app.query_one(WorkbenchFooter)
        await wait_until(pilot, lambda: bool(footer.query(FooterKey)), "the footer's keys")
        keys = [k for k in footer.query(FooterKey) if not k.has_class("-command-palette")]
        assert not any(k.has_class("-compact") for k in keys)
        await pilot.resize_terminal(100, 30)
        await wait_until(pilot, lambda: footer.compact, "compact footer")
        await pilot.pause()
        assert all(k.has_class("-compact") for k in keys if k.is_attached)


def test_showing_the_models_pane_loads_no_dialog_or_markdown(probe):
    """Its dialogs and reports (Markdown) load when one opens; the `4` key waited ~0.3 s
    for them (and numpy, through the registry) on the UI thread before."""
    shown = top(probe["models shown"]["modules"])
    assert "workbench.ui.models" in shown
    assert not shown & {"markdown_it", "workbench.ui.screens.model_dialogs"}
