"""The model catalog: 27 entries, real recipes, measured accuracy or `untrained`."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pytest

from workbench.engine import Engine
from workbench.neural import catalog as cat
from workbench.neural import selection
from workbench.neural.data import load_dataset
from workbench.neural.spec import parse_spec
from workbench.store import models as m

EXPECTED = {
    "coordination": [
        "hierarchical-coordinator", "mesh-coordinator", "adaptive-coordinator",
        "collective-intelligence", "swarm-memory-manager", "ring-coordinator",
        "star-coordinator", "hybrid-coordinator",
    ],
    "consensus": [
        "byzantine-coordinator", "raft-manager", "gossip-coordinator", "consensus-builder",
        "crdt-synchronizer", "quorum-manager",
    ],
    "performance": [
        "perf-analyzer", "performance-benchmarker", "task-orchestrator", "memory-coordinator",
        "smart-agent",
    ],
    "sparc": ["sparc-coord", "specification", "architecture", "refinement"],
    "specialized": ["backend-dev", "ml-developer", "cicd-engineer", "system-architect"],
}  # fmt: skip
TRAINABLE_NOW = {
    "adaptive-coordinator", "swarm-memory-manager", "smart-agent", "sparc-coord",
    "specification", "architecture", "refinement", "backend-dev", "ml-developer",
    "cicd-engineer", "system-architect",
}  # fmt: skip
KEYS = {
    "name", "category", "purpose", "use_case", "source", "recipe", "spec", "source_rows",
    "trainable", "reason", "version", "val_accuracy", "val_rows", "status",
}  # fmt: skip


@pytest.fixture
def seeded(tmp_path):
    """A store seeded with the full sample_data (models bind to the newest open store,
    so each test opens its own)."""
    eng = Engine(tmp_path / "seeded.db")
    eng.seed()
    yield eng
    eng.close()


def test_27_entries_in_5_categories_with_the_reference_names():
    assert len(cat.ENTRIES) == 27
    counts = Counter(e.category for e in cat.ENTRIES)
    assert counts == {"coordination": 8, "consensus": 6, "performance": 5, "sparc": 4,
                      "specialized": 4}  # fmt: skip
    for category, names in EXPECTED.items():
        assert [e.name for e in cat.ENTRIES if e.category == category] == names
    assert len({e.name for e in cat.ENTRIES}) == 27


def test_every_spec_parses_and_matches_its_recipe():
    for e in cat.ENTRIES:
        spec = parse_spec(e.spec)
        assert spec.name == e.name and spec.category == e.category
        assert spec.output_size == len(e.recipe.classes) == len(set(e.recipe.classes))
        assert 2 <= len(spec.sizes) - 1 <= 3, "one or two hidden layers"
        t = spec.training
        assert t.validation_split == 0.2 and t.early_stopping is not None
        assert e.purpose and e.use_case and e.recipe.description
        assert e.recipe.source in cat.SOURCES or e.recipe.source.startswith("sample_data/neural/")


def test_no_reference_figures_anywhere_in_the_catalog():
    text = json.dumps(
        [[e.name, e.purpose, e.use_case, e.spec, e.recipe.description] for e in cat.ENTRIES]
    )
    assert "%" not in text and "accuracy" not in text.lower()


def test_sample_datasets_are_balanced_and_unique():
    for file, column, classes in [
        ("sparc_phases.csv", "statement", cat.SPARC_PHASES),
        ("engineering_tasks.csv", "task", cat.DOMAINS),
        ("cicd_failures.csv", "failure", cat.CICD_CAUSES),
    ]:
        rows = cat.read_sample(file, column, classes)
        counts = Counter(r["label"] for r in rows)
        assert min(counts.values()) >= 55 and set(counts) == set(classes)
        # near-equal after the labelling passes (sample_data/neural/GUIDE.md)
        assert max(counts.values()) - min(counts.values()) <= 8


def test_one_vs_rest_is_balanced_and_deterministic():
    a, b = cat.get("backend-dev").recipe.builder(), cat.get("backend-dev").recipe.builder()
    assert a == b
    counts = Counter(r["label"] for r in a)
    assert counts["backend"] == counts["other"] > 0


def test_unknown_name_is_a_clear_error(engine):
    with pytest.raises(ValueError, match="unknown catalog model 'nope'"):
        cat.get("nope")
    with pytest.raises(ValueError, match="'nope'"):
        engine.neural.train_catalog("nope")


def test_build_refuses_sources_with_too_few_rows(engine, tmp_path):
    out = tmp_path / "out"
    with pytest.raises(ValueError) as exc:
        cat.build_training_file(cat.get("ring-coordinator"), tmp_path)
    msg = str(exc.value)
    assert "pipeline_executions has 0 rows" in msg and "needs >= 30" in msg
    assert "\n" not in msg
    with pytest.raises(ValueError, match="labelled_operations has 0 rows"):
        cat.build_training_file(cat.get("adaptive-coordinator"), out)
    m.LabelledOperation.insert_many(
        [{"text": f"operation number {i}", "pattern": "convergent"} for i in range(80)]
    ).execute()
    with pytest.raises(ValueError, match="missing: adaptive, critical"):
        cat.build_training_file(cat.get("adaptive-coordinator"), out)
    assert not out.exists(), "nothing written on refusal"


def test_untrained_entries_say_so(seeded):
    rows = seeded.neural.catalog()
    assert [r["name"] for r in rows] == [e.name for e in cat.ENTRIES]
    for r in rows:
        assert set(r) == KEYS
        if r["trainable"]:
            assert r["reason"] is None
        else:
            assert r["reason"] and r["name"] not in TRAINABLE_NOW
            # one line: what data it waits for and the command that produces it
            assert "\n" not in r["reason"] and "`workbench " in r["reason"], r["reason"]
        if r["version"] is None:
            assert r["status"] == "untrained" and r["val_accuracy"] is None
    assert {r["name"] for r in rows if r["trainable"]} == TRAINABLE_NOW
    pipeline = [r for r in rows if r["source"] == "pipeline_executions"]
    assert pipeline and all(r["source_rows"] == 0 and not r["trainable"] for r in pipeline)


def test_trainable_entries_train_and_catalog_shows_the_measured_accuracy(seeded):
    """Every trainable entry trains and the catalog shows what was measured. The recipe's
    CV runs on a one-candidate grid over 2 folds here (tests/neural/test_textfeatures.py
    covers the selection itself); the full grid made this one test 35 s."""
    svc = seeded.neural
    for name in sorted(TRAINABLE_NOW):
        summary = svc.train_catalog(
            name, epochs=3, backend="numpy", folds=2, grid=selection.GRID[:1]
        )
        assert summary["status"] == "trained" and summary["name"] == name
        assert summary["epochs_run"] <= 3
        assert 0.0 <= summary["val_accuracy"] <= 1.0
    rows = {r["name"]: r for r in svc.catalog()}
    for name in TRAINABLE_NOW:
        r = rows[name]
        assert r["version"] == 1 and r["status"] == "trained"
        assert r["val_accuracy"] == pytest.approx(
            m.NeuralModel.get(name=name, version=1).val_accuracy
        )
    version = svc.versions("cicd-engineer")[0]
    assert set(version["tags"]) == {"catalog", "specialized"}
    assert version["description"] == "CI/CD pipelines"
    for name in set(rows) - TRAINABLE_NOW:
        assert rows[name]["status"] == "untrained" and rows[name]["version"] is None


def test_training_file_loads_for_its_spec(seeded, tmp_path):
    for name in ("adaptive-coordinator", "smart-agent", "sparc-coord", "cicd-engineer"):
        entry = cat.get(name)
        path, n = cat.build_training_file(entry, tmp_path)
        ds = load_dataset(path, parse_spec(entry.spec))
        assert len(ds) == n and sorted(ds.label_names) == sorted(entry.recipe.classes)
    doc = json.loads((tmp_path / "smart-agent.json").read_text())
    assert all("text" not in r for r in doc["trainingData"]), "the result text is withheld"


def _fake_pipeline(n_runs=3, iterations=2, seed=0):
    """Executions shaped like the pipeline's, so the pipeline recipes can be exercised."""
    rng = np.random.default_rng(seed)
    tasks = list(m.Task.select())
    rows = []
    for _ in range(n_runs):
        run = m.PipelineRun.create(status="completed")
        for it in range(iterations):
            for t in tasks:
                for strategy in cat.STRATEGIES:
                    total = 8
                    p_fail = 0.7 if strategy == "aggressive" else 0.15
                    passed = total if rng.random() > p_fail else int(rng.integers(0, total))
                    ms = {"easy": 300, "medium": 600, "hard": 900}[t.complexity]
                    ms *= 1.3 if strategy == "conservative" else 1.0
                    rows.append(
                        dict(run=run, iteration=it, task=t.name, strategy=strategy,
                             tests_passed=passed, tests_total=total,
                             lint_ok=bool(rng.random() > 0.25),
                             exec_ms=float(ms * rng.uniform(0.8, 1.2)),
                             score=passed / total * 80 + float(rng.uniform(0, 20)),
                             status="passed" if passed == total else "failed")
                    )  # fmt: skip
    m.TaskExecution.insert_many(rows).execute()
    return len(rows)


