"""Trends: per-strategy charts over the trend points, the profile table with the bandit's
posterior, and what each selector would pick now and why, beside the offline estimates of
how each would have done on the logged executions (computed on a worker thread)."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widget import Widget
from textual.widgets import DataTable, Label, Static
from textual_plotext import PlotextPlot

from workbench.store.errors import StoreError
from workbench.ui.pane import Pane
from workbench.ui.safe import plain
from workbench.ui.widgets.fill_table import FillTable
from workbench.ui.widgets.run_picker import RunPicker

TREND_TABLES = {"strategy_profiles", "strategy_trend", "pipeline_runs"}
ESTIMATE_COLUMNS = ("target", "DR score · 90%", "DR success · 90%", "ESS")
ENGINE_ERRORS = (StoreError, ValueError, OSError)
# Stable colours: the built-in strategies keep theirs; others get one from the name.
STRATEGY_COLOURS = {"conservative": "blue", "balanced": "green", "aggressive": "red"}
PALETTE = ("magenta", "cyan", "orange", "yellow", "gray")
RICH_COLOURS = {"orange": "dark_orange", "gray": "grey50"}
SELECTORS = (("production", "production", False), ("prototyping", "prototyping", False),
             ("balanced", "balanced", False), ("bandit", None, True))  # fmt: skip
CHARTS = (("#score-chart", "score", "score"), ("#success-chart", "success_rate", "success rate"),
          ("#time-chart", "exec_ms", "time (ms)"))  # fmt: skip


def strategy_colour(name: str) -> str:
    return STRATEGY_COLOURS.get(name) or PALETTE[sum(map(ord, name)) % len(PALETTE)]


def rich_colour(name: str) -> str:
    colour = strategy_colour(name)
    return RICH_COLOURS.get(colour, colour)


def trend_axis(status: dict[str, dict], runs: set[int] | None = None) -> list[tuple[int, int]]:
    """The shared x axis: every (run, iteration) any strategy has a point for, in order;
    only the given runs' points when `runs` is set."""
    return sorted(
        {
            (t["run_id"], t["iteration"])
            for p in status.values()
            for t in p["trend"]
            if runs is None or t["run_id"] in runs
        }
    )


