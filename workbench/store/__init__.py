"""The store: peewee models, frozen migrations, change triggers and the change feed."""

from workbench.store.db import LATEST_VERSION, open_database
from workbench.store.errors import StoreError, StoreLockedError
from workbench.store.feed import (
    ChangeFeed,
    awatch_store,
    awatch_tables,
    watch_store,
    watch_tables,
)

__all__ = [
    "LATEST_VERSION",
    "ChangeFeed",
    "StoreError",
    "StoreLockedError",
    "awatch_store",
    "awatch_tables",
    "open_database",
    "watch_store",
    "watch_tables",
]
