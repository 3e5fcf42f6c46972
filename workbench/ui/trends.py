"""Trends: strategy profiles and the trend points they were learned from."""

from textual.app import ComposeResult

from workbench.ui.pane import Pane
from workbench.ui.widgets.table_panel import TablePanel


class TrendsPane(Pane):
    TITLE = "Trends"
    HELP = "Per-strategy profiles (success rate, score, time) and their trend points."

    def compose(self) -> ComposeResult:
        yield TablePanel(
            "Strategy profiles",
            "strategy_profiles",
            [
                "strategy",
                "success_rate",
                "avg_score",
                "avg_exec_ms",
                "uses",
                "real_executions",
                "updated",
            ],
            empty="profiles appear after the first pipeline run",
        )
        yield TablePanel(
            "Trend points",
            "strategy_trend",
            ["strategy", "run", "iteration", "score", "success_rate", "exec_ms", "at"],
            empty="no trend point recorded",
        )
