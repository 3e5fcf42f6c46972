"""SQL that differs between the backends, for domain queries that need it.

Domain packages build queries through peewee, which hides most differences; the few
functions it cannot (SQLite has no OCTET_LENGTH before 3.43) live here and pick the form
of the store the models are bound to.
"""

from __future__ import annotations

import peewee

from workbench.store.models import database_proxy
from workbench.store.postgres import is_postgres


def byte_length(expr: peewee.Node) -> peewee.Node:
    """Stored size in bytes of a column on either backend: a blob's bytes, any other value's
    UTF-8 text (what `LENGTH(CAST(x AS BLOB))` gives on SQLite)."""
    if not is_postgres(database_proxy.obj):
        return peewee.fn.LENGTH(expr.cast("BLOB")).coerce(False)
    if not isinstance(expr, peewee.BlobField):
        expr = expr.cast("TEXT")
    return peewee.fn.OCTET_LENGTH(expr).coerce(False)
