"""Agents: sessions of real coding agents (recorded by `workbench hooks run`, imported
transcripts or neutral events), live, also those recorded by another process. The selected
session shows its timeline of prompts and tool calls with durations and failures, the
outcome derived for it and how, and the advice injected with whether each hub item was
later reported applied. Charts: tool usage and failure rate per tool across sessions.

Every figure comes from `engine.agents` (the read side in `workbench/agents/views.py`);
the pane formats it. Agent text is data: it is shown through `display_text` (escape
sequences and control characters removed) and as `rich.Text`, never as markup.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.events import Resize
from textual.message import Message
from textual.widget import Widget
from textual.widgets import DataTable, Input, Label, Static
from textual.worker import Worker, WorkerState
from textual_plotext import PlotextPlot

from workbench.agents.views import AGENT_TABLES, display_text, session_matches
from workbench.store.errors import StoreError
from workbench.ui.pane import Pane
from workbench.ui.screens.confirm import ConfirmScreen
from workbench.ui.screens.model_dialogs import ReportScreen
from workbench.ui.widgets.fill_table import FillTable

ENGINE_ERRORS = (StoreError, ValueError, OSError)
SESSION_LIMIT = 200
NARROW = 110  # below this width the list and the session take turns (enter / esc)
CHART_TOOLS = 5  # one bar a line: what a 10-line chart shows
CONNECT_HINT = (
    "No agent sessions yet: run `workbench hooks install` to connect Claude Code; "
    "its sessions appear here live."
)
STATE_STYLE = {
    "live": "bold cyan",
    "success": "green",
    "failure": "red",
    "partial": "yellow",
    "unknown": "dim",
    "ended": "dim",
}
RESULT_STYLE = {"ok": "green", "failed": "bold red", "pending": "cyan"}
KIND_STYLE = {"prompt": "bold", "advice": "magenta", "event": "dim"}


def session_state(session: dict[str, Any]) -> str:
    """One word for the list: live while active, else the derived outcome."""
    if session["status"] == "active":
        return "live"
    return session["outcome"] or "ended"


def fmt_duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m {seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


def fmt_ms(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f}"


def fmt_when(value: dt.datetime | None, with_date: bool = True) -> str:
    if value is None:
        return "—"
    return value.strftime("%m-%d %H:%M" if with_date else "%H:%M:%S")


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def clipped(text: str, style: str = "") -> Text:
    """A one-line cell that gives way with an ellipsis when its column is narrow."""
    return Text(text, style=style, no_wrap=True, overflow="ellipsis", end="")


def number(text: str, style: str = "") -> Text:
    return Text(text, style=style, justify="right", no_wrap=True, end="")


def detail_summary(detail: dict[str, Any]) -> str:
    """How the outcome was derived, in one line: the reason first, then the evidence."""
    parts = []
    if detail.get("reason"):
        parts.append(display_text(detail["reason"]))
    for key, value in detail.items():
        if key == "reason":
            continue
        shown = value if isinstance(value, str | int | float) else json.dumps(value)
        parts.append(f"{key.replace('_', ' ')} {display_text(shown, 60)}")
    return " · ".join(parts)


def session_info(session: dict[str, Any]) -> Text:
    """The selected session's facts: when, how long, which model, what it did, outcome."""
    live = session["status"] == "active"
    when = (
        f"started {fmt_when(session['started'])} · active, last event "
        f"{fmt_when(session['last_event'], with_date=False)} "
        f"({fmt_duration(session['duration_s'])} in)"
        if live
        else f"started {fmt_when(session['started'])} · took "
        f"{fmt_duration(session['duration_s'])} · ended {fmt_when(session['ended'], False)}"
    )
    where = " · ".join(
        part
        for part in (
            f"model {display_text(session['model'])}" if session["model"] else "",
            f"via {session['source']}",
            f"cwd {display_text(session['cwd'])}" if session["cwd"] else "",
        )
        if part
    )
    counts = (
        f"{plural(session['prompts'], 'prompt')} · {plural(session['tool_calls'], 'tool call')}"
        f" · {session['tool_failures']} failed"
        + (f" · {session['tool_pending']} running" if live and session["tool_pending"] else "")
        + (f" · {plural(session['redactions'], 'redaction')}" if session["redactions"] else "")
    )
    if session["outcome"] is None:
        outcome = Text.assemble(
            ("outcome ", "dim"),
            ("pending", "cyan") if live else ("not derived", "dim"),
            (" — derived when the session stops" if live else "", "dim"),
        )
    else:
        how = detail_summary(session["outcome_detail"])
        outcome = Text.assemble(
            ("outcome ", "dim"),
            (session["outcome"], f"bold {STATE_STYLE.get(session['outcome'], '')}"),
            (f" — {how}" if how else " — no derivation recorded", "dim" if not how else ""),
        )
    lines = [Text(when), Text(where, style="dim"), Text(counts), outcome]
    return Text("\n").join(lines)


