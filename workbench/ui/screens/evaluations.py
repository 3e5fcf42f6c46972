"""A model version's stored evaluations, and two versions side by side on the same data.

Both screens only format what the engine stored (`neural evaluate`, quantize): the
confusion matrix as a table with its diagonal highlighted, per-class figures, the
reliability diagram as a chart, and for a comparison the differences (b − a).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label, Static
from textual_plotext import PlotextPlot

from workbench.ui.screens.model_dialogs import ModelDialog, existing_file
from workbench.ui.widgets.fill_table import FillTable

DIAGONAL = "bold reverse green"


def file_name(path: str) -> str:
    """The data file's name (the stored path may be long; its hash identifies it)."""
    return Path(path).name


def num(value: Any, digits: int = 3) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def signed(value: float | None, digits: int = 3) -> Text:
    """A difference (b − a), coloured by sign; lower-is-better figures are flipped by
    the caller."""
    if value is None:
        return Text("—")
    style = "green" if value > 0 else "red" if value < 0 else ""
    return Text(f"{value:+.{digits}f}", style=style)


def headline(ev: dict[str, Any]) -> str:
    """One line: the figure that says how good, on how many rows."""
    m = ev["metrics"]
    n = ev["evaluated"]
    if ev["objective"] == "classification":
        return f"accuracy {num(m['accuracy'])} on {n} rows"
    if ev["objective"] == "regression":
        return f"MAE {num(m['mae'], 4)} · R² {num(m['r2'])} on {n} rows"
    return f"mean reconstruction error {num(m['mean_error'], 5)} on {n} rows"


def problem_lines(ev: dict[str, Any]) -> list[str]:
    """Notes, rows not scored, rows lacking a feature, the most drifted features."""
    out = [f"note: {n}" for n in ev.get("notes") or []]
    unk = ev.get("unknown_label") or {}
    if unk.get("count"):
        out.append(
            f"{unk['count']} row(s) with unseen labels not scored: " + ", ".join(unk["where"][:4])
        )
    mf = ev.get("missing_feature") or {}
    if mf.get("count"):
        out.append(f"{mf['count']} row(s) lack a feature: " + ", ".join(mf["where"][:4]))
    feats = [d for d in (ev.get("drift") or {}).get("features", []) if d["shift_sd"] is not None]
    if feats:
        top = ", ".join(f"{d['feature']} {d['shift_sd']:+.2f} SD" for d in feats[:3])
        out.append(f"drift from training: {top}")
    return out


def fill_confusion(table: DataTable, ev: dict[str, Any]) -> None:
    """Rows: true label; columns: predicted; the diagonal (right answers) highlighted."""
    table.clear(columns=True)
    m = ev["metrics"]
    labels = [c["label"] for c in m["per_class"]]
    table.add_column("true \\ pred", key="true")
    for i, name in enumerate(labels):
        table.add_column(name[:10], key=f"p{i}")
    for i, row in enumerate(m["confusion"]):
        cells = [Text(str(v), style=DIAGONAL if i == j else "") for j, v in enumerate(row)]
        table.add_row(labels[i][:14], *cells, key=str(i))


def fill_classes(table: DataTable, ev: dict[str, Any]) -> None:
    table.clear(columns=True)
    m = ev["metrics"]
    if ev["objective"] != "classification":
        table.add_columns("figure", "value")
        keys = ("mae", "rmse", "r2") if ev["objective"] == "regression" else (
            "mean_error", "median_error", "p90_error", "max_error")  # fmt: skip
        for k in keys:
            table.add_row(k, num(m.get(k), 5))
        return
    table.add_columns("label", "precision", "recall", "F1", "support")
    for c in m["per_class"]:
        table.add_row(
            c["label"][:14], num(c["precision"]), num(c["recall"]), num(c["f1"]),
            str(c["support"]),
        )  # fmt: skip


def draw_reliability(chart: PlotextPlot, ev: dict[str, Any] | None) -> None:
    """Accuracy per confidence bin against the diagonal a calibrated model would follow."""
    plt = chart.plt
    plt.clear_data()
    plt.clear_figure()
    bins = (ev or {}).get("metrics", {}).get("reliability") or []
    used = [b for b in bins if b["count"]]
    if used:
        plt.bar([(b["lower"] + b["upper"]) / 2 for b in used], [b["accuracy"] for b in used],
                width=0.08, label="accuracy")  # fmt: skip
        plt.plot([0.0, 1.0], [0.0, 1.0], label="calibrated")
        plt.xlim(0, 1)
        plt.ylim(0, 1)
        plt.xticks([0.0, 0.2, 0.4, 0.6, 0.8, 1.0])
    ece = (ev or {}).get("metrics", {}).get("ece")
    plt.title("reliability" + (f" · ECE {ece:.3f}" if ece is not None else " · —"))
    plt.xlabel("confidence")
    chart.refresh()


