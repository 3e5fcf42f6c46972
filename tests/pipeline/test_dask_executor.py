"""The Dask executor on a real LocalCluster (2 worker processes, 1 thread each, one per
module): rows stream exactly once, a worker killed mid-task loses and duplicates nothing,
cancel kills the sandboxes on the workers, and bad executor specs are one-line errors."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import threading
import time
from collections import Counter

import pytest

from tests.pipeline.test_pipeline_run import bundled
from tests.pipeline.test_pipeline_sandbox import group_alive, make_task, running
from tests.test_cli import assert_one_line_error, run_cli
from workbench.pipeline.dask_executor import (
    DaskExecutor,
    bundle_task,
    make_executor,
    unpack_bundle,
    worker_sandbox_pids,
)
from workbench.store import models as m

SLEEPY_TEST = """
import time

from solution import f

def test_slow():
    time.sleep({seconds})
    assert f(2) == 2
"""


@pytest.fixture(scope="module")
def cluster():
    pytest.importorskip("distributed")
    executor = DaskExecutor.local(2)
    yield executor
    executor.shutdown()


@pytest.fixture
def dask(cluster):
    """The module's cluster under a fresh token (cancel marks are per executor)."""
    executor = DaskExecutor(cluster.client, None, "dask-local:2")
    yield executor
    executor.client.run(_forget, executor.token)


def _forget(token):
    from workbench.pipeline.dask_executor import forget_on_worker

    forget_on_worker(token)


def _rows(run_id):
    query = m.TaskExecution.select().where(m.TaskExecution.run == run_id)
    return Counter((e.task, e.strategy, e.iteration) for e in query)


