"""Models: registered neural models, training runs and per-epoch history."""

from textual.app import ComposeResult
from textual.containers import Horizontal

from workbench.ui.pane import Pane
from workbench.ui.widgets.table_panel import TablePanel


class ModelsPane(Pane):
    TITLE = "Models"
    HELP = "Model registry versions, training runs and per-epoch training history."

    def compose(self) -> ComposeResult:
        yield TablePanel(
            "Model versions",
            "neural_models",
            [
                "name",
                "version",
                "category",
                "status",
                "accuracy",
                "val_accuracy",
                "size_bytes",
                "updated",
            ],
            empty="no model trained in this store",
        )
        with Horizontal():
            yield TablePanel(
                "Training runs",
                "training_runs",
                ["model_name", "model_version", "kind", "status", "started", "finished"],
                empty="no training run",
            )
            yield TablePanel(
                "Training history",
                "training_history",
                ["model", "epoch", "loss", "accuracy", "val_loss", "val_accuracy"],
                empty="no epoch recorded",
            )
