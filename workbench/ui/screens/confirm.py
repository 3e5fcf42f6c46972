"""A yes/no question before something that cannot be undone (purging a session)."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from workbench.ui.screens.model_dialogs import DIALOG_CSS


class ConfirmScreen(ModalScreen[bool]):
    """Answers True only for an explicit yes; escape, `n` and the default button say no."""

    DEFAULT_CSS = (
        DIALOG_CSS
        + """
    ConfirmScreen > Vertical {
        width: 70; max-width: 95%; height: auto;
        border: thick $error; background: $surface; padding: 0 1;
    }
    ConfirmScreen Horizontal { height: auto; align-horizontal: right; }
    """
    )
    BINDINGS = [
        Binding("escape,n", "no", "No", id="confirm.no"),
        Binding("y", "yes", "Yes", id="confirm.yes"),
    ]

    def __init__(self, question: str, yes_label: str = "Yes") -> None:
        super().__init__()
        self.question = question
        self.yes_label = yes_label

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.question, markup=False, id="question")
            with Horizontal():
                yield Button(self.yes_label, variant="error", id="yes")
                yield Button("No", variant="primary", id="no")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    @on(Button.Pressed, "#yes")
    def action_yes(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#no")
    def action_no(self) -> None:
        self.dismiss(False)
