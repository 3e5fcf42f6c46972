"""Models: the catalog by category and your own models; details, versions, a live
training chart; train, predict, quantize, export, import, roll back.

Everything slow runs in thread workers that only post messages; the pane redraws from the
store when the change feed (or its own worker) says the neural tables changed.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import DataTable, Label, Sparkline, Static
from textual.worker import Worker, WorkerState
from textual_plotext import PlotextPlot

from workbench.store.errors import StoreError
from workbench.ui.pane import Pane
from workbench.ui.safe import plain
from workbench.ui.widgets.fill_table import FillTable
from workbench.ui.widgets.recipe import calibration_text, recipe_lines

CATEGORIES = ("coordination", "consensus", "performance", "sparc", "specialized")
CUSTOM = "your models"
NEURAL_TABLES = {"neural_models", "training_history", "training_runs", "model_aliases"}
ENGINE_ERRORS = (StoreError, ValueError, OSError)
DETAIL_DELAY_S = 0.08
SAMPLE_DIR = Path("sample_data") / "neural"


# Imported on first use, not when the pane mounts (the `4` key waited ~0.3 s for them on
# the UI thread): the registry pulls in numpy (the catalog's worker loads it first), the
# dialogs and reports Markdown (markdown-it).
def registry() -> Any:
    """workbench.neural.registry."""
    from workbench.neural import registry as module

    return module


def dialogs() -> Any:
    """The pane's dialogs and report screens (workbench.ui.screens.model_dialogs)."""
    from workbench.ui.screens import model_dialogs

    return model_dialogs


def ensemble_report() -> Any:
    """workbench.ui.screens.ensemble_report."""
    from workbench.ui.screens import ensemble_report as module

    return module


def evaluation_screens() -> Any:
    """workbench.ui.screens.evaluations."""
    from workbench.ui.screens import evaluations

    return evaluations


