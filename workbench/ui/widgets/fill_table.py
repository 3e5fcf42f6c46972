"""A DataTable that fits its columns to its width and repaints only the rows that changed.

Fitting (issue 17): a cut number is a wrong number. So every column that is not a text
column (numbers, statuses, times, ids) keeps its full content width; the text columns
named as fill columns take what is left, give way first when there is not enough (the
widest shrinks first, none below a small minimum), and end with an ellipsis when cut.
When even that does not fit, the table is wider than its widget and scrolls horizontally.
The table refits whenever its own size or its content changes (a panel shown, hidden or
narrowed; rows added), not only when its pane is resized.

Repainting (`FillTable.sync`): a change-feed refresh hands the table every row it should
show, keyed; only rows whose cells differ are updated, new keys are added and gone keys
removed, the order is fixed in one pass, and the cursor stays on the row it was on. A
10k-row table that gains one row costs one row's work, not 10k `add_row`s.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from typing import Any

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual._two_way_dict import TwoWayDict
from textual.events import Resize
from textual.geometry import Region
from textual.strip import Strip
from textual.widgets import DataTable
from textual.widgets.data_table import CellKey, RowKey

MIN_WIDTH = 8
CELL_CACHE_SIZE = 20_000  # rendered cells kept across changes (a 500-row table: 2,500)


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
    # the vertical scrollbar shows once the rows outgrow the height, which Textual learns
    # only at its next layout: count it now, or a fit made as the rows arrive is a
    # scrollbar too wide and cuts the last column (the Hub's "app" read "ap" at 80x24)
    rows_tall = table.row_count + (table.header_height if table.show_header else 0)
    scrolls = table.show_vertical_scrollbar or (
        table.styles.overflow_y in ("auto", "scroll") and rows_tall > table.size.height
    )
    scrollbar = table.styles.scrollbar_size_vertical if scrolls else 0
    space = table.size.width - others - scrollbar - padding * len(keys)
    naturals = [table.columns[k].content_width for k in keys]
    for key, width in zip(keys, fill_widths(naturals, space), strict=True):
        column = table.columns[key]
        if column.auto_width or column.width != width:
            column.auto_width = False
            column.width = width
            changed = True
    return changed


def ellipsized(cell: Any) -> Any:
    """A cell that ends with `…` when its column is narrower than it (one line)."""
    if isinstance(cell, str):  # DataTable reads a str cell as markup; keep that
        cell = Text.from_markup(cell)
    if isinstance(cell, Text):
        cell = cell.copy()
        cell.overflow = "ellipsis"
        cell.no_wrap = True
    return cell


def signature(cell: Any) -> Any:
    """What a cell looks like, comparable (rich's Text equality ignores its base style)."""
    if isinstance(cell, Text):
        return ("text", cell.plain, str(cell.style), tuple(cell.spans), cell.justify)
    return ("value", cell)


class _PassStyles:
    """A component's styles during one render pass, its rich style computed once."""

    def __init__(self, styles: Any) -> None:
        self._styles = styles
        self._rich: Style | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._styles, name)

    @property
    def rich_style(self) -> Style:
        if self._rich is None:
            self._rich = self._styles.rich_style
        return self._rich


