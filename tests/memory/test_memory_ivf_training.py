"""When the IVF index trains: never in a CLI or hook search (exact scan and a hint), in a
background thread in a long-lived process (used once persisted), and explicitly in
`memory optimize`; an index due for retraining keeps serving until then."""

from __future__ import annotations

import json

import pytest

from tests.memory.test_memory_ivf import IVF_MIN, N, exact, tier
from tests.memory.test_memory_vector import generated_texts
from tests.test_cli import assert_one_line_error, run_cli
from workbench.engine import Engine
from workbench.memory import ivf as ivf_mod
from workbench.store import models as m


@pytest.fixture
def filled(engine):
    texts = generated_texts(N)
    engine.memory.vector.put_many(("gen", f"k{i}", t, {}) for i, t in enumerate(texts))
    engine.memory.vector.put_many([("small", "a", "a lonely note", {})])
    return engine, texts


def ids(v, query: str) -> list[int]:
    return [h.id for h in v.search(query, namespace="gen", k=10)]


def test_a_search_by_default_scans_exactly_and_notes_the_namespace(filled):
    engine, texts = filled
    v = tier(engine, training="off")
    assert ids(v, texts[4]) == ids(exact(engine), texts[4])
    assert v.trainings == 0 and m.VectorIvf.select().count() == 0
    assert "no index" in v.unindexed["gen"] and "small" not in v.unindexed


def test_a_long_lived_tier_trains_in_the_background_and_then_uses_the_index(filled):
    engine, texts = filled
    v = tier(engine, training="background")
    first = ids(v, texts[4])  # answered by the exact scan while the thread trains
    assert first == ids(exact(engine), texts[4])
    assert v.index_info() == []
    assert v.wait_for_training(timeout=300) and v.background_errors == []
    assert v.trainings == 1 and m.VectorIvf.select().count() == 1
    assert ids(v, texts[4])[0] == first[0]
    assert v.index_info()[0]["namespace"] == "gen" and v.ivf_loads == 1
    assert v.training_now() == [] and "gen" not in v.unindexed


def test_engine_of_a_long_lived_process_trains_in_the_background(tmp_path):
    with Engine(tmp_path / "a.db", long_lived=True) as e:
        assert e.memory.vector.training == "background"
    with Engine(tmp_path / "b.db") as e:
        assert e.memory.vector.training == "off"


def test_an_index_due_for_retraining_keeps_serving_until_it_is_retrained(filled):
    engine, texts = filled
    tier(engine).search(texts[1], namespace="gen", k=10)  # the persisted index
    more = generated_texts(N, seed=33)
    engine.memory.vector.put_many(("gen", f"g{i}", t, {}) for i, t in enumerate(more))
    cli = tier(engine, training="off")
    assert cli.search(texts[1], namespace="gen", k=1)[0].key == "k1"
    assert (cli.trainings, cli.ivf_loads) == (0, 1)  # the grown index, not a rebuild
    assert "due for retraining: grown" in cli.unindexed["gen"]
    ui = tier(engine, training="background")
    ui.search(texts[1], namespace="gen", k=1)
    assert ui.wait_for_training(timeout=300) and ui.trainings == 1
    assert m.VectorIvf.get().trained_rows == 2 * N
    assert ui.search(texts[1], namespace="gen", k=1)[0].key == "k1"
    assert ui.index_info()[0]["rows"] == 2 * N


def test_optimize_trains_reports_and_leaves_a_current_index_alone(filled):
    engine, texts = filled
    v = tier(engine, training="off")
    steps = []
    got = v.optimize_indexes(progress=lambda ns, step, done, total: steps.append((ns, step)))
    by_ns = {r["namespace"]: r for r in got}
    assert by_ns["small"]["action"] == "exact"
    gen = by_ns["gen"]
    assert gen["action"] == "trained" and gen["why"] == "no index" and gen["rows"] == N
    header = m.VectorIvf.get()
    assert (gen["nlist"], gen["nprobe"]) == (header.nlist, header.nprobe)
    assert {s for _, s in steps} == {"kmeans", "assign", "truth"}
    assert {ns for ns, _ in steps} == {"gen"}
    again = v.optimize_indexes("gen")
    assert again[0]["action"] == "current" and v.trainings == 1
    assert v.optimize_indexes("gen", retrain=True)[0]["action"] == "trained"
    assert v.trainings == 2
    # the next search reads what optimize persisted
    assert ids(v, texts[9])[0] == m.VectorMemory.get(m.VectorMemory.key == "k9").id
    assert v.index_info()[0]["namespace"] == "gen"


def test_optimize_names_a_namespace_without_entries(filled):
    engine, _ = filled
    with pytest.raises(ValueError, match="'nope' has no vector entries"):
        tier(engine).optimize_indexes("nope")
    assert m.VectorIvf.select().count() == 0


@pytest.mark.slow
def test_cli_search_hints_at_optimize_which_trains_the_index(tmp_path):
    """Through the real entry point at the real threshold: a search over a large namespace
    with no index scans exactly and says so on stderr; `memory optimize --namespace`
    trains it and reports what it did; the next search uses it, with no hint."""
    db = tmp_path / "cli.db"
    rows = ivf_mod.IVF_MIN
    with Engine(db) as e:
        e.memory.vector.put_many(
            ("big", f"k{i}", t, {}) for i, t in enumerate(generated_texts(rows))
        )
    query = generated_texts(rows)[5]
    searched = run_cli("--db", str(db), "memory", "search", query, "--namespace", "big")
    assert searched.returncode == 0, searched.stderr
    hint = [line for line in searched.stderr.splitlines() if "hint" in line]
    assert len(hint) == 1 and "memory optimize --namespace big" in hint[0]
    bad = run_cli("--db", str(db), "memory", "optimize", "--namespace", "nope")
    assert_one_line_error(bad, "'nope' has no vector entries")
    done = run_cli("--db", str(db), "memory", "optimize", "--namespace", "big", "--json")
    assert done.returncode == 0, done.stderr
    (index,) = json.loads(done.stdout)["indexes"]
    assert index["action"] == "trained" and index["rows"] == rows
    assert 1 <= index["nprobe"] <= index["nlist"] == ivf_mod.nlist_for(rows)
    again = run_cli("--db", str(db), "memory", "search", query, "--namespace", "big")
    assert again.returncode == 0 and "hint" not in again.stderr
    assert again.stdout.splitlines()[0].split()[2] == "big/k5"
    text = run_cli("--db", str(db), "memory", "optimize", "--namespace", "big")
    assert "index big: current, 10000 rows" in text.stdout


def test_cli_optimize_refuses_an_empty_namespace(tmp_path):
    result = run_cli("--db", str(tmp_path / "e.db"), "memory", "optimize", "--namespace", " ")
    assert_one_line_error(result, "--namespace: must not be empty")


def test_a_failed_background_training_is_reported_and_not_started_again(filled, monkeypatch):
    engine, texts = filled
    v = tier(engine, training="background")

    def broken(*args, **kwargs):
        raise RuntimeError("kernel out of memory")

    monkeypatch.setattr(ivf_mod, "train", broken)
    assert ids(v, texts[2]) == ids(exact(engine), texts[2])
    assert v.wait_for_training(timeout=60)
    assert v.background_errors == ["gen: RuntimeError: kernel out of memory"]
    v.search(texts[3], namespace="gen", k=10)  # still exact, no second thread
    assert v.training_now() == [] and len(v._trainers) == 1
    assert "failed" in v.unindexed["gen"] and m.VectorIvf.select().count() == 0


assert IVF_MIN < N  # the fixtures' namespace is above the tier's threshold
