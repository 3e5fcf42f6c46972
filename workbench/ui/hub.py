"""Hub: channels with the chosen agent's subscriptions, knowledge items by priority and
popularity, the selected item with its usage, state and version history; share, vote and
mark applied; the adaptive strategy and the optimizer's recommendations on the side.

Every figure comes from the engine; the pane formats it. Writes go through the engine and
the pane redraws from the store, so an agent writing from another process shows up live.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widget import Widget
from textual.widgets import DataTable, Label, Static
from textual.worker import Worker, WorkerState

from workbench.store.errors import StoreError
from workbench.ui.pane import Pane
from workbench.ui.safe import esc, plain
from workbench.ui.screens.hub_share import HubShareDialog
from workbench.ui.widgets.fill_table import FillTable
from workbench.ui.widgets.hub_advice import HubAdvice
from workbench.ui.widgets.hub_inbox import HubInbox
from workbench.ui.widgets.hub_search import HubSearch
from workbench.ui.widgets.quiet import show

HUB_TABLES = frozenset(
    {
        "channels",
        "subscriptions",
        "knowledge_items",
        "knowledge_versions",
        "knowledge_votes",
        "knowledge_applications",
        "knowledge_deliveries",
    }
)
ADAPTIVE_TABLES = frozenset({"adaptive_decisions", "adaptive_outcomes", "agent_executions"})
ENGINE_ERRORS = (StoreError, ValueError, OSError)
ALL_CHANNELS = "*all*"
PRIORITY_STYLE = {"CRITICAL": "bold red", "HIGH": "yellow", "MEDIUM": "", "LOW": "dim"}
PRIORITY_SHORT = {"CRITICAL": "CRIT", "HIGH": "HIGH", "MEDIUM": "MED", "LOW": "LOW"}
STATE_STYLE = {"VALIDATED": "green", "DEPRECATED": "red", "ARCHIVED": "dim", "EXPERIMENTAL": ""}
STATE_SHORT = {
    "EXPERIMENTAL": "exp",
    "VALIDATED": "valid",
    "DEPRECATED": "depr",
    "ARCHIVED": "arch",
}
ITEM_ROW = ("priority", "state", "title", "useful_votes", "applied_count")  # the list's cells
SEARCH_LIMIT = 50  # the pane shows more than the CLI's default 10, in the same order


def _short_time(iso: str | None) -> str:
    return "—" if not iso else iso[:16].replace("T", " ")


def _priority(item: dict) -> Text:
    return Text(PRIORITY_SHORT[item["priority"]], style=PRIORITY_STYLE[item["priority"]])


def result_cells(item: dict) -> list[Text | str]:
    """A query result's row: priority, title, channel, relevance as the CLI prints it."""
    return [
        _priority(item),
        plain(item["title"]),
        plain(item["channel"]),
        Text(f"{item['score']:.2f}", justify="right"),
    ]


def delivery_cells(d: dict) -> list[Text | str]:
    """An inbox row: unread mark, priority, title, when, what the agent did with it
    (★ voted useful, n✓ applied and worked, n✗ applied and failed, n? no outcome); the
    detail below shows the rest (state, sender, content)."""
    used = ["★"] if d["voted"] else []
    unknown = d["applied"] - d["worked"] - d["failed"]
    for n, mark in ((d["worked"], "✓"), (d["failed"], "✗"), (unknown, "?")):
        if n:
            used.append(f"{n}{mark}")
    return [
        Text("" if d["read"] else "●", style="bold"),
        _priority(d),
        plain(d["title"], style="" if d["read"] else "bold"),
        _short_time(d["delivered"])[5:],
        " ".join(used) or "—",
    ]


def _item_or_error(engine: Any, uid: str | None) -> dict | Exception | None:
    """One item for the detail view, or the one-line error of a failed read (an item
    another process deleted meanwhile); runs in the hub read's worker too."""
    if uid is None:
        return None
    try:
        with engine.guard():
            return engine.hub.item(uid)
    except ENGINE_ERRORS as exc:
        return exc


class SearchDone(Message):
    """Results of one query, from the search worker (a newer query replaces it)."""

    def __init__(self, text: str, results: list[dict]) -> None:
        super().__init__()
        self.text = text
        self.results = results

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, SearchDone)