class FillTable(DataTable):
    """`fill`: the text column(s) that take the width the others leave, in order."""

    def __init__(self, fill: str | Sequence[str], **kwargs: Any) -> None:
        # Rendered cells that outlive a change elsewhere in the table (see `_render_cell`;
        # set first: DataTable's __init__ already clears caches):
        # a row's content version changes whenever one of its cells does.
        self._versions = itertools.count()
        self._row_version: dict[RowKey, int] = {}
        self._cells: dict[tuple, tuple[int, Any]] = {}
        self._pass_styles: dict | None = None  # see render_lines
        super().__init__(**kwargs)
        self.fill = [fill] if isinstance(fill, str) else list(fill)
        self._shown: dict[str, tuple] = {}  # row key -> the signatures `sync` last put
        # row key -> the cells object `sync` was last given: a caller that hands the same
        # object again for an unchanged row spares its signatures being computed
        self._given: dict[str, Sequence[Any]] = {}
        self.last_sync: dict[str, int] = {}  # what the last sync touched (tests, benchmark)

    def add_row(self, *cells: Any, **kwargs: Any):
        row_key = super().add_row(*(ellipsized(c) for c in cells), **kwargs)
        self._row_version[row_key] = next(self._versions)
        return row_key

    def update_cell(self, row_key: Any, column_key: Any, value: Any, **kwargs: Any) -> None:
        super().update_cell(row_key, column_key, ellipsized(value), **kwargs)
        self._row_version[RowKey(row_key) if isinstance(row_key, str) else row_key] = next(
            self._versions
        )

    def clear(self, columns: bool = False):
        self._shown, self._given = {}, {}
        self._row_version.clear()
        return super().clear(columns)

    def _clear_caches(self) -> None:
        super()._clear_caches()
        self._cells.clear()

    def notify_style_update(self) -> None:
        self._cells.clear()
        super().notify_style_update()

    # -- one render pass: styles looked up once, not per line -----------------------------
    # DataTable looks up its own and its components' rich styles for every line it renders;
    # each lookup walks every ancestor to blend backgrounds (about a third of a 20-line
    # repaint). Styles cannot change during one `render_lines` call, so within it each is
    # computed once; outside a pass nothing is kept.

    def render_lines(self, crop: Region) -> list[Strip]:
        self._pass_styles = {}
        try:
            return super().render_lines(crop)
        finally:
            self._pass_styles = None

    @property
    def rich_style(self) -> Style:
        memo = self._pass_styles
        if memo is None:
            return super().rich_style
        if None not in memo:
            memo[None] = super().rich_style
        return memo[None]

    def get_component_styles(self, *names: str) -> Any:
        memo = self._pass_styles
        if memo is None:
            return super().get_component_styles(*names)
        if names not in memo:
            memo[names] = _PassStyles(super().get_component_styles(*names))
        return memo[names]

    def _render_cell(
        self,
        row_index: int,
        column_index: int,
        base_style: Style,
        width: int,
        cursor: bool = False,
        hover: bool = False,
    ) -> list[list[Segment]]:
        """DataTable's cell cache is keyed by a counter that every change bumps, so one
        changed cell re-renders every visible cell (a commit that adds one row at the top
        of the Hub list re-rendered ~100 cells: most of the frame after it). This cache is
        keyed by the row's content version instead; a row that only moved keeps its
        rendering, with the row index its click metadata carries brought up to date."""
        row_key = self._row_locations.get_key(row_index) if row_index >= 0 else None
        version = self._row_version.get(row_key) if row_key is not None else None
        if (
            version is None
            or column_index < 0
            or row_index < self.fixed_rows
            or column_index < self.fixed_columns
        ):
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        key = (
            row_key,
            version,
            self._column_locations.get_key(column_index),
            column_index,
            base_style,
            width,
            cursor,
            hover,
            self._show_hover_cursor,
            self._pseudo_class_state,
            self.rows[row_key].height,
        )
        cached = self._cells.get(key)
        if cached is None:
            if len(self._cells) >= CELL_CACHE_SIZE:
                self._cells.clear()
            lines = super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
            self._cells[key] = (row_index, lines)
            return lines
        at, lines = cached
        if at == row_index:
            return lines
        meta = Style.from_meta({"row": row_index, "column": column_index})
        lines = [list(Segment.apply_style(line, post_style=meta)) for line in lines]
        self._cells[key] = (row_index, lines)
        return lines

    def sync(self, rows: Sequence[tuple[str, Sequence[Any]]], cursor: str | None = None) -> None:
        """Show `rows` ((key, cells) in order), touching only what changed since the last
        sync: cells that differ are updated, new keys added, gone keys removed, and the
        order set in one pass. The cursor stays on its row (or moves to `cursor` when that
        key is shown); the scroll offset is left as it was."""
        keys = [key for key, _ in rows]
        given, shown = self._given, self._shown
        wanted = {
            key: shown[key]
            if given.get(key) is cells and key in shown
            else tuple(signature(c) for c in cells)
            for key, cells in rows
        }
        if len(wanted) != len(rows):
            raise ValueError("FillTable.sync: row keys must be unique")
        if self.row_count != len(self._shown):  # rows added by other means: start over
            self.clear()
        at = self._cursor_key()
        gone = [key for key in self._shown if key not in wanted]
        new = [key for key in keys if key not in self._shown]
        if len(gone) > max(16, len(self._shown) // 4):  # mostly different rows: refill
            self.clear()
            gone, new = [], keys
        elif gone:
            self._forget(gone)
        columns = list(self.columns)
        changed = 0
        cells_of = dict(rows)
        for key in keys:
            if key in self._shown and self._shown[key] != wanted[key]:
                for column, old, value, sig in zip(
                    columns, self._shown[key], cells_of[key], wanted[key], strict=True
                ):
                    if old != sig:
                        self.update_cell(key, column, value, update_width=True)
                changed += 1
        for key in new:
            self.add_row(*cells_of[key], key=key)
        self._shown = wanted
        self._given = dict(rows)
        order = {RowKey(key): i for i, key in enumerate(keys)}
        located = self._row_locations
        if any(located.get(k) != i for k, i in order.items()):  # as DataTable.sort does
            self._row_locations = TwoWayDict(order)
            # `rows` in shown order too, for code that iterates it (DataTable keeps it in
            # insertion order, which after a sync is no longer the order on screen)
            rows_now = self.rows
            self.rows = {k: rows_now[k] for k in order}
            self._update_count += 1
            self.refresh()
        self.last_sync = {"updated": changed, "added": len(new), "removed": len(gone)}
        target = cursor if cursor in wanted else at
        if target is not None and target in wanted and self._cursor_key() != target:
            self.move_cursor(row=order[RowKey(target)], animate=False, scroll=False)
        elif gone:
            self.cursor_coordinate = self.cursor_coordinate  # clamped to the rows left
        now = self._cursor_key()
        if now is not None and now != at and now != target:
            # another row came under the cursor without it moving (its row was removed):
            # say so, as DataTable does when a first row appears under it
            self._highlight_cursor()

    def _cursor_key(self) -> str | None:
        if not self.row_count or not self.is_valid_row_index(self.cursor_row):
            return None
        return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value

    def _forget(self, keys: list[str]) -> None:
        """Remove rows with one rebuild of the row index (DataTable.remove_row rebuilds
        it per row, O(n) each)."""
        gone = {RowKey(key) for key in keys}
        for row_key in gone:
            for column_key in self._data.get(row_key, {}):
                self._updated_cells.discard(CellKey(row_key, column_key))
            self.rows.pop(row_key, None)
            self._data.pop(row_key, None)
        kept = sorted(
            (k for k in self._row_locations if k not in gone), key=self._row_locations.get
        )
        self._row_locations = TwoWayDict({k: i for i, k in enumerate(kept)})
        self._update_count += 1
        self._require_update_dimensions = True
        self.check_idle()

    def on_resize(self, event: Resize) -> None:
        self._require_update_dimensions = True
        self.refresh(layout=True)

    def _update_dimensions(self, new_rows: Iterable[Any]) -> None:
        # DataTable measures its content here; the fit needs those measures, and the
        # table's virtual width then needs the fitted widths
        super()._update_dimensions(new_rows)
        if fit_columns(self, self.fill):
            self._clear_caches()
            super()._update_dimensions(())

    def fit(self) -> None:
        """Fit the columns now (after a change of what is shown beside the table)."""
        if fit_columns(self, self.fill):
            self._clear_caches()
            super()._update_dimensions(())
            self.refresh(layout=True)
