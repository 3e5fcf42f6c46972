"""The CLI through its real entry point (`python -m workbench`, same code as the script)."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time

import pytest

from workbench import __version__


def run_cli(*args: str, env: dict | None = None, cwd=None) -> subprocess.CompletedProcess:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "workbench", *args],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd,
        timeout=120,
    )


def assert_one_line_error(result: subprocess.CompletedProcess, fragment: str) -> None:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("workbench: error: ")
    assert fragment in lines[0]


def test_version():
    result = run_cli("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"workbench {__version__}"


def test_init_then_init_again_adds_nothing(tmp_path):
    db = tmp_path / "w.db"
    first = run_cli("init", "--db", str(db), "--json")
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)
    assert report["created"] is True
    assert report["added"]["channels"] == 7
    assert report["added"]["labelled_operations"] >= 300
    second = run_cli("init", "--db", str(db), "--json")
    assert json.loads(second.stdout)["added"] == {}
    human = run_cli("init", "--db", str(db))
    assert "nothing to seed" in human.stdout


def test_store_stats_json_and_table(tmp_path):
    db = tmp_path / "w.db"
    run_cli("init", "--db", str(db))
    stats = json.loads(run_cli("store", "stats", "--db", str(db), "--json").stdout)
    assert stats["db"] == str(db)
    assert stats["tables"]["channels"] == 7
    assert stats["tables"]["neural_models"] == 0
    human = run_cli("--db", str(db), "store", "stats")
    assert human.returncode == 0
    assert "knowledge_items" in human.stdout


def test_db_from_environment_and_default_location(tmp_path):
    env_db = tmp_path / "env.db"
    assert run_cli("init", env={"WORKBENCH_DB": str(env_db)}).returncode == 0
    assert env_db.exists()
    assert run_cli("init", cwd=tmp_path).returncode == 0
    assert (tmp_path / ".workbench" / "workbench.db").exists()


def test_missing_directory(tmp_path):
    result = run_cli("store", "stats", "--db", str(tmp_path / "nope" / "w.db"))
    assert_one_line_error(result, "database directory does not exist")
    assert not (tmp_path / "nope").exists()


def test_directory_as_db(tmp_path):
    assert_one_line_error(run_cli("init", "--db", str(tmp_path)), "is a directory")


@pytest.mark.parametrize("command", [["init"], ["store", "stats"]])
def test_non_sqlite_file_is_refused_and_left_byte_identical(tmp_path, command):
    bogus = tmp_path / "notes.db"
    bogus.write_bytes(b"these are my notes, not a database\n" * 50)
    before = bogus.read_bytes()
    assert_one_line_error(run_cli(*command, "--db", str(bogus)), "not an SQLite database")
    assert bogus.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.db"]


def test_truncated_sqlite_file_is_refused_and_untouched(tmp_path):
    db = tmp_path / "w.db"
    run_cli("init", "--db", str(db))
    for suffix in ("-wal", "-shm"):
        (tmp_path / f"w.db{suffix}").unlink(missing_ok=True)
    corrupt = tmp_path / "corrupt.db"
    corrupt.write_bytes(db.read_bytes()[:100] + b"\xff" * 3000)
    before = corrupt.read_bytes()
    result = run_cli("store", "stats", "--db", str(corrupt))
    assert_one_line_error(result, str(corrupt))
    assert corrupt.read_bytes() == before


def test_foreign_sqlite_database_is_refused(tmp_path):
    other = tmp_path / "app.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE users (id INTEGER PRIMARY KEY)")
    before = other.read_bytes()
    assert_one_line_error(run_cli("init", "--db", str(other)), "not a workbench store")
    assert other.read_bytes() == before


HOLD_LOCK = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("PRAGMA locking_mode=EXCLUSIVE")
conn.execute("BEGIN EXCLUSIVE")
conn.execute("INSERT INTO store_meta (key, value) VALUES ('lock-holder', 'x')")
print("locked", flush=True)
sys.stdin.read()
"""


def test_locked_database_past_timeout(tmp_path):
    db = tmp_path / "w.db"
    run_cli("init", "--db", str(db))
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(db)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        started = time.monotonic()
        result = run_cli(
            "store", "stats", "--db", str(db), env={"WORKBENCH_BUSY_TIMEOUT_MS": "200"}
        )
        assert_one_line_error(result, "database is locked by another process (waited 0.2 s)")
        assert time.monotonic() - started < 60
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    # The holder never committed: the store still opens and nothing was lost.
    stats = json.loads(run_cli("store", "stats", "--db", str(db), "--json").stdout)
    assert stats["tables"]["channels"] == 7


def test_bad_busy_timeout_env(tmp_path):
    result = run_cli(
        "store", "stats", "--db", str(tmp_path / "w.db"), env={"WORKBENCH_BUSY_TIMEOUT_MS": "x"}
    )
    assert_one_line_error(result, "WORKBENCH_BUSY_TIMEOUT_MS must be an integer")


def test_ui_without_a_terminal_is_refused_not_spinning(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "workbench", "--db", str(tmp_path / "w.db")],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert_one_line_error(result, "the UI needs an interactive terminal")
    assert not (tmp_path / "w.db").exists()  # nothing opened or created
