"""The command server (`workbench daemon`, workbench/daemon.py): real servers, real client
processes through the `workbench` entry point, output compared byte for byte with the same
command run in-process."""

from __future__ import annotations

import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests.agents.conftest import hook_event
from tests.conftest import make_fixture_store
from workbench import daemon

PATTERN_OP = '{"text": "Brainstorm alternatives for the cache layout", "agent": "architect"}'


@pytest.fixture
def fixture_store(tmp_path):
    path = tmp_path / "fixture.db"
    make_fixture_store(path).close()
    return path


@pytest.fixture
def daemon_dir():
    """A short private directory (unix socket paths are limited to 107 bytes)."""
    path = tempfile.mkdtemp(prefix="wbd-", dir="/tmp")
    yield path
    subprocess.run(_cli("daemon", "stop"), env=_env(path), capture_output=True, timeout=30)
    shutil.rmtree(path, ignore_errors=True)


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "workbench", *args]


def _env(directory: str, forward: bool = True) -> dict[str, str]:
    return {**os.environ, daemon.DIR_ENV: directory, daemon.DISABLE_ENV: "1" if forward else "0"}


def _run(directory: str, *args: str, forward: bool = True, stdin: bytes | None = None):
    return subprocess.run(
        _cli(*args), env=_env(directory, forward), input=stdin, capture_output=True, timeout=120
    )


def _served(directory: str) -> int:
    info = daemon.request("status", {daemon.DIR_ENV: directory})
    assert info is not None, "no server answers"
    return info["served"]


@pytest.fixture
def server(daemon_dir):
    started = _run(daemon_dir, "daemon", "start", "--idle", "120")
    assert started.returncode == 0, started.stderr
    assert b"workbench daemon started" in started.stdout
    return daemon_dir


@pytest.mark.parametrize(
    "args",
    [
        ("store", "stats"),
        ("store", "stats", "--json"),
        ("hub", "query", "retry"),
        ("memory", "search", "sqlite locked"),
        ("patterns", "analyze", "--operation", PATTERN_OP),
    ],
    ids=lambda a: " ".join(a[:2]),
)
def test_a_forwarded_command_prints_what_it_prints_in_process(server, fixture_store, args):
    here = _run(server, "--db", str(fixture_store), *args, forward=False)
    before = _served(server)
    there = _run(server, "--db", str(fixture_store), *args)
    assert _served(server) == before + 1, "the command did not go to the server"
    assert here.returncode == 0, here.stderr
    assert (there.returncode, there.stdout, there.stderr) == (
        here.returncode,
        here.stdout,
        here.stderr,
    )


def test_hooks_record_and_advise_through_the_server(server, fixture_store):
    event = json.dumps(hook_event("UserPromptSubmit", prompt="database is locked in sqlite"))
    advise = [_run(server, "hooks", "run", "--db", str(fixture_store), "--advise",
                   stdin=event.encode(), forward=f) for f in (False, True)]  # fmt: skip
    assert advise[0].returncode == advise[1].returncode == 0
    assert advise[0].stdout == advise[1].stdout
    assert "additionalContext" in json.loads(advise[1].stdout)["hookSpecificOutput"]
    before = _served(server)
    tool = hook_event("PreToolUse", session="sess-D", tool_name="Bash",
                      tool_input={"command": "pytest -q"}, tool_use_id="t-1")  # fmt: skip
    recorded = _run(server, "hooks", "run", "--db", str(fixture_store),
                    stdin=json.dumps(tool).encode())  # fmt: skip
    assert (recorded.returncode, recorded.stdout) == (0, b"")
    assert _served(server) == before + 1
    # the server's worker wrote it: a fresh in-process call sees the session
    listed = _run(server, "--db", str(fixture_store), "agents", "list", "--json",
                  forward=False)  # fmt: skip
    assert "sess-D" in listed.stdout.decode(), listed.stderr


def test_a_bad_store_is_the_same_one_line_error(server, tmp_path):
    args = ("--db", str(tmp_path / "missing" / "x.db"), "store", "stats")
    here, there = _run(server, *args, forward=False), _run(server, *args)
    assert there.returncode == here.returncode == 2
    assert there.stderr == here.stderr
    assert there.stderr.decode().count("\n") == 1


