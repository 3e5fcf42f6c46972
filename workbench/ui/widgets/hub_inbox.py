"""The Hub pane's inbox: what was delivered to one agent, newest first, with what the
agent did with it (read, voted, applied). Rows come formatted from the pane, which reads
them from the engine (`hub.deliveries`, the display form of `workbench hub inbox`)."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, Label

from workbench.ui.safe import esc
from workbench.ui.widgets.fill_table import FillTable

# (key, label, width): the title column gets whatever the others leave
COLUMNS = (
    ("read", ""),
    ("priority", "prio"),
    ("title", "title"),
    ("delivered", "delivered"),
    ("used", "used"),
)


class HubInbox(Vertical):
    """`i` in the Hub pane: the chosen agent's deliveries in place of the item list."""

    def compose(self) -> ComposeResult:
        yield Label("", id="hub-inbox-title", classes="panel-title")
        # the title gives way (with an ellipsis); the other columns keep their full width
        table = FillTable("title", id="hub-inbox", cursor_type="row", zebra_stripes=True)
        for key, label in COLUMNS:
            table.add_column(label, key=key)
        yield table

    @property
    def table(self) -> DataTable:
        return self.query_one("#hub-inbox", DataTable)

    def show(
        self,
        agent: str | None,
        rows: Sequence[tuple[str, Sequence[Text | str]]],
        unread: int,
        selected: str | None,
    ) -> None:
        """The agent's deliveries: (item id, cells) each, the cursor on `selected`."""
        table = self.table
        table.clear()
        for uid, cells in rows:
            table.add_row(*cells, key=uid)
        if selected is not None and any(uid == selected for uid, _ in rows):
            table.move_cursor(row=table.get_row_index(selected), animate=False)
        title = self.query_one("#hub-inbox-title", Label)
        if agent is None:
            title.update("Inbox · no agent yet (subscribe one: hub subscribe)")
        else:
            title.update(f"Inbox · {esc(agent)} · {len(rows)} delivered · {unread} unread")
