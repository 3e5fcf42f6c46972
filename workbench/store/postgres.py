"""PostgreSQL stores: `--db postgresql://USER:PASSWORD@HOST:PORT/DATABASE`.

The same frozen migration files build the schema on both backends: they are written in a
restricted SQLite dialect (CREATE TABLE / INDEX, ALTER TABLE ADD COLUMN, plain DML) that
`translate_statement` maps to PostgreSQL types, so an old PostgreSQL store upgrades
forward exactly like an old SQLite file. Anything outside that dialect is refused with the
file and statement named, never guessed at.

Change triggers are one plpgsql function that appends to `change_log` and NOTIFYs
`workbench_changes`; the change feed LISTENs on its own connection instead of watching a
file. The function takes a transaction-level advisory lock first, so writers of one store
commit their change_log rows in id order — as SQLite's single writer does — and a feed
cursor never skips a row that commits after a higher id.
"""

from __future__ import annotations

import re
import select
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import peewee

from workbench.config import mask_url
from workbench.store.errors import StoreError, StoreLockedError
from workbench.store.models import ALL_MODELS, DOMAIN_MODELS

CHANNEL = "workbench_changes"
TRIGGER_FUNCTION = "wb_log_change"
DEFAULT_CONNECT_TIMEOUT_S = 10
# How often a blocked LISTEN wait looks at its stop event.
STOP_CHECK_S = 0.2
# Reopening a lost LISTEN connection: first retry after this, doubling up to the max.
RECONNECT_MIN_S = 0.2
RECONNECT_MAX_S = 5.0
EXTRA_HINT = "install the 'postgres' extra: pip install 'workbench[postgres]'"

# SQLSTATE codes that mean "another transaction held what we needed for too long".
LOCK_CODES = {"55P03": "lock", "57014": "statement", "40P01": "deadlock"}
AUTH_CODES = {"28P01", "28000"}


def require_driver() -> Any:
    try:
        import psycopg2
    except ImportError:
        raise StoreError(f"a PostgreSQL store needs the psycopg2 driver: {EXTRA_HINT}") from None
    return psycopg2


class PostgresStore(peewee.PostgresqlDatabase):
    """peewee's PostgreSQL database that knows its masked URL (for messages)."""

    def __init__(self, url: str, *args: Any, **kwargs: Any) -> None:
        self.url = url
        self.label = mask_url(url)
        super().__init__(*args, **kwargs)

    def _connect(self):
        conn = super()._connect()
        register_bytes(conn)
        return conn

    def cursor(self, *args: Any, **kwargs: Any):
        # A connection the server dropped fails its statement once (one-line error); the
        # next statement outside a transaction opens a new one instead of failing forever.
        # Never retried silently: the failed statement may or may not have committed.
        conn = self._state.conn
        if conn is not None and conn.closed and not self.in_transaction():
            self._state.reset()
        return super().cursor(*args, **kwargs)


def register_bytes(conn: Any) -> None:
    """BYTEA comes back as `bytes` (psycopg2 gives memoryview), as SQLite's BLOB does."""
    import psycopg2
    import psycopg2.extensions as ext

    def to_bytes(value, cursor):
        view = psycopg2.BINARY(value, cursor)
        return None if view is None else bytes(view)

    ext.register_type(ext.new_type(psycopg2.BINARY.values, "WB_BYTEA", to_bytes), conn)


def connect_params(url: str, busy_timeout_ms: int) -> dict[str, Any]:
    """psycopg2 keyword arguments for `url`: lock waits bounded by the busy timeout."""
    from playhouse.db_url import parse

    try:
        params = parse(url, unquote_password=True, unquote_user=True)
    except ValueError as exc:  # e.g. a port that is not a number
        raise StoreError(f"bad PostgreSQL URL ({exc}): {mask_url(url)}") from None
    if not params.get("database"):
        raise StoreError(
            f"PostgreSQL URL names no database (postgresql://USER:PASSWORD@HOST:PORT/DATABASE): "
            f"{mask_url(url)}"
        )
    params.setdefault("connect_timeout", DEFAULT_CONNECT_TIMEOUT_S)
    params.setdefault("application_name", "workbench")
    options = str(params.get("options") or "")
    params["options"] = f"{options} -c lock_timeout={int(busy_timeout_ms)}".strip()
    return params


def connect_postgres(url: str, busy_timeout_ms: int) -> PostgresStore:
    require_driver()
    params = connect_params(url, busy_timeout_ms)
    database = params.pop("database")
    return PostgresStore(url, database, **params)


def is_postgres(db: peewee.Database) -> bool:
    return isinstance(db, peewee.PostgresqlDatabase)


