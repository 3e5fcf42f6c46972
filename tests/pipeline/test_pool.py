"""The warm pool: fresh process per execution, nothing leaks, limits and failures as cold."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from tests.pipeline.test_isolation import mode_or_skip
from tests.pipeline.test_pipeline_sandbox import make_task
from workbench.pipeline.pool import WarmPool
from workbench.pipeline.sandbox import run_sandboxed
from workbench.pipeline.tasks import load_task

LEAVE = """
import json, os, pathlib, subprocess, sys

import solution


def test_leave_state_behind():
    json.LEFT_BEHIND = 1  # a global on a module
    os.getcwd = lambda: "/patched"  # a monkeypatch never undone
    solution.f = lambda x: -1  # the solution module patched
    sys.modules["wb_leak_marker"] = sys
    pathlib.Path("/tmp/leak.txt").write_text("left")
    pathlib.Path(os.path.expanduser("~/leak.txt")).write_text("left")
    pathlib.Path("leak.txt").write_text("left")
    pathlib.Path("/dev/shm/leak").write_text("left")
    subprocess.Popen(["sleep", "30"], start_new_session=True)
    assert json.LEFT_BEHIND == 1 and os.getcwd() == "/patched"
"""

NOTICE = """
import json, os, pathlib, sys

import solution


def test_nothing_left_behind():
    assert not hasattr(json, "LEFT_BEHIND")
    assert os.getcwd() != "/patched"
    assert solution.f(2) == 2
    assert "wb_leak_marker" not in sys.modules
    for path in ("/tmp/leak.txt", "~/leak.txt", "leak.txt", "/dev/shm/leak"):
        assert not pathlib.Path(os.path.expanduser(path)).exists(), path


def test_no_process_left_behind():
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = pathlib.Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        assert not cmdline.startswith(b"sleep"), cmdline
"""


@pytest.fixture(params=["bwrap", "unshare"])
def pool(request):
    with WarmPool(1, mode_or_skip(request.param)) as warm:
        yield warm


def two_file_task(root: Path, name: str, files: dict[str, str]):
    folder = root / name
    folder.mkdir()
    (folder / "task.json").write_text('{"complexity": "easy", "timeout_s": 20}')
    (folder / "solution.py").write_text("def f(x):\n    return x\n")
    for file, body in files.items():
        (folder / file).write_text(textwrap.dedent(body))
    return load_task(folder)


def run(task, pool, **kwargs):
    return run_sandboxed(task, "balanced", task.source(), lint=False, pool=pool, **kwargs)


def test_nothing_leaks_from_one_execution_to_the_next(tmp_path, pool):
    leave = two_file_task(tmp_path, "leave", {"test_leave.py": LEAVE})
    notice = two_file_task(tmp_path, "notice", {"test_notice.py": NOTICE})
    first = run(leave, pool)
    assert first.status == "passed", first.reason + first.log_excerpt
    second = run(notice, pool)  # the same (only) server
    assert (second.status, second.tests_passed) == ("passed", 2), second.reason
    assert pool.replaced == 0


def test_the_leak_checks_notice_leaks_in_one_process(tmp_path, pool):
    """Control: the same two test files in one pytest session do see each other's state."""
    both = two_file_task(tmp_path, "both", {"test_a_leave.py": LEAVE, "test_b_notice.py": NOTICE})
    result = run(both, pool)
    assert (result.status, result.tests_passed, result.tests_total) == ("failed", 1, 3)
    assert any("test_nothing_left_behind" in f for f in result.failures)


def test_timeout_then_the_pool_keeps_serving(tmp_path, pool):
    loop = make_task(tmp_path, "loop", "def test_loop():\n    while True:\n        pass\n", 1)
    began = time.monotonic()
    result = run(loop, pool)
    assert result.status == "timeout" and time.monotonic() - began < 8
    ok = make_task(tmp_path, "ok", "def test_ok():\n    assert True\n")
    assert run(ok, pool).status == "passed"
    assert pool.replaced == 0  # the server itself enforced the timeout