class EvaluationsScreen(ModalScreen[None]):
    """Stored evaluations of one version: pick one to see its figures."""

    DEFAULT_CSS = """
    EvaluationsScreen { align: center middle; }
    EvaluationsScreen > Vertical {
        width: 96%; height: 92%; border: thick $primary; background: $surface; padding: 0 1;
    }
    EvaluationsScreen .title { text-style: bold; }
    EvaluationsScreen #eval-list { height: auto; max-height: 6; }
    EvaluationsScreen #eval-body { height: 1fr; }
    EvaluationsScreen #eval-tables { width: 1fr; }
    EvaluationsScreen #eval-tables DataTable { height: auto; max-height: 10; }
    EvaluationsScreen #eval-reliability { width: 1fr; height: 1fr; min-height: 8; }
    EvaluationsScreen #eval-problems { height: auto; max-height: 5; color: $text-muted; }
    EvaluationsScreen .hint { color: $text-muted; }
    /* below 110 columns the tables need the width: the reliability chart gives way */
    EvaluationsScreen.-narrow #eval-reliability { display: none; }
    """
    BINDINGS = [Binding("escape", "dismiss", "Close", id="evaluations.close")]

    def __init__(self, reference: str, evaluations: list[dict[str, Any]]) -> None:
        super().__init__()
        self.reference = reference
        self.evaluations = evaluations
        self.current: dict[str, Any] | None = evaluations[0] if evaluations else None

    def compose(self) -> ComposeResult:
        with Vertical():
            n = len(self.evaluations)
            yield Label(f"Evaluations · {self.reference} · {n} stored", classes="title")
            table = FillTable(
                ("data", "headline", "sha256"),
                id="eval-list",
                cursor_type="row",
                zebra_stripes=True,
            )
            for col in ("data", "rows", "scored", "headline", "log loss", "ECE", "sha256"):
                table.add_column(col, key=col)
            yield table
            yield Label("", id="eval-headline", classes="title")
            with Horizontal(id="eval-body"):
                with Vertical(id="eval-tables"):
                    yield Label("per class", classes="hint")
                    yield FillTable("label", id="eval-classes", cursor_type="none")
                    yield Label("confusion matrix · rows true, columns predicted", classes="hint")
                    yield FillTable("true", id="eval-confusion", cursor_type="none")
                yield PlotextPlot(id="eval-reliability")
            yield Static("", id="eval-problems")
            yield Label("↑↓ choose an evaluation · esc closes", classes="hint")

    def on_mount(self) -> None:
        table = self.query_one("#eval-list", DataTable)
        for i, ev in enumerate(self.evaluations):
            m = ev["metrics"]
            table.add_row(
                file_name(ev["data"])[:28], str(ev["rows"]), str(ev["evaluated"]),
                headline(ev), num(m.get("log_loss")), num(m.get("ece")), ev["data_hash"][:10],
                key=str(i),
            )  # fmt: skip
        self.show(self.current)
        table.focus()

    @on(DataTable.RowHighlighted, "#eval-list")
    def _chosen(self, event: DataTable.RowHighlighted) -> None:
        key = event.row_key.value
        if key is not None:
            self.current = self.evaluations[int(key)]
            self.show(self.current)

    def show(self, ev: dict[str, Any] | None) -> None:
        head = self.query_one("#eval-headline", Label)
        problems = self.query_one("#eval-problems", Static)
        classes = self.query_one("#eval-classes", DataTable)
        confusion = self.query_one("#eval-confusion", DataTable)
        if ev is None:
            head.update(
                "No evaluation stored yet: press a in the Models pane, or run "
                "`workbench neural evaluate NAME --data FILE`."
            )
            problems.update("")
            classes.clear(columns=True)
            confusion.clear(columns=True)
            draw_reliability(self.query_one("#eval-reliability", PlotextPlot), None)
            return
        head.update(f"{file_name(ev['data'])} · {headline(ev)}")
        fill_classes(classes, ev)
        confusion.display = ev["objective"] == "classification"
        if ev["objective"] == "classification":
            fill_confusion(confusion, ev)
        draw_reliability(self.query_one("#eval-reliability", PlotextPlot), ev)
        problems.update("\n".join(problem_lines(ev)))


