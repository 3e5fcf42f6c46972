"""The Hub pane's share dialog: channel, type, priority, title, content, tags, author and
broadcast. The pane hands in the engine call; an error it raises is shown inline and the
dialog stays open, so nothing typed is lost."""

from __future__ import annotations

from collections.abc import Callable

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Select

from workbench.hub import KNOWLEDGE_TYPES, PRIORITIES
from workbench.store.errors import StoreError

SHORT_HEIGHT = 36  # the app's "-short" breakpoint (ui/app.py VERTICAL_BREAKPOINTS)


class HubShareDialog(ModalScreen[dict | None]):
    """Returns the shared item (as the engine reported it), or None when cancelled."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="dialog.cancel")]

    def __init__(
        self,
        channels: list[str],
        share: Callable[[dict], dict],
        *,
        channel: str | None = None,
        agent: str = "",
    ) -> None:
        super().__init__()
        self.channels = channels
        self.share = share
        self.channel = channel if channel in channels else (channels[0] if channels else None)
        self.agent = agent

    def compose(self) -> ComposeResult:
        with Vertical(id="share-box"):
            yield Label("Share knowledge", classes="dialog-title")
            with Horizontal(classes="share-row"):
                with Vertical():
                    yield Label("Channel", classes="field-label")
                    yield Select(
                        [(c, c) for c in self.channels],
                        value=self.channel if self.channel else Select.BLANK,
                        allow_blank=False,
                        id="share-channel",
                    )
                with Vertical():
                    yield Label("Type", classes="field-label")
                    yield Select(
                        [(t, t) for t in KNOWLEDGE_TYPES],
                        value="solution",
                        allow_blank=False,
                        id="share-type",
                    )
                with Vertical():
                    yield Label("Priority", classes="field-label")
                    yield Select(
                        [(p, p) for p in PRIORITIES], value="MEDIUM", allow_blank=False,
                        id="share-priority",
                    )  # fmt: skip
            yield Label("Title", classes="field-label")
            yield Input(placeholder="what an agent should know, in one line", id="share-title")
            yield Label("Content", classes="field-label")
            yield Input(placeholder="the knowledge itself", id="share-content")
            with Horizontal(classes="share-row"):
                with Vertical():
                    yield Label("Tags (comma separated)", classes="field-label")
                    yield Input(placeholder="sqlite, locking", id="share-tags")
                with Vertical():
                    yield Label("Shared by (agent)", classes="field-label")
                    yield Input(value=self.agent, placeholder="agent name", id="share-agent")
            yield Checkbox("Broadcast to every subscribed agent", id="share-broadcast")
            yield Label("", id="share-error", classes="dialog-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Share", variant="primary", id="ok")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self._fit(self.app.size.height)
        self.query_one("#share-title", Input).focus()

    def on_resize(self, event: events.Resize) -> None:
        self._fit(event.size.height)

    def _fit(self, height: int) -> None:
        """Borderless one-line fields on a short terminal, so the whole form fits at 80x24
        instead of opening scrolled past its first rows."""
        compact = height < SHORT_HEIGHT
        for field in self.query("Input, Select, Checkbox"):
            field.compact = compact  # type: ignore[attr-defined]

    def values(self) -> dict:
        def text(field: str) -> str:
            return self.query_one(f"#share-{field}", Input).value.strip()

        return {
            "channel": self.query_one("#share-channel", Select).value,
            "type": self.query_one("#share-type", Select).value,
            "priority": self.query_one("#share-priority", Select).value,
            "title": text("title"),
            "content": text("content"),
            "tags": [t for t in text("tags").split(",") if t.strip()],
            "agent": text("agent"),
            "broadcast": self.query_one("#share-broadcast", Checkbox).value,
        }

    @on(Button.Pressed, "#ok")
    @on(Input.Submitted)
    def submit(self) -> None:
        values = self.values()
        if not values["title"]:
            self.query_one("#share-error", Label).update("title: write one line")
            return
        if not values["content"]:
            self.query_one("#share-error", Label).update("content: write what to share")
            return
        try:
            result = self.share(values)
        except (ValueError, StoreError) as exc:
            self.query_one("#share-error", Label).update(str(exc))
            return
        self.dismiss(result)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
