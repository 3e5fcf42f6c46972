"""The namespaced sandbox, proven by a probe task that tries to get out, in every mode here.

The probe's tests each try one escape the issue names: read the store, write outside the
task dir, reach a listener on 127.0.0.1, leave a detached (setsid) process behind, read an
environment variable nobody passed. Namespaced (bwrap, unshare; cold and warm pool): all
blocked, so every probe test passes and nothing is seen from outside. Limits only: the run
says so, and the escapes that only namespaces stop are not stopped (asserted, so the
documented limits are the real ones).
"""

from __future__ import annotations

import json
import os
import socket
import stat
import textwrap
import threading
import time
import uuid
from pathlib import Path

import pytest

from tests.pipeline.test_pipeline_sandbox import make_task
from tests.test_cli import assert_one_line_error, run_cli
from workbench.engine import Engine
from workbench.pipeline import isolation
from workbench.pipeline.isolation import IsolationError
from workbench.pipeline.pool import WarmPool
from workbench.pipeline.sandbox import run_sandboxed
from workbench.store import models as m

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc"), reason="needs Linux /proc")

PROBE = """
import os, socket, subprocess

STORE, OUTSIDE, PORT, TOKEN = {store!r}, {outside!r}, {port}, {token!r}


def test_cannot_read_the_store():
    try:
        with open(STORE, "rb") as fh:
            fh.read(16)
    except OSError:
        return
    raise AssertionError("read the store")


def test_cannot_write_outside_its_dir():
    try:
        with open(OUTSIDE, "w") as fh:
            fh.write("escaped")
    except OSError:
        return
    raise AssertionError("wrote outside")


def test_cannot_connect_to_a_local_listener():
    try:
        with socket.create_connection(("127.0.0.1", PORT), timeout=2) as conn:
            conn.sendall(b"leak")
    except OSError:
        return
    raise AssertionError("connected")


def test_starts_a_detached_process():
    subprocess.Popen(["sleep", TOKEN], start_new_session=True)


def test_cannot_read_an_unnamed_environment_variable():
    assert "WB_PROBE_SECRET" not in os.environ
"""

PROBES = (
    "test_cannot_read_the_store",
    "test_cannot_write_outside_its_dir",
    "test_cannot_connect_to_a_local_listener",
    "test_starts_a_detached_process",
    "test_cannot_read_an_unnamed_environment_variable",
)


def mode_or_skip(mode: str) -> isolation.Isolation:
    try:
        return isolation.detect(mode)
    except IsolationError as exc:
        pytest.skip(f"{mode} isolation is not available here: {exc}")


