"""Untrusted text is data in the UI: every pane over a store full of terminal control
sequences and markup renders without a raw control character and without crashing."""

from __future__ import annotations

from textual.widgets import DataTable

from tests.test_hostile_text import HOSTILE, make_hostile_store
from tests.ui.conftest import SIZE
from workbench.ui.app import WorkbenchApp
from workbench.ui.safe import ControlFilter, plain


def screen_text(app) -> str:
    """Every character the compositor would send to the terminal for the whole screen."""
    update = app.screen._compositor.render_update(full=True)
    return "".join(segment.text for strip in update.strips for segment in strip)


def raw_controls(text: str) -> list[str]:
    return [c for c in text if ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F]


def test_plain_cells_escape_visibly_and_parse_no_markup():
    text = plain(HOSTILE)
    assert not raw_controls(text.plain)
    assert "\\x1b]0;pwned\\x07" in text.plain and "[/oops]" in text.plain and not text.spans


def test_the_filter_strips_what_a_widget_would_still_render():
    from rich.segment import Segment
    from textual.color import Color

    out = ControlFilter().apply([Segment("a\x1b]0;t\x07b\x9bc")], Color(0, 0, 0))
    assert [s.text for s in out] == ["a]0;tbc"]


async def test_every_pane_renders_hostile_text_without_raw_controls(tmp_path, isolated_env):
    engine, _agent = make_hostile_store(tmp_path / "hostile.db")
    app = WorkbenchApp(engine, watch=False, theme="workbench-dark", settings_path=isolated_env)
    try:
        async with app.run_test(size=SIZE) as pilot:
            for key in "123456":
                await pilot.press(key)
                await pilot.app.workers.wait_for_complete()
                await pilot.pause()
                shown = screen_text(app)
                assert not raw_controls(shown), (key, sorted(set(raw_controls(shown))))
            # the Hub shows the hostile titles, escaped, with their markup as text
            await pilot.press("6")
            await pilot.pause()
            items = app.screen.query_one("#hub-items", DataTable)
            titles = [str(items.get_row_at(i)[2]) for i in range(items.row_count)]
            assert any("\\x1b]0;pwned" in t and "[bold]loud[/bold]" in t for t in titles)
            # the Memory pane's tables too
            await pilot.press("5")
            await pilot.pause()
            assert "\\x1b]0;pwned" in screen_text(app) or "]0;pwned" in screen_text(app)
    finally:
        engine.close()


async def test_notifications_are_never_markup(make_app):
    app = make_app(lazy=False)
    async with app.run_test(size=SIZE) as pilot:
        pane = app.query_one("#hub-pane")
        pane.notify("agent [/oops] [@click=app.quit]x[/] shared", severity="warning")
        await pilot.pause()
        note = list(app._notifications)[-1]
        assert note.markup is False and "[/oops]" in note.message
        assert app.is_running
