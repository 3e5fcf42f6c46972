"""What `workbench doctor` reports: rows of (label, value, status, detail) from contributors.

Each contributor is a function of the open Engine returning rows as dicts with those keys
(status: ok | warn | error | info). A part of the workbench that has something to say adds
its function to `CONTRIBUTORS`; one that fails becomes an `error` row, never a crash.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from workbench.engine import Engine

STATUSES = ("ok", "warn", "error", "info")
Contributor = Callable[["Engine"], Iterable[dict]]


def store_rows(engine: Engine) -> list[dict]:
    """Which store is open and at which schema version."""
    return [
        {"label": "store", "value": engine.store_label, "status": "info", "detail": ""},
        {"label": "schema version", "value": str(engine.schema_version), "status": "info",
         "detail": ""},
    ]  # fmt: skip


def sandbox_rows(engine: Engine) -> list[dict]:
    """Isolation level in use and why, sandbox tools, warm pool, leftovers."""
    from workbench.pipeline.sandbox import doctor_rows

    return doctor_rows()


def privacy_rows(engine: Engine) -> list[dict]:
    """Redaction of agent data, the last purge, the store's file permissions."""
    from workbench.agents.privacy import privacy_status

    rows = []
    for label, value in privacy_status(engine):
        wide = label == "store permissions" and bool(engine.warnings)
        rows.append({"label": label, "value": value, "status": "warn" if wide else "info",
                     "detail": ""})  # fmt: skip
    return rows


CONTRIBUTORS: list[Contributor] = [store_rows, sandbox_rows, privacy_rows]


def gather(engine: Engine, contributors: Iterable[Contributor] | None = None) -> list[dict]:
    """Every contributor's rows, in order."""
    rows: list[dict] = []
    for contributor in CONTRIBUTORS if contributors is None else contributors:
        try:
            for row in contributor(engine):
                status = row.get("status", "info")
                rows.append({"label": str(row["label"]), "value": str(row["value"]),
                             "status": status if status in STATUSES else "info",
                             "detail": str(row.get("detail", ""))})  # fmt: skip
        except Exception as exc:  # a broken check is reported, the others still run
            name = getattr(contributor, "__name__", "check")
            first = (str(exc).splitlines() or [type(exc).__name__])[0]
            rows.append({"label": name, "value": "check failed", "status": "error",
                         "detail": f"{type(exc).__name__}: {first}"})  # fmt: skip
    return rows