def advice_lines(advice: list[dict[str, Any]]) -> list[Text]:
    """Each injection, then its items; a hub item says whether it was reported applied
    after the advice (learnings and memories have no applied reports)."""
    lines = []
    for a in advice:
        lines.append(
            Text.assemble(
                (fmt_when(a["at"], with_date=False), "bold"),
                f" on {a['event']} · {plural(len(a['items']), 'item')}",
            )
        )
        for item in a["items"]:
            applied = item["applied"]
            if applied is None:
                status = ("no applied reports for this kind", "dim")
            elif item.get("missing"):
                status = ("item no longer in the hub", "dim")
            elif applied["count"]:
                status = (
                    f"✓ applied {applied['count']}× since "
                    f"({applied['worked']} worked, {applied['failed']} failed)",
                    "green",
                )
            else:
                status = ("not reported applied", "yellow")
            lines.append(
                Text.assemble(
                    "  ",
                    (f"{item['kind']} {item['id']}", "bold"),
                    " ",
                    status,
                    ("  " + display_text(item["title"])) if item["title"] else "",
                )
            )
    return lines


def step_markdown(step: dict[str, Any]) -> str:
    """One timeline entry in full (the prompt, the tool input and response, the error)."""
    head = f"## {step['label']} · {fmt_when(step['at'], with_date=False)}"
    if step["status"]:
        head += f" · {step['status']}"
    if step["duration_ms"] is not None:
        head += f" · {fmt_ms(step['duration_ms'])} ms"
    body = step["detail"]
    if not isinstance(body, str):
        body = json.dumps(body, indent=2, ensure_ascii=False, default=str)
    body = "\n".join(display_text(line) for line in str(body or "").splitlines())
    return f"{head}\n\n```\n{body.replace('```', '` ` `') or '(empty)'}\n```"


def errors_markdown(errors: list[dict[str, Any]], total: int) -> str:
    if not errors:
        return "## Recording errors\n\nNone: every event so far was recorded."
    lines = [
        f"## Recording errors · {total}",
        "",
        "Hooks never fail their agent; what went wrong is kept here "
        "(`workbench agents errors` lists them too).",
        "",
        "| when | source | session | message |",
        "|---|---|---|---|",
    ]
    for e in errors:
        message = display_text(e["message"], 120).replace("|", "\\|")
        session = display_text(e["session"] or "—", 20).replace("|", "\\|")
        lines.append(f"| {fmt_when(e['at'])} | {e['source']} | {session} | {message} |")
    return "\n".join(lines)


SESSION_COLUMNS = ("state", "tools", "fail", "started", "session")


def session_cells(s: dict[str, Any]) -> tuple[Text, Text, Text, str, Text]:
    """A session's row in the list (equal cells compare equal, so unchanged ones stay)."""
    state = session_state(s)
    return (
        Text(state, style=STATE_STYLE.get(state, "")),
        number(str(s["tool_calls"])),
        number(str(s["tool_failures"]), "red" if s["tool_failures"] else "dim"),
        fmt_when(s["started"]),
        clipped(s["title"] or display_text(s["external_id"])),
    )


def pick_session(
    sessions: list[dict[str, Any]], query: str, selected: int | None, follow_head: bool
) -> int | None:
    """The session to show: the one selected while the filter keeps it, else the newest
    shown (also when following the head of the list)."""
    ids = [s["id"] for s in sessions if session_matches(s, query)]
    if not ids:
        return None
    return ids[0] if follow_head or selected not in ids else selected


class AgentsLoaded(Message):
    """Sessions, totals, tool usage (None: unchanged) and the chosen session's detail."""

    def __init__(self, generation: int, sessions: list[dict], overview: dict,
                 usage: list[dict] | None, detail_id: int | None,
                 detail: tuple[list[dict], list[dict]]) -> None:  # fmt: skip
        super().__init__()
        self.generation, self.sessions, self.overview = generation, sessions, overview
        self.usage, self.detail_id, self.detail = usage, detail_id, detail


