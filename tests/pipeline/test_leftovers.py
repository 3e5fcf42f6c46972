"""Sandbox dirs a killed run left behind are swept at the next start, and only those."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

from tests.pipeline.test_pipeline_run import bundled
from workbench.pipeline import sandbox
from workbench.store import leases


def dir_owned_by(parent, name: str, pid: int, start: str, host: str | None = None):
    root = parent / f"{sandbox.SANDBOX_PREFIX}{name}"
    (root / "box" / "task").mkdir(parents=True)
    (root / "box" / "task" / "solution.py").write_text("x = 1\n")
    owner = {"pid": pid, "proc_start": start, "host": host or leases.host_name()}
    (root / sandbox.OWNER_FILE).write_text(json.dumps(owner))
    return root


def dead_process() -> tuple[int, str]:
    proc = subprocess.Popen(["sleep", "30"])
    start = leases.process_start(proc.pid)
    proc.kill()
    proc.wait()
    return proc.pid, start


def test_only_dirs_of_gone_owners_are_swept(tmp_path):
    me, my_start = os.getpid(), leases.process_start(os.getpid())
    dead = dir_owned_by(tmp_path, "dead", *dead_process())
    reused = dir_owned_by(tmp_path, "reused", me, "another-boot:1")  # the pid went to us
    live = dir_owned_by(tmp_path, "live", me, my_start)
    remote = dir_owned_by(tmp_path, "remote", 1, "x", host="another-host")
    unknown = tmp_path / f"{sandbox.SANDBOX_PREFIX}unknown"
    unknown.mkdir()  # no owner record: not ours to judge
    (tmp_path / sandbox.OWNER_FILE).write_text("{}")
    garbled = dir_owned_by(tmp_path, "garbled", 1, "x")
    (garbled / sandbox.OWNER_FILE).write_text("{not json")
    other = tmp_path / "not-a-sandbox"
    other.mkdir()
    assert sandbox.leftovers(tmp_path) == sorted([dead, reused])
    assert sorted(sandbox.sweep_leftovers(tmp_path)) == sorted([dead, reused])
    assert not dead.exists() and not reused.exists()
    assert all(p.exists() for p in (live, remote, unknown, garbled, other))


def test_a_live_sandbox_is_never_swept(tmp_path):
    root, box = sandbox.make_sandbox_dir(tmp_path)
    assert box.is_dir() and root.name.startswith(sandbox.SANDBOX_PREFIX)
    assert sandbox.sweep_leftovers(tmp_path) == []
    assert root.exists()
    shutil.rmtree(root)


def test_a_pipeline_run_sweeps_at_start_and_records_it(engine, tmp_path, monkeypatch):
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setenv("TMPDIR", str(temp))
    monkeypatch.setattr("tempfile.tempdir", None)  # re-read TMPDIR
    dead = dir_owned_by(temp, "killed-run", *dead_process())
    result = engine.pipeline.run(
        tasks_dir=bundled(tmp_path, ("binary_search",)), strategies=["balanced"], workers=1
    )
    assert result["status"] == "completed"
    assert not dead.exists()
    assert engine.pipeline.runs()[0]["config"]["swept_leftovers"] == 1
    assert list(temp.glob(f"{sandbox.SANDBOX_PREFIX}*")) == []  # its own are gone too
