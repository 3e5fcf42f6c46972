"""Patterns: the cognitive-pattern classifier and what it measured, analyze an operation,
pattern distribution and success rate per pattern, failure patterns from the pipeline,
learnings by type and level, and the continuous-learning loop (buffer, training runs with
their gates, deploy and roll back).

Every figure comes from `engine.patterns`; the pane formats it. Training, curriculum and
roll back run in a thread worker; the store's change feed redraws the pane as they write.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import DataTable, Input, Label, Static
from textual.worker import Worker, WorkerState
from textual_plotext import PlotextPlot

from workbench.patterns import PATTERNS
from workbench.store.errors import StoreError
from workbench.ui.pane import Pane
from workbench.ui.safe import plain
from workbench.ui.screens.model_dialogs import ReportScreen
from workbench.ui.widgets.fill_table import FillTable
from workbench.ui.widgets.recipe import calibration_text, recipe_lines

ENGINE_ERRORS = (StoreError, ValueError, OSError)
PATTERN_TABLES = frozenset(
    {"labelled_operations", "pattern_memory", "learnings", "experience_buffer",
     "curriculum_runs", "training_runs", "neural_models", "model_aliases", "task_executions",
     "learn_watchers"}
)  # fmt: skip
PATTERN_COLOURS = {"convergent": "blue", "divergent": "magenta", "lateral": "cyan",
                   "systems": "green", "critical": "red", "adaptive": "yellow"}  # fmt: skip
STATUS_STYLE = {"deployed": "green", "rejected": "yellow", "failed": "red",
                "running": "cyan", "rolled_back": "magenta", "interrupted": "yellow"}  # fmt: skip
LEVELS = ("low", "medium", "high", "very_high")
LEVEL_HEADERS = ("low", "med", "high", "v.high")
MODEL = "adaptive-coordinator"
GATE_LABELS = {
    "held_out_accuracy": "acc",
    "regression": "reg",
    "forgetting": "fgt",
    "beats_fallback": "fb",
}


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def clip(text: str, width: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: width - 1] + "…"


def classifier_line(c: dict[str, Any]) -> Text:
    fb = c["fallback"]
    if c["version"] is None:
        return Text.assemble(
            ("Patterns · classifier untrained", "bold"),
            " — the keyword fallback answers (its held-out accuracy ",
            (pct(fb["accuracy"]), "bold"),
            f" on {plural(fb['held_out'], 'operation')})",
        )
    serving = c.get("serving") or {}
    model_acc = serving.get("model_accuracy", c["val_accuracy"])
    if serving.get("source") == "fallback":
        # the model measured no better than keywords on the same rows: keywords serve
        return Text.assemble(
            ("Patterns · serving ", "bold"),
            ("keyword fallback", "bold yellow"),
            " ",
            (pct(fb["accuracy"]), "bold"),
            f" · {c['model']} v{c['version']} measured ",
            (pct(model_acc), "bold red"),
            f" on {c['evaluated_on']}",
        )
    return Text.assemble(
        ("Patterns · serving ", "bold"),
        (f"{c['model']} v{c['version']}", "bold"),
        " · held-out accuracy ",
        (pct(model_acc), "bold green"),
        f" on {c['evaluated_on']} · keyword fallback {pct(fb['accuracy'])}",
    )


def recipe_text(c: dict[str, Any]) -> Text:
    """The champion's CV-chosen recipe and calibration on one line, then the CV table
    (features ablation, model grid); empty for versions trained before either."""
    lines = recipe_lines(c.get("selection"))
    cal = calibration_text(c.get("calibration"))
    if cal is not None:
        lines[:1] = [Text(" · ").join(lines[:1] + [cal])]
    return Text("\n").join(lines)


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _integer_ticks(plt, top: int) -> None:
    """Counts are whole numbers: at most five integer ticks from 0 to the tallest bar."""
    step = max(1, -(-top // 4))
    ticks = list(range(0, top + step, step))
    plt.yticks(ticks, [str(t) for t in ticks])


def answer_figure(result: dict[str, Any]) -> str:
    """A model's confidence, or the fallback's keyword share under its own name."""
    if result.get("confidence") is not None:
        return f"{result['confidence']:.2f}"
    if result.get("keyword_share") is not None:
        return f"keyword share {result['keyword_share']:.2f}"
    return ""


def answer_text(result: dict[str, Any]) -> Text:
    """One analysis: pattern, confidence, where it came from, similar ops, advice."""
    pattern = result["pattern"]
    source = result["source"]
    head = Text.assemble(
        (pattern or "no pattern", f"bold {PATTERN_COLOURS.get(pattern or '', 'white')}"),
        "  ",
        (answer_figure(result), "bold"),
        "  ",
        (f"[{source}]", "yellow" if source == "fallback" else "dim"),
    )
    lines = [head]
    for s in result["similar"][:2]:
        lines.append(Text(f"≈ {s['similarity']:.2f} {s['type']}: {clip(s['operation'], 60)}"))
    for rec in result["recommendations"][:2]:
        lines.append(Text(f"→ {rec}", style="dim"))
    return Text("\n").join(lines)


def next_text(nxt: dict[str, Any]) -> str:
    parts = [f"{nxt['untrained']}/{nxt['threshold']} untrained"]
    if nxt["cooldown_left_s"]:
        parts.append(f"cooldown {nxt['cooldown_left_s']:.0f} s")
    if not nxt["window_open"]:
        parts.append(f"outside {nxt['window']}")
    return "next: " + (" · ".join(parts) + (" · ready" if nxt["ready"] else ""))


def watcher_text(w: dict[str, Any] | None) -> Text:
    """The `learn watch` heartbeat: watching since …, next check …, or how to start it."""
    if w is None or not w["alive"]:
        note = "not running" if w is None else f"stopped {w['stopped'] or w['heartbeat']}"
        return Text(f"learn watch: {note}", style="dim")
    return Text.assemble(
        ("learn watch ", "bold"),
        f"pid {w['pid']} · watching since {w['started']} · next check {w['next_check']} · "
        f"{w['checks']} checks, {w['trainings']} trainings",
        style="green",
    )


def buffer_text(learning: dict[str, Any]) -> Text:
    lines = [watcher_text(learning.get("watcher"))]
    for model, b in learning["buffer"].items():
        nxt = learning["next_trigger"][model]
        champ = learning["champions"][model]
        version = f"v{champ['version']}" if champ else "—"
        lines.append(Text.assemble((model, "bold"), f" · champion {version}"))
        counts = (
            f" gold {b['gold']} weak {b['needs_improvement']} neutral {b['neutral']} "
            f"corr. {b['corrected']} trained {b['trained']}"
        )
        lines.append(Text(counts))
        lines.append(Text(" " + next_text(nxt), style="green" if nxt["ready"] else "dim"))
    if learning["unbuffered_executions"]:
        lines.append(Text(f"{learning['unbuffered_executions']} executions not yet buffered",
                          style="dim"))  # fmt: skip
    return Text("\n").join(lines)


def gates_text(run: dict[str, Any]) -> Text:
    if run["status"] == "rolled_back":
        return Text(f"v{run['previous_version']} → v{run['version']}", style="magenta")
    if run.get("error"):
        return Text(clip(run["error"], 40), style="red")
    parts = []
    for g in run["gates"]:
        value = g["value"] if round(g["value"], 2) else 0.0  # never "-0.00"
        parts.append((f"{GATE_LABELS.get(g['name'], g['name'])} {value:.2f}", ""))
        parts.append(("✓ " if g["passed"] else "✗ ", "green" if g["passed"] else "red"))
    return Text.assemble(*parts)


def run_markdown(run: dict[str, Any]) -> str:
    lines = [f"## Training run {run['id']} · {run['model']} · {run['status']}", ""]
    lines.append(f"- deployed: **{str(run['deployed']).lower()}**; mode {run['mode']}")
    if run.get("candidate_version"):
        lines.append(
            f"- candidate v{run['candidate_version']} ({pct(run['candidate_accuracy'])} held-out)"
            f" against champion v{run['previous_version']} ({pct(run['champion_accuracy'])})"
        )
    if run.get("error"):
        lines.append(f"- error: {run['error']}")
    if run["gates"]:
        lines += ["", "| gate | value | rule | result |", "|---|---|---|---|"]
        for g in run["gates"]:
            verdict = "pass" if g["passed"] else "**fail**"
            lines.append(f"| {g['name']} | {g['value']:.4f} | {g['op']} {g['threshold']} | "
                         f"{verdict} |")  # fmt: skip
    manifest = run.get("manifest")
    if manifest:
        lines += [
            "",
            f"Batch: {manifest['experience']} experience ({manifest['gold']} gold, "
            f"{manifest['corrected']} corrected) + {manifest['replay']} replay; "
            f"{manifest['held_out']} held-out rows.",
        ]
    return "\n".join(lines)


class PatternsPane(Pane):
    TITLE = "Patterns"
    TABLES = PATTERN_TABLES
    HELP = (
        "The cognitive-pattern classifier (catalog model adaptive-coordinator) with the "
        "accuracy it measured on the held-out operations, or the keyword fallback and its "
        "own held-out accuracy while untrained. Type an operation and press enter to analyze "
        "it. Charts: labelled and learned operations per pattern; success rate per pattern "
        "from recorded outcomes. Failure patterns come from pipeline executions (strategy × "
        "task kind × reason). Learnings count by type and level. Continuous learning: the "
        "experience buffer per model, what the next trigger needs, and the last training "
        "runs with their quality gates (enter shows one). weak = needs improvement; "
        "gates: acc = held-out accuracy, reg = change against the champion, fgt = share "
        "of the champion's correct answers the candidate forgets.\n\n"
        "| key | action |\n|---|---|\n"
        "| `a` | type an operation to analyze |\n"
        "| `t` | train now on the buffer (forced; the quality gates still decide deploy) |\n"
        "| `c` | curriculum: correct needs-improvement entries with the teacher |\n"
        "| `b` | roll the classifier back to the version its champion replaced |\n"
        "| `enter` | on a training run: its gates and batch |"
    )
    BINDINGS = [
        Binding("a", "analyze", "Analyze", id="patterns.analyze"),
        Binding("t", "train", "Train now", id="patterns.train"),
        Binding("c", "curriculum", "Curriculum", id="patterns.curriculum"),
        Binding("b", "rollback", "Roll back", id="patterns.rollback"),
    ]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.overview: dict[str, Any] = {}
        self.runs: dict[str, dict[str, Any]] = {}
        self.busy: str | None = None

    def compose(self) -> ComposeResult:
        yield Label("Patterns", id="patterns-title", classes="panel-title")
        yield Static("", id="patterns-recipe")
        with Horizontal(id="patterns-analyze"):
            yield Input(placeholder="operation to analyze",
                        id="patterns-input")  # fmt: skip
            yield Static(
                Text("a: type an operation; enter: its pattern, confidence, similar "
                     "operations and advice", style="dim"),
                id="patterns-answer",
            )  # fmt: skip
        with Horizontal(id="patterns-charts"):
            yield PlotextPlot(id="pattern-distribution")
            yield PlotextPlot(id="pattern-success")
            with Vertical(id="patterns-levels-box"):
                yield Label("Learnings by type and level", classes="panel-title")
                yield FillTable(
                    "type", id="learning-levels", cursor_type="none", zebra_stripes=True
                )
        with Horizontal(id="patterns-tables"):
            with Vertical():
                yield Label("Failure patterns", id="failures-title", classes="panel-title")
                yield FillTable(
                    ("strategy", "task kind", "reason", "tasks"),
                    id="failure-patterns",
                    cursor_type="row",
                    zebra_stripes=True,
                )
            with Vertical():
                yield Label("Learnings", id="learnings-title", classes="panel-title")
                yield FillTable(
                    "description", id="learnings", cursor_type="row", zebra_stripes=True
                )
        with Horizontal(id="patterns-loop"):
            with Vertical(id="patterns-buffer-box"):
                yield Label("Continuous learning · experience buffer", classes="panel-title")
                yield Static("", id="learn-buffer")
            with Vertical():
                yield Label("Training runs", id="runs-title", classes="panel-title")
                yield FillTable(
                    ("model", "gates"), id="training-runs", cursor_type="row", zebra_stripes=True
                )

    def on_mount(self) -> None:
        self.query_one("#learning-levels", DataTable).add_columns("type", *LEVEL_HEADERS)
        self.query_one("#failure-patterns", DataTable).add_columns(
            "strategy", "task kind", "reason", "failed", "rate", "tasks"
        )
        self.query_one("#learnings", DataTable).add_columns(
            "type", "level", "n", "conf", "description"
        )
        self.query_one("#training-runs", DataTable).add_columns(
            "run", "model", "status", "version", "gates"
        )
        super().on_mount()

    def on_show(self) -> None:
        # the change feed may be off (tests, --no-watch): what is shown is never stale
        self.refresh_data()
        self.focus_if_shown()

    def focus_default(self) -> Widget:
        return self.query_one("#training-runs", DataTable)

    @property
    def patterns(self):
        return self.app.engine.patterns  # type: ignore[attr-defined]

    # -- drawing ---------------------------------------------------------------------

    def refresh_data(self, changed: set[str] | None = None) -> None:
        # the overview aggregates every pattern and learning: a worker (ui/pane.py `load`)
        self.load("overview", self.patterns.overview, self._show_overview)

    def _show_overview(self, overview: dict[str, Any]) -> None:
        self.overview = o = overview
        self.query_one("#patterns-title", Label).update(classifier_line(o["classifier"]))
        recipe = self.query_one("#patterns-recipe", Static)
        recipe.update(recipe_text(o["classifier"]))
        recipe.display = bool(recipe_text(o["classifier"]).plain)
        self._draw_distribution(o["distribution"])
        self._draw_success(o["distribution"])
        self._fill_levels(o["learnings_by_type"])
        self._fill_failures(o["failures"])
        self._fill_learnings(o["learnings"])
        self.query_one("#learn-buffer", Static).update(buffer_text(o["learning"]))
        self._fill_runs(o["learning"]["training_runs"])

    def _draw_distribution(self, dist: dict[str, dict]) -> None:
        chart = self.query_one("#pattern-distribution", PlotextPlot)
        plt = chart.plt
        plt.clear_data()
        plt.clear_figure()
        uses = [dist[p]["uses"] for p in PATTERNS]
        labelled = sum(dist[p]["labelled"] for p in PATTERNS)
        if sum(uses):
            values = uses
            title = f"Pattern uses · {sum(d['operations'] for d in dist.values())} learned ops"
        else:
            values = [dist[p]["labelled"] for p in PATTERNS]
            title = f"Labelled set · {labelled} ops (none learned)"
        plt.bar([p[:4] for p in PATTERNS], values, width=0.5, color="blue")
        _integer_ticks(plt, max(values))
        plt.title(title)
        chart.refresh()

    def _draw_success(self, dist: dict[str, dict]) -> None:
        chart = self.query_one("#pattern-success", PlotextPlot)
        plt = chart.plt
        plt.clear_data()
        plt.clear_figure()
        measured = [p for p in PATTERNS if dist[p]["success_rate"] is not None]
        outcomes = sum(dist[p]["outcomes"] for p in PATTERNS)
        if measured:
            rates = [dist[p]["success_rate"] * 100 for p in measured]
            plt.bar([p[:4] for p in measured], rates, width=0.5, color="green")
            plt.ylim(0, 100)
            plt.yticks([0, 50, 100])
            plt.title(f"Success rate % · {plural(outcomes, 'outcome')}")
        else:
            plt.title("Success rate · no outcomes yet")
        chart.refresh()

    def _fill_levels(self, by_type: dict[str, dict[str, int]]) -> None:
        table = self.query_one("#learning-levels", DataTable)
        table.clear()
        for kind, counts in by_type.items():
            table.add_row(kind.replace("_", " "), *(str(counts[lv] or "·") for lv in LEVELS))

    def _fill_failures(self, failures: dict[str, Any]) -> None:
        table = self.query_one("#failure-patterns", DataTable)
        table.clear()
        anti = failures["anti_patterns"]
        for a in anti:
            table.add_row(
                plain(a["strategy"]), plain(a["task_kind"]), plain(a["reason"], "red"),
                f"{a['count']}/{a['executions']}", f"{a['rate']:.0%}",
                plain(clip(", ".join(a["tasks"]), 24)),
            )  # fmt: skip
        title = (
            f"Failure patterns · {failures['failures']} of {failures['executions']} executions"
            if failures["executions"]
            else "Failure patterns · no pipeline executions yet"
        )
        self.query_one("#failures-title", Label).update(title)

    def _fill_learnings(self, rows: list[dict[str, Any]]) -> None:
        table = self.query_one("#learnings", DataTable)
        table.clear()
        for r in rows:
            table.add_row(plain(r["type"].replace("_", " ")), r["level"], str(r["occurrences"]),
                          f"{r['confidence']:.2f}", plain(clip(r["description"], 48)))  # fmt: skip
        total = sum(sum(v.values()) for v in self.overview["learnings_by_type"].values())
        self.query_one("#learnings-title", Label).update(
            f"Learnings · {total}" if total else "Learnings · none yet"
        )

    def _fill_runs(self, runs: list[dict[str, Any]]) -> None:
        table = self.query_one("#training-runs", DataTable)
        table.clear()
        self.runs = {str(r["id"]): r for r in runs}
        for r in runs:
            version = (
                f"v{r['candidate_version']}←v{r['previous_version']}"
                if r.get("candidate_version")
                else f"v{r['version']}" if r.get("version") else "—"
            )  # fmt: skip
            status = Text(r["status"], style=STATUS_STYLE.get(r["status"], ""))
            table.add_row(
                str(r["id"]), plain(clip(r["model"], 12)), status, version, gates_text(r),
                key=str(r["id"]),
            )  # fmt: skip
        self.query_one("#runs-title", Label).update(
            f"Training runs · {len(runs)} latest" if runs else "Training runs · none yet"
        )

    # -- actions ---------------------------------------------------------------------

    def action_analyze(self) -> None:
        self.query_one("#patterns-input", Input).focus()

    @on(Input.Submitted, "#patterns-input")
    def _analyze(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if not text:
            return
        try:
            result = self.patterns.analyze({"text": text})
        except ENGINE_ERRORS as exc:
            self.notify(str(exc), severity="error")
            return
        self.query_one("#patterns-answer", Static).update(answer_text(result))

    @on(DataTable.RowSelected, "#training-runs")
    def _show_run(self, event: DataTable.RowSelected) -> None:
        run = self.runs.get(str(event.row_key.value))
        if run is not None:
            self.app.push_screen(ReportScreen(run_markdown(run)))

    def action_train(self) -> None:
        self._start("train", lambda p: p.trigger(MODEL, force=True))

    def action_curriculum(self) -> None:
        self._start("curriculum", lambda p: p.curriculum(MODEL, force=True))

    def action_rollback(self) -> None:
        self._start("rollback", lambda p: p.rollback(MODEL))

    def _start(self, what: str, call) -> None:
        if self.busy is not None:
            self.notify(f"{self.busy} is still running", severity="warning")
            return
        self.busy = what
        self.notify(f"{what} started")
        self._run(call)

    @work(thread=True, exclusive=True, exit_on_error=False, group="patterns-loop")
    def _run(self, call) -> dict[str, Any]:
        return call(self.patterns)

    @on(Worker.StateChanged)
    def _done(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "patterns-loop":
            return
        if event.state == WorkerState.ERROR:
            self.notify(str(event.worker.error), severity="error")
        elif event.state == WorkerState.SUCCESS:
            self.notify(done_message(self.busy or "", event.worker.result))
        else:
            return
        self.busy = None
        self.refresh_data()


def done_message(what: str, result: dict[str, Any]) -> str:
    if result.get("status") == "skipped":
        return f"{what}: not now — " + "; ".join(result["reasons"])
    if what == "curriculum":
        return f"curriculum corrected {result['corrected']} of {result['entries']} entries"
    if what == "rollback":
        return f"rolled back to v{result['version']}"
    if result.get("deployed"):
        return f"run {result['id']}: v{result['candidate_version']} deployed"
    return f"run {result['id']}: {result['status']}, champion kept"
