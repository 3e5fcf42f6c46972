"""The store: peewee models, frozen migrations, change triggers and the change feed.

Names are imported on first use (PEP 562), so importing a submodule such as
`workbench.store.errors` does not load the migrations, the PostgreSQL support and the
file watcher with it (CLI start-up, benchmarks/cli_startup.py).
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    "LATEST_VERSION": "db",
    "open_database": "db",
    "StoreError": "errors",
    "StoreLockedError": "errors",
    "ChangeFeed": "feed",
    "awatch_store": "feed",
    "awatch_tables": "feed",
    "watch_store": "feed",
    "watch_tables": "feed",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'workbench.store' has no attribute {name!r}")
    return getattr(importlib.import_module(f"workbench.store.{module}"), name)
