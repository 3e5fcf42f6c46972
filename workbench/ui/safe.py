"""Stored text on screen: never raw control sequences, never parsed as markup.

`plain` gives a `Text` for DataTable cells and Static/Label content (a str there is parsed
as markup: `[/x]` would crash the pane, `[@click=…]` would add an action); `esc` escapes a
stored value for embedding in a markup string. Both clean control characters visibly
(`textsafe.clean`). `ControlFilter`, installed app-wide by `WorkbenchApp.get_line_filters`,
strips whatever control character would still reach a rendered line — Textual passes ESC
and C1 bytes through to the terminal otherwise.
"""

from __future__ import annotations

from rich.segment import Segment
from rich.text import Text
from textual.color import Color
from textual.filter import LineFilter
from textual.markup import escape

from workbench.textsafe import clean, strip_controls


def plain(value: object, style: str = "") -> Text:
    """A cell or label showing stored text as it is (cleaned), never as markup."""
    return Text("—" if value is None else clean(value, keep_newlines=False), style=style)


def esc(value: object) -> str:
    """A stored value to embed in a markup string."""
    return escape(clean(value, keep_newlines=False))


class ControlFilter(LineFilter):
    """Drops control characters from every rendered segment that is text."""

    def apply(self, segments: list[Segment], background: Color) -> list[Segment]:
        return [
            segment
            if segment.control
            else Segment(strip_controls(segment.text), segment.style, None)
            for segment in segments
        ]
