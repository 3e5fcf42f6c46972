"""Runs: the task bank, pipeline runs and the executions they recorded."""

from textual.app import ComposeResult

from workbench.ui.pane import Pane
from workbench.ui.widgets.group_bar import GroupBar
from workbench.ui.widgets.table_panel import TablePanel


class RunsPane(Pane):
    TITLE = "Runs"
    HELP = "Pipeline runs and their task executions, newest first, over the task bank."

    def compose(self) -> ComposeResult:
        yield GroupBar("Task bank by complexity", "tasks", "complexity")
        yield GroupBar("Task bank by kind", "tasks", "kind")
        yield TablePanel(
            "Pipeline runs",
            "pipeline_runs",
            ["id", "status", "complexity", "iterations", "started", "finished"],
            empty="no pipeline run recorded",
        )
        yield TablePanel(
            "Task executions",
            "task_executions",
            [
                "run",
                "iteration",
                "task",
                "strategy",
                "tests_passed",
                "tests_total",
                "score",
                "exec_ms",
                "status",
            ],
            empty="no execution recorded",
        )
        yield TablePanel("Task bank", "tasks", ["name", "kind", "complexity", "description"])
