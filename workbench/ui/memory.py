"""Memory: the four tiers at a glance, vector search, the episodic timeline, semantic facts,
the working set, and consolidation on a key with its report.

Every figure comes from the memory service (`engine.memory`); the pane only formats it.
Writes by other processes show up through the change feed: the cards, the timeline and the
facts reload, and an active search runs again.

A search runs in a worker thread (at 100k memories it can take longer than a frame); while
it runs, the pane reads nothing else from the memory service — refreshes asked for
meanwhile, and a newer query, run when it is done — so the service is never used from two
threads of this pane at once.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import DataTable, Input, Label, Static

from workbench.store.errors import StoreError
from workbench.ui.pane import Pane
from workbench.ui.safe import esc, plain
from workbench.ui.screens.model_dialogs import ReportScreen
from workbench.ui.widgets.fill_table import FillTable

MEMORY_TABLES = frozenset({"vector_memory", "episodic_memory", "semantic_memory", "memory_events"})
ENGINE_ERRORS = (StoreError, ValueError, OSError)
SCHEDULE_CHECK_S = 60.0
# Fixed text columns (scroll right for more): auto widths settle only after a repaint.
TEXT_WIDTH = 160
NO_QUERY = "Results · press / and type a query"
OUTCOME_STYLE = {"success": "green", "failure": "red", "neutral": "dim"}


def human_bytes(n: int | None) -> str:
    if not n:
        return "0 B"
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"


def ms(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} ms"


def clip(text: str, width: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: width - 1] + "…"


def fact_confidence(fact: dict[str, Any]) -> Text:
    """A confidence nobody gave or measured says "default", not the prior's value."""
    if not fact["confidence_given"]:
        return Text("default", style="dim")
    return Text(f"{fact['confidence']:.2f}")


# Four cards of 26 columns of text, each with a border and padding, need 120 columns;
# below that they switch to the 18-column layout (four share 80 columns).
NARROW_CARDS_BELOW = 120


def card_texts(stats: dict[str, Any], narrow: bool = False) -> dict[str, Text]:
    """The four tier cards: a title line, then two lines of measured figures (26 columns;
    `narrow`: 18 columns, one figure per line so no number is split across lines)."""
    if narrow:
        return narrow_card_texts(stats)
    v, e, s, w = stats["vector"], stats["episodic"], stats["semantic"], stats["working"]
    ratio = v["compression_ratio"]
    vector = Text.assemble(
        ("Vector", "bold"), f" · {v['count']:,} · {human_bytes(v['bytes'])}\n",
        (f"{ratio:.2f}×" if ratio else "—", "bold"),
        f" vs f32 ({v['smaller_than_float32']:.0%} less)\n" if ratio else " vs f32\n",
        "p50 ", (ms(v["search_p50_ms"]), "bold"),
        f" · {v['searches']} search" + ("" if v["searches"] == 1 else "es"),
    )  # fmt: skip
    used = e["count"] / e["capacity"]
    episodic = Text.assemble(
        ("Episodic", "bold"), f" · {e['count']:,} · {human_bytes(e['bytes'])}\n",
        (f"{used:.0%}", "bold"), f" of {e['capacity']:,} capacity\n",
        f"max age {e['max_age_days']:g} days",
    )  # fmt: skip
    mean = s["mean_confidence"]
    semantic = Text.assemble(
        ("Semantic", "bold"), f" · {s['count']:,} · {human_bytes(s['bytes'])}\n",
        f"facts {s['facts']} · rules {s['rules']}\n",
        "mean confidence ", ("—" if mean is None else f"{mean:.2f}", "bold"),
    )  # fmt: skip
    rate = "—" if w["hit_rate"] is None else f"{w['hit_rate']:.0%}"
    working = Text.assemble(
        ("Working", "bold"), f" · {w['count']:,} · {human_bytes(w['bytes'])}\n",
        f"of {human_bytes(w['max_bytes'])} · session only\n",
        f"hits {w['hits']} · misses {w['misses']} · ", (rate, "bold"),
    )  # fmt: skip
    return {"vector": vector, "episodic": episodic, "semantic": semantic, "working": working}


