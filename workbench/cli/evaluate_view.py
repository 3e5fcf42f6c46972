"""Rich tables for a stored evaluation (`workbench neural evaluate`)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.control import strip_control_codes
from rich.markup import escape
from rich.table import Table

DRIFT_SHOWN = 10


def safe(text: object) -> str:
    """File text (labels, column names) is data: no control codes, no rich markup."""
    return escape(strip_control_codes(str(text)))


def num(value: Any, digits: int = 4) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def print_evaluation(out: Console, ev: dict[str, Any]) -> None:
    """Headline, problems, then the objective's tables and the drift table."""
    m = ev["metrics"]
    if "models" in ev:  # an ensemble, measured on the spot
        out.print(
            f"[bold]ensemble of {safe(', '.join(ev['models']))}[/bold] on {safe(ev['source'])}: "
            f"{ev['rows']} rows, {ev['evaluated']} evaluated"
        )
    else:
        out.print(
            f"[bold]{safe(ev['name'])}@{ev['version']}[/bold] on {safe(ev['data'])} "
            f"(sha256 {ev['data_hash'][:12]}): {ev['rows']} rows, {ev['evaluated']} evaluated"
        )
    for note in ev.get("notes") or []:
        out.print(f"  note: {safe(note)}")
    unk = ev.get("unknown_label") or {}
    if unk.get("count"):
        out.print(
            f"  [bold]{unk['count']} row(s) with a label the model never saw[/bold], not scored: "
            + safe(", ".join(unk["where"]))
            + (" …" if unk["count"] > len(unk["where"]) else "")
        )
    mf = ev.get("missing_feature") or {}
    if mf.get("count"):
        out.print(
            f"  [bold]{mf['count']} row(s) lack a feature[/bold] (encoded as the training mean, "
            "as predict does): "
            + safe(", ".join(mf["where"]))
            + (" …" if mf["count"] > len(mf["where"]) else "")
        )
    if ev["objective"] == "classification":
        _classification(out, m)
    elif ev["objective"] == "regression":
        t = Table(title="regression")
        for k in ("rows", "MAE", "RMSE", "R²"):
            t.add_column(k, justify="right")
        t.add_row(str(m["rows"]), num(m["mae"]), num(m["rmse"]), num(m["r2"]))
        out.print(t)
    else:
        t = Table(title=f"reconstruction error per row ({m['rows']} rows)")
        for k in ("mean", "median", "p90", "p99", "max"):
            t.add_column(k, justify="right")
        t.add_row(*(num(m.get(f"{k}_error"), 5) for k in ("mean", "median", "p90", "p99", "max")))
        out.print(t)
    _drift(out, ev.get("drift") or {})


def _classification(out: Console, m: dict[str, Any]) -> None:
    t = Table(title=f"classification on {m['rows']} rows")
    for k in ("accuracy", "log loss", "ECE (10 bins)", "macro F1"):
        t.add_column(k, justify="right")
    t.add_row(num(m["accuracy"]), num(m["log_loss"]), num(m["ece"]), num(m["macro_f1"]))
    out.print(t)
    t = Table(title="per class")
    t.add_column("label")
    for k in ("precision", "recall", "F1", "support", "predicted"):
        t.add_column(k, justify="right")
    for c in m["per_class"]:
        t.add_row(
            safe(c["label"]),
            num(c["precision"]),
            num(c["recall"]),
            num(c["f1"]),
            str(c["support"]),
            str(c["predicted"]),
        )
    out.print(t)
    labels = [safe(c["label"]) for c in m["per_class"]]
    t = Table(title="confusion matrix (rows: true, columns: predicted)")
    t.add_column("true \\ predicted")
    for name in labels:
        t.add_column(name, justify="right")
    for i, row in enumerate(m["confusion"]):
        cells = [f"[bold green]{v}[/bold green]" if j == i else str(v) for j, v in enumerate(row)]
        t.add_row(labels[i], *cells)
    out.print(t)
    t = Table(title="reliability (confidence bins)")
    for k in ("confidence", "rows", "mean confidence", "accuracy"):
        t.add_column(k, justify="right")
    for b in m["reliability"]:
        if b["count"]:
            t.add_row(
                f"{b['lower']:.1f}–{b['upper']:.1f}",
                str(b["count"]),
                num(b["confidence"], 3),
                num(b["accuracy"], 3),
            )
    out.print(t)


def _drift(out: Console, drift: dict[str, Any]) -> None:
    feats = drift.get("features") or []
    if feats:
        t = Table(title="drift from the training data (most shifted first)")
        t.add_column("feature")
        for k in ("shift (training SDs)", "spread ratio", "mean here", "training mean", "missing"):
            t.add_column(k, justify="right")
        for d in feats[:DRIFT_SHOWN]:
            shift = d["shift_sd"]
            t.add_row(
                safe(d["feature"]),
                "—" if shift is None else f"{shift:+.2f}",
                num(d["spread_ratio"], 2),
                num(d["mean"], 4),
                num(d["train_mean"], 4),
                str(d["missing"]),
            )
        out.print(t)
        if len(feats) > DRIFT_SHOWN:
            out.print(f"  … {len(feats) - DRIFT_SHOWN} more features (--json lists all)")
    if drift.get("note"):
        out.print(f"  drift: {safe(drift['note'])}")
