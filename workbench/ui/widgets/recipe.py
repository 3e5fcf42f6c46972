"""Text for a text model's stored recipe: what CV chose, the CV table, the calibration.

Formatting only: the figures come from the version's training-run metrics (stored by
`neural/selection.py` and the patterns calibration); nothing here measures anything.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text


def _blocks_off(full: str, features: str) -> str:
    """A feature row named by what it switched off (the first row is all blocks)."""
    off = [b for b in full.split("+") if b not in features.split("+")]
    return "all" if not off else "−" + "−".join(off)


def recipe_lines(sel: dict[str, Any] | None) -> list[Text]:
    """Three lines: the chosen recipe, the feature ablation and the model grid."""
    if not sel:
        return []
    table = sel.get("table") or []
    features = [r for r in table if r.get("stage") == "features"]
    models = [r for r in table if r.get("stage") == "model"]
    lines = [
        Text.assemble(
            ("recipe ", "dim"),
            (f"{sel['model']} on {'+'.join(sel['features'])}", "bold"),
            f" · {sel['folds']}-fold CV {sel['cv_accuracy']:.3f} on {sel['rows']} training rows"
            + (f" (chosen for v{sel['from_version']})" if sel.get("from_version") else ""),
        )
    ]
    if features:
        full = features[0]["features"]
        cells = [f"{_blocks_off(full, r['features'])} {r['cv_accuracy']:.3f}" for r in features]
        lines.append(Text.assemble(("cv features ", "dim"), " · ".join(cells)))
    if models:
        cells = [f"{r['model']} {r['cv_accuracy']:.3f}" for r in models]
        lines.append(Text.assemble(("cv models ", "dim"), " · ".join(cells)))
    return lines


def calibration_text(cal: dict[str, Any] | None) -> Text | None:
    """The temperature served and the held-out ECE it gives (or why T stayed 1)."""
    if not cal:
        return None
    if cal.get("applied") is False:
        return Text.assemble(
            ("calibration ", "dim"),
            f"T kept at 1 (fitted {cal['fitted_temperature']:.3f} worsened the "
            f"{cal['fold_rows']}-row fold's ECE) · held-out ECE {cal['ece_before']:.3f}",
        )
    return Text.assemble(
        ("calibration ", "dim"),
        f"T {cal['temperature']:.3f} (fitted on {cal['fold_rows']} training rows) · held-out "
        f"ECE {cal['ece_before']:.3f} → {cal['ece_after']:.3f}",
    )
