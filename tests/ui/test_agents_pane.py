"""The Agents pane: sessions (live, also from another process), filter, drill-down, the
timeline, outcome and advice, charts, recording errors; snapshots at 120x40 and 80x24."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from textual.widgets import DataTable, Input, Static

from tests.agents.factory import Prompt, Tool, make_session, standard_sessions
from tests.conftest import FROZEN_NOW
from tests.ui.conftest import SIZE
from workbench.store import models as m
from workbench.ui.agents import CONNECT_HINT, AgentsPane
from workbench.ui.commands import WorkbenchCommands
from workbench.ui.screens.help import HelpScreen
from workbench.ui.screens.model_dialogs import ReportScreen

ROOT = Path(__file__).resolve().parents[2]
SMALL = (80, 24)
NUMERIC = {"#agents-sessions": ("tools", "fail"), "#agent-timeline": ("ms",)}


def sessions_app(make_app, applied: bool = False, **kwargs):
    app = make_app(**kwargs)
    standard_sessions()
    if applied:  # the advised hub item was reported applied after the advice
        app.engine.hub.mark_applied("fx-1", "claude-code", success=True)
    return app


def cells(pane: AgentsPane, selector: str) -> list[list[str]]:
    table = pane.query_one(selector, DataTable)
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


def text_of(pane: AgentsPane, selector: str) -> str:
    return str(pane.query_one(selector).render())


async def wait_until(pilot, condition, timeout: float = 10.0) -> None:
    for _ in range(int(timeout / 0.05)):
        if condition():
            return
        await pilot.pause(0.05)
    assert condition()


async def settle(pilot) -> None:
    """Wait until the pane's reads (thread workers) are done and their messages applied."""
    quiet = 0
    for _ in range(400):
        await pilot.pause()
        busy = [w for w in pilot.app.workers if w.group.startswith("agents-") and not w.is_finished]
        quiet = 0 if busy else quiet + 1
        if quiet == 2:
            return
        await pilot.pause(0.01)
    raise AssertionError("the Agents pane's workers did not finish")


async def open_pane(pilot) -> AgentsPane:
    await pilot.press("7")
    await settle(pilot)
    return pilot.app.query_one(AgentsPane)


# -- behaviour ---------------------------------------------------------------------------


