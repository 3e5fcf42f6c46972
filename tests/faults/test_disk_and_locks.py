"""A full disk during an export and a store locked past the busy timeout: one clear error
line, no partial file, nothing stored lost."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.test_cli import assert_one_line_error, run_cli
from workbench import fsutil
from workbench.cli import main

SAMPLES = Path(__file__).resolve().parents[2] / "sample_data" / "neural"
SPEC = SAMPLES / "code-review.model.json"
DATA = SAMPLES / "code_review.json"


class DiskFullAfter:
    """A file whose writes fail with ENOSPC once `budget` bytes went through."""

    def __init__(self, fh, budget: int) -> None:
        self._fh, self._left = fh, budget

    def write(self, data) -> int:
        if len(data) > self._left:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self._left -= len(data)
        return self._fh.write(data)

    def __getattr__(self, name):
        return getattr(self._fh, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self._fh.close()


class FullDiskOs:
    """`os` for fsutil only, with files that fill the disk after a few hundred bytes."""

    def __getattr__(self, name):
        return getattr(os, name)

    @staticmethod
    def fdopen(fd, *args, **kwargs):
        return DiskFullAfter(os.fdopen(fd, *args, **kwargs), budget=300)


@pytest.fixture
def store_with_a_model(tmp_path) -> Path:
    db = tmp_path / "s.db"
    assert main(["init", "--db", str(db)]) == 0
    trained = main(["neural", "train", "--model", str(SPEC), "--data", str(DATA),
                    "--epochs", "2", "--backend", "numpy", "--db", str(db)])  # fmt: skip
    assert trained == 0
    return db


@pytest.mark.parametrize(
    ("command", "name"),
    [
        (("hub", "export"), "kb.json"),
        (("neural", "export", "code-review-classifier", "--output"), "m.clf"),
    ],
)
def test_a_full_disk_during_an_export_is_one_clear_line_and_leaves_no_partial_file(
    store_with_a_model, tmp_path, monkeypatch, capsys, command, name
):
    out = tmp_path / "out"
    out.mkdir()
    dest = out / name
    dest.write_bytes(b"the previous export")
    monkeypatch.setattr(fsutil, "os", FullDiskOs())
    capsys.readouterr()
    code = main([*command, str(dest), "--db", str(store_with_a_model)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1, err
    assert err[0].startswith("workbench: error: ")
    assert "No space left on device" in err[0] and str(dest) in err[0]
    assert dest.read_bytes() == b"the previous export"  # the old file, whole
    assert sorted(p.name for p in out.iterdir()) == [name]  # no temp file left behind


def mount_tiny_tmpfs(where: Path) -> str | None:
    """Mount a 16 KiB tmpfs; the reason it cannot be done, or None when mounted."""
    if shutil.which("mount") is None:
        return "no mount command"
    if os.geteuid() != 0:
        return "mounting a tmpfs needs root"
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=16k", "tmpfs", str(where)],
        capture_output=True,
        text=True,
    )
    return None if done.returncode == 0 else f"mount failed: {done.stderr.strip()}"


def test_a_real_full_tmpfs_during_hub_export(store_with_a_model, tmp_path):
    disk = tmp_path / "tiny"
    disk.mkdir()
    reason = mount_tiny_tmpfs(disk)
    if reason:
        pytest.skip(f"cannot mount a small tmpfs here ({reason}); the simulated ENOSPC "
                    "test covers the same path")  # fmt: skip
    try:
        (disk / "filler").write_bytes(b"x" * 12 * 1024)
        dest = disk / "kb.json"
        result = run_cli("hub", "export", str(dest), "--db", str(store_with_a_model))
        assert_one_line_error(result, "No space left on device")
        assert str(dest) in result.stderr
        assert sorted(p.name for p in disk.iterdir()) == ["filler"]
    finally:
        subprocess.run(["umount", str(disk)], check=False)


HOLD_WRITE_LOCK = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
conn.execute("INSERT INTO store_meta (key, value) VALUES ('lock-holder', 'x')")
print("locked", flush=True)
sys.stdin.read()
"""


def test_a_write_while_another_process_holds_the_write_lock_past_the_timeout(tmp_path):
    db = tmp_path / "w.db"
    assert run_cli("memory", "store", "--text", "kept", "--db", str(db)).returncode == 0
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_WRITE_LOCK, str(db)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        began = time.monotonic()
        result = run_cli(
            "memory", "store", "--text", "blocked", "--db", str(db),
            env={"WORKBENCH_BUSY_TIMEOUT_MS": "300"},
        )  # fmt: skip
        assert_one_line_error(result, "database is locked by another process (waited 0.3 s)")
        assert time.monotonic() - began >= 0.3
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    found = run_cli("memory", "search", "kept", "--json", "--db", str(db))
    assert found.returncode == 0 and "kept" in found.stdout and "blocked" not in found.stdout
