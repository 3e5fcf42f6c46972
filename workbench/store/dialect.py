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
    """Stored size in bytes of a text (UTF-8) or blob expression, on either backend."""
    if is_postgres(database_proxy.obj):
        return peewee.fn.OCTET_LENGTH(expr).coerce(False)
    return peewee.fn.LENGTH(expr.cast("BLOB")).coerce(False)
