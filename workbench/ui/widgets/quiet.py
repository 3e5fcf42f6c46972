"""Update a Static only when what it shows changes.

`Static.update` always asks for a layout of the whole screen and a repaint of the widget,
even when the new content is the same as the old. A change-feed refresh re-applies every
label of a pane after each commit; most are unchanged, and each such no-op update made the
next frame reflow the screen and re-render the widget (issue 16 part 3: the "paint" stage
of commit → repainted Hub pane). Compared like `FillTable.sync` compares cells.
"""

from __future__ import annotations

from textual.visual import VisualType
from textual.widgets import Static

from workbench.ui.widgets.fill_table import signature


def show(widget: Static, content: VisualType) -> bool:
    """Show `content` in `widget` unless it already shows the same; True if it changed."""
    if signature(widget.content) == signature(content):
        return False
    widget.update(content)
    return True