# -- errors ---------------------------------------------------------------------------


def driver_error(exc: BaseException) -> BaseException | None:
    """The psycopg2 exception behind a peewee one (its first arg, or the one it replaced)."""
    for candidate in (exc, *(exc.args[:1] if exc.args else ()), exc.__cause__, exc.__context__):
        if type(candidate).__module__.startswith("psycopg2"):
            return candidate
    return None


def _first_line(error: BaseException) -> str:
    diag = getattr(error, "diag", None)
    primary = getattr(diag, "message_primary", None) if diag is not None else None
    if primary:
        return primary
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    text = lines[0] if lines else type(error).__name__
    # libpq: 'connection to server at "h" (1.2.3.4), port 5432 failed: FATAL:  ...'
    text = re.sub(r"^connection to server .*? failed:\s*", "", text)
    return re.sub(r"^(FATAL|ERROR):\s*", "", text)


def translate_pg_error(exc: BaseException, where: str, busy_timeout_ms: int) -> StoreError | None:
    """A one-line StoreError for a PostgreSQL failure, or None if `exc` is not one."""
    error = driver_error(exc)
    if error is None:
        return None
    code = getattr(error, "pgcode", None)
    text = _first_line(error)
    waited = f"waited {busy_timeout_ms / 1000:g} s"
    if LOCK_CODES.get(code) == "lock":
        return StoreLockedError(f"database is locked by another process ({waited}): {where}")
    if LOCK_CODES.get(code) == "statement":
        return StoreLockedError(f"statement cancelled ({text}): {where}")
    if LOCK_CODES.get(code) == "deadlock":
        return StoreLockedError(
            f"database is locked by another process (deadlock with another writer): {where}"
        )
    if code in AUTH_CODES or "authentication failed" in text or "no password" in text:
        return StoreError(f"PostgreSQL refused the login ({text}): {where}")
    if type(error).__name__ == "InterfaceError" or "closed the connection" in text:
        return StoreError(f"lost the connection to the PostgreSQL server ({text}): {where}")
    if code is None and type(error).__name__ == "OperationalError":
        return StoreError(f"cannot connect to PostgreSQL ({text}): {where}")
    return StoreError(f"database error on {where}: {text}")


# -- schema -----------------------------------------------------------------------------

TYPES = {"TEXT": "TEXT", "REAL": "DOUBLE PRECISION", "BLOB": "BYTEA", "DATETIME": "TIMESTAMP"}
# The statement forms migrations use; anything else is refused on PostgreSQL.
STATEMENT_STARTS = (
    ("CREATE", "TABLE"),
    ("CREATE", "INDEX"),
    ("CREATE", "UNIQUE"),
    ("ALTER", "TABLE"),
    ("DROP", "TABLE"),
    ("DROP", "INDEX"),
    ("INSERT", "INTO"),
    ("DELETE", "FROM"),
)
SQLITE_ONLY = {
    "STRFTIME", "JULIANDAY", "IFNULL", "GLOB", "PRAGMA", "ROWID", "WITHOUT", "JSON_EXTRACT",
    "GROUP_CONCAT", "TYPEOF", "VIRTUAL",
}  # fmt: skip
TOKEN = re.compile(r'"(?:[^"]|"")*"|\'(?:[^\']|\'\')*\'|[A-Za-z_][A-Za-z_0-9]*|\S', re.S)


# Columns only the PostgreSQL schema has: the hub's full-text vector (migration 0011), which
# SQLite keeps in its FTS5 table instead. Models leave them out.
NATIVE_COLUMNS = {"knowledge_items": ("search",)}


def native_migration(name: str) -> str | None:
    """PostgreSQL's own text of a migration, for the few SQLite cannot share (FTS5 tables
    and triggers have no translation): `migrations/postgres/<same file name>`."""
    from importlib import resources

    entry = resources.files("workbench.store") / "migrations" / "postgres" / name
    return entry.read_text(encoding="utf-8") if entry.is_file() else None


def boolean_columns() -> set[tuple[str, str]]:
    """(table, column) of every BooleanField: SQLite keeps them as INTEGER."""
    return {
        (model._meta.table_name, field.column_name)
        for model in ALL_MODELS
        for field in model._meta.sorted_fields
        if isinstance(field, peewee.BooleanField)
    }


class DialectError(StoreError):
    """A migration statement uses SQL the PostgreSQL translation does not cover."""


