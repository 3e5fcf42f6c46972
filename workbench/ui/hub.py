"""Hub: channels, subscriptions and knowledge items by priority."""

from textual.app import ComposeResult
from textual.containers import Horizontal

from workbench.hub import PRIORITY_NAMES
from workbench.ui.pane import Pane
from workbench.ui.widgets.group_bar import GroupBar
from workbench.ui.widgets.table_panel import TablePanel


class HubPane(Pane):
    TITLE = "Hub"
    HELP = "Knowledge items with priority, votes and state; channels and subscriptions."
    FORMATTERS = {"priority": PRIORITY_NAMES.get}

    def compose(self) -> ComposeResult:
        yield GroupBar("Knowledge states", "knowledge_items", "state")
        yield TablePanel(
            "Knowledge items",
            "knowledge_items",
            [
                "priority",
                "title",
                "channel",
                "type",
                "source_agent",
                "useful_votes",
                "applied_count",
                "state",
            ],
        )
        with Horizontal():
            yield TablePanel("Channels", "channels", ["name", "description"])
            yield TablePanel("Subscriptions", "subscriptions", ["agent", "channel"])
            yield TablePanel(
                "Knowledge versions", "knowledge_versions", ["item", "version", "change_note"]
            )
