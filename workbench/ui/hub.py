"""Hub: channels with the chosen agent's subscriptions, knowledge items by priority and
popularity, the selected item with its usage, state and version history; share, vote and
mark applied; the adaptive strategy and the optimizer's recommendations on the side.

Every figure comes from the engine; the pane formats it. Writes go through the engine and
the pane redraws from the store, so an agent writing from another process shows up live.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import DataTable, Label, Static

from workbench.store.errors import StoreError
from workbench.ui.pane import Pane
from workbench.ui.safe import esc, plain
from workbench.ui.screens.hub_share import HubShareDialog
from workbench.ui.widgets.fill_table import FillTable
from workbench.ui.widgets.hub_advice import HubAdvice

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


def _short_time(iso: str | None) -> str:
    return "—" if not iso else iso[:16].replace("T", " ")


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
        "| `tab` | move between channels and items |"
    )
    BINDINGS = [
        Binding("a", "next_agent", "Agent", id="hub.agent"),
        Binding("s", "toggle_subscription", "Subscribe", id="hub.subscribe"),
        Binding("n", "share", "Share", id="hub.share"),
        Binding("v", "vote", "Vote useful", id="hub.vote"),
        Binding("p", "applied_worked", "Applied ✓", id="hub.applied_worked"),
        Binding("f", "applied_failed", "Applied ✗", id="hub.applied_failed"),
    ]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.agents: list[str] = []
        self.agent: str | None = None
        self.channels: list[dict] = []
        self.channel: str | None = None  # None: every channel
        self.items: list[dict] = []
        self.selected: str | None = None

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
                with VerticalScroll(id="hub-detail-scroll"):
                    yield Static("", id="hub-detail")
            yield HubAdvice("", id="hub-advice")

    def on_mount(self) -> None:
        self.hand_back_focus_on_leave()
        super().on_mount()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # focus can linger here while another tab is shown: keys then belong to that tab
        return self._is_active_tab()

    def on_show(self) -> None:
        # the tab may become active only after Show arrives: focus once the switch settled
        self.call_after_refresh(self._focus_items)

    def _focus_items(self) -> None:
        if self._is_active_tab() and not self.query_one("#hub-channels", DataTable).has_focus:
            self.query_one("#hub-items", DataTable).focus()

    @property
    def engine(self):
        return self.app.engine  # type: ignore[attr-defined]

    # -- data --------------------------------------------------------------------------

    def refresh_data(self, changed: set[str] | None = None) -> None:
        try:
            with self.engine.guard():
                if changed is None or changed & HUB_TABLES:
                    self._load_hub()
                if changed is None or changed & ADAPTIVE_TABLES:
                    self._load_advice()
        except ENGINE_ERRORS as exc:
            self.notify(str(exc), severity="error")

    def _load_hub(self) -> None:
        hub = self.engine.hub
        self.agents = hub.agents()
        if self.agent not in self.agents:
            self.agent = self.agents[0] if self.agents else None
        self.channels = hub.channels(self.agent)
        if self.channel not in {c["name"] for c in self.channels}:
            self.channel = None
        self._fill_channels()
        self._load_items()
        counts = hub.state_counts()
        self.query_one("#hub-states", Static).update(
            Text("\n").join(
                Text.assemble((f"{n:>4} ", "bold"), (state.lower(), STATE_STYLE[state]))
                for state, n in counts.items()
            )
        )

    def _load_advice(self) -> None:
        adaptive = self.engine.adaptive
        self.query_one(HubAdvice).show(
            adaptive.strategy_table(), adaptive.statistics(), adaptive.perf_report()
        )

    def _fill_channels(self) -> None:
        table = self.query_one("#hub-channels", DataTable)
        table.clear()
        total = sum(c["items"] for c in self.channels)
        table.add_row("", Text("all channels", style="bold"), str(total), key=ALL_CHANNELS)
        for c in self.channels:
            mark = Text("✓", style="green") if c["subscribed"] else ""
            table.add_row(mark, plain(c["name"]), str(c["items"]), key=c["name"])
        table.move_cursor(row=table.get_row_index(self.channel or ALL_CHANNELS), animate=False)
        agent = self.agent or "no agent yet"
        self.query_one("#hub-channels-title", Label).update(f"Channels · ✓ {esc(agent)}")

    def _load_items(self) -> None:
        self.items = self.engine.hub.items(self.channel)
        table = self.query_one("#hub-items", DataTable)
        table.clear()
        for i in self.items:
            table.add_row(
                Text(PRIORITY_SHORT[i["priority"]], style=PRIORITY_STYLE[i["priority"]]),
                Text(STATE_SHORT[i["state"]], style=STATE_STYLE[i["state"]]),
                plain(i["title"]),
                str(i["useful_votes"]),
                str(i["applied_count"]),
                key=i["id"],
            )
        ids = [i["id"] for i in self.items]
        if self.selected not in ids:
            self.selected = ids[0] if ids else None
        if self.selected is not None:
            table.move_cursor(row=table.get_row_index(self.selected), animate=False)
        where = self.channel or "all channels"
        self.query_one("#hub-items-title", Label).update(f"Items · {esc(where)} · {len(ids)}")
        self._show_detail()

    def _show_detail(self) -> None:
        detail = self.query_one("#hub-detail", Static)
        if self.selected is None:
            detail.update("No items here yet: press n to share one.")
            return
        try:
            with self.engine.guard():
                item = self.engine.hub.item(self.selected)
        except ENGINE_ERRORS as exc:  # deleted meanwhile (another process pruned it)
            detail.update(plain(exc))
            return
        detail.update(item_detail(item))

    @on(DataTable.RowHighlighted, "#hub-channels")
    def _channel_highlighted(self, event: DataTable.RowHighlighted) -> None:
        key = event.row_key.value
        channel = None if key in (None, ALL_CHANNELS) else key
        if channel != self.channel:
            self.channel = channel
            try:
                with self.engine.guard():
                    self._load_items()
            except ENGINE_ERRORS as exc:
                self.notify(str(exc), severity="error")

    @on(DataTable.RowHighlighted, "#hub-items")
    def _item_highlighted(self, event: DataTable.RowHighlighted) -> None:
        key = event.row_key.value
        if key is not None and key != self.selected:
            self.selected = key
            self._show_detail()

    def select_item(self, uid: str) -> None:
        """Select an item in the list (tests and the share dialog's result use it)."""
        table = self.query_one("#hub-items", DataTable)
        if uid not in {i["id"] for i in self.items}:
            self.channel = None
            self._fill_channels()
            self._load_items()
        table.move_cursor(row=table.get_row_index(uid), animate=False)
        self.selected = uid
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