def translate_statement(statement: str, where: str = "migration") -> str:
    """One statement of our restricted SQLite dialect, as PostgreSQL.

    INTEGER becomes BIGINT (SQLite integers are 64-bit), an INTEGER PRIMARY KEY an identity
    column (SQLite's rowid alias), REAL DOUBLE PRECISION, BLOB BYTEA, DATETIME TIMESTAMP,
    and INTEGER columns of BooleanFields BOOLEAN (their DEFAULT 0/1 FALSE/TRUE).
    """
    tokens = TOKEN.findall(statement)
    words = [t.upper() for t in tokens]
    if not (words[:1] == ["UPDATE"] or tuple(words[:2]) in STATEMENT_STARTS):
        raise DialectError(f"{where}: PostgreSQL cannot run this statement: {statement[:80]}")
    booleans = boolean_columns()
    table = column = None
    out: list[str] = []
    boolean_pending = False
    i = 0
    while i < len(tokens):
        token, word = tokens[i], words[i]
        if token.startswith('"'):
            name = token[1:-1].replace('""', '"')
            if i > 0 and words[i - 1] in ("TABLE", "EXISTS", "INTO", "UPDATE", "REFERENCES"):
                if words[i - 1] != "REFERENCES" and table is None:
                    table = name
            else:
                column = name
            out.append(token)
        elif token.startswith("'"):
            out.append(token)
        elif word in SQLITE_ONLY:
            raise DialectError(f"{where}: {token} is SQLite-only: {statement[:80]}")
        elif word == "INTEGER":
            rest = words[i + 1 : i + 5]
            if rest[:2] == ["PRIMARY", "KEY"] or rest[:4] == ["NOT", "NULL", "PRIMARY", "KEY"]:
                out.append("BIGINT GENERATED BY DEFAULT AS IDENTITY")
            elif (table, column) in booleans:
                out.append("BOOLEAN")
                boolean_pending = True
            else:
                out.append("BIGINT")
        elif word in TYPES:
            out.append(TYPES[word])
        elif word == "AUTOINCREMENT":
            pass
        elif boolean_pending and word in ("0", "1") and out and out[-1].upper() == "DEFAULT":
            out.append("TRUE" if word == "1" else "FALSE")
        else:
            if token == ",":
                boolean_pending = False
            out.append(token)
        i += 1
    return _join(out)


def _join(tokens: list[str]) -> str:
    text = " ".join(tokens)
    text = re.sub(r"\s+([,)])", r"\1", text)
    return re.sub(r"\(\s+", "(", text)


def trigger_function_sql() -> str:
    """The one trigger function: lock, log the row, notify; bound to the store's schema."""
    return f"""
CREATE OR REPLACE FUNCTION "{TRIGGER_FUNCTION}"() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
    rid bigint;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('workbench:change_log:' || current_schema()));
    IF TG_OP = 'DELETE' THEN rid := OLD.id; ELSE rid := NEW.id; END IF;
    INSERT INTO change_log (table_name, row_id, op, at)
        VALUES (TG_TABLE_NAME, rid, lower(TG_OP), clock_timestamp() AT TIME ZONE 'UTC');
    PERFORM pg_notify('{CHANNEL}', TG_TABLE_NAME);
    RETURN NULL;
END
$$"""


def trigger_sql(table: str) -> list[str]:
    return [
        f'CREATE TRIGGER "wb_{table}_{op}" AFTER {op.upper()} ON "{table}" '
        f'FOR EACH ROW EXECUTE FUNCTION "{TRIGGER_FUNCTION}"()'
        for op in ("insert", "update", "delete")
    ]


def trigger_names(db: peewee.Database) -> set[tuple[str, str]]:
    """(table, trigger) for every workbench trigger in the store's schema."""
    cursor = db.execute_sql(
        "SELECT c.relname, t.tgname FROM pg_trigger t "
        "JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE NOT t.tgisinternal AND n.nspname = current_schema()"
    )
    return {(table, name) for table, name in cursor.fetchall()}


def table_names(db: peewee.Database) -> set[str]:
    cursor = db.execute_sql(
        "SELECT tablename FROM pg_catalog.pg_tables WHERE schemaname = current_schema()"
    )
    return {name for (name,) in cursor.fetchall()}


def lock_migrations(db: peewee.Database) -> None:
    """Inside a transaction: one process migrates a store at a time."""
    db.execute_sql(
        "SELECT pg_advisory_xact_lock(hashtext('workbench:migrate:' || current_schema()))"
    )


def domain_tables_without_id() -> list[str]:
    """The trigger function logs `id`; every domain table must have one."""
    return [
        m._meta.table_name
        for m in DOMAIN_MODELS
        if m._meta.primary_key is None or m._meta.primary_key.column_name != "id"
    ]