async def test_empty_store_says_how_to_connect_an_agent(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_pane(pilot)
        assert pane.query_one("#agents-hint", Static).display
        assert text_of(pane, "#agents-hint") == CONNECT_HINT
        assert "`workbench hooks install`" in CONNECT_HINT
        assert "none yet" in text_of(pane, "#agents-list-title")
        assert cells(pane, "#agents-sessions") == []
        await pilot.press("enter", "e")  # nothing to drill into; errors report still opens
        await settle(pilot)
        assert isinstance(app.screen, ReportScreen)
        assert "None: every event so far was recorded" in app.screen.markdown


async def test_list_shows_sessions_newest_first_and_the_live_one_selected(make_app):
    app = sessions_app(make_app)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_pane(pilot)
        rows = cells(pane, "#agents-sessions")
        assert [r[:4] for r in rows] == [
            ["live", "2", "0", "01-15 08:05"],
            ["failure", "4", "2", "01-15 07:10"],
            ["success", "5", "1", "01-15 06:30"],
        ]
        assert rows[1][4] == "Add a migration for the orders.total column"
        assert "3 · 1 live" in text_of(pane, "#agents-list-title")
        assert not pane.query_one("#agents-hint", Static).display
        assert "e5d2f871-cache" in text_of(pane, "#agent-title")
        assert "outcome pending" in text_of(pane, "#agent-info")
        assert cells(pane, "#agent-timeline")[-1][1:4] == ["Bash", "—", "pending"]
        assert pane.query_one("#agents-sessions", DataTable).has_focus


async def test_filter_drill_down_timeline_and_back(make_app):
    app = sessions_app(make_app, applied=True)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_pane(pilot)
        await pilot.press("slash", *"parser")
        await settle(pilot)
        assert [r[0] for r in cells(pane, "#agents-sessions")] == ["success"]
        assert "1/3" in text_of(pane, "#agents-list-title")
        assert "7f3c9a12-parser" in text_of(pane, "#agent-title")  # the detail follows
        await pilot.press("enter")  # leaves the filter box for the list
        assert pane.query_one("#agents-sessions", DataTable).has_focus
        await pilot.press("enter")  # drills into the session
        await settle(pilot)
        assert pane.has_class("drilled")
        assert not pane.query_one("#agents-left").display
        assert pane.query_one("#agent-timeline", DataTable).has_focus
        timeline = cells(pane, "#agent-timeline")
        assert [r[1] for r in timeline] == [
            "SessionStart", "prompt", "advice", "Read", "Bash", "Edit", "Bash", "prompt",
            "Bash", "Stop", "SessionEnd",
        ]  # fmt: skip
        failed = "pytest -q tests/test_dates.py — 2 failed, 5 passed in 1.92s"
        assert timeline[4][2:] == ["2,140", "failed", failed]
        assert timeline[8][:4] == ["06:30:36", "Bash", "5,210", "ok"]
        info = text_of(pane, "#agent-info")
        assert "outcome success — the last test run passed (42 passed) after 1 edit" in info
        assert "2 prompts · 5 tool calls · 1 failed · 1 redaction" in info
        advice = text_of(pane, "#agent-advice")
        assert "hub 1 ✓ applied 1× since (1 worked, 0 failed)" in advice
        assert "learning 4 no applied reports for this kind" in advice
        assert "1 of 1 hub item reported applied" in text_of(pane, "#agent-advice-title")
        # enter on a timeline entry shows it whole
        await pilot.press("down", "down", "down", "down", "enter")
        await settle(pilot)
        assert isinstance(app.screen, ReportScreen)
        assert "## Bash · 06:30:16 · failed · 2,140 ms" in app.screen.markdown
        assert "pytest -q tests/test_dates.py" in app.screen.markdown
        await pilot.press("escape")
        await settle(pilot)
        # esc leaves the session (the filter stays), a second esc clears the filter
        await pilot.press("escape")
        await settle(pilot)
        assert not pane.has_class("drilled") and pane.query_one("#agents-left").display
        assert len(cells(pane, "#agents-sessions")) == 1
        await pilot.press("escape")
        await settle(pilot)
        assert len(cells(pane, "#agents-sessions")) == 3
        assert not pane.query_one("#agents-filter", Input).display
        assert pane.query_one("#agents-sessions", DataTable).has_focus


async def test_narrow_terminal_takes_turns_between_list_and_session(make_app):
    app = sessions_app(make_app)
    async with app.run_test(size=SMALL) as pilot:
        pane = await open_pane(pilot)
        assert pane.has_class("narrow")
        assert not pane.query_one("#agent-detail").display
        await pilot.press("down", "enter")
        await settle(pilot)
        assert pane.query_one("#agent-detail").display
        assert not pane.query_one("#agents-left").display
        assert "b81e0d44-migrate" in text_of(pane, "#agent-title")
        await pilot.press("escape")
        await settle(pilot)
        assert (
            pane.query_one("#agents-left").display and not pane.query_one("#agent-detail").display
        )


@pytest.mark.parametrize("size", [SMALL, SIZE, (200, 60)])
async def test_numbers_are_never_cut_text_gives_way(make_app, size):
    app = sessions_app(make_app)
    make_session("long", [Prompt("x" * 300), Tool("Bash", {"command": "y" * 300}, 123456.0)],
                 started=FROZEN_NOW)  # fmt: skip
    async with app.run_test(size=size) as pilot:
        pane = await open_pane(pilot)
        await pilot.press("enter")
        await settle(pilot)
        for selector, numeric in NUMERIC.items():
            table = pane.query_one(selector, DataTable)
            for key in numeric:
                column = table.columns[next(k for k in table.columns if k.value == key)]
                width = column.get_render_width(table) - 2 * table.cell_padding
                index = list(table.columns).index(column.key)
                for row in range(table.row_count):
                    assert len(str(table.get_row_at(row)[index])) <= width, (selector, key)
        assert "123,456" in [r[2] for r in cells(pane, "#agent-timeline")]


async def test_live_counts_update_in_place_and_stay_whole(make_app):
    app = sessions_app(make_app)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_pane(pilot)
        live = m.AgentSession.get(m.AgentSession.external_id == "e5d2f871-cache")
        m.AgentToolCall.insert_many(
            [{"session": live.id, "tool_use_id": f"x{i}", "tool_name": "Bash", "input": "{}",
              "status": "failed", "duration_ms": 1.0} for i in range(10_000)]
        ).execute()  # fmt: skip
        await pilot.press("r")
        await settle(pilot)
        rows = cells(pane, "#agents-sessions")
        assert rows[0][:3] == ["live", "10002", "10000"] and len(rows) == 3
        table = pane.query_one("#agents-sessions", DataTable)
        fail = next(c for k, c in table.columns.items() if k.value == "fail")
        assert fail.get_render_width(table) - 2 * table.cell_padding >= len("10000")


async def test_follows_the_newest_session_until_the_user_moves(make_app):
    app = sessions_app(make_app)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_pane(pilot)
        make_session("newest", [Prompt("a newer one")], started=FROZEN_NOW, ended=False)
        await pilot.press("r")
        await settle(pilot)
        assert "newest" in text_of(pane, "#agent-title")
        await pilot.press("down")
        await settle(pilot)
        make_session("even-newer", [Prompt("and another")], started=FROZEN_NOW, ended=False)
        await pilot.press("r")
        await settle(pilot)
        assert "e5d2f871-cache" in text_of(pane, "#agent-title")  # the user's choice stays


async def test_recording_errors_key(make_app):
    app = sessions_app(make_app)
    m.AgentError.create(at=FROZEN_NOW, source="hooks", message="malformed hook JSON: line 1 | x")
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_pane(pilot)
        assert "1 recording error (e)" in text_of(pane, "#agents-list-title")
        await pilot.press("e")
        await settle(pilot)
        assert isinstance(app.screen, ReportScreen)
        assert "malformed hook JSON: line 1 \\| x" in app.screen.markdown


async def test_purge_asks_first_and_no_keeps_everything(make_app):
    from workbench.ui.screens.confirm import ConfirmScreen

    app = sessions_app(make_app)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_pane(pilot)
        before = m.AgentSession.select().count()
        chosen = pane._session()["external_id"]
        await pilot.press("D")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert chosen in str(app.screen.query_one("#question").render())
        await pilot.press("n")  # no: nothing happens
        await settle(pilot)
        assert m.AgentSession.select().count() == before
        await pilot.press("D")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await wait_until(
            pilot, lambda: not m.AgentSession.select().where(
                m.AgentSession.external_id == chosen).exists())  # fmt: skip
        await settle(pilot)
        assert m.AgentSession.select().count() == before - 1
        assert chosen not in [s["external_id"] for s in pane.sessions]


async def test_help_and_command_palette_offer_the_pane(make_app):
    app = sessions_app(make_app)
    async with app.run_test(size=SIZE) as pilot:
        await open_pane(pilot)
        names = [name for name, _, _ in WorkbenchCommands(app.screen)._commands()]
        assert {"Show Agents pane", "Agents: Filter", "Agents: Recording errors"} <= set(names)
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        assert "Agents pane" in app.screen.markdown
        assert "| `7` | Agents |" in app.screen.markdown


def test_agent_text_is_shown_as_data():
    """Markup and escape sequences in agent text are shown as typed, never interpreted."""
    from workbench.ui.agents import advice_lines

    lines = advice_lines(
        [{"at": FROZEN_NOW, "event": "SessionStart", "items": [
            {"kind": "hub", "id": 1, "title": "[bold]x[/bold] \x1b[2J", "applied": None}]}]
    )  # fmt: skip
    assert str(lines[1]).endswith("[bold]x[/bold]") and "\x1b" not in str(lines[1])


WRITER = """
import datetime as dt, json, sys
from workbench.engine import Engine
from workbench.store import models as m
with Engine(sys.argv[1]) as e:
    at = dt.datetime(2026, 1, 15, 9, 29)
    s = m.AgentSession.create(external_id="from-elsewhere", status="active", started=at,
                              last_event=at, outcome_detail="{}", meta="{}")
    m.AgentEvent.create(session=s, seq=1, kind="UserPromptSubmit", at=at,
                        text="Recorded by another process", payload="{}")
    m.AgentToolCall.create(session=s, tool_use_id="t1", tool_name="Bash", status="failed",
                           input=json.dumps({"command": "make test"}), error="exit 2",
                           started=at, ended=at, duration_ms=812.0)
"""


async def test_session_recorded_by_another_process_appears_live(make_app):
    app = sessions_app(make_app, watch=True)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_pane(pilot)
        assert len(cells(pane, "#agents-sessions")) == 3
        await pilot.pause(0.3)  # let the watcher register before the write
        subprocess.run([sys.executable, "-c", WRITER, str(app.engine.db_path)], check=True,
                       timeout=60, cwd=ROOT)  # fmt: skip
        await wait_until(pilot, lambda: len(cells(pane, "#agents-sessions")) == 4)
        assert cells(pane, "#agents-sessions")[0][:3] == ["live", "1", "1"]
        assert cells(pane, "#agents-sessions")[0][4] == "Recorded by another process"
        # it was the newest and the list followed the head: its timeline is shown
        await wait_until(pilot, lambda: "from-elsewhere" in text_of(pane, "#agent-title"))
        assert cells(pane, "#agent-timeline")[-1][1:] == ["Bash", "812", "failed",
                                                          "make test — exit 2"]  # fmt: skip


# -- snapshots ---------------------------------------------------------------------------


def keys_then_settle(*keys: str):
    async def run_before(pilot) -> None:
        await pilot.pause()  # run_before starts before the app's first refresh
        await pilot.press(*keys)
        await settle(pilot)

    return run_before


@pytest.mark.parametrize("size", [SIZE, SMALL], ids=["120x40", "80x24"])
def test_snapshot_agents_empty(snap_compare, make_app, size):
    assert snap_compare(make_app(), run_before=keys_then_settle("7"), terminal_size=size)


@pytest.mark.parametrize("size", [SIZE, SMALL], ids=["120x40", "80x24"])
def test_snapshot_agents_live_session(snap_compare, make_app, size):
    """The newest session is still going: a Bash call without a result, no outcome yet."""
    keys = ["7"] if size == SIZE else ["7", "enter"]
    run_before = keys_then_settle(*keys)
    assert snap_compare(sessions_app(make_app), run_before=run_before, terminal_size=size)


@pytest.mark.parametrize("size", [SIZE, SMALL], ids=["120x40", "80x24"])
def test_snapshot_agents_finished_session(snap_compare, make_app, size):
    """A finished session: failures, durations, the derived outcome, advice applied."""
    keys = ["7", "down", "down"] + ([] if size == SIZE else ["enter"])
    app = sessions_app(make_app, applied=True)
    assert snap_compare(app, run_before=keys_then_settle(*keys), terminal_size=size)


def test_snapshot_agents_list_at_80x24(snap_compare, make_app):
    app = sessions_app(make_app)
    assert snap_compare(app, run_before=keys_then_settle("7"), terminal_size=SMALL)