def test_pipeline_recipes_become_trainable_with_executions(seeded, tmp_path):
    n = _fake_pipeline()
    rows = {r["name"]: r for r in seeded.neural.catalog()}
    pipeline = [e for e in cat.ENTRIES if e.recipe.source == "pipeline_executions"]
    assert len(pipeline) == 8
    for e in pipeline:
        assert rows[e.name]["source_rows"] == n
        assert rows[e.name]["trainable"], rows[e.name]["reason"]
        path, _ = cat.build_training_file(e, tmp_path)
        load_dataset(path, parse_spec(e.spec))  # classes and input size fit the spec
    summary = seeded.neural.train_catalog("ring-coordinator", epochs=2, backend="numpy")
    assert summary["val_accuracy"] is not None


def test_pattern_memory_recipes_become_trainable(engine, tmp_path):
    rng = np.random.default_rng(1)
    m.PatternMemory.insert_many(
        [
            {
                "type": cat.COGNITIVE[i % 6],
                "data": json.dumps(
                    {"operation": f"operation {i} for {cat.COGNITIVE[i % 6]} work",
                     "outcome": "success" if i % 3 else "failure"}
                ),
                "confidence": float(rng.uniform(0.3, 1.0)),
                "usage_count": int(rng.integers(0, 5)),
            }
            for i in range(60)
        ]
    ).execute()  # fmt: skip
    for e in cat.ENTRIES:
        if e.recipe.source == "pattern_memory":
            path, rows = cat.build_training_file(e, tmp_path)
            assert rows == 60
            load_dataset(path, parse_spec(e.spec))