# -- the change feed ----------------------------------------------------------------------


class Listener:
    """Its own autocommit connection LISTENing on the change channel.

    A lost connection (server restart, failover, idle kill) is reopened with backoff; the
    caller then polls the feed, whose cursor over change_log catches up on whatever was
    committed meanwhile, so nothing is missed."""

    def __init__(self, url: str, busy_timeout_ms: int) -> None:
        self.url = url
        self.busy_timeout_ms = busy_timeout_ms
        self.conn = None
        self.retry_at = 0.0
        self.backoff_s = RECONNECT_MIN_S
        self.connect()

    def connect(self) -> None:
        psycopg2 = require_driver()
        params = connect_params(self.url, self.busy_timeout_ms)
        params["dbname"] = params.pop("database")
        try:
            conn = psycopg2.connect(**params)
            conn.autocommit = True
            with conn.cursor() as cursor:
                cursor.execute(f'LISTEN "{CHANNEL}"')
        except psycopg2.Error as exc:
            raise translate_pg_error(exc, mask_url(self.url), self.busy_timeout_ms) from None
        self.conn = conn
        self.backoff_s = RECONNECT_MIN_S

    def reconnect(self) -> bool:
        """One attempt, if its backoff has passed; True once listening again."""
        if time.monotonic() < self.retry_at:
            return False
        try:
            self.connect()
        except StoreError:
            self.retry_at = time.monotonic() + self.backoff_s
            self.backoff_s = min(self.backoff_s * 2, RECONNECT_MAX_S)
            return False
        return True

    def fileno(self) -> int:
        return self.conn.fileno()

    def drain(self) -> bool:
        """Read what the server sent; True if any change was notified. A dead connection
        is dropped (`conn` becomes None) for `reconnect`."""
        import psycopg2

        try:
            self.conn.poll()
        except psycopg2.Error:
            self.close()
            self.retry_at = time.monotonic()
            return False
        seen = bool(self.conn.notifies)
        self.conn.notifies.clear()
        return seen

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def _poll(feed) -> set[str] | None:
    """The feed's new tables, or None when the store's own connection failed (retried)."""
    try:
        return feed.poll()
    except (peewee.OperationalError, peewee.InterfaceError):
        return None


def watch_notifications(
    url: str, feed, busy_timeout_ms: int, stop_event: threading.Event | None = None
) -> Iterator[set[str]]:
    """Blocking: yield the set of changed tables after each notified commit."""
    listener = Listener(url, busy_timeout_ms)
    pending = True  # commits between the feed's cursor and LISTEN
    try:
        while stop_event is None or not stop_event.is_set():
            if pending:
                tables = _poll(feed)
                pending = tables is None
                if tables:
                    yield tables
            if listener.conn is None:
                pending = listener.reconnect() or pending
                if listener.conn is None:
                    time.sleep(STOP_CHECK_S)
                continue
            ready, _, _ = select.select([listener], [], [], STOP_CHECK_S)
            if (ready and listener.drain()) or listener.conn is None:
                pending = True  # notified, or the connection dropped: catch up
    finally:
        listener.close()


async def awatch_notifications(
    url: str, feed, busy_timeout_ms: int, stop_event=None
) -> AsyncIterator[set[str]]:
    """Async twin of `watch_notifications` (the UI's watcher worker)."""
    import asyncio  # here, not at import: asyncio costs ~15 ms on the `hooks run` path

    listener = Listener(url, busy_timeout_ms)
    loop = asyncio.get_running_loop()
    wake = asyncio.Event()
    watched: list[int] = []

    def follow_connection() -> None:
        for fd in watched:
            loop.remove_reader(fd)
        watched.clear()
        if listener.conn is not None:
            watched.append(listener.fileno())
            loop.add_reader(watched[0], wake.set)

    follow_connection()
    pending = True
    try:
        while stop_event is None or not stop_event.is_set():
            if pending:
                tables = _poll(feed)
                pending = tables is None
                if tables:
                    yield tables
            if listener.conn is None:
                # connecting blocks for up to the connect timeout: not on the event loop
                if await asyncio.to_thread(listener.reconnect):
                    follow_connection()
                    pending = True
                else:
                    await asyncio.sleep(STOP_CHECK_S)
                continue
            try:
                await asyncio.wait_for(wake.wait(), STOP_CHECK_S)
            except TimeoutError:
                continue
            wake.clear()
            if listener.drain():
                pending = True
            elif listener.conn is None:
                follow_connection()
                pending = True
    finally:
        for fd in watched:
            loop.remove_reader(fd)
        listener.close()