def item_detail(item: dict) -> Text:
    """The selected item: what it says, how it was used, why it is in its state, versions."""
    rate = "" if item["success_rate"] is None else f" · {item['success_rate']:.0%}"
    lines = [
        Text(item["title"], style="bold"),
        Text.assemble(
            (item["priority"], PRIORITY_STYLE[item["priority"]]),
            " · ",
            (item["state"], STATE_STYLE[item["state"]]),
            f" · {item['type']} on {item['channel']} · by {item['source_agent'] or '—'}"
            f" · v{item['version']} · {item['id']}",
        ),
        Text(
            f"useful {item['useful_votes']} · applied {item['applied_count']} "
            f"({item['success_count']} worked, {item['failure_count']} failed{rate}) · "
            f"views {item['views']} · delivered to {item['delivered']}",
            style="dim",
        ),
        Text(item["state_note"], style="italic dim"),
        Text(""),
        Text(item["content"]),
    ]
    if item["tags"]:
        lines.append(Text.assemble(("tags ", "dim"), ", ".join(item["tags"])))
    if item["voters"]:
        lines.append(Text.assemble(("voted useful ", "dim"), ", ".join(item["voters"])))
    lines.append(Text(""))
    lines.append(Text(f"Versions · {len(item['versions'])}", style="bold"))
    for v in item["versions"]:
        lines.append(
            Text.assemble(
                (f"v{v['version']}", "bold"),
                f"  {_short_time(v['created'])}  ",
                (v["change_note"] or "—", "dim"),
            )
        )
    return Text("\n").join(lines)


