"""A private store: the directory 0700, the database and its -wal/-shm 0600, a warning (never
a chmod) for a wider existing store, and a refusal of another user's store."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from workbench.cli import main
from workbench.engine import Engine
from workbench.fsutil import private_mkdir


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def wide_umask():
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_a_new_default_store_is_private(tmp_path, wide_umask):
    with Engine(cwd=tmp_path, env={}) as engine:
        engine.hub.create_channel("probe")  # a write: the WAL exists while open
        db = engine.db_path
        assert db.parent == tmp_path / ".workbench"
        assert mode(db.parent) == 0o700
        assert mode(db) == 0o600
        for suffix in ("-wal", "-shm"):
            side = Path(f"{db}{suffix}")
            assert side.exists() and mode(side) == 0o600, suffix
        assert engine.warnings == []


def test_an_explicit_store_file_is_private_and_its_directory_left_alone(tmp_path, wide_umask):
    (tmp_path / "mine").mkdir(mode=0o755)
    with Engine(tmp_path / "mine" / "w.db") as engine:
        assert mode(engine.db_path) == 0o600
        assert mode(engine.db_path.parent) == 0o755  # the user's directory
        assert engine.warnings == []


def test_checkpoint_directories_are_created_private(tmp_path, wide_umask):
    private_mkdir(tmp_path / "a" / "b" / "c")
    assert all(mode(tmp_path / p) == 0o700 for p in ("a", "a/b", "a/b/c"))


def test_a_wider_existing_store_is_warned_about_and_left_as_it_is(tmp_path, capsys):
    with Engine(cwd=tmp_path, env={}) as engine:
        db = engine.db_path
    os.chmod(db.parent, 0o755)
    os.chmod(db, 0o644)
    assert main(["store", "stats", "--db", str(db)]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith("workbench: warning: store is readable by other users: ")
    assert f"{db} (0644)" in err[0]
    assert mode(db) == 0o644 and mode(db.parent) == 0o755  # never a silent chmod
    with Engine(cwd=tmp_path, env={}) as engine:  # the default location: its directory too
        assert f"{db.parent} (0755)" in engine.warnings[0]


async def test_the_ui_notifies_a_wide_store(tmp_path, isolated_env):
    from workbench.ui.app import WorkbenchApp

    path = tmp_path / "s.db"
    Engine(path).close()
    os.chmod(path, 0o644)
    engine = Engine(path)
    try:
        app = WorkbenchApp(engine, watch=False, settings_path=isolated_env)
        async with app.run_test() as pilot:
            await pilot.pause()
            notes = [(n.title, n.severity, n.message) for n in app._notifications]
            assert any(
                t == "Store permissions" and s == "warning" and f"{path} (0644)" in msg
                for t, s, msg in notes
            ), notes
    finally:
        engine.close()


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give a directory to another user")
def test_a_store_directory_of_another_user_is_refused_in_one_line(tmp_path):
    store_dir = tmp_path / ".workbench"
    store_dir.mkdir(mode=0o700)
    os.chown(store_dir, 65534, 65534)
    result = subprocess.run(
        [sys.executable, "-m", "workbench", "store", "stats"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={k: v for k, v in os.environ.items() if k != "WORKBENCH_DB"},
        timeout=120,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("workbench: error: store directory belongs to another user")
    assert list(store_dir.iterdir()) == []  # nothing created there
