"""FillTable.sync: a refresh touches only the rows that changed and keeps the cursor."""

from __future__ import annotations

import pytest
from rich.text import Text
from textual.app import App, ComposeResult

from workbench.ui.widgets.fill_table import FillTable, fit_columns


class OneTable(App[None]):
    def compose(self) -> ComposeResult:
        table = FillTable("title", id="t", cursor_type="row")
        table.add_column("n", key="n")
        table.add_column("title", key="title")
        yield table


def rows(n: int, prefix: str = "item") -> list[tuple[str, list]]:
    return [(f"k{i}", [str(i), Text(f"{prefix} {i}")]) for i in range(n)]


def shown(table: FillTable) -> list[tuple[str, str]]:
    return [(row.key.value, str(table.get_row(row.key)[1].plain)) for row in table.ordered_rows]


async def test_sync_touches_only_changed_rows_and_keeps_the_cursor():
    app = OneTable()
    async with app.run_test(size=(60, 20)) as pilot:
        table = app.query_one(FillTable)
        table.sync(rows(200))
        assert table.last_sync == {"updated": 0, "added": 200, "removed": 0}
        table.move_cursor(row=5)
        await pilot.pause()
        # one new row on top, one changed title, one removed: three rows of work
        data = rows(200)
        data[10] = ("k10", ["10", Text("renamed")])
        del data[120]
        table.sync([("new", ["-", Text("fresh")]), *data])
        assert table.last_sync == {"updated": 1, "added": 1, "removed": 1}
        assert shown(table)[:2] == [("new", "fresh"), ("k0", "item 0")]
        assert ("k10", "renamed") in shown(table) and "k120" not in dict(shown(table))
        assert table.row_count == 200
        assert [k.value for k in table.rows][:2] == ["new", "k0"]  # `rows` in shown order
        # the cursor stays on its row (k5), now one lower
        assert table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value == "k5"
        await pilot.pause()
        assert "fresh" in "".join(s.text for s in table.render_line(1))


async def test_sync_sees_a_style_change_and_reorders():
    app = OneTable()
    async with app.run_test(size=(60, 20)):
        table = app.query_one(FillTable)
        table.sync(rows(3))
        table.sync([("k0", ["0", Text("item 0", style="red")]), *rows(3)[1:]])
        assert table.last_sync["updated"] == 1  # Text equality alone ignores the style
        table.sync(list(reversed(rows(3))))
        assert [k for k, _ in shown(table)] == ["k2", "k1", "k0"]
        assert table.last_sync == {"updated": 1, "added": 0, "removed": 0}


async def test_sync_refills_when_most_rows_are_new_and_rejects_duplicate_keys():
    app = OneTable()
    async with app.run_test(size=(60, 20)):
        table = app.query_one(FillTable)
        table.sync(rows(100))
        table.sync(rows(100, "other")[:0] + [(f"x{i}", [str(i), "x"]) for i in range(50)])
        assert table.last_sync == {"updated": 0, "added": 50, "removed": 0}  # a refill
        assert [k for k, _ in shown(table)][:2] == ["x0", "x1"]
        with pytest.raises(ValueError, match="unique"):
            table.sync([("a", ["1", "a"]), ("a", ["2", "b"])])
        table.sync([])
        assert table.row_count == 0


async def test_a_fit_made_as_rows_arrive_leaves_room_for_the_scrollbar():
    """Rows that outgrow the height bring a vertical scrollbar Textual learns of only at
    its next layout; a fit made before that must count it, or the last column is cut."""
    app = OneTable()
    async with app.run_test(size=(40, 8)) as pilot:
        table = app.query_one(FillTable)
        table.add_column("count", key="count")
        table.sync([(k, [*cells, "12345"]) for k, cells in rows(30, "a long title here")])
        assert not table.show_vertical_scrollbar  # not laid out yet
        fit_columns(table, table.fill)
        widths = sum(c.get_render_width(table) for c in table.columns.values())
        assert widths + table.styles.scrollbar_size_vertical <= table.size.width
        await pilot.pause()
        assert table.show_vertical_scrollbar
        header = "".join(s.text for s in table.render_line(0))
        assert header.rstrip().endswith("count")
