"""Patterns: the labelled operations, learned pattern memory and learnings."""

from textual.app import ComposeResult
from textual.containers import Horizontal

from workbench.ui.pane import Pane
from workbench.ui.widgets.group_bar import GroupBar
from workbench.ui.widgets.table_panel import TablePanel


class PatternsPane(Pane):
    TITLE = "Patterns"
    HELP = "Cognitive-pattern dataset, pattern memory, learnings and the experience buffer."

    def compose(self) -> ComposeResult:
        yield GroupBar("Labelled operations by pattern", "labelled_operations", "pattern")
        yield TablePanel("Labelled operations", "labelled_operations", ["pattern", "text"])
        with Horizontal():
            yield TablePanel(
                "Pattern memory",
                "pattern_memory",
                ["type", "confidence", "usage_count", "last_used"],
                empty="nothing learned yet",
            )
            yield TablePanel(
                "Learnings",
                "learnings",
                ["type", "description", "confidence", "occurrences"],
                empty="no learning recorded",
            )
        with Horizontal():
            yield TablePanel(
                "Experience buffer",
                "experience_buffer",
                ["source", "quality", "trained", "created"],
                empty="empty",
            )
            yield TablePanel(
                "Curriculum runs",
                "curriculum_runs",
                ["teacher", "entries", "corrected", "status", "started"],
                empty="none",
            )
