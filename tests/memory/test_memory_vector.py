"""Embedder, vector tier and search: exactness, recall, filters, other writers, import."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from workbench.engine import Engine
from workbench.memory.embedder import HashingEmbedder
from workbench.memory.service import text_key
from workbench.store import models as m

WRITER = """
import sys
from workbench.engine import Engine
with Engine(sys.argv[1]) as e:
    e.memory.store("vector", sys.argv[2], namespace="notes", key="from-elsewhere")
"""

TOPICS = ["sqlite", "wasm", "kernel", "retry", "cache", "bucket", "token", "lock", "queue"]
VERBS = ["drops", "keeps", "evicts", "scans", "writes", "reads", "counts", "merges"]


def generated_texts(n: int, seed: int = 3) -> list[str]:
    rng = np.random.default_rng(seed)
    return [
        f"{TOPICS[rng.integers(9)]} {VERBS[rng.integers(8)]} item{rng.integers(5000)} "
        f"then {TOPICS[rng.integers(9)]} {VERBS[rng.integers(8)]} batch{rng.integers(300)}"
        for _ in range(n)
    ]


@pytest.fixture
def memory(engine):
    return engine.memory


def test_embedder_is_deterministic_normalised_and_offline():
    texts = ["The vector index stores int8 codes", "", "naïve café — 42 tokens!"]
    a = HashingEmbedder().embed(texts)
    b = HashingEmbedder().embed(list(reversed(texts)))[::-1]
    assert a.shape == (3, 384) and a.dtype == np.float32
    np.testing.assert_array_equal(a, b)  # same text, same vector, in any batch
    assert np.linalg.norm(a[0]) == pytest.approx(1.0, abs=1e-6)
    assert np.linalg.norm(a[2]) == pytest.approx(1.0, abs=1e-6)
    assert not a[1].any()
    near, far = HashingEmbedder().embed(["int8 codes in the vector index", "bake a cake"])
    assert float(a[0] @ near) > float(a[0] @ far) + 0.2


def test_exact_stored_text_is_found_first_with_score_one(memory):
    texts = generated_texts(300)
    memory.vector.put_many(("gen", f"k{i}", t, {}) for i, t in enumerate(texts))
    hits = memory.search(texts[123], namespace="gen", k=5)
    assert hits[0].text == texts[123]
    assert hits[0].score == pytest.approx(1.0, abs=1e-5)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_recall_against_exact_float32_search(memory):
    texts = generated_texts(3000, seed=5)
    memory.vector.put_many(("gen", f"k{i}", t, {}) for i, t in enumerate(texts))
    queries = generated_texts(40, seed=99)
    mat = memory.embedder.embed(texts)
    qv = memory.embedder.embed(queries)
    scores = qv @ mat.T
    total = 0.0
    for r, query in enumerate(queries):
        hits = memory.vector.search(query, namespace="gen", k=10)
        kth = np.sort(scores[r])[-10]
        total += sum(scores[r, int(h.key[1:])] >= kth - 1e-6 for h in hits) / 10
    assert total / len(queries) >= 0.99


def test_namespaces_and_metadata_filters(memory):
    memory.vector.put_many(
        [
            ("a", "py", "retry the sqlite write on lock", {"lang": "python"}),
            ("a", "go", "retry the sqlite write on lock in go", {"lang": "go"}),
            ("b", "py2", "retry the sqlite write when locked", {"lang": "python"}),
        ]
    )
    assert {h.namespace for h in memory.search("retry sqlite lock", k=10)} == {"a", "b"}
    assert [h.key for h in memory.search("retry sqlite lock", namespace="b")] == ["py2"]
    hits = memory.search("retry sqlite lock", k=10, where={"lang": "go"})
    assert [h.key for h in hits] == ["go"]
    assert memory.search("retry sqlite lock", where={"lang": ["go", "rust"]})[0].key == "go"
    assert memory.search("retry", namespace="missing") == []


def test_filter_finds_rare_matches_beyond_the_first_candidates(memory):
    texts = generated_texts(500, seed=8)
    entries = [("gen", f"k{i}", t, {"rare": i == 450}) for i, t in enumerate(texts)]
    memory.vector.put_many(entries)
    hits = memory.search(texts[0], namespace="gen", k=3, where={"rare": True})
    assert [h.key for h in hits] == ["k450"]


def test_rewrite_replaces_and_stores_int8_without_f32(memory):
    memory.store("vector", "first text", namespace="n", key="k")
    result = memory.store("vector", "second text about kernels", namespace="n", key="k")
    assert result["replaced"] is True
    row = m.VectorMemory.get((m.VectorMemory.namespace == "n") & (m.VectorMemory.key == "k"))
    assert row.text == "second text about kernels"
    assert row.embedding_f32 is None and len(row.embedding_i8) == 384
    assert memory.search("kernels", namespace="n")[0].text == "second text about kernels"
    stats = memory.stats()["vector"]
    assert stats["count"] == 1
    assert stats["smaller_than_float32"] > 0.7
    assert stats["index_compression_ratio"] > 3


def test_a_write_from_another_process_is_searchable_without_restart(memory, engine):
    memory.store("vector", "local note about queues", namespace="notes", key="local")
    assert [h.key for h in memory.search("bloom filter false positives", namespace="notes")] == [
        "local"
    ]
    text = "bloom filter false positives grow with the fill ratio"
    subprocess.run(
        [sys.executable, "-c", WRITER, str(engine.store_target), text], check=True, timeout=60
    )
    hits = memory.search("bloom filter false positives", namespace="notes")
    assert hits[0].key == "from-elsewhere" and hits[0].text == text


def test_working_tier_caches_searches_until_the_vector_tier_changes(memory):
    memory.store("vector", "atomic rename after fsync", namespace="n", key="a")
    memory.search("atomic rename")
    memory.search("atomic rename")
    stats = memory.working.stats()
    assert stats["hits"] == 1 and stats["misses"] == 1
    memory.store("vector", "atomic rename keeps files whole", namespace="n", key="b")
    assert len(memory.search("atomic rename")) == 2  # not the stale cached result
    assert any(item["item"] == "search 'atomic rename'" for item in memory.working_set())


def test_import_keeps_good_lines_and_reports_bad_ones(memory, tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text(
        '{"text": "first good line", "key": "g1", "meta": {"src": "t"}}\n'
        "not json\n"
        "\n"
        '{"key": "no-text"}\n'
        '{"text": "second good line", "namespace": "other"}\n'
        "[1, 2]\n"
        '{"text": "bad meta", "meta": "x"}\n',
        encoding="utf-8",
    )
    report = memory.import_jsonl(path)
    assert report["stored"] == 2 and report["bad_lines"] == 4
    assert [e["line"] for e in report["errors"]] == [2, 4, 6, 7]
    assert "not JSON" in report["errors"][0]["error"]
    assert memory.get("default", "g1")["metadata"] == {"src": "t"}
    assert memory.get("other", text_key("second good line"))["value"] == "second good line"


def test_bad_search_input_is_a_clear_error(memory):
    with pytest.raises(ValueError, match="query"):
        memory.search("   ")
    with pytest.raises(ValueError, match="k must"):
        memory.search("x", k=0)
    with pytest.raises(ValueError, match="text"):
        memory.store("vector", "", namespace="n", key="k")
    with pytest.raises(ValueError, match="tier"):
        memory.store("procedural", "x")


def test_numpy_backend_gives_the_same_results(tmp_path):
    texts = generated_texts(200, seed=4)
    found = []
    for name in ("wasm", "numpy"):
        with Engine(tmp_path / f"{name}.db", env={"WORKBENCH_BACKEND": name}) as eng:
            eng.memory.vector.put_many(("g", f"k{i}", t, {}) for i, t in enumerate(texts))
            found.append([h.key for h in eng.memory.search(texts[7], k=5)])
    assert found[0] == found[1] and found[0][0] == "k7"


def test_index_recovers_when_change_log_rows_it_never_read_were_pruned(memory, engine):
    memory.store("vector", "first entry about queues", namespace="m", key="a")
    memory.store("vector", "other entry about queues", namespace="n", key="b")
    assert len(memory.search("queues", k=10)) == 2  # both namespaces indexed
    memory.vector.put_many([("m", f"k{i}", f"bulk entry {i} about queues", {}) for i in range(5)])
    memory.store("vector", "last entry about queues", namespace="n", key="c")
    engine.prune_change_log(keep=1)  # only the row for n/c is left to read
    assert len(memory.search("queues", namespace="m", k=10)) == 6


def test_a_namespace_within_the_shortlist_is_reranked_whole_without_kernels(memory, monkeypatch):
    """Every row of a small namespace is a candidate, so no kernel index is built or
    scanned (a short process never loads wasmtime for it); the hits are the ones the
    kernel path gives, scores included."""
    from workbench.memory import vector as vector_mod

    texts = generated_texts(vector_mod.RERANK_MIN)
    memory.vector.put_many(("small", f"k{i}", t, {"i": i}) for i, t in enumerate(texts))
    kb = memory.vector.kernels
    calls = []
    for name in ("index", "search"):
        real = getattr(kb, name)
        monkeypatch.setattr(
            kb,
            name,
            lambda *a, _real=real, _name=name, **kw: calls.append(_name) or _real(*a, **kw),
        )
    whole = [h.as_dict() for h in memory.vector.search(texts[7], namespace="small", k=2)]
    assert calls == []
    monkeypatch.setattr(vector_mod, "RERANK_MIN", 4)  # k=2: 8 of the 40 rows by int8 scan
    memory.vector._shards["small"].dirty = True
    scanned = [h.as_dict() for h in memory.vector.search(texts[7], namespace="small", k=2)]
    assert calls == ["index", "search"]
    assert whole == scanned and whole[0]["text"] == texts[7]
