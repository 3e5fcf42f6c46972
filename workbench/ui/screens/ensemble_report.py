"""The Models pane's ensemble result: each member's answer and the ensemble's, as the
engine's `neural.ensemble` returned them (the call `workbench neural ensemble` makes)."""

from __future__ import annotations

from collections.abc import Sequence

from workbench.ui.screens.model_dialogs import ReportScreen


def _line(value: object) -> str:
    """Stored or typed text on one Markdown line, no table column breaks."""
    return str(value).replace("|", "\\|").replace("\n", " ")


def _cell(value: object) -> str:
    """A table cell: one line, at most 48 characters."""
    text = _line(value)
    return text if len(text) <= 48 else text[:47] + "…"


def ensemble_markdown(references: Sequence[str], results: Sequence[dict]) -> str:
    """Per input: the ensemble's answer (mean class probabilities), how many members
    agree, each member's own answer, the averaged probabilities and the advice."""
    out = [f"# Ensemble · {', '.join(references)}"]
    for i, r in enumerate(results, start=1):
        if len(results) > 1:
            out.append(f"## Input {i}")
        agree = round(r["agreement"] * len(r["members"]))
        out.append(
            f"**{_cell(r['prediction'])}** · confidence {r['confidence']:.3f} · "
            f"{agree} of {len(r['members'])} members agree"
        )
        table = ["| member | answer | confidence |", "|---|---|---|"]
        for member in r["members"]:
            table.append(
                f"| {_cell(member['model'])} | {_cell(member['prediction'])} | "
                f"{member['confidence']:.3f} |"
            )
        table.append(f"| **ensemble** | **{_cell(r['prediction'])}** | {r['confidence']:.3f} |")
        out.append("\n".join(table))
        probabilities = sorted(r["probabilities"].items(), key=lambda kv: (-kv[1], kv[0]))
        out.append(
            "mean probabilities: " + " · ".join(f"{_cell(k)} {p:.3f}" for k, p in probabilities)
        )
        if r.get("recommendations"):
            out.append("\n".join(f"- {_line(rec)}" for rec in r["recommendations"]))
    return "\n\n".join(out)


class EnsembleReportScreen(ReportScreen):
    """The ensemble's answers, closed with escape like every report; it fits an 80x24
    terminal (the table scrolls, the Close button stays on screen)."""

    DEFAULT_CSS = """
    EnsembleReportScreen > Vertical { max-width: 100%; }
    EnsembleReportScreen VerticalScroll { max-height: 70vh; }
    """

    def __init__(self, references: Sequence[str], results: Sequence[dict]) -> None:
        super().__init__(ensemble_markdown(references, results))
        self.references = list(references)
        self.results = list(results)
