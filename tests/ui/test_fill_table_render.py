"""FillTable keeps rendered cells across changes elsewhere in the table (issue 16 part 3:
after one commit the Hub list re-rendered every visible cell). What it paints must be what
a table with empty caches paints — text, styles and the row/column a click reports — and a
row that only moved must not be rendered again."""

from __future__ import annotations

from rich.text import Text
from textual.app import App, ComposeResult
from textual.widgets import DataTable

from workbench.ui.widgets.fill_table import FillTable


class OneTable(App[None]):
    def compose(self) -> ComposeResult:
        table = FillTable("title", id="t", cursor_type="row")
        table.add_column("n", key="n")
        table.add_column("title", key="title")
        table.add_column("votes", key="votes")
        yield table


def rows(n: int) -> list[tuple[str, list]]:
    return [
        (f"k{i}", [str(i), Text(f"item {i}", style="bold" if i % 3 else ""), str(i % 5)])
        for i in range(n)
    ]


def picture(table: FillTable) -> list[list[tuple]]:
    """Every visible line as (text, style, click metadata) segments."""
    return [
        [(seg.text, str(seg.style), seg.style.meta if seg.style else {}) for seg in strip]
        for strip in (table.render_line(y) for y in range(table.size.height))
    ]


def fresh_picture(table: FillTable) -> list[list[tuple]]:
    table._clear_caches()  # DataTable's caches and FillTable's cell cache
    return picture(table)


async def test_cached_cells_paint_what_empty_caches_paint():
    app = OneTable()
    async with app.run_test(size=(60, 20)) as pilot:
        table = app.query_one(FillTable)
        data = rows(40)
        table.sync(data)
        table.move_cursor(row=3)
        await pilot.pause()
        first = picture(table)
        steps = [
            lambda d: [("top", ["-", Text("new on top"), "9"]), *d],  # every row moves down
            lambda d: [d[0], d[1], ("k1", ["1", Text("renamed"), "4"]), *d[3:]],  # one changed
            lambda d: [r for r in d if r[0] not in ("k4", "k5")],  # rows removed: moved up
            lambda d: list(reversed(d)),  # all reordered
        ]
        for step in steps:
            data = step(data)
            if len({k for k, _ in data}) != len(data):  # the "changed" step replaces k1
                data = [r for i, r in enumerate(data) if r[0] != "k1" or i == 2]
            table.sync(data)
            await pilot.pause()
            assert picture(table) == fresh_picture(table)
        assert picture(table) != first


async def test_a_row_that_only_moved_is_not_rendered_again(monkeypatch):
    app = OneTable()
    async with app.run_test(size=(60, 20)) as pilot:
        table = app.query_one(FillTable)
        data = rows(40)
        table.sync(data)
        await pilot.pause()
        picture(table)
        rendered: list[int] = []
        original = DataTable._render_cell

        def counting(self, row_index, column_index, *args, **kwargs):
            if row_index >= 0:
                rendered.append(row_index)
            return original(self, row_index, column_index, *args, **kwargs)

        monkeypatch.setattr(DataTable, "_render_cell", counting)
        table.sync([("top", ["-", Text("new on top"), "9"]), *data])
        await pilot.pause()
        picture(table)
        keys = {table.coordinate_to_cell_key((i, 0)).row_key.value for i in rendered}
        # the new row, and the row under the cursor (its highlight is drawn per position);
        # the other ~17 visible rows moved down one line without being rendered again
        assert keys == {"top", "k0"}
        assert len(rendered) == 2 * 3


async def test_a_click_after_rows_moved_selects_the_row_under_the_pointer():
    app = OneTable()
    async with app.run_test(size=(60, 20)) as pilot:
        table = app.query_one(FillTable)
        data = rows(40)
        table.sync(data)
        await pilot.pause()
        table.sync([("a", ["-", Text("first new"), "0"]), ("b", ["-", Text("second"), "0"]), *data])
        await pilot.pause()
        await pilot.click(FillTable, offset=(4, 1 + 4))  # header line, then row index 4
        await pilot.pause()
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        assert key == "k2"