def comparison_rows(cmp: dict[str, Any]) -> list[tuple[str, str, str, Text]]:
    """(figure, a, b, b − a) with the sign coloured so that green is always better."""
    a, b = cmp["a"]["metrics"], cmp["b"]["metrics"]
    d = cmp["differences"]
    rows = [("rows scored", str(cmp["a"]["evaluated"]), str(cmp["b"]["evaluated"]), Text(""))]
    lower_better = {"log_loss", "ece", "mae", "rmse", "mean_error"}
    names = {"accuracy": "accuracy", "log_loss": "log loss", "ece": "ECE", "macro_f1": "macro F1",
             "mae": "MAE", "rmse": "RMSE", "r2": "R²", "mean_error": "mean error"}  # fmt: skip
    for key, label in names.items():
        if key in d:
            diff = signed(d[key])
            if key in lower_better and d[key]:
                diff.stylize("red" if d[key] > 0 else "green")
            rows.append((label, num(a.get(key)), num(b.get(key)), diff))
    return rows


class CompareEvaluationsScreen(ModalScreen[None]):
    """Two versions' stored evaluations on the same data, with the differences."""

    DEFAULT_CSS = """
    CompareEvaluationsScreen { align: center middle; }
    CompareEvaluationsScreen > Vertical {
        width: auto; min-width: 60; max-width: 96%; height: auto; max-height: 92%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    CompareEvaluationsScreen .title { text-style: bold; }
    CompareEvaluationsScreen DataTable { width: auto; height: auto; max-height: 14; }
    CompareEvaluationsScreen .hint { color: $text-muted; }
    """
    BINDINGS = [Binding("escape", "dismiss", "Close", id="compare_eval.close")]

    def __init__(self, comparison: dict[str, Any]) -> None:
        super().__init__()
        self.comparison = comparison

    def compose(self) -> ComposeResult:
        cmp = self.comparison
        a, b = cmp["a"], cmp["b"]
        va, vb = f"{a['name']} v{a['version']}", f"{b['name']} v{b['version']}"
        # Two versions of one model: the title names it once and the columns say which
        # version, so the table fits 80 columns with any model name.
        same = a["name"] == b["name"]
        ca, cb = (f"v{a['version']}", f"v{b['version']}") if same else (va, vb)
        with Vertical():
            yield Label(f"{va} vs {vb}", classes="title")
            yield Label(f"same data: {file_name(cmp['data'])} · sha256 {cmp['data_hash'][:16]}",
                        classes="hint")  # fmt: skip
            yield Label(f"differences are v{b['version']} − v{a['version']} (green is better)",
                        classes="hint")  # fmt: skip
            summary = DataTable(id="compare-summary", cursor_type="none")
            summary.add_columns("figure", ca, cb, "difference")
            yield summary
            if "per_class" in cmp["differences"]:
                yield Label("per class", classes="hint")
                yield DataTable(id="compare-classes", cursor_type="none")
            if cmp.get("note"):
                yield Label(cmp["note"], classes="hint")
            yield Label("esc closes", classes="hint")

    def on_mount(self) -> None:
        cmp = self.comparison
        summary = self.query_one("#compare-summary", DataTable)
        for row in comparison_rows(cmp):
            summary.add_row(*row)
        if "per_class" not in cmp["differences"]:
            return
        table = self.query_one("#compare-classes", DataTable)
        va, vb = f"v{cmp['a']['version']}", f"v{cmp['b']['version']}"
        table.add_columns("label", "support", f"F1 {va}", f"F1 {vb}", "ΔF1", "Δrecall",
                          "Δprecision")  # fmt: skip
        ca, cb = cmp["a"]["metrics"]["per_class"], cmp["b"]["metrics"]["per_class"]
        for d, x, y in zip(cmp["differences"]["per_class"], ca, cb, strict=True):
            table.add_row(
                d["label"][:14], str(d["support"]), num(x["f1"]), num(y["f1"]), signed(d["f1"]),
                signed(d["recall"]), signed(d["precision"]),
            )  # fmt: skip


class EvaluateDialog(ModelDialog):
    """A labelled file to measure the selected version on (stored per data hash)."""

    TITLE_TEXT = "Evaluate"
    OK_LABEL = "Evaluate"

    def __init__(self, reference: str) -> None:
        super().__init__()
        self.reference = reference

    def intro(self) -> str:
        return (
            f"Model {self.reference}: a labelled JSON, CSV or NPZ file it was not trained on. "
            "Rows are encoded with the model's own scaling and labels, as predict does."
        )

    def fields(self) -> list[tuple[str, str, str, str]]:
        return [
            ("data", "Data file", "", "path/to/held_out.csv"),
            ("label", "Label column (empty: the model's)", "", "label"),
        ]

    def validate(self) -> dict:
        return {"data": existing_file(self.value("data"), "data"), "label": self.value("label")}
