"""Fit a DataTable's columns to its width, the same way for every table in the app.

The rule (issue 17): a cut number is a wrong number. So every column that is not a text
column (numbers, statuses, times, ids) keeps its full content width; the text columns
named as fill columns take what is left, give way first when there is not enough (the
widest shrinks first, none below a small minimum), and end with an ellipsis when cut.
When even that does not fit, the table is wider than its widget and scrolls horizontally.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual.widgets import DataTable

MIN_WIDTH = 8


def fill_widths(naturals: Sequence[int], space: int, minimum: int = MIN_WIDTH) -> list[int]:
    """Widths for text columns whose content wants `naturals` cells, sharing `space`.

    Enough space: each gets its natural width and the last one takes the rest, so the
    table spans its widget. Too little: the widest give way first (a common cap chosen
    so the total fits), none below `minimum` (or its natural width, when smaller).
    """
    if not naturals:
        return []
    if sum(naturals) <= space:
        return [*naturals[:-1], naturals[-1] + space - sum(naturals)]
    floors = [min(n, minimum) for n in naturals]
    if sum(floors) >= space:
        return floors
    # the largest cap c with sum(max(floor, min(natural, c))) <= space
    low, high = 0, max(naturals)
    while low < high:
        cap = (low + high + 1) // 2
        if sum(max(f, min(n, cap)) for f, n in zip(floors, naturals, strict=True)) <= space:
            low = cap
        else:
            high = cap - 1
    widths = [max(f, min(n, low)) for f, n in zip(floors, naturals, strict=True)]
    # hand out the cells the integer cap left over, widest wanting first
    spare = space - sum(widths)
    for i in sorted(range(len(widths)), key=lambda i: naturals[i] - widths[i], reverse=True):
        if spare <= 0:
            break
        if widths[i] < naturals[i]:
            widths[i] += 1
            spare -= 1
    return widths


def fit_columns(table: DataTable, fill: Sequence[str]) -> bool:
    """Fit `table`'s columns to its visible width (see the module doc); True if a width
    changed (the table's dimensions must then be recomputed)."""
    if not table.size.width or not table.columns:
        return False
    padding = 2 * table.cell_padding
    # a fill column is named by its key or, for columns added without one, its label
    named = {str(c.label.plain): k for k, c in table.columns.items()}
    keys = [k for k in (name if name in table.columns else named.get(name) for name in fill) if k]
    changed = False
    for k, column in table.columns.items():
        if k not in keys and not column.auto_width:
            column.auto_width = True  # numbers and statuses: always their full width
            changed = True
    others = sum(c.get_render_width(table) for k, c in table.columns.items() if k not in keys)
    scrollbar = table.styles.scrollbar_size_vertical if table.show_vertical_scrollbar else 0
    space = table.size.width - others - scrollbar - padding * len(keys)
    naturals = [table.columns[k].content_width for k in keys]
    for key, width in zip(keys, fill_widths(naturals, space), strict=True):
        column = table.columns[key]
        if column.auto_width or column.width != width:
            column.auto_width = False
            column.width = width
            changed = True
    return changed


def fill_column(table: DataTable, key: str) -> None:
    """Fit `table` with `key` as its one text column, and redraw it if a width changed."""
    if fit_columns(table, [key]):
        table._require_update_dimensions = True  # the cached widths are now stale
        table.refresh(layout=True)
