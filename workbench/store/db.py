"""Opening a store: path checks that never touch a file we should not, pragmas, migrations.

SQLite is opened in WAL mode with a busy timeout and foreign keys on. Every check that can
refuse a path runs before SQLite is allowed to write to it, so a file that is not ours is
left byte-identical. A `postgresql://` URL opens a PostgreSQL store instead (see
`postgres.py`): the same migrations, translated, and the same one-line errors.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import peewee

from workbench.config import POSTGRES_SCHEMES, mask_url, url_scheme
from workbench.fsutil import create_private_file
from workbench.store import postgres
from workbench.store.errors import StoreError, StoreLockedError
from workbench.store.models import DOMAIN_TABLES, SchemaVersion, database_proxy, utcnow

SQLITE_MAGIC = b"SQLite format 3\x00"
OPS = (("insert", "INSERT", "NEW"), ("update", "UPDATE", "NEW"), ("delete", "DELETE", "OLD"))


def migrations() -> list[tuple[int, str, str]]:
    """(version, name, sql) for every frozen migration, oldest first."""
    folder = resources.files("workbench.store") / "migrations"
    found = []
    for entry in folder.iterdir():
        name = entry.name
        if name.endswith(".sql") and name[:4].isdigit():
            found.append((int(name[:4]), name, entry.read_text(encoding="utf-8")))
    return sorted(found)


LATEST_VERSION = migrations()[-1][0]


def check_sqlite_path(path: Path) -> None:
    """Refuse, without writing, a path that cannot hold a workbench SQLite store."""
    if path.is_dir():
        raise StoreError(f"database path is a directory: {path}")
    if not path.parent.is_dir():
        raise StoreError(f"database directory does not exist: {path.parent}")
    if not path.exists():
        return
    try:
        with path.open("rb") as fh:
            header = fh.read(len(SQLITE_MAGIC))
    except OSError as exc:
        raise StoreError(f"cannot read database file {path}: {exc.strerror or exc}") from None
    if header and header != SQLITE_MAGIC:
        raise StoreError(f"not an SQLite database: {path}")


@contextlib.contextmanager
def translate_errors(where: str, busy_timeout_ms: int) -> Iterator[None]:
    """Turn sqlite/PostgreSQL/peewee failures into one-line StoreErrors."""
    try:
        yield
    except StoreError:
        raise
    except (peewee.PeeweeException, sqlite3.Error) as exc:
        pg_error = postgres.translate_pg_error(exc, where, busy_timeout_ms)
        if pg_error is not None:
            raise pg_error from None
        if isinstance(exc, peewee.OperationalError | sqlite3.OperationalError):
            text = str(exc)
            if "locked" in text or "busy" in text:
                raise StoreLockedError(
                    f"database is locked by another process "
                    f"(waited {busy_timeout_ms / 1000:g} s): {where}"
                ) from None
            raise StoreError(f"database error on {where}: {text}") from None
        if isinstance(exc, peewee.DatabaseError | sqlite3.DatabaseError):
            raise StoreError(f"database error on {where}: {exc}") from None
        raise


def check_is_workbench_store(path: Path, busy_timeout_ms: int) -> None:
    """Read-only look at an existing file: refuse SQLite databases that are not ours.

    Runs before WAL mode is switched on, because that alone rewrites the file header.
    """
    if not path.exists() or path.stat().st_size == 0:
        return
    uri = f"file:{path}?mode=ro"
    with translate_errors(str(path), busy_timeout_ms):
        conn = sqlite3.connect(uri, uri=True, timeout=busy_timeout_ms / 1000)
        try:
            names = {
                r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
        finally:
            conn.close()
    if names and "schema_version" not in names:
        raise StoreError(f"not a workbench store (it has tables but no schema_version): {path}")


def connect_sqlite(path: Path, busy_timeout_ms: int) -> peewee.SqliteDatabase:
    check_sqlite_path(path)
    check_is_workbench_store(path, busy_timeout_ms)
    # A new store is created 0600 (SQLite gives its -wal and -shm the database's mode);
    # it will hold agent sessions. An existing file keeps its mode (the engine warns).
    try:
        create_private_file(path)
    except OSError as exc:
        raise StoreError(f"cannot create database file {path}: {exc.strerror or exc}") from None
    return peewee.SqliteDatabase(
        str(path),
        timeout=busy_timeout_ms / 1000,
        # BEGIN IMMEDIATE: a transaction takes the write lock up front, waiting out the busy
        # timeout. A deferred one that reads and then writes fails at once when another
        # process committed in between (SQLITE_BUSY, no wait), losing that write.
        lock_type="IMMEDIATE",
        pragmas={
            "busy_timeout": busy_timeout_ms,
            "journal_mode": "wal",
            "foreign_keys": 1,
            "synchronous": "normal",
        },
    )


def store_label(db: peewee.Database) -> str:
    return getattr(db, "label", None) or str(db.database)


def table_names(db: peewee.Database) -> set[str]:
    return postgres.table_names(db) if postgres.is_postgres(db) else set(db.get_tables())


def current_version(db: peewee.Database) -> int | None:
    """The schema version, or None for an empty database. Refuses foreign databases."""
    tables = table_names(db)
    if "schema_version" not in tables:
        if tables:
            raise StoreError(
                f"not a workbench store (it has tables but no schema_version): {store_label(db)}"
            )
        return None
    row = SchemaVersion.select(peewee.fn.MAX(SchemaVersion.version)).scalar()
    return int(row) if row is not None else None


def trigger_sql(table: str) -> list[str]:
    """AFTER triggers that append (table, row id, op) to change_log."""
    statements = []
    for op, event, ref in OPS:
        statements.append(
            f'CREATE TRIGGER IF NOT EXISTS "wb_{table}_{op}" AFTER {event} ON "{table}" '
            f"BEGIN INSERT INTO change_log (table_name, row_id, op, at) VALUES "
            f"('{table}', {ref}.rowid, '{op}', strftime('%Y-%m-%d %H:%M:%f', 'now')); END"
        )
    return statements


def missing_triggers(db: peewee.Database) -> list[str]:
    if postgres.is_postgres(db):
        have = {name for _table, name in postgres.trigger_names(db)}
    else:
        have = {
            row[0] for row in db.execute_sql("SELECT name FROM sqlite_master WHERE type='trigger'")
        }
    tables = table_names(db)
    return [
        t
        for t in DOMAIN_TABLES
        if t in tables and any(f"wb_{t}_{op}" not in have for op, _, _ in OPS)
    ]


def migrate(db: peewee.Database, target: int | None = None) -> list[int]:
    """Apply every migration above the current version (up to `target`); return those run."""
    target = LATEST_VERSION if target is None else target
    on_postgres = postgres.is_postgres(db)
    version = current_version(db) or 0
    if version > LATEST_VERSION:
        raise StoreError(
            f"store schema v{version} is newer than this workbench understands "
            f"(v{LATEST_VERSION}): {store_label(db)}"
        )
    applied = []
    for number, name, sql in migrations():
        if number <= version or number > target:
            continue
        with db.atomic():
            if on_postgres:
                # Another process may have migrated while we waited for the lock.
                postgres.lock_migrations(db)
                version = current_version(db) or 0
                if number <= version:
                    continue
            native = postgres.native_migration(name) if on_postgres else None
            for index, statement in enumerate(split_sql(native or sql), 1):
                if on_postgres and native is None:
                    statement = postgres.translate_statement(statement, f"{name} statement {index}")
                db.execute_sql(statement)
            SchemaVersion.create(version=number, applied_at=utcnow())
        applied.append(number)
    stale = missing_triggers(db)
    if stale:
        with db.atomic():
            if on_postgres:
                postgres.lock_migrations(db)
                stale = missing_triggers(db)
                db.execute_sql(postgres.trigger_function_sql())
            for table in stale:
                for statement in postgres.trigger_sql(table) if on_postgres else trigger_sql(table):
                    db.execute_sql(statement)
    return applied


def split_sql(sql: str) -> list[str]:
    """Statements of a migration file, comments dropped. A semicolon ends a statement only
    where SQLite says the statement is complete, so a trigger's BEGIN ... END body (whose
    inner statements end in semicolons) stays one statement."""
    lines = [line for line in sql.splitlines() if not line.lstrip().startswith("--")]
    statements, pending = [], ""
    for piece in "\n".join(lines).split(";"):
        pending = f"{pending};{piece}" if pending else piece
        if sqlite3.complete_statement(pending + ";"):
            if pending.strip():
                statements.append(pending.strip())
            pending = ""
    if pending.strip():
        statements.append(pending.strip())
    return statements


def is_postgres_target(target: str | Path) -> bool:
    return isinstance(target, str) and url_scheme(target) in POSTGRES_SCHEMES


def open_database(target: str | Path, busy_timeout_ms: int, migrate_to: int | None = None) -> tuple:
    """Open, check and migrate a store (a SQLite path or a postgresql:// URL); bind the
    models. Returns (db, applied)."""
    if is_postgres_target(target):
        where = mask_url(str(target))
        db = postgres.connect_postgres(str(target), busy_timeout_ms)
    else:
        where = str(target)
        db = connect_sqlite(Path(target), busy_timeout_ms)
    with translate_errors(where, busy_timeout_ms):
        db.connect(reuse_if_open=True)
        database_proxy.initialize(db)
        applied = migrate(db, migrate_to)
    return db, applied
