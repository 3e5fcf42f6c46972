"""The `?` help screen: the keys that work now, rendered from the live bindings."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown


def bindings_markdown(title: str, about: str, bindings: list[tuple[str, str]]) -> str:
    rows = "\n".join(f"| `{key}` | {description} |" for key, description in bindings)
    return (
        f"# {title}\n\n{about}\n\n| key | action |\n|---|---|\n{rows}\n\n"
        "`ctrl+p` opens the command palette: every pane and action, and the theme "
        "switcher. Press `esc` or `?` to close this help."
    )


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 72; height: auto; max-height: 90%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    """
    BINDINGS = [
        Binding("escape", "dismiss", "Close", id="help.close"),
        Binding("question_mark", "dismiss", "Close", show=False),
    ]

    def __init__(self, markdown: str) -> None:
        super().__init__()
        self.markdown = markdown

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Markdown(self.markdown)

    def action_dismiss(self, result: None = None) -> None:  # type: ignore[override]
        self.dismiss(result)