def fmt_rate(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


def estimate_cells(entry: dict) -> tuple[str, str]:
    """DR score and success with their intervals, or why there is no estimate."""
    dr = entry.get("dr")
    if dr is None:
        why = entry.get("reason") or "no estimate"
        return f"— {why}", "—"
    score, success = dr["score"], dr["success"]
    return (
        f"{score['estimate']:.1f} [{score['low']:.1f}–{score['high']:.1f}]",
        f"{fmt_rate(success['estimate'])} [{fmt_rate(success['low'])}–{fmt_rate(success['high'])}]",
    )


class EstimatesReady(Message):
    """The offline selector estimates, computed off the UI thread."""

    def __init__(self, result: dict) -> None:
        super().__init__()
        self.result = result


class TrendsPane(Pane):
    TITLE = "Trends"
    TABLES = frozenset(TREND_TABLES)
    HELP = (
        "Per-strategy charts of score, success rate and time over the trend points (one "
        "point per run iteration; strategies overlaid, each in its own colour). Below: the "
        "profiles (EMA of the executions), the bandit's posterior mean with its 90% "
        "credible interval, and what each selector (production, prototyping, balanced, "
        "Thompson bandit with seed 0) would pick now, and why; beside it the doubly-robust "
        "estimate of each selector's and each fixed strategy's score and success rate on the "
        "logged executions, with 90% bootstrap intervals and the effective sample size "
        "(`workbench pipeline evaluate-selectors` gives IPS too).\n\n"
        "| key | action |\n|---|---|\n"
        "| `space` | mark a run: the charts overlay only the marked runs (shared with Runs) |\n"
        "| `/` | filter the runs list; Esc clears |\n"
        "| `enter` | drill into one run's iterations; Esc returns to every run |"
    )
    BINDINGS = [Binding("escape", "back", "Back", id="trends.back")]
    DEFAULT_CSS = """
    TrendsPane #trend-runs { width: 33; border-right: solid $panel; }
    TrendsPane #trend-runs > DataTable { height: 1fr; }
    TrendsPane #trend-charts { height: 1fr; min-height: 8; }
    TrendsPane PlotextPlot { width: 1fr; height: 1fr; }
    TrendsPane #profiles { height: auto; max-height: 8; }
    TrendsPane #picks { height: auto; padding: 0 1; width: 1fr; }
    TrendsPane #selector-row { height: auto; }
    TrendsPane #estimates { width: 66; height: auto; max-height: 10; }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.status: dict[str, dict] = {}
        self.picks: dict[str, dict | str] = {}
        self.drilled: int | None = None

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Trends", id="trends-title", classes="panel-title")
            with Horizontal(id="trend-charts"):
                yield RunPicker("Runs", self.app.marked_runs, layout="compact", id="trend-runs")  # type: ignore[attr-defined]
                for chart_id, _, _ in CHARTS:
                    yield PlotextPlot(id=chart_id[1:])
            yield Label("Strategy profiles", classes="panel-title")
            table = FillTable("strategy", id="profiles", cursor_type="row", zebra_stripes=True)
            for col in ("strategy", "success", "score", "time ms", "uses", "real", "improving",
                        "impr. rate", "posterior", "90% interval"):  # fmt: skip
                table.add_column(col, key=col)
            yield table
            yield Label(
                "Selectors · what each would pick now · how each would have done (offline)",
                classes="panel-title",
            )
            with Horizontal(id="selector-row"):
                yield Static("", id="picks")
                estimates = FillTable(
                    ESTIMATE_COLUMNS[0], id="estimates", cursor_type="none", zebra_stripes=True
                )
                for col in ESTIMATE_COLUMNS:
                    estimates.add_column(col, key=col)
                yield estimates

    def on_show(self) -> None:
        # the change feed may be off (tests, --no-watch): what is shown is never stale
        self.refresh_data()
        self.focus_if_shown()

    def focus_default(self) -> Widget:
        return self.query_one(RunPicker).table

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "back":
            return self.drilled is not None
        return True

    def shown_runs(self) -> set[int] | None:
        """The runs the charts draw: the drilled one, else the marked ones, else all."""
        if self.drilled is not None:
            return {self.drilled}
        marks = self.app.marked_runs  # type: ignore[attr-defined]
        return set(marks) if marks else None

    @on(RunPicker.Chosen)
    def _drill(self, event: RunPicker.Chosen) -> None:
        self.drilled = event.run_id
        self.refresh_data()
        self.refresh_bindings()

    @on(RunPicker.MarksChanged)
    def _marks_changed(self) -> None:
        self.refresh_data()

    def action_back(self) -> None:
        self.drilled = None
        self.refresh_data()
        self.refresh_bindings()

    @property
    def pipeline(self):
        return self.app.engine.pipeline  # type: ignore[attr-defined]

    def refresh_data(self, changed: set[str] | None = None) -> None:
        """Profiles, runs and every selector's pick are read in a worker (`Pane.load`):
        at 1,000 runs they take longer than a frame."""
        pipeline = self.pipeline

        def read() -> tuple[dict, list[dict], dict[str, Any]]:
            picks: dict[str, Any] = {}
            for label, priorities, bandit in SELECTORS:
                try:
                    picks[label] = pipeline.select(priorities, bandit=bandit, seed=0)
                except ENGINE_ERRORS as exc:
                    picks[label] = str(exc)
            return pipeline.status(), pipeline.runs(), picks

        self.load("trends", read, self._show_trends)

    def _show_trends(self, read: tuple[dict, list[dict], dict[str, Any]]) -> None:
        self.status, runs, self.picks = read
        if self.drilled not in {r["id"] for r in runs}:
            self.drilled = None
        picker = self.query_one(RunPicker)
        picker.show(runs, self.drilled if self.drilled is not None else picker.selected)
        shown = self.shown_runs()
        axis = trend_axis(self.status, shown)
        if not self.status:
            title = "Trends · no profile yet (launch a run from Runs with t)"
        else:
            scope = (
                f"run {self.drilled} (esc: all runs)"
                if self.drilled is not None
                else f"runs {', '.join(map(str, sorted(shown)))}"
                if shown
                else "all runs"
            )
            title = f"Trends · {len(self.status)} strategies · {len(axis)} trend points · {scope}"
        self.query_one("#trends-title", Label).update(title)
        self._draw_charts(axis)
        self._fill_profiles()
        self._show_picks()
        self._refresh_estimates()

    def _refresh_estimates(self) -> None:
        """An empty log is answered at once; anything else is computed on a worker."""
        try:
            empty = self.app.engine.count("task_executions") == 0  # type: ignore[attr-defined]
            if empty:
                self._fill_estimates(self.pipeline.evaluate_selectors())
                return
        except ENGINE_ERRORS as exc:
            self.notify(str(exc), severity="error")
            return
        self._estimate()

    @work(thread=True, exclusive=True, exit_on_error=False, group="selector-estimates")
    def _estimate(self) -> None:
        self.post_message(EstimatesReady(self.pipeline.evaluate_selectors()))

    @on(EstimatesReady)
    def _estimates_ready(self, message: EstimatesReady) -> None:
        self._fill_estimates(message.result)

    def _fill_estimates(self, result: dict) -> None:
        table = self.query_one("#estimates", DataTable)
        table.clear()
        if not result["targets"]:
            table.add_row(Text(result.get("statement") or "", style="dim"), "", "", "")
            return
        for name, entry in result["targets"].items():
            score, success = estimate_cells(entry)
            strategy = entry.get("pick")
            label = Text(name, style=f"bold {rich_colour(strategy)}" if strategy else "")
            table.add_row(label, score, success, f"{entry['ess']:.0f}", key=name)

    def _draw_charts(self, axis: list[tuple[int, int]]) -> None:
        position = {key: i for i, key in enumerate(axis, start=1)}
        for chart_id, key, title in CHARTS:
            chart = self.query_one(chart_id, PlotextPlot)
            plt = chart.plt
            plt.clear_data()
            plt.clear_figure()
            for name, profile in self.status.items():
                points = [
                    (position[(t["run_id"], t["iteration"])], t[key])
                    for t in profile["trend"]
                    if (t["run_id"], t["iteration"]) in position
                ]
                points = [(x, y) for x, y in points if y is not None]
                if not points:
                    continue
                xs, ys = [p[0] for p in points], [p[1] for p in points]
                if len(points) == 1:  # one point: a visible marker, not a braille dot
                    plt.scatter(xs, ys, label=name, color=strategy_colour(name), marker="●")
                else:
                    plt.plot(xs, ys, label=name, color=strategy_colour(name), marker="braille")
            plt.title(title)
            plt.xlabel("run.iteration")
            if axis:
                shown = axis if len(axis) <= 6 else axis[:: -(-len(axis) // 6)]
                plt.xticks([position[k] for k in shown], [f"{r}.{i}" for r, i in shown])
            if key == "success_rate":
                plt.ylim(0, 1)
            elif key == "score":
                plt.ylim(0, 100)
            chart.refresh()

    def _fill_profiles(self) -> None:
        table = self.query_one("#profiles", DataTable)
        table.clear()
        for name, p in self.status.items():
            post = p["posterior"]
            improving = "yes" if p["improving"] else "no"
            rate = p["improvement_rate"]
            colour = rich_colour(name)
            table.add_row(
                plain(name, f"bold {colour}"),
                fmt_rate(p["success_rate"]),
                f"{p['avg_score']:.1f}",
                f"{p['avg_exec_ms']:.0f}",
                str(p["uses"]),
                str(p["real_executions"]),
                improving,
                "—" if rate is None else f"{rate:+.1f}%",  # improvement() returns percent
                f"{post['mean']:.2f}",
                f"{post['low']:.2f}–{post['high']:.2f}",
                key=name,
            )

    def _show_picks(self) -> None:
        lines = []
        for label, pick in self.picks.items():
            if isinstance(pick, str):
                lines.append(Text.assemble((f"{label:<12}", "bold"), (pick, "dim")))
            else:
                lines.append(
                    Text.assemble(
                        (f"{label:<12}", "bold"),
                        (pick["strategy"], f"bold {rich_colour(pick['strategy'])}"),
                        ("  ", ""),
                        (pick["reason"].removeprefix(f"{pick['strategy']}: "), ""),
                    )
                )
        self.query_one("#picks", Static).update(Text("\n").join(lines))