def test_a_class_that_never_occurs_is_dropped_with_a_note(seeded):
    _fake_pipeline()
    m.TaskExecution.delete().where(m.TaskExecution.strategy == "aggressive").execute()
    row = {r["name"]: r for r in seeded.neural.catalog()}["raft-manager"]
    assert row["trainable"], row["reason"]
    summary = seeded.neural.train_catalog("raft-manager", epochs=2, backend="numpy")
    assert summary["status"] == "trained"
    assert summary["dropped_classes"] == ["aggressive"]
    assert summary["note"] == (
        "aggressive never occurs in pipeline_executions: left out of the outputs until it does"
    )
    artifact = seeded.neural.load("raft-manager")
    assert sorted(artifact.feature_spec.label_names) == ["balanced", "conservative"]
    assert seeded.neural.versions("raft-manager")[0]["description"].endswith(
        "(aggressive never occurs in pipeline_executions: left out of the outputs until it does)"
    )
    prediction = seeded.neural.predict("raft-manager", [{"task": "binary_search"}])[0]
    assert prediction["prediction"] in ("balanced", "conservative")


def test_hub_recipes_read_items_with_their_channel_in_one_query(seeded, monkeypatch):
    """The catalog builds every recipe to say what is trainable: reading each item's
    channel row by row cost one query per item (seconds at 10k items)."""
    db = seeded.db
    items = m.KnowledgeItem.select().count()
    assert items > 10
    queries: list[str] = []
    original = db.execute_sql

    def counting(sql, *args, **kwargs):
        queries.append(sql)
        return original(sql, *args, **kwargs)

    monkeypatch.setattr(db, "execute_sql", counting)
    records = cat.item_channel() + cat.item_agent() + cat.item_type()
    assert records
    assert len(queries) == 3, queries


def test_shared_reads_read_each_source_once_and_change_no_result(fixture_engine):
    """The catalog checks all 27 recipes inside `shared_reads`: a source table is read once
    there (the same rows object), afresh outside, and every entry's check comes out the
    same either way."""
    assert cat._items() is not cat._items()
    with cat.shared_reads():
        assert cat._items() is cat._items()
        assert cat._executions() is cat._executions()
        shared = fixture_engine.neural.catalog()
    assert cat._executions() is not cat._executions()

    def outcome(entry):
        try:
            return len(cat.build_records(entry))
        except ValueError as exc:
            return str(exc)

    alone = {entry.name: outcome(entry) for entry in cat.ENTRIES}
    assert {r["name"]: r["reason"] for r in shared} == {
        name: (None if isinstance(o, int) else o) for name, o in alone.items()
    }
    assert [r["name"] for r in shared] == [e.name for e in cat.ENTRIES]
