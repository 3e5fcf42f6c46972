"""Schema, migrations and change triggers."""

from __future__ import annotations

import sqlite3

import pytest

from workbench.engine import Engine
from workbench.store import models as m
from workbench.store.db import LATEST_VERSION, migrations
from workbench.store.errors import StoreError

DESIGN_TABLES = {
    "neural_models", "training_history", "pattern_memory", "pipeline_runs", "task_executions",
    "strategy_profiles", "strategy_trend", "vector_memory", "episodic_memory",
    "semantic_memory", "channels", "subscriptions", "knowledge_items", "knowledge_versions",
    "learnings", "experience_buffer", "curriculum_runs", "training_runs", "change_log",
}  # fmt: skip


def columns(db_path, table):
    with sqlite3.connect(db_path) as conn:
        return {row[1] for row in conn.execute(f'PRAGMA table_info("{table}")')}


def test_every_design_table_exists_after_init(engine):
    tables = set(engine.db.get_tables())
    assert tables >= DESIGN_TABLES
    assert {"schema_version", "store_meta", "tasks", "labelled_operations"} <= tables


def test_models_match_the_migrated_schema(sqlite_engine):
    for model in m.ALL_MODELS:
        expected = {f.column_name for f in model._meta.sorted_fields}
        assert columns(sqlite_engine.db_path, model._meta.table_name) == expected, model.__name__


def test_pragmas_wal_foreign_keys_busy_timeout(sqlite_engine):
    engine = sqlite_engine
    assert engine.db.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert engine.db.execute_sql("PRAGMA foreign_keys").fetchone()[0] == 1
    assert engine.db.execute_sql("PRAGMA busy_timeout").fetchone()[0] == engine.busy_timeout_ms


def test_schema_version_is_latest(engine):
    assert engine.schema_version == LATEST_VERSION == migrations()[-1][0]
    assert engine.applied_migrations == [n for n, _, _ in migrations()]


@pytest.mark.parametrize("table", m.DOMAIN_TABLES)
def test_every_domain_table_has_change_triggers(sqlite_engine, table):
    names = {
        r[0]
        for r in sqlite_engine.db.execute_sql(
            "SELECT name FROM sqlite_master WHERE type='trigger' AND tbl_name=? "
            "AND name LIKE 'wb\\_%' ESCAPE '\\'",
            (table,),
        )
    }
    assert names == {f"wb_{table}_insert", f"wb_{table}_update", f"wb_{table}_delete"}


def test_triggers_log_insert_update_delete(engine):
    start = m.ChangeLog.select().count()
    channel = m.Channel.create(name="research", description="papers")
    channel.description = "papers and notes"
    channel.save()
    channel.delete_instance()
    log = list(m.ChangeLog.select().where(m.ChangeLog.id > start).order_by(m.ChangeLog.id).dicts())
    assert [(r["table_name"], r["row_id"], r["op"]) for r in log] == [
        ("channels", channel.id, "insert"),
        ("channels", channel.id, "update"),
        ("channels", channel.id, "delete"),
    ]
    assert all(r["at"] is not None for r in log)


def test_cascade_delete_is_logged_for_children(engine):
    channel = m.Channel.create(name="c1")
    item = m.KnowledgeItem.create(uid="k1", channel=channel, type="tip", title="t", content="c")
    m.ChangeLog.delete().execute()
    channel.delete_instance()
    tables = {r.table_name for r in m.ChangeLog.select()}
    assert tables == {"channels", "knowledge_items"}
    assert not m.KnowledgeItem.select().where(m.KnowledgeItem.id == item.id).exists()


def test_reopening_applies_nothing_and_keeps_rows(tmp_path):
    path = tmp_path / "s.db"
    with Engine(path):
        m.Channel.create(name="kept")
    with Engine(path) as second:
        assert second.applied_migrations == []
        assert not second.created
        assert m.Channel.select().where(m.Channel.name == "kept").exists()


VERSIONS = [number for number, _name, _sql in migrations()]  # numbers may have gaps


@pytest.mark.parametrize("previous", VERSIONS[:-1])
def test_migration_from_an_older_version_keeps_data(tmp_path, previous):
    path = tmp_path / "old.db"
    with Engine(path, migrate_to=previous) as old:
        assert old.schema_version == previous
        channel = m.Channel.create(name="legacy", description="from an old schema")
        m.KnowledgeItem.create(
            uid="old-1", channel=channel, type="tip", title="kept", content="across migrations"
        )
    with Engine(path) as new:
        assert new.applied_migrations == [v for v in VERSIONS if v > previous]
        assert new.schema_version == LATEST_VERSION
        item = m.KnowledgeItem.get(m.KnowledgeItem.uid == "old-1")
        assert (item.title, item.channel.name) == ("kept", "legacy")


def test_tables_added_by_a_migration_get_change_triggers(tmp_path):
    path = tmp_path / "v1.db"
    with Engine(path, migrate_to=1) as old:
        assert "tasks" not in old.db.get_tables()
    with Engine(path):
        m.Task.create(name="t", kind="function", complexity="easy", path="/x")
        assert "tasks" in {r.table_name for r in m.ChangeLog.select()}


def test_newer_schema_is_refused(tmp_path):
    path = tmp_path / "future.db"
    with Engine(path):
        m.SchemaVersion.create(version=LATEST_VERSION + 1)
    with pytest.raises(StoreError, match="newer than this workbench"):
        Engine(path)


def test_foreign_sqlite_database_is_refused_and_untouched(tmp_path):
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE accounts (id INTEGER PRIMARY KEY, owner TEXT)")
    before = path.read_bytes()
    with pytest.raises(StoreError, match="not a workbench store"):
        Engine(path)
    assert path.read_bytes() == before
    assert (
        not (tmp_path / "other.db-wal").exists() or (tmp_path / "other.db-wal").stat().st_size == 0
    )


def test_change_log_pruning_keeps_the_newest(engine):
    for i in range(30):
        m.Channel.create(name=f"c{i}")
    newest = m.ChangeLog.select().order_by(m.ChangeLog.id.desc()).first().id
    removed = engine.prune_change_log(keep=10)
    assert removed == newest - 10 == 20
    assert m.ChangeLog.select().count() == 10
    assert engine.prune_change_log(keep=10) == 0


def test_split_sql_keeps_a_trigger_body_whole():
    from workbench.store.db import split_sql

    sql = (
        "-- a comment; with a semicolon\n"
        'CREATE TABLE "a" ("id" INTEGER);\n'
        'CREATE TRIGGER "t" AFTER INSERT ON "a" BEGIN\n'
        '    INSERT INTO "a" ("id") VALUES (1);\n'
        '    DELETE FROM "a" WHERE "id" = 2;\n'
        "END;\n"
        'INSERT INTO "a" ("id") VALUES (\';\');'
    )
    statements = split_sql(sql)
    assert len(statements) == 3
    assert statements[1].startswith('CREATE TRIGGER "t"') and statements[1].endswith("END")
    assert statements[2] == 'INSERT INTO "a" ("id") VALUES (\';\')'