class Listener:
    """A TCP listener on 127.0.0.1 that records whether anything connected."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.sock.close()


def processes_with(token: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if token.encode() in cmdline:
                found.append(int(entry.name))
    return found


def wait_gone(token: str, seconds: float = 5.0) -> list[int]:
    deadline = time.monotonic() + seconds
    while (left := processes_with(token)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left


@pytest.fixture
def probe(tmp_path, monkeypatch):
    """The probe task, its targets on the host, and a check of what got out."""
    monkeypatch.setenv("WB_PROBE_SECRET", "hunter2")
    store = tmp_path / "store.db"
    Engine(store).close()
    outside = tmp_path / "outside.txt"
    listener = Listener()
    token = f"{300 + uuid.uuid4().int % 10**6 / 10**7:.7f}"  # a unique `sleep` argument
    body = PROBE.format(store=str(store), outside=str(outside), port=listener.port, token=token)
    task = make_task(tmp_path, "probe", textwrap.dedent(body), timeout_s=20)
    yield {"task": task, "outside": outside, "listener": listener, "token": token}
    listener.close()
    for pid in processes_with(token):  # limits mode leaves it running: clean up
        os.kill(pid, 9)


@pytest.mark.parametrize("pooled", [False, True], ids=["cold", "warm-pool"])
@pytest.mark.parametrize("mode", ["bwrap", "unshare"])
def test_probe_is_contained_in_namespaced_mode(probe, mode, pooled):
    iso = mode_or_skip(mode)
    task = probe["task"]
    if pooled:
        with WarmPool(1, iso) as pool:
            result = run_sandboxed(task, "balanced", task.source(), lint=False, pool=pool)
    else:
        result = run_sandboxed(task, "balanced", task.source(), lint=False, isolation=iso)
    assert result.isolation == mode
    assert (result.status, result.tests_passed, result.tests_total) == ("passed", 5, 5), (
        result.reason,
        result.log_excerpt,
    )
    assert not probe["outside"].exists()
    assert probe["listener"].connections == 0
    assert wait_gone(probe["token"]) == []  # the setsid'd sleep died with its namespace


def test_limits_mode_reports_itself_and_its_limits(probe, monkeypatch):
    monkeypatch.setenv(isolation.ENV_VAR, "limits")
    task = probe["task"]
    result = run_sandboxed(task, "balanced", task.source(), lint=False)
    assert result.isolation == "limits"
    failed = {f.split(":")[0] for f in result.failures}
    # what only namespaces stop is not stopped here, and the run says which level it had
    assert {"test_cannot_read_the_store", "test_cannot_write_outside_its_dir"} <= failed
    assert "test_cannot_read_an_unnamed_environment_variable" not in failed  # scrubbed env
    assert probe["outside"].read_text() == "escaped"
    rows = {r["label"]: r for r in Engine(probe["task"].path.parent / "d.db").doctor()}
    assert rows["sandbox isolation"]["status"] == "warn"
    assert rows["sandbox isolation"]["value"] == "limits only (no namespaces)"
    assert "WORKBENCH_ISOLATION=limits" in rows["sandbox isolation"]["detail"]


@pytest.mark.parametrize("mode", ["bwrap", "unshare"])
def test_network_is_there_only_when_asked_for(tmp_path, mode):
    iso = mode_or_skip(mode)
    listener = Listener()
    try:
        body = f"""
        import socket

        def test_connects():
            socket.create_connection(("127.0.0.1", {listener.port}), timeout=5).close()
        """
        task = make_task(tmp_path, "net", textwrap.dedent(body), timeout_s=20)
        closed = run_sandboxed(task, "balanced", task.source(), lint=False, isolation=iso)
        opened = run_sandboxed(
            task, "balanced", task.source(), lint=False, isolation=iso, network=True
        )
    finally:
        listener.close()
    assert closed.status == "failed" and opened.status == "passed", opened.log_excerpt
    assert listener.connections == 1


@pytest.mark.parametrize("mode", ["bwrap", "unshare"])
def test_sandboxed_code_is_not_root_and_has_no_capabilities(tmp_path, mode):
    iso = mode_or_skip(mode)
    body = """
    import os

    def test_unprivileged():
        status = open("/proc/self/status").read()
        assert os.getuid() != 0 and os.geteuid() != 0
        assert "CapEff:\\t0000000000000000" in status, status
        assert "CapBnd:\\t0000000000000000" in status, status
    """
    task = make_task(tmp_path, "caps", textwrap.dedent(body))
    result = run_sandboxed(task, "balanced", task.source(), lint=False, isolation=iso)
    assert result.status == "passed", result.reason


# -- choosing a level: stated fallbacks, never silent ----------------------------------------


def fake_tool(folder: Path, name: str, message: str) -> None:
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text(f"#!/bin/sh\necho '{message}' >&2\nexit 1\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


def test_a_failing_bwrap_is_a_stated_fallback_or_an_error(tmp_path, monkeypatch):
    fake_tool(tmp_path / "bin", "bwrap", "bwrap: setting up uid map: Permission denied")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:/usr/bin:/bin")
    found = isolation.detect("auto")
    assert "bwrap is installed but fails (bwrap: setting up uid map" in found.reason
    assert found.level in ("unshare", "limits")
    with pytest.raises(IsolationError, match=r"WORKBENCH_ISOLATION=bwrap: bwrap is installed"):
        isolation.detect("bwrap")


def test_no_namespaces_at_all_falls_back_to_limits_and_says_why(tmp_path, monkeypatch):
    fake_tool(tmp_path / "bin", "bwrap", "bwrap: No permissions to creating new namespace")
    fake_tool(tmp_path / "bin", "unshare", "unshare: unshare failed: Operation not permitted")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}")
    found = isolation.detect("auto")
    assert found.level == "limits" and not found.namespaced
    assert "bwrap is installed but fails" in found.reason
    assert "unshare fails (unshare: unshare failed: Operation not permitted)" in found.reason
    with pytest.raises(IsolationError) as err:
        isolation.detect("namespaces")
    assert "\n" not in str(err.value)
    with pytest.raises(IsolationError, match="needs namespaces"):
        WarmPool(1, found)


def test_an_unknown_isolation_mode_is_one_line_error(tmp_path):
    out = run_cli(
        "pipeline", "run", "--db", str(tmp_path / "w.db"), "--complexity", "easy",
        env={isolation.ENV_VAR: "sideways"},
    )  # fmt: skip
    assert_one_line_error(out, "WORKBENCH_ISOLATION='sideways': choose one of")
    with Engine(tmp_path / "w.db"):
        assert m.PipelineRun.select().count() == 0


def test_a_task_asking_for_network_needs_permission(tmp_path):
    root = tmp_path / "tasks"
    root.mkdir()
    task = make_task(root, "online", "def test_ok():\n    pass\n")
    meta = json.loads((task.path / "task.json").read_text())
    (task.path / "task.json").write_text(json.dumps({**meta, "network": True}))
    db = str(tmp_path / "w.db")
    out = run_cli("pipeline", "run", "--db", db, "--tasks", str(root), "--json")
    assert_one_line_error(out, "task online asks for network access; allow it with")
    with Engine(db):
        assert m.PipelineRun.select().count() == 0
    out = run_cli(
        "pipeline", "run", "--db", db, "--tasks", str(root), "--json", "--allow-network",
        "--strategies", "balanced",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["executions"][0]["status"] == "passed"


def test_a_bad_network_value_in_task_json_is_one_line_error(tmp_path):
    task = make_task(tmp_path, "t", "def test_ok():\n    pass\n")
    (task.path / "task.json").write_text(json.dumps({"network": "yes"}))
    out = run_cli("pipeline", "run", "--db", str(tmp_path / "w.db"), "--tasks", str(task.path))
    assert_one_line_error(out, "'network' must be true or false")


def test_doctor_prints_the_level_and_cli_runs_record_it(tmp_path):
    db = str(tmp_path / "w.db")
    out = run_cli("doctor", "--db", db, "--json")
    assert out.returncode == 0, out.stderr
    rows = {r["label"]: r for r in json.loads(out.stdout)["checks"]}
    level = isolation.current().level
    assert rows["sandbox isolation"]["status"] == ("ok" if level != "limits" else "warn")
    plain = run_cli("doctor", "--db", db, env={isolation.ENV_VAR: "limits"})
    assert plain.returncode == 0
    assert "WARN  sandbox isolation" in plain.stdout and "limits only" in plain.stdout
    bad = run_cli("doctor", "--db", db, "--json", env={isolation.ENV_VAR: "bogus"})
    assert bad.returncode == 1
    rows = {r["label"]: r for r in json.loads(bad.stdout)["checks"]}
    assert rows["sandbox isolation"]["status"] == "error"
    task = make_task(tmp_path, "t", "def test_ok():\n    pass\n")
    run = run_cli(
        "pipeline", "run", "--db", db, "--tasks", str(task.path), "--strategies", "balanced",
        "--json", env={isolation.ENV_VAR: "limits"},
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "sandbox isolation is limits only" in run.stderr
    with Engine(db) as engine:
        execution = m.TaskExecution.get()
        assert execution.isolation == "limits"
        config = engine.pipeline.runs()[0]["config"]
        assert config["isolation"] == "limits" and config["warm_pool"] is False