@pytest.mark.parametrize(
    ("body", "status", "fragment"),
    [
        ("import os\n\ndef test_exit():\n    os._exit(3)\n", "crash", "exit code 3"),
        ("import ctypes\n\ndef test_segv():\n    ctypes.string_at(0)\n", "crash", "SIGSEGV"),
        ("def test_eat():\n    x = bytearray(8 * 1024**3)\n", "failed", "memory limit"),
    ],
    ids=["exit", "segv", "memory"],
)
def test_failures_are_recorded_like_cold_ones(tmp_path, pool, body, status, fragment):
    result = run(make_task(tmp_path, "bad", body), pool)
    assert result.status == status and fragment in result.reason, result.reason


def test_environment_is_scrubbed_the_same(tmp_path, pool, monkeypatch):
    monkeypatch.setenv("WB_SECRET_TOKEN", "hunter2")
    body = """
    import os

    def test_environment_is_scrubbed():
        assert "WB_SECRET_TOKEN" not in os.environ
        assert set(os.environ) <= {
            "PATH", "HOME", "LANG", "PYTHONDONTWRITEBYTECODE", "PYTHONHASHSEED",
            "PYTEST_DISABLE_PLUGIN_AUTOLOAD", "PYTEST_CURRENT_TEST", "PYTEST_VERSION",
        }, sorted(os.environ)
    """
    result = run(make_task(tmp_path, "env", textwrap.dedent(body)), pool)
    assert result.status == "passed", result.reason


def test_cancel_kills_the_execution_and_the_pool_recovers(tmp_path, pool):
    slow = make_task(tmp_path, "slow", "import time\n\ndef test_slow():\n    time.sleep(60)\n", 60)
    stop = threading.Event()
    threading.Timer(0.5, stop.set).start()
    began = time.monotonic()
    result = run(slow, pool, should_stop=stop.is_set)
    assert result.status == "cancelled" and time.monotonic() - began < 10
    assert pool.replaced == 1
    ok = make_task(tmp_path, "ok", "def test_ok():\n    assert True\n")
    assert run(ok, pool).status == "passed"


OWNER = """
import sys, threading
from workbench.pipeline.isolation import detect
from workbench.pipeline.pool import WarmPool
from workbench.pipeline.sandbox import run_sandboxed
from workbench.pipeline.tasks import load_task

pool = WarmPool(1, detect(sys.argv[2]))
pool.warm()
task = load_task(sys.argv[1])
threading.Thread(target=run_sandboxed, args=(task, "balanced", task.source()),
                 kwargs={"pool": pool, "lint": False}, daemon=True).start()
print("running", flush=True)
threading.Event().wait()
"""


def descendants(pid: int) -> set[int]:
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat[stat.rindex(")") + 2 :].split()[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


@pytest.mark.parametrize("mode", ["bwrap", "unshare"])
def test_pool_dies_with_its_owner(tmp_path, mode):
    mode_or_skip(mode)
    slow = make_task(tmp_path, "slow", "import time\n\ndef test_slow():\n    time.sleep(60)\n", 60)
    owner = subprocess.Popen(
        [sys.executable, "-c", OWNER, str(slow.path), mode], stdout=subprocess.PIPE, text=True,
        env={**os.environ, "TMPDIR": str(tmp_path)},  # its dirs stay there: the owner dies
    )  # fmt: skip
    assert owner.stdout.readline().strip() == "running"
    time.sleep(0.5)  # the execution is in its test
    left = descendants(owner.pid)
    assert len(left) >= 3  # launcher/bwrap, server, keeper, execution...
    os.kill(owner.pid, signal.SIGKILL)
    owner.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(Path(f"/proc/{p}").exists() for p in left):
        time.sleep(0.05)
    alive = [p for p in left if Path(f"/proc/{p}").exists()]
    zombies = [p for p in alive if "Z" in Path(f"/proc/{p}/stat").read_text().split(")")[1][:3]]
    assert alive == zombies, alive
    assert len(list(tmp_path.glob("wb-sandbox-*"))) >= 1  # the pool's dir, for the next sweep


def test_what_the_pool_cannot_take_starts_cold(tmp_path, pool):
    ok = make_task(tmp_path, "ok", "def test_ok():\n    assert True\n")
    assert run(ok, pool, network=True).status == "passed"  # servers have no network
    assert run(ok, pool, memory_bytes=2 << 30).status == "passed"  # above the servers' limit
    assert pool._started == 0  # no server was needed (they start on first use)
    assert run(ok, pool).status == "passed"
    assert pool._started == 1
