"""Untrusted text is data: the one function every face uses before showing stored text.

Text that agents, other processes or files put in the store may hold terminal control
sequences — `ESC ]0;…BEL` retitles the window, `ESC ]52;c;…BEL` writes the clipboard in
many terminals, CSI sequences move the cursor or recolour the screen, and the C1 byte
U+009B is a CSI by itself. `clean` escapes every C0/C1 control character visibly
(`\\x1b`, `\\x9b`, `\\r`), which defuses every ESC/OSC/CSI/DCS sequence at its first byte,
and keeps newlines and tabs only where the layout needs them. Bidirectional overrides
(U+202A–202E, U+2066–2069), which make text display in another order than it reads, are
escaped too. JSON output needs none of this (json.dumps escapes control characters).

`cell` wraps the cleaned text in a Rich `Text`, so stored text is never parsed as Rich or
Textual markup (`[bold]`, `[/]`, `[@click=…]`) either.
"""

from __future__ import annotations

import re
from typing import Any

# C0 except \t \n, DEL, C1, and the bidirectional embedding/override/isolate controls.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_CONTROL_ALL = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\r": "\\r", "\n": "\\n", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match.group(0)
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def clean(text: Any, keep_newlines: bool = True) -> str:
    """`text` (any value, as str) safe to print to a terminal.

    With `keep_newlines` (details, plain output) newlines and tabs stay; without it (table
    cells, one-line messages) they are shown as `\\n` and `\\t` too.
    """
    if text is None:
        return ""
    text = text if isinstance(text, str) else str(text)
    pattern = _CONTROL if keep_newlines else _CONTROL_ALL
    if pattern.search(text) is None:
        return text
    return pattern.sub(_escape, text)


def cell(value: Any, keep_newlines: bool = False, style: str = ""):
    """A Rich `Text` of the cleaned value: never parsed as markup."""
    from rich.text import Text

    return Text(clean(value, keep_newlines=keep_newlines), style=style)


def is_clean(text: str) -> bool:
    """No raw control byte a terminal would act on (tests use this on captured output)."""
    return _CONTROL.search(text) is None


def strip_controls(text: str) -> str:
    """`text` without any control character (the UI's last line of defence: a rendered line
    keeps its cell width, since control characters take none)."""
    return _CONTROL_ALL.sub("", text) if _CONTROL_ALL.search(text) else text