class HubPane(Pane):
    TITLE = "Hub"
    TABLES = HUB_TABLES | ADAPTIVE_TABLES
    HELP = (
        "Channels on the left, with ✓ where the chosen agent is subscribed; knowledge items "
        "of the highlighted channel by priority, then popularity (useful votes + "
        "applications); the selected item with its usage, state and version history. The "
        "side panel shows which execution strategy the adaptive strategy would pick at each "
        "complexity (P(best) from the Beta posteriors of recorded outcomes) and the "
        "performance optimizer's recommendations with their priority (1–10) and the "
        "improvement measured from recorded executions.\n\n"
        "Items validate at ≥ 5 reported uses with ≥ 80% success and are deprecated below "
        "40%; `workbench hub prune` archives stale ones.\n\n"
        "| key | action |\n|---|---|\n"
        "| `a` | choose the next agent (subscriptions, votes and applications are its) |\n"
        "| `s` | subscribe the agent to the highlighted channel, or unsubscribe it |\n"
        "| `n` | share an item (dialog); it is delivered to the channel's subscribers |\n"
        "| `v` | vote the selected item useful (once per agent) |\n"
        "| `p` | mark the selected item applied, and that it worked |\n"
        "| `f` | mark the selected item applied, and that it failed |\n"
        "| `/` | search: results ranked exactly as `workbench hub query` ranks them (the "
        "store's full-text index; words only, so `\"`, `*`, `NEAR(` are searched as text); "
        "`enter` shows a result (and counts a view, as `hub show` does); `esc` puts the "
        "list back |\n"
        "| `i` | inbox: what was delivered to the chosen agent (`hub inbox --all`), newest "
        "first, ● unread, ★ voted, ✓/✗ applied; `a` picks the agent; `i` or `esc` goes back |\n"
        "| `m` | in the inbox: mark the highlighted delivery read |\n"
        "| `tab` | move between channels and items |"
    )
    BINDINGS = [
        Binding("a", "next_agent", "Agent", id="hub.agent"),
        Binding("s", "toggle_subscription", "Subscribe", id="hub.subscribe"),
        Binding("n", "share", "Share", id="hub.share"),
        Binding("v", "vote", "Vote useful", id="hub.vote"),
        Binding("p", "applied_worked", "Applied ✓", id="hub.applied_worked"),
        Binding("f", "applied_failed", "Applied ✗", id="hub.applied_failed"),
        Binding("slash", "search", "Search", id="hub.search"),
        Binding("i", "inbox", "Inbox", id="hub.inbox"),
        Binding("m", "mark_read", "Mark read", id="hub.mark_read"),
        Binding("escape", "close_view", "Back", id="hub.back"),
    ]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.agents: list[str] = []
        self.agent: str | None = None
        self.channels: list[dict] = []
        self.channel: str | None = None  # None: every channel
        self.items: list[dict] = []
        self._row_cells: dict[str, tuple[tuple, list]] = {}  # item id -> (shown, cells)
        self.selected: str | None = None
        self.view = "items"  # or "search" (the query box) or "inbox" (an agent's deliveries)
        self.results: list[dict] = []
        self.results_for: str | None = None  # the query whose results are shown
        self.deliveries: list[dict] = []
        self._list_selection: str | None = None  # put back when search or inbox closes

    # -- layout ------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Horizontal():
            with Vertical(id="hub-left"):
                yield Label("Channels", id="hub-channels-title", classes="panel-title")
                channels = FillTable(
                    "channel", id="hub-channels", cursor_type="row", zebra_stripes=False
                )
                channels.add_column("", key="sub")
                channels.add_column("channel", key="channel")
                channels.add_column("n", key="items")
                yield channels
                yield Label("Knowledge base", classes="panel-title")
                yield Static("", id="hub-states")
            with Vertical(id="hub-center"):
                yield Label("Items", id="hub-items-title", classes="panel-title")
                items = FillTable("title", id="hub-items", cursor_type="row", zebra_stripes=True)
                items.add_column("prio", key="priority")
                items.add_column("state", key="state")
                items.add_column("title", key="title")
                items.add_column("use", key="useful")
                items.add_column("app", key="applied")
                yield items
                yield HubSearch(id="hub-search")
                yield HubInbox(id="hub-inbox-view")
                with VerticalScroll(id="hub-detail-scroll"):
                    yield Static("", id="hub-detail")
            yield HubAdvice("", id="hub-advice")

    def on_mount(self) -> None:
        self.hand_back_focus_on_leave()
        super().on_mount()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # focus can linger here while another tab is shown: keys then belong to that tab
        if not self._is_active_tab():
            return False
        if action == "mark_read":
            return self.view == "inbox"  # shown in the footer only there
        if action == "close_view":
            return self.view != "items"
        return True

    def on_show(self) -> None:
        # the tab may become active only after Show arrives: focus once the switch settled
        self.call_after_refresh(self.focus_if_shown)

    def focus_default(self) -> Widget:
        shown = {"search": "#hub-results", "inbox": "#hub-inbox"}.get(self.view, "#hub-items")
        return self.query_one(shown, DataTable)

    @property
    def engine(self):
        return self.app.engine  # type: ignore[attr-defined]

    # -- data --------------------------------------------------------------------------

    def refresh_data(self, changed: set[str] | None = None) -> None:
        """Reads run in workers (`Pane.load`): at 10k items the hub read alone takes
        longer than a frame. The tables then change only where the rows did."""
        if changed is None or changed & HUB_TABLES:
            self._load_hub()
            if self.view == "search":
                self._search(self.query_one(HubSearch).text)
            elif self.view == "inbox":
                self._load_inbox()
        if changed is None or changed & ADAPTIVE_TABLES:
            self._load_advice()

    def _load_hub(self) -> None:
        engine, agent, channel = self.engine, self.agent, self.channel
        hub = engine.hub
        chosen = self.selected if self.view == "items" else self._list_selection

        def read() -> dict[str, Any]:
            agents = hub.agents()
            who = agent if agent in agents else (agents[0] if agents else None)
            channels = hub.channels(who)
            where = channel if channel in {c["name"] for c in channels} else None
            items = hub.items(where)
            ids = {i["id"] for i in items}
            pick = chosen if chosen in ids else (items[0]["id"] if items else None)
            return {
                "agents": agents, "agent": who, "channels": channels, "channel": where,
                "asked": channel, "items": items, "states": hub.state_counts(),
                "detail": _item_or_error(engine, pick),
            }  # fmt: skip

        self.load("hub", read, self._apply_hub)

    def _apply_hub(self, data: dict[str, Any]) -> None:
        """On the UI thread: fill from a finished read. If the user moved to another
        channel or agent meanwhile, a newer read is queued; this one fills what it can
        without moving the cursor back."""
        self.agents = data["agents"]
        if self.agent not in self.agents or self.agent == data["agent"]:
            self.agent = data["agent"]
        current = self.channel == data["asked"]
        if current:
            self.channel = data["channel"]
        self.channels = data["channels"]
        self._fill_channels()
        if current:
            self._fill_items(data["items"], data["detail"])
        show(
            self.query_one("#hub-states", Static),
            Text("\n").join(
                Text.assemble((f"{n:>4} ", "bold"), (state.lower(), STATE_STYLE[state]))
                for state, n in data["states"].items()
            ),
        )

    def _load_advice(self) -> None:
        adaptive = self.engine.adaptive

        def read() -> tuple:
            return adaptive.strategy_table(), adaptive.statistics(), adaptive.perf_report()

        self.load("advice", read, lambda shown: self.query_one(HubAdvice).show(*shown))

    def _fill_channels(self) -> None:
        table = self.query_one("#hub-channels", FillTable)
        total = sum(c["items"] for c in self.channels)
        rows: list[tuple[str, list]] = [
            (ALL_CHANNELS, ["", Text("all channels", style="bold"), str(total)])
        ]
        for c in self.channels:
            mark = Text("✓", style="green") if c["subscribed"] else ""
            rows.append((c["name"], [mark, plain(c["name"]), str(c["items"])]))
        table.sync(rows, cursor=self.channel or ALL_CHANNELS)
        agent = self.agent or "no agent yet"
        show(self.query_one("#hub-channels-title", Label), f"Channels · ✓ {esc(agent)}")

    def _load_items(self) -> None:
        """Read the highlighted channel's items (a worker) and show them."""
        self._load_hub()

    def _fill_items(self, items: list[dict], detail: dict | Exception | None) -> None:
        self.items = items
        table = self.query_one("#hub-items", FillTable)
        table.sync([(i["id"], self._item_cells(i)) for i in items])
        self._row_cells = {i["id"]: self._row_cells[i["id"]] for i in items}  # shown only
        ids = [i["id"] for i in items]
        # while search or the inbox covers the list, the detail shows their item: the
        # list keeps its own selection aside until it is shown again
        chosen = self.selected if self.view == "items" else self._list_selection
        if chosen not in ids:
            chosen = ids[0] if ids else None
        if chosen is not None:
            table.move_cursor(row=table.get_row_index(chosen), animate=False)
        where = self.channel or "all channels"
        show(self.query_one("#hub-items-title", Label), f"Items · {esc(where)} · {len(ids)}")
        if self.view == "items":
            self.selected = chosen
            if isinstance(detail, dict) and detail.get("id") == chosen:
                self._show_item(detail)
            else:
                self._show_detail()
        else:
            self._list_selection = chosen

    def _item_cells(self, item: dict) -> list:
        """An item's row in the list. The same cells object comes back while what the row
        shows is unchanged, so a refresh after one commit builds one row, not 500
        (`FillTable.sync` skips comparing cells it was handed before)."""
        shown = tuple(item[k] for k in ITEM_ROW)
        cached = self._row_cells.get(item["id"])
        if cached is not None and cached[0] == shown:
            return cached[1]
        priority, state, title, votes, applied = shown
        cells = [
            Text(PRIORITY_SHORT[priority], style=PRIORITY_STYLE[priority]),
            Text(STATE_SHORT[state], style=STATE_STYLE[state]),
            plain(title),
            str(votes),
            str(applied),
        ]
        self._row_cells[item["id"]] = (shown, cells)
        return cells

    def _show_detail(self) -> None:
        if self.selected is None:
            self._show_item(None)
            return
        self._show_item(_item_or_error(self.engine, self.selected))

    def _show_item(self, item: dict | Exception | None) -> None:
        detail = self.query_one("#hub-detail", Static)
        if item is None:
            show(detail, "No items here yet: press n to share one.")
        elif isinstance(item, Exception):  # deleted meanwhile (another process pruned it)
            show(detail, plain(item))
        else:
            show(detail, item_detail(item))

    @on(DataTable.RowHighlighted, "#hub-channels")
    def _channel_highlighted(self, event: DataTable.RowHighlighted) -> None:
        key = event.row_key.value
        channel = None if key in (None, ALL_CHANNELS) else key
        if channel != self.channel:
            self.channel = channel
            self._load_items()

    @on(DataTable.RowHighlighted, "#hub-items")
    def _item_highlighted(self, event: DataTable.RowHighlighted) -> None:
        key = event.row_key.value
        if self.view == "items" and key is not None and key != self.selected:
            self.selected = key
            self._show_detail()

    def select_item(self, uid: str) -> None:
        """Select an item in the list (tests and the share dialog's result use it); an item
        of another channel shows all channels (once the read is done)."""
        self.selected = uid
        if uid not in {i["id"] for i in self.items}:
            self.channel = None
            self._load_items()
            return
        table = self.query_one("#hub-items", DataTable)
        table.move_cursor(row=table.get_row_index(uid), animate=False)
        self._show_detail()

    # -- actions -----------------------------------------------------------------------

    def _write(self, call, done: str | None = None) -> Any:
        """Run an engine write; show a one-line error or `done`, then redraw."""
        try:
            with self.engine.guard():
                result = call()
        except ENGINE_ERRORS as exc:
            self.notify(str(exc), severity="warning")
            return None
        if done:
            self.notify(done)
        self.refresh_data(set(HUB_TABLES))  # hub writes leave the side panel as it is
        return result

    def action_next_agent(self) -> None:
        if not self.agents:
            self.notify("no agents yet: share an item or subscribe one (CLI: hub subscribe)")
            return
        index = self.agents.index(self.agent) if self.agent in self.agents else -1
        self.agent = self.agents[(index + 1) % len(self.agents)]
        self.refresh_data({"subscriptions"})

    def action_toggle_subscription(self) -> None:
        if self.agent is None:
            self.notify("no agent chosen", severity="warning")
            return
        if self.channel is None:
            self.notify("highlight a channel first (not all channels)", severity="warning")
            return
        agent, channel = self.agent, self.channel
        on_now = self._write(lambda: self.engine.hub.toggle_subscription(agent, channel))
        if on_now is not None:
            verb = "subscribed to" if on_now else "unsubscribed from"
            self.notify(f"{agent} {verb} {channel}")

    def action_share(self) -> None:
        names = [c["name"] for c in self.channels]

        def share(values: dict) -> dict:
            with self.engine.guard():
                return self.engine.hub.share(
                    values["channel"],
                    values["type"],
                    values["title"],
                    values["content"],
                    priority=values["priority"],
                    tags=values["tags"],
                    agent=values["agent"],
                    broadcast=values["broadcast"],
                )

        dialog = HubShareDialog(names, share, channel=self.channel, agent=self.agent or "")
        self.app.push_screen(dialog, self._shared)

    def _shared(self, result: dict | None) -> None:
        if result is None:
            return
        who = len(result["delivered_to"])
        self.notify(f"shared {result['id']} on {result['channel']}; delivered to {who} agents")
        self.refresh_data(set(HUB_TABLES))
        self.select_item(result["id"])

    def _selected_for(self, what: str) -> tuple[str, str] | None:
        if self.selected is None or self.agent is None:
            self.notify(f"select an item and an agent to {what}", severity="warning")
            return None
        return self.selected, self.agent

    def action_vote(self) -> None:
        chosen = self._selected_for("vote")
        if chosen:
            uid, agent = chosen
            self._write(lambda: self.engine.hub.vote(uid, agent), f"{agent} voted {uid} useful")

    def _applied(self, worked: bool) -> None:
        chosen = self._selected_for("mark it applied")
        if not chosen:
            return
        uid, agent = chosen
        item = self._write(lambda: self.engine.hub.mark_applied(uid, agent, worked))
        if item is not None:
            outcome = "worked" if worked else "failed"
            change = (
                f"; {item['previous_state']} → {item['state']}"
                if item["previous_state"] != item["state"]
                else ""
            )
            self.notify(f"{agent} applied {uid}: {outcome}{change}")

    def action_applied_worked(self) -> None:
        self._applied(True)

    def action_applied_failed(self) -> None:
        self._applied(False)

    # -- search and inbox --------------------------------------------------------------

    def _cover_list(self, view: str) -> None:
        """Show search or the inbox where the item list is; remember the list's item."""
        if self.view == "items":
            self._list_selection = self.selected
        self.view = view
        for widget_id in ("#hub-items-title", "#hub-items"):
            self.query_one(widget_id).display = False
        self.query_one(HubSearch).display = view == "search"
        self.query_one(HubInbox).display = view == "inbox"
        self.refresh_bindings()

    def action_close_view(self) -> None:
        """Back to the item list, with the item it had selected."""
        if self.view == "items":
            return
        self.view = "items"
        self.query_one(HubSearch).display = False
        self.query_one(HubInbox).display = False
        for widget_id in ("#hub-items-title", "#hub-items"):
            self.query_one(widget_id).display = True
        self.selected = self._list_selection
        self.refresh_bindings()
        self._load_items()
        self.query_one("#hub-items", DataTable).focus()

    def action_search(self) -> None:
        search = self.query_one(HubSearch)
        first = self.view != "search"
        self._cover_list("search")
        search.open()
        if first:
            self._search(search.text)

    @on(HubSearch.Changed)
    def _query_changed(self, event: HubSearch.Changed) -> None:
        self._search(event.text)

    def _search(self, text: str) -> None:
        if not text.strip():  # nothing typed: no call, a hint
            self._show_results(text, [])
            return
        self.run_search(text)

    @work(thread=True, exclusive=True, exit_on_error=False, group="hub-search")
    def run_search(self, text: str) -> None:
        """`hub.query` as `workbench hub query TEXT` calls it (same ranking and filters;
        views are counted when a result is opened, not per keystroke)."""
        with self.engine.guard():
            results = self.engine.hub.query(text, limit=SEARCH_LIMIT, count_views=False)
        self.post_message(SearchDone(text, results))

    @on(Worker.StateChanged)
    def _search_failed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "hub-search" and event.state == WorkerState.ERROR:
            self.notify(str(event.worker.error), severity="error")

    @on(SearchDone)
    def _search_done(self, message: SearchDone) -> None:
        search = self.query_one(HubSearch)
        if self.view == "search" and message.text == search.text:  # else a newer one runs
            self._show_results(message.text, message.results)

    def _show_results(self, text: str, results: list[dict]) -> None:
        self.results, self.results_for = results, text
        self.query_one(HubSearch).show(text, [(r["id"], result_cells(r)) for r in results])

    @on(HubSearch.Chosen)
    def _result_chosen(self, event: HubSearch.Chosen) -> None:
        self.selected = event.uid
        try:
            with self.engine.guard():
                self.engine.hub.item(event.uid, count_view=True)
        except ENGINE_ERRORS as exc:  # deleted meanwhile
            self.notify(str(exc), severity="warning")
        self._show_detail()

    @on(HubSearch.Closed)
    def _search_closed(self) -> None:
        self.action_close_view()

    def action_inbox(self) -> None:
        if self.view == "inbox":
            self.action_close_view()
            return
        self._cover_list("inbox")
        self.selected = None
        self._load_inbox()
        self.query_one(HubInbox).table.focus()

    def _load_inbox(self) -> None:
        hub, agent = self.engine.hub, self.agent
        read = lambda: (agent, hub.deliveries(agent) if agent else [])  # noqa: E731
        self.load("inbox", read, self._fill_inbox)

    def _fill_inbox(self, read: tuple[str | None, list[dict]]) -> None:
        agent, deliveries = read
        if self.view != "inbox" or agent != self.agent:  # closed, or a newer read is queued
            return
        self.deliveries = deliveries
        ids = [d["id"] for d in self.deliveries]
        if self.selected not in ids:
            self.selected = ids[0] if ids else None
        unread = sum(1 for d in self.deliveries if not d["read"])
        rows = [(d["id"], delivery_cells(d)) for d in self.deliveries]
        self.query_one(HubInbox).show(self.agent, rows, unread, self.selected)
        if self.selected is None:
            who = self.agent or "no agent"
            text = f"Nothing delivered to {who} yet: subscribe it to a channel (s) to receive."
            self.query_one("#hub-detail", Static).update(plain(text))
        else:
            self._show_detail()

    @on(DataTable.RowHighlighted, "#hub-inbox")
    def _delivery_highlighted(self, event: DataTable.RowHighlighted) -> None:
        key = event.row_key.value
        if self.view == "inbox" and key is not None and key != self.selected:
            self.selected = key
            self._show_detail()

    def action_mark_read(self) -> None:
        if self.view != "inbox" or self.selected is None or self.agent is None:
            self.notify("open the inbox (i) and highlight a delivery", severity="warning")
            return
        uid, agent = self.selected, self.agent
        if self._write(lambda: self.engine.hub.acknowledge(agent, [uid])) == 0:
            self.notify(f"{uid} was already read by {agent}")