class DetailLoaded(Message):
    """One session's timeline and advice, read in a worker."""

    def __init__(self, generation: int, session_id: int, steps: list[dict],
                 advice: list[dict]) -> None:  # fmt: skip
        super().__init__()
        self.generation, self.session_id = generation, session_id
        self.steps, self.advice = steps, advice


class AgentsPane(Pane):
    TITLE = "Agents"
    TABLES = AGENT_TABLES
    HELP = (
        "Sessions of real coding agents, newest first — recorded by `workbench hooks run` "
        "(install with `workbench hooks install`), imported with `workbench agents import`, "
        "or sent as neutral events; live, also when another process records them. `live` "
        "marks a session still going; otherwise the list shows its derived outcome. The "
        "selected session shows its timeline (prompts, tool calls with their duration in "
        "ms and result, advice, other hook events), how its outcome was derived, and the "
        "advice injected into it with, per hub item, whether it was reported applied after "
        "the advice. The charts count tool calls per tool and the failure rate (failed / "
        "finished calls) across all sessions. Below 110 columns the list and the session "
        "take turns: enter shows the session, esc returns.\n\n"
        "| key | action |\n|---|---|\n"
        "| `/` | filter sessions (id, agent, outcome, model, cwd, first prompt); esc clears |\n"
        "| `enter` | on a session: drill in (full width); on a timeline entry: show it all |\n"
        "| `esc` | back to the list |\n"
        "| `e` | recording errors (problems met while recording agent events) |\n"
        "| `tab` | move between the sessions list and the timeline |"
    )
    BINDINGS = [
        Binding("slash", "filter", "Filter", id="agents.filter"),
        Binding("e", "errors", "Recording errors", id="agents.errors"),
        Binding("D", "purge", "Purge session", id="agents.purge"),
        Binding("escape", "back", "Back", id="agents.back"),
    ]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sessions: list[dict[str, Any]] = []
        self.overview: dict[str, Any] = {"sessions": 0, "active": 0, "errors": 0}
        self.selected: int | None = None
        self.follow_head = True  # keep the newest session selected until the user moves
        self.query_text = ""
        self.steps: list[dict[str, Any]] = []
        self.loaded = False  # the first read finished (until then nothing is "empty")
        self._generation = 0
        self._detail_generation = 0
        self._usage_dirty = True

    # -- layout ------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Horizontal():
            with Vertical(id="agents-left"):
                yield Label("Agent sessions", id="agents-list-title", classes="panel-title")
                yield Input(placeholder="filter: id, agent, outcome, model, cwd, prompt",
                            id="agents-filter")  # fmt: skip
                sessions = FillTable(
                    "session", id="agents-sessions", cursor_type="row", zebra_stripes=True
                )
                for key in SESSION_COLUMNS:
                    sessions.add_column(key, key=key)
                yield sessions
                yield Static(Text(CONNECT_HINT, style="dim"), id="agents-hint")
                with Horizontal(id="agents-charts"):
                    yield PlotextPlot(id="agents-tool-usage")
                    yield PlotextPlot(id="agents-failure-rate")
            with Vertical(id="agent-detail"):
                yield Label("", id="agent-title", classes="panel-title")
                yield Static("", id="agent-info")
                yield Label("Timeline", id="agent-timeline-title", classes="panel-title")
                timeline = FillTable(
                    ("step", "what"), id="agent-timeline", cursor_type="row", zebra_stripes=True
                )
                timeline.add_column("time", key="time")
                timeline.add_column("step", key="step")
                timeline.add_column("ms", key="ms")
                timeline.add_column("result", key="result")
                timeline.add_column("what", key="what")
                yield timeline
                yield Label("Advice", id="agent-advice-title", classes="panel-title")
                yield Static("", id="agent-advice")

    def on_mount(self) -> None:
        self.hand_back_focus_on_leave()
        self.query_one("#agents-filter", Input).display = False
        self.query_one("#agents-hint", Static).display = False
        super().on_mount()

    def on_resize(self, event: Resize) -> None:
        self.set_class(event.size.width < NARROW, "narrow")
        self.call_after_refresh(self._fit_columns)

    def _fit_columns(self) -> None:
        for table in self.query(FillTable):
            table.fit()

    def on_show(self) -> None:
        # the tab may become active only after Show arrives: focus once the switch settled
        self.call_after_refresh(self.focus_if_shown)

    def focus_default(self) -> Widget:
        if self.has_class("drilled"):
            return self.query_one("#agent-timeline", DataTable)
        return self.query_one("#agents-sessions", DataTable)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # focus can linger here while another tab is shown: keys then belong to that tab
        if not self._is_active_tab():
            return False
        if action == "filter":
            return not self.query_one("#agents-filter", Input).has_focus
        if action == "back":
            return self._filtering() or self.has_class("drilled")
        return True

    @property
    def agents(self):
        return self.app.engine.agents  # type: ignore[attr-defined]

    # -- data --------------------------------------------------------------------------
    # Reads run in thread workers (on a large store a refresh takes longer than a frame);
    # the UI thread only fills widgets from the messages they post. A generation number
    # drops what a superseded worker posts late.

    def refresh_data(self, changed: set[str] | None = None) -> None:
        if changed is None or "agent_tool_calls" in changed:
            self._usage_dirty = True
        self._generation += 1
        self._load(
            self._generation, self._usage_dirty, self.query_text, self.selected, self.follow_head
        )

    @work(thread=True, exclusive=True, exit_on_error=False, group="agents-load")
    def _load(
        self, generation: int, usage: bool, query: str, selected: int | None, follow: bool
    ) -> None:
        agents = self.agents
        with self.app.engine.guard():  # type: ignore[attr-defined]
            sessions = agents.sessions(limit=SESSION_LIMIT)
            overview = agents.agents_overview()
            tool_usage = agents.tool_usage() if usage else None
            chosen = pick_session(sessions, query, selected, follow)
            detail = self._read_detail(chosen)
        self.post_message(AgentsLoaded(generation, sessions, overview, tool_usage, chosen, detail))

    def _read_detail(self, session_id: int | None) -> tuple[list[dict], list[dict]]:
        if session_id is None:
            return [], []
        try:
            return self.agents.timeline(session_id), self.agents.advice(session_id)
        except ValueError:  # purged meanwhile: the next refresh drops it from the list
            return [], []

    @on(AgentsLoaded)
    def _loaded(self, message: AgentsLoaded) -> None:
        if message.generation != self._generation:
            return
        self.loaded = True
        self.sessions, self.overview = message.sessions, message.overview
        if message.usage is not None:
            self._usage_dirty = False
            self._draw_charts(message.usage)
        self.selected = pick_session(self.sessions, self.query_text, self.selected,
                                     self.follow_head)  # fmt: skip
        self._fill_sessions()
        if self.selected == message.detail_id:
            self._detail_generation += 1  # fresher than any detail read still under way
            self._show_detail(*message.detail)
        else:
            self.request_detail()

    def request_detail(self) -> None:
        """Show the selected session: its timeline and advice are read in a worker."""
        self._detail_generation += 1
        if self.selected is None:
            self._show_detail([], [])
            return
        self._load_detail(self._detail_generation, self.selected)

    @work(thread=True, exclusive=True, exit_on_error=False, group="agents-detail")
    def _load_detail(self, generation: int, session_id: int) -> None:
        with self.app.engine.guard():  # type: ignore[attr-defined]
            steps, advice = self._read_detail(session_id)
        self.post_message(DetailLoaded(generation, session_id, steps, advice))

    @on(DetailLoaded)
    def _detail_loaded(self, message: DetailLoaded) -> None:
        if message.generation == self._detail_generation and message.session_id == self.selected:
            self._show_detail(message.steps, message.advice)

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        if event.worker.group in ("agents-load", "agents-detail") and (
            event.state == WorkerState.ERROR
        ):
            self.notify(str(event.worker.error), severity="error")

    @property
    def shown(self) -> list[dict[str, Any]]:
        return [s for s in self.sessions if session_matches(s, self.query_text)]

    def _fill_sessions(self) -> None:
        """Fill the list, repainting only the sessions that changed (a live session's
        counts moved, a new session on top: FillTable.sync), the cursor on the selected."""
        table = self.query_one("#agents-sessions", FillTable)
        shown = self.shown
        rows = [(str(s["id"]), session_cells(s)) for s in shown]
        table.sync(rows, cursor=None if self.selected is None else str(self.selected))
        o = self.overview
        total = len(self.sessions)
        count = f"{len(shown)}/{total}" if self.query_text else str(o["sessions"])
        parts = [f"Agent sessions · {count}" if total else "Agent sessions · none yet"]
        if o["active"]:
            parts.append(f"{o['active']} live")
        if o["errors"]:
            parts.append(f"{plural(o['errors'], 'recording error')} (e)")
        if self.query_text:
            parts.append(f"“{display_text(self.query_text, 24)}”")
        self.query_one("#agents-list-title", Label).update(" · ".join(parts))
        self.query_one("#agents-hint", Static).display = self.loaded and not total
        self.call_after_refresh(self._fit_columns)

    def _session(self) -> dict[str, Any] | None:
        return next((s for s in self.sessions if s["id"] == self.selected), None)

    def _show_detail(self, steps: list[dict], advice: list[dict]) -> None:
        session = self._session()
        title = self.query_one("#agent-title", Label)
        info = self.query_one("#agent-info", Static)
        self.steps = steps if session is not None else []
        if session is None:
            # on an empty store the hint under the list says how to connect an agent
            title.update(
                "No agent session matches the filter" if self.sessions else "No agent session yet"
            )
            info.update("")
        else:
            state = session_state(session)
            title.update(
                Text.assemble(
                    "Session ",
                    display_text(session["external_id"], 40),
                    f" · {display_text(session['agent'], 24)} · ",
                    (state, STATE_STYLE.get(state, "")),
                )
            )
            info.update(session_info(session))
        self._fill_timeline()
        self._show_advice(advice if session is not None else [], session is not None)

    def _fill_timeline(self) -> None:
        table = self.query_one("#agent-timeline", DataTable)
        cursor = table.cursor_row
        table.clear()
        for i, step in enumerate(self.steps):
            what = step["text"]
            if step.get("error"):
                what = f"{what} — {display_text(step['error'])}" if what else step["error"]
            result = step["status"] or ""
            table.add_row(
                fmt_when(step["at"], with_date=False),
                clipped(step["label"], KIND_STYLE.get(step["kind"], "")),
                number(fmt_ms(step["duration_ms"]) if step["kind"] == "tool" else ""),
                Text(result, style=RESULT_STYLE.get(result, "")),
                clipped(display_text(what), "red" if step["status"] == "failed" else ""),
                key=str(i),
            )
        if self.steps:
            table.move_cursor(row=min(max(cursor, 0), len(self.steps) - 1), animate=False)
        tools = sum(1 for s in self.steps if s["kind"] == "tool")
        failed = sum(1 for s in self.steps if s["status"] == "failed")
        timed = [s["duration_ms"] for s in self.steps if s["duration_ms"] is not None]
        label = "Timeline"
        if self.steps:
            label += f" · {len(self.steps)} steps · {tools} tools, {failed} failed"
            if timed:
                label += f" · {fmt_ms(sum(timed))} ms"
        self.query_one("#agent-timeline-title", Label).update(label)
        self.call_after_refresh(self._fit_columns)

    def _show_advice(self, advice: list[dict[str, Any]], have_session: bool) -> None:
        title = self.query_one("#agent-advice-title", Label)
        body = self.query_one("#agent-advice", Static)
        if not advice:
            title.update("Advice · none injected" if have_session else "Advice")
            body.update("")
            body.display = False
            return
        hub = sum(a["hub_items"] for a in advice)
        applied = sum(a["applied_items"] for a in advice)
        title.update(
            f"Advice · {plural(len(advice), 'injection')} · {applied} of "
            f"{plural(hub, 'hub item')} reported applied since"
        )
        body.update(Text("\n").join(advice_lines(advice)))
        body.display = True

    def _draw_charts(self, usage: list[dict[str, Any]]) -> None:
        top = usage[:CHART_TOOLS]
        names = [display_text(r["tool"], 10) for r in top]
        calls = self.query_one("#agents-tool-usage", PlotextPlot)
        plt = calls.plt
        plt.clear_data()
        plt.clear_figure()
        if top:
            total = sum(r["calls"] for r in usage)
            counts = [r["calls"] for r in top]
            plt.bar(names[::-1], counts[::-1], orientation="horizontal", width=0.4, color="blue")
            step = max(1, -(-max(counts) // 3))  # whole numbers, at most four ticks
            ticks = list(range(0, max(counts) + step, step))
            plt.xticks(ticks, [str(t) for t in ticks])
            plt.title(f"Tool calls · {total}")
        else:
            plt.title("Tool calls · none yet")
        calls.refresh()
        rate = self.query_one("#agents-failure-rate", PlotextPlot)
        plt = rate.plt
        plt.clear_data()
        plt.clear_figure()
        measured = [
            (n, r) for n, r in zip(names, top, strict=True) if r["failure_rate"] is not None
        ]
        if measured:
            failed = sum(r["failed"] for r in usage)
            finished = sum(r["failed"] + r["ok"] for r in usage)
            plt.bar([n for n, _ in measured][::-1],
                    [r["failure_rate"] * 100 for _, r in measured][::-1],
                    orientation="horizontal", width=0.4, color="red")  # fmt: skip
            plt.xlim(0, 100)
            plt.xticks([0, 50, 100])
            plt.title(f"Failed % · {failed}/{finished}")
        else:
            plt.title("Failed % · no finished calls")
        rate.refresh()

    # -- selection and keys --------------------------------------------------------------

    @on(DataTable.RowHighlighted, "#agents-sessions")
    def _session_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.cursor_row != event.data_table.cursor_row or event.row_key.value is None:
            return
        session_id = int(event.row_key.value)
        self.follow_head = event.cursor_row == 0
        if session_id != self.selected:
            self.selected = session_id
            self.request_detail()

    @on(DataTable.RowSelected, "#agents-sessions")
    def _session_chosen(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is None:
            return
        chosen = int(event.row_key.value)
        self.follow_head = event.cursor_row == 0
        if chosen != self.selected:
            self.selected = chosen
            self.request_detail()
        self.add_class("drilled")
        self.query_one("#agent-timeline", DataTable).focus()
        self.call_after_refresh(self._fit_columns)  # the session was hidden when narrow

    @on(DataTable.RowSelected, "#agent-timeline")
    def _step_chosen(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is None:
            return
        index = int(event.row_key.value)
        if 0 <= index < len(self.steps):
            self.app.push_screen(ReportScreen(step_markdown(self.steps[index])))

    def _filtering(self) -> bool:
        return bool(self.query_one("#agents-filter", Input).display or self.query_text)

    def action_filter(self) -> None:
        self.remove_class("drilled")
        field = self.query_one("#agents-filter", Input)
        field.display = True
        field.focus()

    def action_back(self) -> None:
        if self._filtering() and not self.has_class("drilled"):
            field = self.query_one("#agents-filter", Input)
            field.value, field.display, self.query_text = "", False, ""
            self._apply_filter()
        self.remove_class("drilled")
        self.query_one("#agents-sessions", DataTable).focus()
        self.call_after_refresh(self._fit_columns)

    @on(Input.Changed, "#agents-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.query_text = event.value.strip()
        self._apply_filter()

    def _apply_filter(self) -> None:
        before = self.selected
        self.selected = pick_session(self.sessions, self.query_text, self.selected, False)
        self._fill_sessions()
        if self.selected != before:
            self.request_detail()

    @on(Input.Submitted, "#agents-filter")
    def _filter_done(self) -> None:
        self.query_one("#agents-sessions", DataTable).focus()

    def action_errors(self) -> None:
        try:
            with self.app.engine.guard():  # type: ignore[attr-defined]
                errors = self.agents.recording_errors(limit=50)
        except ENGINE_ERRORS as exc:
            self.notify(str(exc), severity="error")
            return
        self.app.push_screen(ReportScreen(errors_markdown(errors, self.overview["errors"])))

    def action_purge(self) -> None:
        """Forget the selected session for good, after an explicit yes (agents/purge.py)."""
        session = self._session()
        if session is None:
            self.notify("no session selected", severity="warning")
            return
        external = session["external_id"]

        def answered(yes: bool | None) -> None:
            if yes:
                self._purge_worker(external)

        self.app.push_screen(
            ConfirmScreen(
                f"Purge session {display_text(external, 60)} and everything derived from it "
                "(events, tool calls, advice, episodes, executions, pattern and experience "
                "rows)? The database is then compacted so no copy of its text is left. "
                "This cannot be undone.",
                yes_label="Purge",
            ),
            answered,
        )

    @work(thread=True, exclusive=True, exit_on_error=False, group="agents-purge")
    def _purge_worker(self, external: str) -> None:
        try:
            with self.app.engine.guard():  # type: ignore[attr-defined]
                report = self.agents.purge(session=external)
        except ENGINE_ERRORS as exc:
            self.app.call_from_thread(self.notify, str(exc), severity="error")
            return
        removed = sum(report.rows.values())
        self.app.call_from_thread(self.refresh_data, None)  # also without a change feed
        self.app.call_from_thread(
            self.notify,
            f"purged {len(report.sessions)} session(s), {removed} rows",
            markup=False,
        )