def fmt_acc(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def fmt_size(n: int | None) -> str:
    if not n:
        return "—"
    return f"{n / 1024:.1f} KB" if n < 1024 * 1024 else f"{n / 1024 / 1024:.1f} MB"


def shown_accuracy(val_accuracy: float | None, status: str | None, rows: int | None = None) -> str:
    """Measured held-out accuracy with the rows behind it, else the state (`untrained`,
    `training`, …): 1.000 on 3 rows must not read like 1.000 on 3,000."""
    if val_accuracy is not None:
        return f"{val_accuracy:.3f}" + ("" if rows is None else f" n={rows:,}")
    return status or "untrained"


def acc_with_rows(value: float | None, rows: int | None) -> str:
    """An accuracy cell of the versions table: the figure and its row count."""
    if value is None:
        return "—"
    return f"{value:.3f}" + ("" if rows is None else f" n={rows:,}")


def epoch_ticks(epochs: list[int], most: int = 6) -> list[int]:
    """Whole-epoch ticks, at most `most` of them, always including the last epoch."""
    if not epochs:
        return []
    first, last = epochs[0], epochs[-1]
    step = max(1, -(-(last - first) // (most - 1)))
    ticks = list(range(first, last + 1, step))
    if ticks[-1] != last:
        ticks[-1] = last
    return ticks


def architecture_line(spec: dict | None) -> str:
    if not spec:
        return "—"
    arch = spec.get("architecture") or {}
    layers = arch.get("layers") or []
    parts = []
    for layer in layers:
        act = f" {layer['activation']}" if layer.get("activation") else ""
        parts.append(f"{layer.get('type', '?')} {layer.get('size', '?')}{act}")
    kind = arch.get("type", "")
    return f"{kind} · " * bool(kind) + (" → ".join(parts) or "—")


def training_line(spec: dict | None) -> str:
    t = (spec or {}).get("training") or {}
    if not t:
        return ""
    keys = ("optimizer", "learning_rate", "batch_size", "epochs", "validation_split", "seed")
    return " · ".join(f"{k} {t[k]}" for k in keys if t.get(k) is not None)


def recipe_text(recipe: Any) -> str:
    if recipe is None:
        return ""
    if isinstance(recipe, dict):
        return ", ".join(f"{k}: {v}" for k, v in recipe.items() if not isinstance(v, dict | list))
    return str(recipe)


def recipe_spec(entry: dict) -> dict | None:
    """The preset architecture of a catalog entry, wherever the catalog put it."""
    for key in ("spec", "architecture", "recipe"):
        value = entry.get(key)
        if isinstance(value, dict):
            if "architecture" in value:
                return value
            if "layers" in value:
                return {"architecture": value}
            inner = value.get("spec") or value.get("model")
            if isinstance(inner, dict) and "architecture" in inner:
                return inner
    return None


def prediction_markdown(reference: str, results: list[dict]) -> str:
    out = [f"# Prediction · {reference}"]
    for i, r in enumerate(results, start=1):
        if len(results) > 1:
            out.append(f"## Input {i}")
        conf = r.get("confidence")
        conf_text = "—" if conf is None else f"{conf:.3f}"
        out.append(f"**{r.get('prediction')}** · confidence {conf_text}")
        reasoning = r.get("reasoning") or []
        if reasoning:
            table = ["| nearest example | label | similarity |", "|---|---|---|"]
            for n in reasoning:
                text = str(n.get("text", "")).replace("|", "\\|").replace("\n", " ")
                text = text if len(text) <= 48 else text[:47] + "…"
                table.append(f"| {text} | {n.get('label')} | {fmt_acc(n.get('similarity'))} |")
            out.append("\n".join(table))
        recs = r.get("recommendations") or []
        if recs:
            out.append("\n".join(f"- {rec}" for rec in recs))
    return "\n\n".join(out)


def quantize_markdown(report: dict) -> str:
    return (
        f"# Quantized · {report.get('name')} v{report.get('source_version')} → "
        f"v{report.get('version')}\n\n"
        "| | before | after |\n|---|---|---|\n"
        f"| size | {fmt_size(report.get('size_before'))} | {fmt_size(report.get('size_after'))} |\n"
        f"| accuracy | {fmt_acc(report.get('accuracy_before'))} | "
        f"{fmt_acc(report.get('accuracy_after'))} |\n\n"
        f"Accuracy measured on {report.get('evaluated_on')}."
    )


class CatalogModelTrained(Message):
    """One model of a whole-catalog training finished (each is its own run)."""

    def __init__(self, result: dict, done: int, total: int) -> None:
        super().__init__()
        self.result = result
        self.done = done
        self.total = total


class TrainingProgress(Message):
    """One finished epoch of the pane's own training (newest replaces older, unhandled)."""

    def __init__(self, name: str, epoch: int, loss: float, val_accuracy: float | None) -> None:
        super().__init__()
        self.name = name
        self.epoch = epoch
        self.loss = loss
        self.val_accuracy = val_accuracy

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, TrainingProgress)


class ModelsPane(Pane):
    TITLE = "Models"
    TABLES = frozenset(NEURAL_TABLES)
    HELP = (
        "The catalog by category and your own models, each with its measured held-out "
        "accuracy or `untrained`. The right side shows the selected model: purpose, "
        "architecture, versions and the loss/accuracy chart of the selected version "
        "(live while it trains, also from another process).\n\n"
        "| key | action |\n|---|---|\n"
        "| `t` | train the selected model (catalog: epochs; yours: spec, data, epochs, name) |\n"
        "| `n` | train a new model from a spec file and a data file |\n"
        "| `p` | predict with the selected version |\n"
        "| `z` | quantize the selected version to int8 (measured report) |\n"
        "| `e` | export the selected version to a .clf file |\n"
        "| `i` | import a .clf file |\n"
        "| `b` | roll back: make the selected version the champion |\n"
        "| `a` | evaluate the selected version on a labelled file (stored) |\n"
        "| `v` | the selected version's stored evaluations: confusion matrix, per class, "
        "reliability |\n"
        "| `space` / `m` | mark or unmark the selected version (a notice says when it cannot "
        "join the others in an ensemble: other classes or other input) |\n"
        "| `c` | compare the two marked versions on the same data |\n"
        "| `E` | predict with the ensemble of the marked versions (mean class probabilities, "
        "as `workbench neural ensemble`): each member's answer and the ensemble's |\n"
        "| `x` | cancel the running training |\n"
        "| `tab` | move between the model list and the versions table |"
    )
    BINDINGS = [
        Binding("t", "train", "Train", id="models.train"),
        Binding("T", "train_all", "Train all", id="models.train_all"),
        Binding("n", "train_new", "New", id="models.train_new"),
        Binding("p", "predict", "Predict", id="models.predict"),
        Binding("z", "quantize", "Quantize", id="models.quantize"),
        Binding("e", "export", "Export", id="models.export"),
        Binding("i", "import", "Import", id="models.import"),
        Binding("b", "rollback", "Roll back", id="models.rollback"),
        Binding("x", "cancel_training", "Cancel", id="models.cancel"),
        Binding("a", "evaluate", "Evaluate", id="models.evaluate"),
        Binding("v", "evaluations", "Evaluations", id="models.evaluations"),
        Binding("space", "mark", "Mark", id="models.mark"),
        Binding("m", "mark", "Mark", show=False),  # as space; no id: one palette entry
        Binding("c", "compare", "Compare", id="models.compare"),
        Binding("E", "ensemble", "Ensemble", id="models.ensemble"),
    ]
    DEFAULT_CSS = """
    ModelsPane #models-list { width: 46; border-right: solid $panel; }
    ModelsPane #models-list > DataTable { height: 1fr; }
    ModelsPane #model-detail { width: 1fr; }
    ModelsPane #model-info { height: auto; max-height: 9; padding: 0 1; }
    ModelsPane #model-info.-with-recipe { max-height: 16; }
    ModelsPane #model-versions { height: auto; max-height: 8; }
    ModelsPane #versions-head { height: 1; }
    ModelsPane #versions-title { width: auto; }
    ModelsPane #versions-spark { width: 16; height: 1; margin: 0 1; }
    ModelsPane #versions-trend { width: auto; color: $text-muted; }
    ModelsPane #train-status { padding: 0 1; color: $text-muted; height: 1; }
    ModelsPane #model-charts { height: 1fr; min-height: 8; }
    ModelsPane PlotextPlot { width: 1fr; height: 1fr; }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._detail_timer: Timer | None = None
        self.catalog_entries: dict[str, dict] = {}
        self.own_models: dict[str, dict] = {}
        self.selected: str | None = None
        self.version: int | None = None
        self.follow_latest = True
        self.versions: list[dict] = []
        self.training: str | None = None
        self._training_name: str | None = None
        self._stop = threading.Event()
        self.marked: list[int] = []  # versions of the selected model: compare, ensemble

    # -- layout ------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Horizontal():
            with Vertical(id="models-list"):
                yield Label("Models", id="models-title", classes="panel-title")
                table = FillTable("model", id="model-table", cursor_type="row", zebra_stripes=False)
                table.add_column("model", key="model")
                table.add_column("val acc", key="acc")
                yield table
            with Vertical(id="model-detail"):
                yield Static("", id="model-info")
                with Horizontal(id="versions-head"):
                    yield Label("Versions", id="versions-title", classes="panel-title")
                    yield Sparkline([], id="versions-spark")
                    yield Label("", id="versions-trend")
                versions = FillTable(
                    "aliases", id="model-versions", cursor_type="row", zebra_stripes=True
                )
                for col in ("version", "status", "aliases", "accuracy", "val acc", "size"):
                    versions.add_column(col, key=col)
                yield versions
                yield Label("", id="train-status")
                yield Label("", id="chart-title", classes="panel-title")
                with Horizontal(id="model-charts"):
                    yield PlotextPlot(id="loss-chart")
                    yield PlotextPlot(id="accuracy-chart")

    def on_mount(self) -> None:
        self.query_one("#train-status", Label).display = False
        super().on_mount()

    def on_show(self) -> None:
        self.focus_if_shown()

    def focus_default(self) -> Widget:
        return self.query_one("#model-table", DataTable)

    @property
    def neural(self):
        return self.app.engine.neural  # type: ignore[attr-defined]

    # -- data --------------------------------------------------------------------------

    def refresh_data(self, changed: set[str] | None = None) -> None:
        """Epochs (training_history) only redraw the detail; new versions, aliases and
        runs also reload the list (the catalog reads the champions)."""
        if changed is None or changed & (NEURAL_TABLES - {"training_history"}):
            # the catalog reads every model's data source: a worker (ui/pane.py `load`)
            self.load("list", self._read_list, self._show_list)
            return
        self.show_detail()

    def _read_list(self) -> tuple[list[dict], list[dict]]:
        return self.neural.catalog(), self.neural.models()

    def _show_list(self, lists: tuple[list[dict], list[dict]]) -> None:
        catalog, own = lists
        self.catalog_entries = {e["name"]: e for e in catalog}
        self.own_models = {m["name"]: m for m in own if m["name"] not in self.catalog_entries}
        self._fill_list()
        self.show_detail()

    def _fill_list(self) -> None:
        table = self.query_one("#model-table", DataTable)
        groups: dict[str, list[tuple[str, str]]] = {c: [] for c in CATEGORIES}
        for e in self.catalog_entries.values():
            acc = shown_accuracy(e.get("val_accuracy"), e.get("status"), e.get("val_rows"))
            groups.setdefault(str(e.get("category")), []).append((e["name"], acc))
        groups[CUSTOM] = [
            (
                m["name"],
                shown_accuracy(m.get("val_accuracy"), m.get("latest_status"), m.get("val_rows")),
            )
            for m in self.own_models.values()
        ]
        keep = self.selected
        table.clear()
        for category, rows in groups.items():
            if not rows and category != CUSTOM:
                continue
            header = Text(f"{category} · {len(rows)}", style="bold")
            table.add_row(header, "", key=f"cat:{category}")
            for name, acc in rows:
                style = "dim" if acc == "untrained" else ""
                table.add_row(Text(f"  {name}"), Text(acc, style=style, justify="right"), key=name)
        trained = sum(1 for e in self.catalog_entries.values() if e.get("val_accuracy") is not None)
        title = f"Catalog {len(self.catalog_entries)} · {trained} trained"
        ready_to_train = 0
        if not trained:
            ready_to_train = sum(1 for e in self.catalog_entries.values() if e.get("trainable"))
            title += f" · T trains {ready_to_train}" if ready_to_train else ""
        if trained or not ready_to_train:  # the list shows "your models · N" itself
            title += f" · yours {len(self.own_models)}"
        self.query_one("#models-title", Label).update(title)
        names = [n for n in (keep, *self.own_models, *self.catalog_entries) if n]
        target = next((n for n in names if n in self.catalog_entries or n in self.own_models), None)
        if target is not None:
            self.selected = target
            table.move_cursor(row=table.get_row_index(target), animate=False)

    def select_model(self, name: str) -> None:
        """Select a model in the list (used by the command palette and tests)."""
        table = self.query_one("#model-table", DataTable)
        table.move_cursor(row=table.get_row_index(name), animate=False)
        self._select(name)

    def _select(self, name: str | None) -> None:
        if name != self.selected:
            self.selected = name
            self.version = None
            self.follow_latest = True
            self.marked = []
        self.show_detail()

    @on(DataTable.RowHighlighted, "#model-table")
    def _model_highlighted(self, _event: DataTable.RowHighlighted) -> None:
        # Rendering the detail and its two charts costs ~0.15 s: while the cursor is
        # moving, only the row it stops on is drawn (read from the table, not the event,
        # so a burst of keys always ends on the right model).
        if self._detail_timer is not None:
            self._detail_timer.stop()
        self._detail_timer = self.set_timer(DETAIL_DELAY_S, self._select_cursor_row)

    def _select_cursor_row(self) -> None:
        self._detail_timer = None
        table = self.query_one("#model-table", DataTable)
        if not table.row_count:
            return
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        if key is not None and not key.startswith("cat:"):
            self._select(key)

    @on(DataTable.RowHighlighted, "#model-versions")
    def _version_highlighted(self, event: DataTable.RowHighlighted) -> None:
        key = event.row_key.value
        if event.cursor_row != event.data_table.cursor_row:
            return
        if key is None or not self.versions:
            return
        version = int(key)
        if version != self.version:
            self.version = version
            self.follow_latest = version == self.versions[-1]["version"]
            self._show_version_detail()

    def show_detail(self) -> None:
        name = self.selected
        self.versions = []
        if name is not None and (name in self.own_models or self._has_versions(name)):
            try:
                self.versions = self.neural.versions(name)
            except ENGINE_ERRORS:
                self.versions = []
        numbers = [v["version"] for v in self.versions]
        if self.versions and (self.follow_latest or self.version not in numbers):
            self.version = numbers[-1]
        elif not self.versions:
            self.version = None
        self._fill_versions()
        self._show_version_detail()

    def _has_versions(self, name: str) -> bool:
        entry = self.catalog_entries.get(name) or {}
        return entry.get("version") is not None or entry.get("status") not in (None, "untrained")

    def _fill_versions(self) -> None:
        table = self.query_one("#model-versions", DataTable)
        table.clear()
        for v in self.versions:
            mark = "● " if v["version"] in self.marked else ""
            table.add_row(
                f"{mark}v{v['version']}",
                v["status"],
                plain(", ".join(v["aliases"]) or "—"),
                acc_with_rows(v["accuracy"], v.get("train_rows")),
                acc_with_rows(v["val_accuracy"], v.get("val_rows")),
                fmt_size(v["size_bytes"]),
                key=str(v["version"]),
            )
        if self.version is not None:
            table.move_cursor(row=table.get_row_index(str(self.version)), animate=False)
        n = len(self.versions)
        title = f"Versions · {n}" if n else "Versions · none yet (t trains one)"
        if self.marked:
            title += " · marked " + ", ".join(f"v{v}" for v in sorted(self.marked))
        self.query_one("#versions-title", Label).update(title)
        # The metric across versions: measured val accuracy of each version, in order.
        measured = [(v["version"], v["val_accuracy"]) for v in self.versions]
        measured = [(ver, acc) for ver, acc in measured if acc is not None]
        spark = self.query_one("#versions-spark", Sparkline)
        trend = self.query_one("#versions-trend", Label)
        spark.display = trend.display = len(measured) > 1
        if len(measured) > 1:
            spark.data = [acc for _, acc in measured]
            (first_v, first), (last_v, last) = measured[0], measured[-1]
            trend.update(f"val acc v{first_v} {first:.3f} → v{last_v} {last:.3f}")

    def _current_row(self):
        if self.selected is None or self.version is None:
            return None
        try:
            return registry().resolve(f"{self.selected}@{self.version}")
        except ENGINE_ERRORS:
            return None

    def _show_version_detail(self) -> None:
        row = self._current_row()
        spec = json.loads(row.architecture) if row is not None else None
        info = self._info_text(spec)
        # a text model's CV-chosen recipe, CV table and calibration, stored with the version
        extra = recipe_lines(registry().run_metric(row, "selection")) if row is not None else []
        cal = calibration_text(registry().run_metric(row, "calibration")) if row else None
        if extra or cal is not None:
            info = Text("\n").join([info, *extra, *([cal] if cal is not None else [])])
        widget = self.query_one("#model-info", Static)
        widget.set_class(bool(extra or cal is not None), "-with-recipe")
        widget.update(info)
        self._draw_chart(row)

    def _info_text(self, spec: dict | None) -> Text:
        name = self.selected
        if name is None:
            return Text("No model yet: press n to train one from a spec and a data file.")
        entry = self.catalog_entries.get(name)
        champion = next((v["version"] for v in self.versions if "champion" in v["aliases"]), None)
        category = entry.get("category") if entry else (self.versions or [{}])[0].get("category")
        head = Text.assemble(
            (name, "bold"),
            f" · {category or 'custom'}",
            f" · champion v{champion}" if champion else " · no champion",
        )
        lines = [head]
        if entry:
            spec = spec or recipe_spec(entry)
            lines.append(Text.assemble(("purpose ", "dim"), str(entry.get("purpose") or "—")))
            lines.append(Text.assemble(("use case ", "dim"), str(entry.get("use_case") or "—")))
            rows = entry.get("source_rows")
            source = str(entry.get("source") or "—") + (f" ({rows} rows)" if rows else "")
            lines.append(Text.assemble(("source ", "dim"), source))
            if entry.get("recipe"):
                lines.append(Text.assemble(("recipe ", "dim"), recipe_text(entry["recipe"])))
            if not entry.get("trainable", True):
                lines.append(Text.assemble(("not trainable ", "dim"), str(entry.get("reason"))))
        else:
            desc = next((v["description"] for v in reversed(self.versions) if v["description"]), "")
            lines.append(Text(desc or "—"))
        if spec is not None:
            lines.append(Text.assemble(("architecture ", "dim"), architecture_line(spec)))
        training = training_line(spec)
        if training:
            lines.append(Text.assemble(("training ", "dim"), training))
        return Text("\n").join(lines)

    def _draw_chart(self, row) -> None:
        history = registry().history(row.id) if row is not None else []
        if row is None:
            caption = "training chart · no version selected"
        elif not history:
            caption = f"training chart · {row.name} v{row.version} · no epochs recorded"
        else:
            n = len(history)
            caption = f"training chart · {row.name} v{row.version} · {n} epoch{'s' * (n != 1)}"
        self.query_one("#chart-title", Label).update(caption)
        epochs = [h["epoch"] for h in history]
        ticks = epoch_ticks(epochs)
        for chart_id, keys in (
            ("#loss-chart", ("loss", "val_loss")),
            ("#accuracy-chart", ("accuracy", "val_accuracy")),
        ):
            chart = self.query_one(chart_id, PlotextPlot)
            plt = chart.plt
            plt.clear_data()
            plt.clear_figure()
            for key in keys:
                points = [(h["epoch"], h[key]) for h in history if h[key] is not None]
                if points:
                    plt.plot([p[0] for p in points], [p[1] for p in points], label=key)
            plt.title(keys[0])
            plt.xlabel("epoch")
            if ticks:
                plt.xticks(ticks)
            chart.refresh()

    # -- actions -----------------------------------------------------------------------

    def _reference(self) -> str | None:
        if self.selected is None or self.version is None:
            self.notify("select a model with a trained version first", severity="warning")
            return None
        return f"{self.selected}@{self.version}"

    def action_train(self) -> None:
        if self._busy():
            return
        name = self.selected
        if name is not None and name in self.catalog_entries:
            entry = self.catalog_entries[name]
            if not entry.get("trainable", True):
                self.notify(f"{name}: {entry.get('reason') or 'not trainable'}", severity="error")
                return
            dialog = dialogs().TrainCatalogDialog(name, recipe_text(entry.get("recipe")))
            self.app.push_screen(dialog, self._train_catalog_chosen)
            return
        if name is None:
            self.action_train_new()
            return
        row = self._current_row()
        spec = json.loads(row.architecture) if row is not None else None
        self.app.push_screen(
            dialogs().TrainDialog(name, spec_from_version=row is not None),
            lambda r: self._train_chosen(r, spec),
        )

    def action_train_all(self) -> None:
        """Every trainable catalog model, two at a time, each its own run with live history."""
        if self._busy():
            return
        names = [n for n, e in self.catalog_entries.items() if e.get("trainable")]
        if not names:
            self.notify("no catalog model has data to train on yet", severity="warning")
            return
        self.training = f"{len(names)} catalog models"
        self._status(f"training {len(names)} catalog models, 2 at a time…")
        self.run_train_all(names)

    @work(thread=True, exclusive=True, exit_on_error=False, group="models-train-all")
    def run_train_all(self, names: list[str]) -> list[dict]:
        done: list[dict] = []

        def on_done(result: dict) -> None:
            done.append(result)
            self.post_message(CatalogModelTrained(result, len(done), len(names)))

        engine = self.app.engine  # type: ignore[attr-defined]
        return engine.train_catalog_models(names, workers=2, on_done=on_done)

    @on(CatalogModelTrained)
    def _catalog_model_trained(self, message: CatalogModelTrained) -> None:
        r = message.result
        shown = r.get("status", "?")
        if r.get("val_accuracy") is not None:
            shown += f" · val acc {fmt_acc(r['val_accuracy'])}"
        self._status(f"{message.done}/{message.total} trained · {r['name']} {shown}")
        self.refresh_data()

    def action_train_new(self) -> None:
        if self._busy():
            return
        spec = SAMPLE_DIR / "code-review.model.json"
        data = SAMPLE_DIR / "code_review.json"
        defaults = (str(spec), str(data)) if spec.is_file() and data.is_file() else ("", "")
        self.app.push_screen(dialogs().TrainDialog("", *defaults), self._train_chosen)

    def _busy(self) -> bool:
        if self.training is not None:
            self.notify(f"already training {self.training}: x cancels it", severity="warning")
            return True
        return False

    def _train_catalog_chosen(self, result: dict | None) -> None:
        if result is None:
            return
        name = result["name"]
        self._start_training(
            name,
            lambda on_epoch, stop: self.neural.train_catalog(
                name, epochs=result["epochs"], on_epoch=on_epoch, should_stop=stop
            ),
        )

    def _train_chosen(self, result: dict | None, version_spec: dict | None = None) -> None:
        if result is None:
            return
        spec = result["spec"] or version_spec
        label = result["name"] or Path(result["spec"] or "model").stem
        self._start_training(
            label,
            lambda on_epoch, stop: self.neural.train(
                spec,
                result["data"],
                name=result["name"],
                epochs=result["epochs"],
                on_epoch=on_epoch,
                should_stop=stop,
            ),
        )

    def _start_training(self, label: str, call: Callable) -> None:
        self.training = label
        self._training_name = None
        self._stop.clear()
        self.follow_latest = True
        self._status(f"training {label} · starting…")
        self.run_training(label, call)

    @work(thread=True, exclusive=True, exit_on_error=False, group="models-train")
    def run_training(self, label: str, call: Callable) -> dict:
        def on_epoch(rec: Any) -> None:
            self.post_message(
                TrainingProgress(label, rec.epoch, rec.loss, getattr(rec, "val_accuracy", None))
            )

        return call(on_epoch, self._stop.is_set)

    @on(TrainingProgress)
    def _progress(self, message: TrainingProgress) -> None:
        target = self._training_name or message.name
        if target not in self.catalog_entries and target not in self.own_models:
            # A new model named by its spec: find the version being trained.
            self.refresh_data()
            training = (n for n, m in self.own_models.items() if m["latest_status"] == "training")
            target = next(training, target)
        if target in self.catalog_entries or target in self.own_models:
            self._training_name = target
        val = "" if message.val_accuracy is None else f" · val acc {message.val_accuracy:.3f}"
        self._status(
            f"training {target} · epoch {message.epoch} · loss {message.loss:.4f}{val} · x cancels"
        )
        if target != self.selected and self._training_name is not None:
            self.select_model(target)
        else:
            self.show_detail()

    def action_cancel_training(self) -> None:
        if self.training is None:
            self.notify("no training is running", severity="warning")
            return
        self._stop.set()
        self._status(f"cancelling {self.training}…")

    def action_predict(self) -> None:
        ref = self._reference()
        if ref is not None:
            self.app.push_screen(
                dialogs().PredictDialog(ref), lambda r: self._predict_chosen(ref, r)
            )

    def _predict_chosen(self, ref: str, result: dict | None) -> None:
        if result is not None:
            self.run_op("predict", lambda: (ref, self.neural.predict(ref, result["input"])))

    def action_quantize(self) -> None:
        ref = self._reference()
        if ref is not None:
            self._status(f"quantizing {ref}…")
            self.run_op("quantize", lambda: self.neural.quantize(ref, bits=8))

    def action_export(self) -> None:
        ref = self._reference()
        if ref is not None:
            default = f"{self.selected}-v{self.version}.clf"
            self.app.push_screen(
                dialogs().ExportDialog(ref, default), lambda r: self._export_chosen(ref, r)
            )

    def _export_chosen(self, ref: str, result: dict | None) -> None:
        if result is not None:
            self.run_op("export", lambda: self.neural.export(ref, result["path"]))

    def action_import(self) -> None:
        self.app.push_screen(dialogs().ImportDialog(), self._import_chosen)

    def _import_chosen(self, result: dict | None) -> None:
        if result is not None:
            self.run_op("import", lambda: self.neural.import_(result["path"], name=result["name"]))

    def action_rollback(self) -> None:
        ref = self._reference()
        if ref is None:
            return
        name, version = self.selected, self.version
        self.run_op("rollback", lambda: self.neural.rollback(name, version))

    def action_evaluate(self) -> None:
        ref = self._reference()
        if ref is not None:
            self.app.push_screen(
                evaluation_screens().EvaluateDialog(ref), lambda r: self._evaluate_chosen(ref, r)
            )

    def _evaluate_chosen(self, ref: str, result: dict | None) -> None:
        if result is not None:
            self._status(f"evaluating {ref} on {Path(result['data']).name}…")
            self.run_op(
                "evaluate",
                lambda: self.neural.evaluate(ref, result["data"], result["label"] or None),
            )

    def action_evaluations(self) -> None:
        ref = self._reference()
        if ref is None:
            return
        try:
            evaluations = self.neural.evaluations(ref)
        except ENGINE_ERRORS as exc:
            self.notify(str(exc), severity="error")
            return
        self.app.push_screen(evaluation_screens().EvaluationsScreen(ref, evaluations))

    def action_mark(self) -> None:
        """Mark the selected version (compare two, or predict with an ensemble of them);
        a version the others cannot be averaged with is marked with a one-line notice."""
        if self.version is None or self.selected is None:
            return
        if self.version in self.marked:
            self.marked.remove(self.version)
        else:
            self.marked.append(self.version)
            if len(self.marked) > 1:
                problem = self._ensemble_problem()
                if problem:
                    self.notify(f"not an ensemble: {problem}", severity="warning")
        self._fill_versions()

    def _marked_refs(self) -> list[str]:
        return [f"{self.selected}@{v}" for v in sorted(self.marked)]

    def _ensemble_problem(self) -> str | None:
        """Why the marked versions cannot be averaged (the engine says), else None."""
        try:
            return self.neural.ensemble_problem(self._marked_refs())
        except ENGINE_ERRORS as exc:  # a version without weights (training, failed)
            return str(exc)

    def action_ensemble(self) -> None:
        if len(self.marked) < 2 or self.selected is None:
            self.notify("mark two or more versions (space), then E predicts with them",
                        severity="warning")  # fmt: skip
            return
        problem = self._ensemble_problem()
        if problem:
            self.notify(f"not an ensemble: {problem}", severity="warning")
            return
        refs = self._marked_refs()
        label = f"ensemble of {self.selected} " + ", ".join(f"v{v}" for v in sorted(self.marked))
        self.app.push_screen(
            dialogs().PredictDialog(label), lambda r: self._ensemble_chosen(refs, r)
        )

    def _ensemble_chosen(self, refs: list[str], result: dict | None) -> None:
        if result is not None:
            self._status(f"predicting with the ensemble of {len(refs)} versions…")
            self.run_op("ensemble", lambda: (refs, self.neural.ensemble(refs, result["input"])))

    def action_compare(self) -> None:
        if len(self.marked) != 2 or self.selected is None:
            self.notify("mark two versions with space, then c compares them", severity="warning")
            return
        a, b = sorted(self.marked)
        try:
            cmp = self.neural.compare_evaluations(f"{self.selected}@{a}", f"{self.selected}@{b}")
        except ENGINE_ERRORS as exc:
            self.notify(str(exc), severity="error")
            return
        self.app.push_screen(evaluation_screens().CompareEvaluationsScreen(cmp))

    @work(thread=True, exclusive=True, exit_on_error=False, group="models-op")
    def run_op(self, kind: str, call: Callable) -> tuple[str, Any]:
        return kind, call()

    # -- results -----------------------------------------------------------------------

    @on(Worker.StateChanged)
    def _worker_done(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker.group == "models-train-all":
            if event.state in (WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED):
                self.training = None
                results = worker.result if event.state == WorkerState.SUCCESS else []
                failed = [r["name"] for r in results or [] if r.get("status") == "failed"]
                trained = len(results or []) - len(failed)
                self._status(f"trained {trained} catalog models"
                             + (f" · failed: {', '.join(failed)}" if failed else ""))  # fmt: skip
                if event.state == WorkerState.ERROR:
                    self.notify(str(worker.error), severity="error")
                self.refresh_data()
            return
        if worker.group not in ("models-train", "models-op"):
            return
        if event.state == WorkerState.ERROR:
            if worker.group == "models-train":
                self._status(f"training {self.training} failed")
                self.training = None
            else:
                self._status("")
            self.notify(str(worker.error), severity="error")
            self.refresh_data()
        elif event.state == WorkerState.SUCCESS:
            if worker.group == "models-train":
                self._trained(worker.result)
            else:
                self._op_done(*worker.result)
        elif event.state == WorkerState.CANCELLED and worker.group == "models-train":
            self.training = None

    def _trained(self, result: dict) -> None:
        self.training = None
        name, version = result["name"], result["version"]
        if result.get("status") == "cancelled":
            self._status(f"cancelled {name} v{version} after epoch {result['epochs_run']}")
            self.notify(f"training of {name} cancelled", severity="warning")
        else:
            self._status(
                f"trained {name} v{version} · {result['epochs_run']} epochs · "
                f"val acc {fmt_acc(result.get('val_accuracy'))}"
            )
            self.notify(f"trained {name} v{version}")
        self.refresh_data()
        self.follow_latest = True
        self.select_model(name)

    def _op_done(self, kind: str, result: Any) -> None:
        self._status("")
        if kind == "predict":
            ref, predictions = result
            self.app.push_screen(dialogs().ReportScreen(prediction_markdown(ref, predictions)))
            return
        if kind == "ensemble":
            self.app.push_screen(ensemble_report().EnsembleReportScreen(*result))
            return
        self.refresh_data()
        if kind == "quantize":
            self.app.push_screen(dialogs().ReportScreen(quantize_markdown(result)))
        elif kind == "export":
            self.notify(f"exported {result['name']} v{result['version']} to {result['path']}")
        elif kind == "import":
            self.notify(f"imported {result['name']} v{result['version']}")
            self.select_model(result["name"])
        elif kind == "evaluate":
            stored = self.neural.evaluations(model_id=result["model_id"])
            ref = f"{result['name']}@{result['version']}"
            self.app.push_screen(evaluation_screens().EvaluationsScreen(ref, stored))
        elif kind == "rollback":
            self.notify(f"{result['name']}: champion is now v{result['champion']}")

    def _status(self, text: str) -> None:
        status = self.query_one("#train-status", Label)
        status.update(text)
        status.display = bool(text)
