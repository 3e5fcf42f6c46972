"""Memory: vector, episodic and semantic tiers as stored."""

from textual.app import ComposeResult
from textual.containers import Horizontal

from workbench.ui.pane import Pane
from workbench.ui.widgets.group_bar import GroupBar
from workbench.ui.widgets.table_panel import TablePanel


class MemoryPane(Pane):
    TITLE = "Memory"
    HELP = "Vector entries by namespace, the episodic timeline and semantic facts."

    def compose(self) -> ComposeResult:
        yield GroupBar("Vector namespaces", "vector_memory", "namespace")
        yield GroupBar("Episode outcomes", "episodic_memory", "outcome")
        yield TablePanel("Vector memory", "vector_memory", ["namespace", "key", "text"])
        with Horizontal():
            yield TablePanel(
                "Episodic memory",
                "episodic_memory",
                ["session", "sequence", "kind", "outcome", "text"],
            )
            yield TablePanel(
                "Semantic memory",
                "semantic_memory",
                ["kind", "subject", "statement", "confidence", "evidence_count"],
            )
