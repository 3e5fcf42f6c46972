"""`memory optimize`: consolidation, expired keyed entries, re-quantization of rows made by
another embedder, VACUUM, and a before/after report that matches the store."""

from __future__ import annotations

import datetime as dt

from tests.test_cli import run_cli
from workbench.engine import Engine
from workbench.store import models as m


def test_optimize_reports_before_and_after_and_does_each_step(tmp_path):
    now = [dt.datetime(2026, 1, 15, 9, 30)]
    with Engine(tmp_path / "o.db", clock=lambda: now[0]) as engine:
        engine.seed()
        memory = engine.memory
        memory.put("agent", "short", "gone soon", ttl_s=10)
        vm = m.VectorMemory
        stale_ids = [r.id for r in vm.select(vm.id).limit(3)]
        original = {r.id: r.embedding_i8 for r in vm.select().where(vm.id.in_(stale_ids))}
        vm.update(embedder="older-embedder", embedding_i8=b"\0" * 384).where(
            vm.id.in_(stale_ids)
        ).execute()
        now[0] += dt.timedelta(seconds=11)
        vectors = vm.select().count()

        report = memory.optimize()

        assert report["expired_entries"] == 1 and report["requantized"] == 3
        assert report["vacuumed"] is True
        assert report["before"]["vector"]["count"] == vectors
        assert report["after"]["vector"]["count"] == vectors - 1 == vm.select().count()
        assert report["after"]["semantic"]["count"] == m.SemanticMemory.select().count()
        assert report["consolidation"]["promoted_count"] == (
            report["after"]["semantic"]["count"] - report["before"]["semantic"]["count"]
        )
        rows = {r.id: r for r in vm.select().where(vm.id.in_(stale_ids))}
        assert all(r.embedder == memory.embedder.name for r in rows.values())
        assert {i: r.embedding_i8 for i, r in rows.items()} == original  # same codes again
        assert report["after"]["file_bytes"] > 0


def test_optimize_cli_prints_a_table_and_json(tmp_path):
    db = str(tmp_path / "o.db")
    text = run_cli("memory", "optimize", "--db", db)
    assert text.returncode == 0, text.stderr
    assert text.stdout.splitlines()[0].split() == ["before", "after"]
    assert "VACUUM done" in text.stdout
