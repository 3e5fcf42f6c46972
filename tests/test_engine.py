"""Engine: seeding, store-wide queries, bad input."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from tests.conftest import FIXTURE_SEED, FROZEN_NOW
from workbench import config
from workbench.engine import Engine
from workbench.memory.embedder import HashingEmbedder
from workbench.store import models as m
from workbench.store.errors import StoreError


def test_seed_adds_fixture_rows_then_nothing(engine):
    added = engine.seed(FIXTURE_SEED)
    assert added == {
        "channels": 7,
        "knowledge_items": 3,
        "knowledge_versions": 3,
        "subscriptions": 3,
        "vector_memory": 3,
        "episodic_memory": 3,
        "semantic_memory": 2,
        "labelled_operations": 7,
        "tasks": 1,
    }
    assert engine.seed(FIXTURE_SEED) == {}
    assert engine.is_seeded()


def test_bundled_sample_data_seeds_and_is_idempotent(engine):
    added = engine.seed()
    assert added["channels"] == 7
    assert added.get("tasks", 0) >= 9
    assert engine.seed() == {}


def test_ensure_seeded_only_once(engine):
    assert engine.ensure_seeded(FIXTURE_SEED)
    m.Channel.delete().where(m.Channel.name == "general").execute()
    assert engine.ensure_seeded(FIXTURE_SEED) == {}
    assert not m.Channel.select().where(m.Channel.name == "general").exists()


def test_seeded_vectors_are_int8_codes_of_the_embedding(fixture_engine):
    row = m.VectorMemory.get(m.VectorMemory.key == "busy-timeout")
    codes = np.frombuffer(row.embedding_i8, dtype=np.int8)
    assert codes.shape == (row.dim,) == (384,)
    exact = HashingEmbedder().embed([row.text])[0]
    restored = codes.astype(np.float32) * row.scale
    assert float(np.dot(restored, exact)) > 0.995
    assert np.abs(restored - exact).max() <= row.scale / 2 + 1e-6


def test_seed_uses_the_clock(fixture_engine):
    assert {c.created for c in m.Channel.select()} == {FROZEN_NOW}


def test_bad_seed_line_names_file_and_line_and_writes_nothing(engine, tmp_path):
    seed = tmp_path / "seed"
    shutil.copytree(FIXTURE_SEED, seed)
    with (seed / "patterns" / "operations.jsonl").open("a") as fh:
        fh.write('{"text": "broken", "pattern": \n')
    with pytest.raises(StoreError, match=r"operations.jsonl:8: invalid JSON"):
        engine.seed(seed)
    assert sum(engine.stats().values()) == 0


def test_unknown_pattern_in_seed_is_refused(engine, tmp_path):
    seed = tmp_path / "seed"
    shutil.copytree(FIXTURE_SEED, seed)
    (seed / "patterns" / "operations.jsonl").write_text(
        json.dumps({"text": "guess", "pattern": "psychic"}) + "\n"
    )
    with pytest.raises(StoreError, match="pattern must be one of"):
        engine.seed(seed)


def test_missing_sample_dir(engine, tmp_path):
    with pytest.raises(StoreError, match="sample data directory not found"):
        engine.seed(tmp_path / "nope")


def test_stats_counts_every_domain_table(fixture_engine):
    stats = fixture_engine.stats()
    assert set(stats) == set(m.DOMAIN_TABLES)
    assert stats["knowledge_items"] == 3 and stats["neural_models"] == 0


def test_recent_is_newest_first_with_foreign_keys_labelled(fixture_engine):
    rows = fixture_engine.recent("knowledge_items", ["uid", "channel", "priority"], limit=2)
    assert rows == [
        {"uid": "fx-3", "channel": "optimizations", "priority": 3},
        {"uid": "fx-2", "channel": "testing", "priority": 2},
    ]


def test_recent_shows_blob_sizes_not_bytes(fixture_engine):
    (row,) = fixture_engine.recent("vector_memory", ["key", "embedding_i8"], limit=1)
    assert row["embedding_i8"] == "<384 bytes>"


def test_group_counts(fixture_engine):
    assert fixture_engine.group_counts("episodic_memory", "outcome") == [
        ("failure", 2),
        ("success", 1),
    ]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda e: e.recent("nope", ["id"]), "unknown table: nope"),
        (lambda e: e.recent("change_log", ["id"]), "unknown table: change_log"),
        (lambda e: e.recent("channels", ["nope"]), "no column 'nope'"),
        (lambda e: e.group_counts("channels", "nope"), "no column 'nope'"),
    ],
)
def test_bad_queries_are_clear_errors(engine, call, message):
    with pytest.raises(StoreError, match=message):
        call(engine)


def test_default_location_is_created_in_cwd(tmp_path):
    with Engine(None, env={}, cwd=tmp_path) as eng:
        assert eng.db_path == tmp_path / config.DEFAULT_DB_RELATIVE
        assert eng.db_path.exists()


def test_explicit_path_in_missing_directory_is_not_created(tmp_path):
    with pytest.raises(StoreError, match="database directory does not exist"):
        Engine(tmp_path / "missing" / "x.db")
    assert not (tmp_path / "missing").exists()


def test_embedder_is_deterministic_and_normalised():
    emb = HashingEmbedder()
    a = emb.embed(["sqlite busy timeout", "", "train a network"])
    b = HashingEmbedder().embed(["sqlite busy timeout", "", "train a network"])
    assert a.dtype == np.float32 and a.shape == (3, 384)
    assert np.array_equal(a, b)
    assert np.allclose(np.linalg.norm(a[[0, 2]], axis=1), 1.0, atol=1e-6)
    assert not a[1].any()  # empty text embeds to zero, not NaN
    close, far = (emb.embed(["sqlite busy timeouts"]) @ a[[0, 2]].T)[0]
    assert close > 0.5 > far


def test_opening_a_store_reads_no_settings_file_until_memory_is_used(tmp_path, monkeypatch):
    """The embedder setting is read where the memory service is built: a store or hook call
    that never touches memory pays no settings-file read (benchmarks/hooks_latency.py)."""
    settings = tmp_path / "config.json"
    settings.write_text(json.dumps({"embedder": "hashing:dim=64"}), encoding="utf-8")
    reads = []
    real = config.load_settings
    monkeypatch.setattr(config, "load_settings", lambda path=None: reads.append(path) or real(path))
    engine = Engine(tmp_path / "w.db", env={"WORKBENCH_CONFIG": str(settings)})
    try:
        engine.stats()
        assert reads == []
        assert engine.embedder_spec == "hashing:dim=64"
        assert reads == [settings]
    finally:
        engine.close()
