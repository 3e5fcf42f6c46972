"""`neural cleanup`: old versions and checkpoints go; aliased, newest and resumable stay;
a dry run reports the same plan and changes nothing."""

from __future__ import annotations

import json
from pathlib import Path

from tests.test_cli import assert_one_line_error, run_cli
from workbench.engine import Engine
from workbench.neural import registry
from workbench.store import models as m

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "sample_data" / "neural" / "code-review.model.json"
DATA = ROOT / "sample_data" / "neural" / "code_review.json"
NAME = "code-review-classifier"


def state(engine: Engine) -> tuple[list[tuple[int, str]], list[str]]:
    rows = [(v["version"], v["status"]) for v in registry.versions(NAME)]
    root = engine.neural.checkpoint_root
    dirs = sorted(str(p.relative_to(root)) for p in root.glob(f"{NAME}/v*"))
    return rows, dirs


def test_cleanup_keeps_newest_aliased_and_resumable_and_dry_run_changes_nothing(tmp_path):
    db = tmp_path / "s.db"
    with Engine(db) as engine:
        neural = engine.neural
        for _ in range(5):
            neural.train(SPEC, DATA, epochs=2)  # v1 is the champion
        m.NeuralModel.update(status="interrupted").where(m.NeuralModel.version == 2).execute()
        m.NeuralModel.update(status="cancelled").where(m.NeuralModel.version == 3).execute()
        for version in (2, 3, 5, 99):  # checkpoints: resumable v2, cancelled v3, v5, orphan
            d = neural.checkpoint_dir(NAME, version)
            d.mkdir(parents=True)
            (d / "ckpt-0001.npz").write_bytes(b"x" * 100)
        before = state(engine)

        plan = neural.cleanup(keep=1, checkpoints=True, dry_run=True)
        assert state(engine) == before
        assert [e["version"] for e in plan["deleted_versions"]] == [3, 4]
        kept = {e["version"]: e["kept_because"] for e in plan["kept_versions"]}
        assert kept == {1: "alias champion", 2: "resumable", 5: "newest"}
        assert sorted(Path(d).name for d in plan["checkpoint_dirs"]) == ["v3", "v5", "v99"]
        assert plan["freed_checkpoint_bytes"] == 300

        done = neural.cleanup(keep=1, checkpoints=True)
        assert {k: v for k, v in done.items() if k != "dry_run"} == {
            k: v for k, v in plan.items() if k != "dry_run"
        }
        rows, dirs = state(engine)
        assert rows == [(1, "trained"), (2, "interrupted"), (5, "trained")]
        assert dirs == [f"{NAME}/v2"]  # only the resumable version keeps its checkpoints
        assert neural.predict(NAME, '{"code": "x = 1", "context": "cli"}')  # champion serves

        # without --checkpoints, kept versions' checkpoints stay
        assert neural.cleanup(keep=3)["checkpoint_dirs"] == []


def test_cleanup_cli_dry_run_and_bad_input(tmp_path):
    db = tmp_path / "s.db"
    with Engine(db) as engine:
        for _ in range(3):
            engine.neural.train(SPEC, DATA, epochs=2)
    dry = run_cli("neural", "cleanup", "--db", str(db), "--keep", "1", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.startswith("would delete 1 version(s)")
    as_json = json.loads(run_cli("neural", "cleanup", "--db", str(db), "--keep", "1",
                                 "--json").stdout)  # fmt: skip
    assert [e["version"] for e in as_json["deleted_versions"]] == [2]
    assert_one_line_error(run_cli("neural", "cleanup", "--db", str(db), "--keep", "0"), "--keep")
    assert_one_line_error(
        run_cli("neural", "cleanup", "--db", str(db), "--model", "nope"), "unknown model"
    )
