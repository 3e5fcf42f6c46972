"""Marked pipeline runs side by side: one column per run, totals then each strategy."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label

from workbench.ui.widgets.run_picker import run_mode


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


def num(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def comparison_rows(runs: list[dict]) -> list[tuple[str, list[str | Text]]]:
    """(metric, one cell per run); the best cell of each comparable metric in bold."""
    rows: list[tuple[str, list[str | Text]]] = [
        ("status", [r["status"] for r in runs]),
        ("mode", [run_mode(r) for r in runs]),
        ("iterations", [str(r["iterations"]) for r in runs]),
        ("executions", [str(r["executions"]) for r in runs]),
    ]
    metrics = (("success", "success_rate", pct, max), ("mean score", "avg_score", num, max),
               ("mean ms", "avg_exec_ms", lambda v: num(v, 0), min))  # fmt: skip
    strategies = list(dict.fromkeys(s for r in runs for s in r["by_strategy"]))
    for label, key, fmt, best in metrics:
        rows.append((label, _marked([r[key] for r in runs], fmt, best)))
    for name in strategies:
        for label, key, fmt, best in metrics[:2]:
            values = [r["by_strategy"].get(name, {}).get(key) for r in runs]
            rows.append((f"{name} · {label}", _marked(values, fmt, best)))
    return rows


def _marked(values: list[float | None], fmt, best) -> list[str | Text]:
    present = [v for v in values if v is not None]
    top = best(present) if len(present) > 1 else None
    return [Text(fmt(v), style="bold" if v is not None and v == top else "") for v in values]


class CompareRunsScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    CompareRunsScreen { align: center middle; }
    CompareRunsScreen > Vertical {
        width: auto; min-width: 50; max-width: 90%; height: auto; max-height: 90%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    CompareRunsScreen DataTable { width: auto; height: auto; max-height: 30; }
    CompareRunsScreen .hint { color: $text-muted; }
    """
    BINDINGS = [Binding("escape", "dismiss", "Close", id="compare.close")]

    def __init__(self, runs: list[dict]) -> None:
        super().__init__()
        self.runs = runs

    def compose(self) -> ComposeResult:
        with Vertical():
            ids = ", ".join(str(r["id"]) for r in self.runs)
            yield Label(f"Compare runs {ids}", classes="panel-title")
            table = DataTable(cursor_type="row", zebra_stripes=True)
            table.add_column("metric", key="metric")
            for r in self.runs:
                table.add_column(f"run {r['id']}", key=str(r["id"]))
            for label, cells in comparison_rows(self.runs):
                table.add_row(label, *cells, key=label)
            yield table
            yield Label("best of each row in bold · esc closes", classes="hint")

    def action_dismiss(self, result: None = None) -> None:  # type: ignore[override]
        self.dismiss(result)
