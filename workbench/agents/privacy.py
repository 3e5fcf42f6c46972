"""What `workbench doctor` says about privacy: the redaction setting, the last purge and
whether the store's files are private. Takes the engine duck-typed (no import of it)."""

from __future__ import annotations

from typing import Any


def privacy_status(engine: Any) -> list[tuple[str, str]]:
    """(label, value) lines for `workbench doctor`."""
    total, sessions = engine.agents.redaction_totals()
    lines = [
        (
            "redaction",
            "on before storage for every recorded path "
            f"({total} secrets redacted in {sessions} stored sessions)",
        )
    ]
    last = engine.agents.last_purge()
    if last is None:
        lines.append(("last purge", "never"))
    else:
        lines.append(
            (
                "last purge",
                f"{last.get('at')} — {last.get('sessions')} sessions, {last.get('rows')} rows "
                f"({last.get('criteria')})",
            )
        )
    lines.append(("store permissions", "; ".join(engine.warnings) or "private (0700 / 0600)"))
    return lines