def narrow_card_texts(stats: dict[str, Any]) -> dict[str, Text]:
    """The cards at 18 columns: count on the title line, size (and the headline ratio) on
    the second, one more figure on the third."""
    v, e, s, w = stats["vector"], stats["episodic"], stats["semantic"], stats["working"]
    ratio = v["compression_ratio"]

    def title(name: str, count: int) -> tuple:
        return (name, "bold"), f" · {count:,}\n"

    rate = "—" if w["hit_rate"] is None else f"{w['hit_rate']:.0%}"
    return {
        "vector": Text.assemble(
            *title("Vector", v["count"]), f"{human_bytes(v['bytes'])} · ",
            (f"{ratio:.2f}×" if ratio else "—", "bold"), "\n",
            "p50 ", (ms(v["search_p50_ms"]), "bold"),
        ),
        "episodic": Text.assemble(
            *title("Episodic", e["count"]), f"{human_bytes(e['bytes'])}\n",
            (f"{e['count'] / e['capacity']:.0%}", "bold"), f" of {e['capacity']:,}",
        ),
        "semantic": Text.assemble(
            *title("Semantic", s["count"]), f"{human_bytes(s['bytes'])}\n",
            f"{s['facts']} facts, {s['rules']} rules",
        ),
        "working": Text.assemble(
            *title("Working", w["count"]),
            f"{human_bytes(w['bytes'])} / {human_bytes(w['max_bytes'])}\n",
            "hits ", (rate, "bold"),
        ),
    }  # fmt: skip


def event_line(event: dict[str, Any] | None) -> str:
    if event is None:
        return "No evictions or consolidations yet · c consolidates now"
    d = event["detail"]
    if event["action"] == "consolidate":
        what = (
            f"consolidation ({event['reason']}): promoted {d.get('promoted_count', 0)}, "
            f"reinforced {d.get('reinforced_count', 0)}, pruned "
            f"{d.get('pruned_episodes_count', 0)} episodes and "
            f"{d.get('pruned_facts_count', 0)} facts"
        )
    else:
        what = f"evicted {event['count']} {event['tier']} event(s) by the {event['reason']} limit"
    return f"Last: {what} · {event['at']}"


def report_markdown(report: dict[str, Any]) -> str:
    out = [
        f"# Consolidation · {report['reason']}",
        f"{report['at']} · {report['episodes_considered']} episodes, "
        f"{report['patterns_considered']} patterns considered",
        promotion_rule(report.get("policy") or {}),
    ]
    sections = (
        ("Promoted to facts", "promoted"),
        ("Reinforced", "reinforced"),
        ("Pruned episodes", "pruned_episodes"),
        ("Pruned facts", "pruned_facts"),
    )
    for title, key in sections:
        items = report[key]
        count = report.get(f"{key}_count", len(items))
        out.append(f"## {title} · {count}")
        if not items:
            out.append("nothing")
            continue
        lines = []
        for item in items:
            if "statement" in item and "support" in item:  # promoted or reinforced
                why = (
                    f"{item['agreeing']} of {item['support']} across {item['sessions']} "
                    f"sessions · confidence {item['confidence']:.2f}"
                )
                lines.append(f"- **{item['statement']}** — {why}")
                continue
            label = item.get("statement") or f"{item['session']}#{item['sequence']} {item['kind']}"
            lines.append(f"- **{label}** — {item['why']}")
        if count > len(items):
            lines.append(f"- … and {count - len(items)} more")
        out.append("\n".join(lines))
    return "\n\n".join(out)


def promotion_rule(policy: dict[str, Any]) -> str:
    if not policy:
        return ""
    return (
        f"A pattern is promoted with ≥{policy['min_support']} events in "
        f"≥{policy['min_sessions']} sessions, ≥{policy['min_consistency']:.0%} agreeing; "
        f"episodes below importance {policy['episode_threshold']} and facts below "
        f"{policy['fact_threshold']} are pruned."
    )


