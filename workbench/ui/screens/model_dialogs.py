"""Dialogs of the Models pane: train, predict, export, import, and a report viewer.

Each dialog checks its inputs (files exist, numbers are numbers) and shows the problem
inline; only valid input is returned to the pane, which calls the engine.
"""

from __future__ import annotations

from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Markdown, Static

DIALOG_CSS = """
ModelDialog, ReportScreen { align: center middle; }
ModelDialog > Vertical {
    width: 76; height: auto; max-height: 90%;
    border: thick $primary; background: $surface; padding: 0 1;
}
ModelDialog .dialog-title { text-style: bold; color: $text-primary; padding: 0 0 1 0; }
ModelDialog .field-label { color: $text-muted; }
ModelDialog .dialog-intro { padding: 0 0 1 0; }
ModelDialog Input { margin: 0 0 1 0; }
ModelDialog .dialog-error { color: $text-error; height: auto; }
ModelDialog .dialog-buttons { height: auto; align-horizontal: right; padding: 1 0 0 0; }
ModelDialog .dialog-buttons Button { margin: 0 0 0 2; }
"""


class ModelDialog(ModalScreen[dict | None]):
    """Labelled Inputs over OK/Cancel; `validate` returns the result or raises ValueError."""

    DEFAULT_CSS = DIALOG_CSS
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="dialog.cancel")]
    TITLE_TEXT = ""
    OK_LABEL = "OK"

    def fields(self) -> list[tuple[str, str, str, str]]:
        """(id, label, initial value, placeholder) per Input."""
        return []

    def intro(self) -> str:
        return ""

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.TITLE_TEXT, classes="dialog-title")
            if self.intro():
                yield Static(self.intro(), classes="dialog-intro")
            for field_id, label, value, placeholder in self.fields():
                yield Label(label, classes="field-label")
                yield Input(value=value, placeholder=placeholder, id=field_id)
            yield Label("", id="dialog-error", classes="dialog-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button(self.OK_LABEL, variant="primary", id="ok")
                yield Button("Cancel", id="cancel")

    def value(self, field_id: str) -> str:
        return self.query_one(f"#{field_id}", Input).value.strip()

    def validate(self) -> dict:
        raise NotImplementedError

    def show_error(self, text: str) -> None:
        self.query_one("#dialog-error", Label).update(text)

    @on(Button.Pressed, "#ok")
    @on(Input.Submitted)
    def submit(self) -> None:
        try:
            result = self.validate()
        except ValueError as exc:
            self.show_error(str(exc))
            return
        self.dismiss(result)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


def existing_file(text: str, what: str) -> str:
    if not text:
        raise ValueError(f"{what}: a file path is needed")
    path = Path(text).expanduser()
    if not path.is_file():
        raise ValueError(f"{what}: no such file: {text}")
    return str(path)


def optional_epochs(text: str) -> int | None:
    if not text:
        return None
    try:
        epochs = int(text)
    except ValueError:
        raise ValueError(f"epochs: not a whole number: {text}") from None
    if epochs < 1:
        raise ValueError("epochs: must be at least 1")
    return epochs


class TrainCatalogDialog(ModelDialog):
    """Train a catalog model with its preset architecture and recipe."""

    TITLE_TEXT = "Train catalog model"
    OK_LABEL = "Train"

    def __init__(self, name: str, recipe: str = "") -> None:
        super().__init__()
        self.model_name = name
        self.recipe = recipe

    def intro(self) -> str:
        lines = [f"{self.model_name}: preset architecture and training recipe."]
        if self.recipe:
            lines.append(f"recipe: {self.recipe}")
        lines.append("Leave epochs empty to use the recipe's.")
        return "\n".join(lines)

    def fields(self) -> list[tuple[str, str, str, str]]:
        return [("epochs", "Epochs", "", "from the recipe")]

    def validate(self) -> dict:
        return {"name": self.model_name, "epochs": optional_epochs(self.value("epochs"))}


class TrainDialog(ModelDialog):
    """Train from a spec file and a data file: a new model, or a new version of one.

    With `spec_from_version`, an empty spec means the selected version's architecture.
    """

    TITLE_TEXT = "Train model"
    OK_LABEL = "Train"

    def __init__(
        self, name: str = "", spec: str = "", data: str = "", spec_from_version: bool = False
    ) -> None:
        super().__init__()
        self.defaults = {"name": name, "spec": spec, "data": data}
        self.spec_from_version = spec_from_version

    def intro(self) -> str:
        if self.defaults["name"]:
            return f"A new version of {self.defaults['name']}."
        return "A new model; its name comes from the spec unless you give one."

    def fields(self) -> list[tuple[str, str, str, str]]:
        d = self.defaults
        spec_hint = "empty: the selected version's" if self.spec_from_version else "model.json"
        return [
            ("spec", "Model spec (JSON: architecture + training)", d["spec"], spec_hint),
            ("data", "Training data (JSON, CSV or NPZ)", d["data"], "path/to/data.json"),
            ("epochs", "Epochs", "", "from the spec"),
            ("name", "Name", d["name"], "from the spec"),
        ]

    def validate(self) -> dict:
        spec = self.value("spec")
        if spec or not self.spec_from_version:
            spec = existing_file(spec, "model spec")
        return {
            "spec": spec or None,
            "data": existing_file(self.value("data"), "training data"),
            "epochs": optional_epochs(self.value("epochs")),
            "name": self.value("name") or None,
        }


class PredictDialog(ModelDialog):
    TITLE_TEXT = "Predict"
    OK_LABEL = "Predict"

    def __init__(self, reference: str) -> None:
        super().__init__()
        self.reference = reference

    def intro(self) -> str:
        return f"Model {self.reference}: one JSON record, a list of them, or a file path."

    def fields(self) -> list[tuple[str, str, str, str]]:
        return [("input", "Input", "", '{"code": "..."} or path/to/inputs.json')]

    def validate(self) -> dict:
        text = self.value("input")
        if not text:
            raise ValueError("input: type a JSON record or a file path")
        if text[0] not in "[{":
            text = existing_file(text, "input")
        return {"input": text}


class ExportDialog(ModelDialog):
    TITLE_TEXT = "Export model"
    OK_LABEL = "Export"

    def __init__(self, reference: str, default_path: str) -> None:
        super().__init__()
        self.reference = reference
        self.default_path = default_path

    def intro(self) -> str:
        return f"Write {self.reference} as a .clf file (manifest + weights)."

    def fields(self) -> list[tuple[str, str, str, str]]:
        return [("path", "Output file", self.default_path, "model.clf")]

    def validate(self) -> dict:
        text = self.value("path")
        if not text:
            raise ValueError("output file: a path is needed")
        path = Path(text).expanduser()
        if path.is_dir():
            raise ValueError(f"output file: is a directory: {text}")
        if not path.parent.is_dir():
            raise ValueError(f"output file: no such directory: {path.parent}")
        return {"path": str(path)}


class ImportDialog(ModelDialog):
    TITLE_TEXT = "Import model"
    OK_LABEL = "Import"

    def intro(self) -> str:
        return "A .clf file becomes a new version; it is fully checked before anything is written."

    def fields(self) -> list[tuple[str, str, str, str]]:
        return [
            ("path", ".clf file", "", "path/to/model.clf"),
            ("name", "Name", "", "from the file"),
        ]

    def validate(self) -> dict:
        return {
            "path": existing_file(self.value("path"), ".clf file"),
            "name": self.value("name") or None,
        }


class ReportScreen(ModalScreen[None]):
    """A result (prediction, quantization report) rendered from Markdown."""

    DEFAULT_CSS = (
        DIALOG_CSS
        + """
    ReportScreen > Vertical {
        width: 84; height: auto; max-height: 90%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    ReportScreen VerticalScroll { height: auto; max-height: 30; }
    ReportScreen Horizontal { height: auto; align-horizontal: right; }
    """
    )
    BINDINGS = [Binding("escape", "close", "Close", id="report.close")]

    def __init__(self, markdown: str) -> None:
        super().__init__()
        self.markdown = markdown

    def compose(self) -> ComposeResult:
        with Vertical():
            with VerticalScroll():
                yield Markdown(self.markdown)
            with Horizontal():
                yield Button("Close", variant="primary", id="close")

    @on(Button.Pressed, "#close")
    def action_close(self) -> None:
        self.dismiss(None)