def test_commands_left_in_process_never_reach_it(server, fixture_store):
    before = _served(server)
    for args in (("store", "stats", "--help"), ("doctor",)):
        assert _run(server, "--db", str(fixture_store), *args).returncode in (0, 1)
    assert _served(server) == before


def test_another_install_is_refused_and_the_client_runs_in_process(server):
    body = json.dumps({**daemon.identity(), "op": "status", "version": "0.0.0-other",
                       "protocol": daemon.PROTOCOL}).encode()  # fmt: skip
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(5)
        sock.connect(os.path.join(server, daemon.SOCKET_NAME))
        socket.send_fds(sock, [len(body).to_bytes(4, "big")], [])
        sock.sendall(body)
        assert sock.makefile("rb").readline().startswith(b"R ")


def test_a_directory_others_can_reach_is_refused(daemon_dir, fixture_store):
    os.chmod(daemon_dir, 0o755)
    started = _run(daemon_dir, "daemon", "start")
    assert started.returncode == 2
    assert b"open to other users" in started.stderr and started.stderr.count(b"\n") == 1
    assert not os.path.exists(os.path.join(daemon_dir, daemon.SOCKET_NAME))
    # and a client does not use a socket found there
    os.chmod(daemon_dir, 0o700)
    assert _run(daemon_dir, "daemon", "start", "--idle", "60").returncode == 0
    os.chmod(daemon_dir, 0o755)
    try:
        assert _run(daemon_dir, "--db", str(fixture_store), "store", "stats").returncode == 0
    finally:
        os.chmod(daemon_dir, 0o700)
    assert _served(daemon_dir) == 0


def test_the_socket_is_private(server):
    sock = os.path.join(server, daemon.SOCKET_NAME)
    assert stat.S_IMODE(os.stat(sock).st_mode) & 0o077 == 0
    assert stat.S_IMODE(os.stat(server).st_mode) == 0o700


def test_changed_code_is_never_served(daemon_dir, tmp_path):
    """A server notices a changed source file of a module it loaded, refuses, and stops."""
    server = daemon.Server(daemon_dir, idle_s=5)
    try:
        assert not server.stale()
        watched = tmp_path / "module.py"
        watched.write_text("x = 1\n")
        server.sources[str(watched)] = os.stat(watched).st_mtime
        assert not server.stale()
        os.utime(watched, (time.time() + 5, time.time() + 5))
        assert server.stale()
    finally:
        server.close()
    assert not os.path.exists(os.path.join(daemon_dir, daemon.SOCKET_NAME))


def test_idle_timeout_status_and_stop(daemon_dir):
    assert _run(daemon_dir, "daemon", "status").returncode == 1
    assert _run(daemon_dir, "daemon", "start", "--idle", "1").returncode == 0
    status = _run(daemon_dir, "daemon", "status", "--json")
    assert status.returncode == 0 and json.loads(status.stdout)["pid"] > 0
    deadline = time.monotonic() + 30
    while daemon.request("status", {daemon.DIR_ENV: daemon_dir}) is not None:
        assert time.monotonic() < deadline, "the idle server did not exit"
        time.sleep(0.2)
    assert not Path(daemon_dir, daemon.SOCKET_NAME).exists()
    assert _run(daemon_dir, "daemon", "start", "--idle", "60").returncode == 0
    stopped = _run(daemon_dir, "daemon", "stop")
    assert stopped.returncode == 0 and b"stopped" in stopped.stdout
    assert daemon.request("status", {daemon.DIR_ENV: daemon_dir}) is None


def test_a_stale_socket_left_by_a_dead_server_is_replaced(daemon_dir):
    left = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    left.bind(os.path.join(daemon_dir, daemon.SOCKET_NAME))
    left.close()  # a socket file nobody listens on
    assert _run(daemon_dir, "daemon", "start", "--idle", "60").returncode == 0
    assert _served(daemon_dir) == 0
