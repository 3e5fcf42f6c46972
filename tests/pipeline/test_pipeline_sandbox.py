"""Sandbox limits with tiny tasks written in tmp_path: each failure is recorded, not raised."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from workbench.pipeline.sandbox import ProcessRegistry, limited, run_sandboxed
from workbench.pipeline.tasks import load_task


def make_task(root, name, test_body, timeout_s=5, solution="def f(x: int):\n    return x\n"):
    task = root / name
    task.mkdir()
    (task / "task.json").write_text(
        json.dumps({"name": name, "complexity": "easy", "timeout_s": timeout_s})
    )
    (task / "solution.py").write_text(solution)
    (task / "test_solution.py").write_text(textwrap.dedent(test_body))
    return load_task(task)


def sandbox(task, **kwargs):
    return run_sandboxed(task, "balanced", task.source(), lint=False, **kwargs)


def test_passing_and_failing_tests_counted(tmp_path):
    task = make_task(
        tmp_path,
        "ok",
        """
        from solution import f

        def test_one():
            assert f(1) == 1

        def test_two():
            assert f(2) == 3
        """,
    )
    result = run_sandboxed(task, "balanced", task.source())
    assert (result.status, result.tests_passed, result.tests_total) == ("failed", 1, 2)
    assert result.real and result.lint_ok and result.exec_ms > 0
    assert "test_two" in result.reason


def test_infinite_loop_times_out(tmp_path):
    task = make_task(tmp_path, "loop", "def test_loop():\n    while True:\n        pass\n", 1)
    started = time.monotonic()
    result = sandbox(task)
    assert result.status == "timeout" and "timed out" in result.reason
    assert time.monotonic() - started < 5


def test_memory_blowup_is_a_failure_with_reason(tmp_path):
    task = make_task(tmp_path, "mem", "def test_eat():\n    x = bytearray(8 * 1024**3)\n")
    result = sandbox(task)
    assert result.status == "failed"
    assert "memory limit" in result.reason and "MemoryError" in result.reason


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ("import os\n\ndef test_exit():\n    os._exit(3)\n", "exit code 3"),
        ("import ctypes\n\ndef test_segv():\n    ctypes.string_at(0)\n", "SIGSEGV"),
    ],
)
def test_interpreter_crash_is_recorded(tmp_path, body, fragment):
    result = sandbox(make_task(tmp_path, "crash", body))
    assert result.status == "crash"
    assert fragment in result.reason


def test_secret_environment_is_not_visible(tmp_path, monkeypatch):
    monkeypatch.setenv("WB_SECRET_TOKEN", "hunter2")
    task = make_task(
        tmp_path,
        "env",
        """
        import os

        def test_reads_secret():
            assert os.environ["WB_SECRET_TOKEN"] == "hunter2"

        def test_environment_is_scrubbed():
            assert set(os.environ) <= {
                "PATH", "HOME", "LANG", "PYTHONDONTWRITEBYTECODE", "PYTHONHASHSEED",
                "PYTEST_DISABLE_PLUGIN_AUTOLOAD", "PYTEST_CURRENT_TEST", "PYTEST_VERSION",
            }, sorted(os.environ)
        """,
    )
    result = sandbox(task)
    assert (result.status, result.tests_passed, result.tests_total) == ("failed", 1, 2)
    assert "KeyError" in result.reason and "WB_SECRET_TOKEN" in result.reason


def test_stop_kills_the_process_group(tmp_path):
    task = make_task(
        tmp_path,
        "spawn",
        """
        import subprocess, sys, time

        def test_spawn():
            subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
            time.sleep(60)
        """,
        30,
    )
    registry = ProcessRegistry()
    stop = threading.Event()
    holder = {}
    thread = threading.Thread(
        target=lambda: holder.update(r=sandbox(task, should_stop=stop.is_set, registry=registry))
    )
    thread.start()
    deadline = time.monotonic() + 10
    while not registry.pids() and time.monotonic() < deadline:
        time.sleep(0.02)
    pgid = registry.pids()[0]
    time.sleep(0.8)  # let the test spawn its grandchild
    stop.set()
    thread.join(10)
    assert holder["r"].status == "cancelled"
    assert registry.pids() == []
    assert not group_alive(pgid)


def group_alive(pgid: int) -> bool:
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return False
        time.sleep(0.05)
    return True


def test_limits_are_in_force_inside_the_sandbox(tmp_path):
    """The launcher sets every limit before exec: the tests see them from inside."""
    task = make_task(
        tmp_path,
        "limits",
        f"""
        import resource

        def test_limits():
            assert resource.getrlimit(resource.RLIMIT_AS)[0] == {256 << 20}
            assert resource.getrlimit(resource.RLIMIT_CPU)[0] == 4
            assert resource.getrlimit(resource.RLIMIT_CORE) == (0, 0)
            assert resource.getrlimit(resource.RLIMIT_NPROC)[0] <= 512
        """,
        timeout_s=3,
    )
    result = sandbox(task, memory_bytes=256 << 20)
    assert (result.status, result.tests_passed) == ("passed", 1), result.log_excerpt


def test_sandbox_dies_with_the_process_that_started_it():
    """A killed worker (a Dask worker, say) leaves no sandbox running on its own."""
    sandboxed = limited([sys.executable, "-c", "import time; time.sleep(60)"], 60, 1 << 30)
    starter = subprocess.Popen(
        [sys.executable, "-c",
         "import subprocess, sys\n"
         f"p = subprocess.Popen({sandboxed!r})\n"
         "print(p.pid, flush=True)\n"
         "p.wait()\n"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    pid = int(starter.stdout.readline())
    time.sleep(0.3)  # let the launcher reach exec
    starter.kill()
    starter.wait()
    deadline = time.monotonic() + 5
    while running(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    alive = running(pid)
    if alive:
        os.kill(pid, signal.SIGKILL)
    assert not alive


def running(pid: int) -> bool:
    """Alive and not a zombie waiting for a reaper."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False