class MemoryPane(Pane):
    TITLE = "Memory"
    TABLES = MEMORY_TABLES
    HELP = (
        "The four memory tiers. Cards show each tier's size; the vector card the embedding "
        "compression against float32 and the search latency measured in this session. "
        "Search the vector tier (cosine similarity, int8 scan re-ranked in f32); results and "
        "the entries you read are kept in the working tier, whose hits and misses are "
        "counted. Below: the newest episodes and the most important semantic facts. "
        "Consolidation also runs by itself hourly and when the episodic tier is full.\n\n"
        "| key | action |\n|---|---|\n"
        "| `/` | search the vector tier (Enter runs it, Esc leaves the box) |\n"
        "| `c` | consolidate now and show the report |\n"
        "| `tab` | move between the tables |"
    )
    BINDINGS = [
        Binding("slash", "focus_search", "Search", id="memory.search"),
        Binding("c", "consolidate", "Consolidate", id="memory.consolidate"),
    ]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.query_text = ""
        self.hits: list[dict[str, Any]] = []
        self.searching = False
        self._next_query: str | None = None  # asked for while a search ran
        self._pending: set[str] | None = None  # refreshes asked for while a search ran
        self._pending_all = False
        self._card_stats: dict[str, Any] | None = None  # redrawn when the width changes

    def compose(self) -> ComposeResult:
        with Horizontal(id="memory-cards"):
            for tier in ("vector", "episodic", "semantic", "working"):
                yield Static("", id=f"card-{tier}", classes="memory-card")
        with Horizontal(id="memory-search-row"):
            with Vertical(id="memory-search"):
                yield Input(placeholder="search vector memory (press / )", id="memory-query")
                yield Label(NO_QUERY, id="results-title", classes="panel-title")
                results = FillTable(
                    ("entry", "text"), id="memory-results", cursor_type="row", zebra_stripes=True
                )
                results.add_column("#", key="rank")
                results.add_column("score", key="score")
                results.add_column("entry", key="entry")
                results.add_column("text", key="text")
                yield results
            with Vertical(id="memory-working"):
                yield Label("Working set", id="working-title", classes="panel-title")
                working = FillTable("item", id="working-table", cursor_type="row")
                working.add_column("item", key="item")
                working.add_column("bytes", key="bytes")
                yield working
        with Horizontal(id="memory-lower"):
            with Vertical(id="memory-timeline"):
                yield Label("Episodic timeline", id="timeline-title", classes="panel-title")
                timeline = FillTable(
                    ("episode", "text"), id="timeline-table", cursor_type="row", zebra_stripes=True
                )
                for col in ("time", "episode", "kind", "outcome"):
                    timeline.add_column(col, key=col)
                timeline.add_column("text", key="text")
                yield timeline
            with Vertical(id="memory-facts"):
                yield Label("Semantic facts", id="facts-title", classes="panel-title")
                facts = FillTable(
                    ("data", "statement"), id="facts-table", cursor_type="row", zebra_stripes=True
                )
                facts.add_column("conf", key="conf")
                facts.add_column("ev", key="ev")
                facts.add_column("data", key="data")
                facts.add_column("statement", key="statement")
                yield facts
        yield Label("", id="memory-events")

    def on_mount(self) -> None:
        self.hand_back_focus_on_leave()
        self.set_interval(SCHEDULE_CHECK_S, self._scheduled_consolidation)
        super().on_mount()

    @property
    def memory(self):
        return self.app.engine.memory  # type: ignore[attr-defined]

    # -- focus ---------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # focus can linger here while another tab is shown: keys then belong to that tab
        if action in ("focus_search", "consolidate"):
            return self._is_active_tab()
        return True

    def on_show(self) -> None:
        self.focus_if_shown()

    def focus_default(self) -> Widget:
        return self.query_one("#memory-results", DataTable)

    # -- data ----------------------------------------------------------------------------

    def refresh_data(self, changed: set[str] | None = None) -> None:
        if self.searching:  # the worker is using the memory service: afterwards
            if changed is None:
                self._pending_all = True
            else:
                self._pending = (self._pending or set()) | set(changed)
            return
        try:
            if changed is None or changed & MEMORY_TABLES:
                self._show_cards()
                self._show_events()
            if changed is None or "episodic_memory" in changed:
                memory = self.memory
                read = lambda: (memory.timeline(60), memory.episodic.count())  # noqa: E731
                self.load("timeline", read, self._fill_timeline)
            if changed is None or "semantic_memory" in changed:
                memory = self.memory
                read = lambda: (memory.facts(100), memory.semantic.count())  # noqa: E731
                self.load("facts", read, self._fill_facts)
            if self.query_text and changed is not None and "vector_memory" in changed:
                self._start_search(self.query_text)
        except ENGINE_ERRORS as exc:
            self.notify(str(exc), severity="error")

    def _show_cards(self) -> None:
        # the stats sum every tier's rows and bytes: a worker (ui/pane.py `load`)
        memory = self.memory
        self.load("cards", lambda: memory.stats(probe=False), self._fill_cards)

    def _fill_cards(self, stats: dict[str, Any]) -> None:
        self._card_stats = stats
        self._draw_cards()
        self._show_working()

    def _draw_cards(self) -> None:
        stats = self._card_stats
        if stats is None:
            return
        narrow = (self.size.width or self.app.size.width) < NARROW_CARDS_BELOW
        for tier, text in card_texts(stats, narrow=narrow).items():
            self.query_one(f"#card-{tier}", Static).update(text)

    def on_resize(self, event: events.Resize) -> None:
        self._draw_cards()

    def _show_working(self) -> None:
        table = self.query_one("#working-table", DataTable)
        table.clear()
        items = self.memory.working_set()
        for i, item in enumerate(items):
            table.add_row(plain(item["item"]), human_bytes(item["bytes"]), key=str(i))
        stats = self.memory.working.stats()
        self.query_one("#working-title", Label).update(
            f"Working set · {stats['count']} · {human_bytes(stats['bytes'])}"
        )

    def _show_events(self) -> None:
        memory = self.memory
        self.load("events", lambda: memory.events(1), self._fill_events)

    def _fill_events(self, events: list[dict[str, Any]]) -> None:
        self.query_one("#memory-events", Label).update(event_line(events[0] if events else None))

    def _fill_timeline(self, read: tuple[list[dict[str, Any]], int]) -> None:
        """Newest events first; only rows that changed are repainted."""
        rows, count = read
        self.query_one("#timeline-table", FillTable).sync(
            [
                (
                    str(row["id"]),
                    [
                        row["created"][5:16],
                        plain(f"{row['session']}#{row['sequence']}"),
                        plain(row["kind"]),
                        Text(row["outcome"], style=OUTCOME_STYLE.get(row["outcome"], "")),
                        plain(clip(row["text"], TEXT_WIDTH)),
                    ],
                )
                for row in rows
            ]
        )
        self.query_one("#timeline-title", Label).update(
            f"Episodic timeline · {count} events" + (" · newest first" if count else "")
        )

    def _fill_facts(self, read: tuple[list[dict[str, Any]], int]) -> None:
        facts, count = read
        self.query_one("#facts-table", FillTable).sync(
            [
                (
                    str(fact["id"]),
                    [
                        fact_confidence(fact),
                        str(fact["evidence_count"]),
                        Text("sample", style="dim") if fact["sample"] else "",
                        plain(clip(fact["statement"], TEXT_WIDTH)),
                    ],
                )
                for fact in facts
            ]
        )
        self.query_one("#facts-title", Label).update(f"Semantic facts · {count} · by importance")

    # -- search --------------------------------------------------------------------------

    def action_focus_search(self) -> None:
        self.query_one("#memory-query", Input).focus()

    @on(Input.Submitted, "#memory-query")
    def _submitted(self, event: Input.Submitted) -> None:
        self.search(event.value)
        self.query_one("#memory-results", DataTable).focus()

    def key_escape(self) -> None:
        if self.query_one("#memory-query", Input).has_focus:
            self.query_one("#memory-results", DataTable).focus()

    def search(self, query: str) -> None:
        """Start a search; its results show when the worker is done (also used by tests)."""
        self.query_text = query.strip()
        self._start_search(self.query_text)

    def _start_search(self, query: str) -> None:
        if self.searching:
            self._next_query = query
            return
        title = self.query_one("#results-title", Label)
        if not query:
            self.hits = []
            self.query_one("#memory-results", DataTable).clear()
            title.update(NO_QUERY)
            return
        self.searching = True
        title.update(f"Searching for {esc(repr(clip(query, 50)))} …")
        self._search_worker(query)

    @work(thread=True, exit_on_error=False, group="memory-search")
    def _search_worker(self, query: str) -> None:
        try:
            hits, error = [h.as_dict() for h in self.memory.search(query, k=20)], None
        except ENGINE_ERRORS as exc:
            hits, error = [], str(exc)
        self.app.call_from_thread(self._search_done, query, hits, error)

    def _search_done(self, query: str, hits: list[dict[str, Any]], error: str | None) -> None:
        """On the UI thread: show the hits, then whatever was asked for meanwhile."""
        self.searching = False
        if error is not None:
            self.notify(error, severity="error")
        self._show_hits(query, hits)
        pending, self._pending = self._pending, None
        everything, self._pending_all = self._pending_all, False
        if self._next_query is not None:
            query, self._next_query = self._next_query, None
            if everything or pending:
                self.refresh_data(None if everything else pending)
            self._start_search(query)
            return
        self.refresh_data(None if everything else (pending or set()) | {"memory_events"})

    def _show_hits(self, query: str, hits: list[dict[str, Any]]) -> None:
        table = self.query_one("#memory-results", DataTable)
        table.clear()
        self.hits = hits
        for rank, hit in enumerate(hits, 1):
            table.add_row(
                str(rank),
                f"{hit['score']:.3f}",
                plain(f"{hit['namespace']}/{hit['key']}"),
                plain(clip(hit["text"], TEXT_WIDTH)),
                key=str(hit["id"]),
            )
        self.query_one("#results-title", Label).update(
            f"Results for {esc(repr(clip(query, 50)))} · {len(hits)} best by cosine"
        )

    # -- consolidation -------------------------------------------------------------------

    def action_consolidate(self) -> None:
        if self.searching:
            self.notify("a search is running; consolidate when it is done", severity="warning")
            return
        try:
            report = self.memory.consolidate("manual").summary()
        except ENGINE_ERRORS as exc:
            self.notify(str(exc), severity="error")
            return
        self.refresh_data()
        self.app.push_screen(ReportScreen(report_markdown(report)))

    def _scheduled_consolidation(self) -> None:
        if self.searching:  # checked again at the next tick
            return
        try:
            report = self.memory.consolidate_if_due()
        except ENGINE_ERRORS as exc:
            self.notify(str(exc), severity="error")
            return
        if report is not None and report.moved:
            self.notify(f"Scheduled consolidation moved {report.moved} item(s)")