def _busy_worker(executor, deadline_s=20.0):
    """(worker address, sandbox pids) of the first worker running one of our sandboxes."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        for address, pids in executor.client.run(worker_sandbox_pids, executor.token).items():
            if pids:
                return address, pids
        time.sleep(0.05)
    raise AssertionError("no sandbox started on any worker")


def test_results_stream_into_the_store_once_each(engine, tmp_path, dask):
    seen = []

    def on_event(event):
        if event["type"] == "execution":
            seen.append(m.TaskExecution.select().count())

    result = engine.pipeline.run(
        tasks_dir=bundled(tmp_path, ("slugify",)),
        strategies=["balanced", "aggressive"],
        iterations=2,
        executor=dask,
        on_event=on_event,
    )
    assert result["status"] == "completed"
    by = {(e["task"], e["strategy"], e["iteration"]): e["status"] for e in result["executions"]}
    # same outcomes as the thread pool gives (test_pipeline_run): real sandboxes ran
    expected = {"balanced": "passed", "aggressive": "failed"}
    assert by == {("slugify", s, i): expected[s] for s in expected for i in (1, 2)}
    assert seen == [1, 2, 3, 4]  # each row was in the store when its event fired
    assert set(_rows(result["run_id"]).values()) == {1}
    config = engine.pipeline.runs()[0]["config"]
    assert config["executor"] == "dask-local:2"


def test_a_worker_killed_mid_task_neither_loses_nor_duplicates(engine, tmp_path, dask):
    root = tmp_path / "tasks"
    root.mkdir()
    make_task(root, "sleepy", SLEEPY_TEST.format(seconds=1.5), timeout_s=20)
    make_task(root, "quick", SLEEPY_TEST.format(seconds=0))
    killed = {}

    def kill_a_busy_worker():
        address, pids = _busy_worker(dask)
        killed["sandboxes"] = pids
        worker_pid = dask.client.run(os.getpid, workers=[address])[address]
        os.kill(worker_pid, signal.SIGKILL)

    killer = threading.Thread(target=kill_a_busy_worker, daemon=True)
    killer.start()
    result = engine.pipeline.run(
        tasks_dir=root, strategies=["balanced", "conservative"], executor=dask
    )
    killer.join(timeout=30)
    assert killed, "the killer thread did not find a running sandbox"
    # the dead worker's sandbox died with it (PR_SET_PDEATHSIG in the launcher)
    deadline = time.monotonic() + 10
    while any(running(pid) for pid in killed["sandboxes"]) and time.monotonic() < deadline:
        time.sleep(0.05)
    orphans = [pid for pid in killed["sandboxes"] if running(pid)]
    for pid in orphans:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
    assert orphans == []
    assert result["status"] == "completed"
    rows = _rows(result["run_id"])
    expected = {(t, s, 1) for t in ("sleepy", "quick") for s in ("balanced", "conservative")}
    assert set(rows) == expected and set(rows.values()) == {1}
    # the lost attempt was re-run on a live worker, or recorded as a crash — never dropped
    statuses = {e["status"] for e in result["executions"]}
    assert statuses <= {"passed", "crash"} and "passed" in statuses
    dask.client.wait_for_workers(2, timeout=30)  # the nanny brings the worker back


def test_cancel_kills_the_sandboxes_on_the_workers(engine, tmp_path, dask):
    root = tmp_path / "tasks"
    root.mkdir()
    make_task(root, "forever", SLEEPY_TEST.format(seconds=60), timeout_s=120)
    service = engine.pipeline
    found = {}

    def cancel_when_running():
        found["address"], found["pids"] = _busy_worker(dask)
        service.cancel()

    canceller = threading.Thread(target=cancel_when_running, daemon=True)
    canceller.start()
    started = time.monotonic()
    result = service.run(tasks_dir=root, strategies=["balanced", "conservative"], executor=dask)
    elapsed = time.monotonic() - started
    canceller.join(timeout=10)
    assert result["status"] == "cancelled"
    assert elapsed < 30, f"cancel took {elapsed:.1f} s"
    assert m.PipelineRun.get_by_id(result["run_id"]).status == "cancelled"
    assert _rows(result["run_id"]) == Counter()  # nothing half-run is recorded as a result
    assert found["pids"] and not any(group_alive(pid) for pid in found["pids"])


def test_a_bundle_cannot_write_outside_its_directory(tmp_path):
    task = make_task(tmp_path, "t", "def test_x():\n    pass\n")
    (task.path / "__pycache__").mkdir()
    (task.path / "__pycache__" / "x.pyc").write_bytes(b"\0")
    files = bundle_task(task)
    assert set(files) == {"task.json", "solution.py", "test_solution.py"}
    unpack_bundle(files, tmp_path / "copy")
    assert (tmp_path / "copy" / "solution.py").read_bytes() == files["solution.py"]
    for bad in ("../evil.py", "/abs.py", "a/../../evil.py"):
        with pytest.raises(ValueError, match="escapes the task directory"):
            unpack_bundle({bad: b"x"}, tmp_path / "other")
    assert not (tmp_path / "evil.py").exists()


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ("dask://nohost", "expected dask://HOST:PORT"),
        ("dask://host:port", "expected dask://HOST:PORT"),
        ("dask://host:80/path", "expected dask://HOST:PORT"),
        ("dask-local:0", "whole number >= 1"),
        ("dask-local:two", "whole number >= 1"),
        ("spark://x:1", "use local, dask-local[:N] or dask://HOST:PORT"),
    ],
)
def test_bad_executor_specs_are_named(spec, fragment):
    with pytest.raises(ValueError, match=fragment.replace("[", r"\[").replace("]", r"\]")):
        make_executor(spec)


def test_cli_unreachable_scheduler_is_one_line(tmp_path):
    pytest.importorskip("distributed")
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = run_cli(
        "pipeline", "run", "--db", str(tmp_path / "w.db"), "--executor", f"dask://127.0.0.1:{port}"
    )
    assert_one_line_error(result, f"cannot reach the Dask scheduler at 127.0.0.1:{port}")
    bad = run_cli("pipeline", "run", "--db", str(tmp_path / "w.db"), "--executor", "dask://x")
    assert_one_line_error(bad, "expected dask://HOST:PORT")


def test_cli_without_distributed_says_how_to_install(tmp_path):
    blocker = tmp_path / "blocked"
    blocker.mkdir()
    (blocker / "distributed.py").write_text("raise ImportError('not installed')\n")
    result = run_cli(
        "pipeline", "run", "--db", str(tmp_path / "w.db"), "--executor", "dask-local:1",
        env={"PYTHONPATH": f"{blocker}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"},
    )  # fmt: skip
    assert_one_line_error(result, "pip install 'workbench[scale]'")
