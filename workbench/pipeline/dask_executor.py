"""Run the pipeline's sandboxes on a Dask cluster (`distributed`, the optional `scale` extra).

What travels: the task's files (a small bundle of bytes, never a path) and the transformed
source go with each submission; the worker writes them into a fresh directory and runs the
usual `run_sandboxed` there. So a remote scheduler needs no shared filesystem — only
workbench installed on its workers. The result comes back as an `ExecutionResult`.

Exactly once: the service writes a row only when a submission's future completes, and a
submission completes once. When a worker dies mid-task the scheduler re-runs the task on
another worker; when it has died too often (`distributed.scheduler.allowed-failures`) the
future fails and the pair is recorded as a `crash` naming the lost worker. Never lost,
never written twice.

Cancel: `cancel_running()` cancels every pending future and runs a function on every
worker that marks this executor's token cancelled and kills its live sandboxes.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import CancelledError, Future
from dataclasses import replace
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from workbench.pipeline.sandbox import ExecutionResult, ProcessRegistry, run_sandboxed
from workbench.pipeline.tasks import TaskSpec

BUNDLE_LIMIT_BYTES = 16 << 20
CONNECT_TIMEOUT_S = 10.0
_SKIP_DIRS = {"__pycache__", ".pytest_cache"}

# Worker-side state (one per worker process): live sandboxes and cancelled tokens.
_worker_lock = threading.Lock()
_worker_processes: dict[str, ProcessRegistry] = {}
_worker_cancelled: set[str] = set()


def require_distributed():
    """The `distributed` module, or a one-line error saying how to get it."""
    try:
        import distributed
    except ImportError:
        raise ValueError(
            "the dask executors need the 'distributed' package: pip install 'workbench[scale]'"
        ) from None
    return distributed


# -- task bundles ---------------------------------------------------------------------


def bundle_task(task: TaskSpec) -> dict[str, bytes]:
    """The task directory's files as {relative posix path: bytes} (caches left out)."""
    files: dict[str, bytes] = {}
    total = 0
    for path in sorted(task.path.rglob("*")):
        rel = path.relative_to(task.path)
        if any(part in _SKIP_DIRS for part in rel.parts) or path.suffix == ".pyc":
            continue
        if path.is_symlink() or not path.is_file():
            continue
        data = path.read_bytes()
        total += len(data)
        if total > BUNDLE_LIMIT_BYTES:
            raise ValueError(
                f"task {task.name}: its files exceed {BUNDLE_LIMIT_BYTES >> 20} MB, "
                "too large to ship to a Dask worker"
            )
        files[rel.as_posix()] = data
    return files


def unpack_bundle(files: dict[str, bytes], into: Path) -> None:
    """Write a bundle under `into`; a path that would land outside it is refused."""
    root = into.resolve()
    for name, data in files.items():
        rel = PurePosixPath(name)
        if rel.is_absolute() or ".." in rel.parts or not rel.parts:
            raise ValueError(f"bundle path {name!r} escapes the task directory")
        target = (root / rel).resolve()
        if root not in target.parents:
            raise ValueError(f"bundle path {name!r} escapes the task directory")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


# -- what runs on a worker --------------------------------------------------------------


def run_on_worker(
    token: str, task: TaskSpec, files: dict[str, bytes], strategy: str, source: str
) -> ExecutionResult:
    """Worker body: unpack the task, sandbox it, never raise (a failure is a result)."""

    def cancelled() -> bool:
        return token in _worker_cancelled

    if cancelled():
        return ExecutionResult(task.name, strategy, "cancelled", reason="cancelled")
    with _worker_lock:
        registry = _worker_processes.setdefault(token, ProcessRegistry())
    root = Path(tempfile.mkdtemp(prefix="wb-dask-task-"))
    try:
        unpack_bundle(files, root / task.path.name)
        local = replace(task, path=root / task.path.name)
        result = run_sandboxed(local, strategy, source, should_stop=cancelled, registry=registry)
    except Exception as exc:  # the run goes on
        result = ExecutionResult(
            task.name, strategy, "error", reason=f"dask worker: {type(exc).__name__}: {exc}"
        )
    finally:
        shutil.rmtree(root, ignore_errors=True)
    if cancelled():
        return ExecutionResult(task.name, strategy, "cancelled", reason="cancelled")
    return result


def cancel_on_worker(token: str) -> int:
    """Mark `token` cancelled on this worker and kill its sandboxes; returns how many."""
    with _worker_lock:
        _worker_cancelled.add(token)
        registry = _worker_processes.get(token)
    if registry is None:
        return 0
    killed = len(registry.pids())
    registry.kill_all()
    return killed


def forget_on_worker(token: str) -> None:
    with _worker_lock:
        _worker_cancelled.discard(token)
        _worker_processes.pop(token, None)


def worker_sandbox_pids(token: str) -> list[int]:
    """Live sandbox process ids for `token` on this worker (tests, diagnostics)."""
    with _worker_lock:
        registry = _worker_processes.get(token)
    return registry.pids() if registry else []


# -- the executor -----------------------------------------------------------------------


class DaskExecutor:
    """Sandboxes on a `distributed` cluster: a LocalCluster it owns, or a remote scheduler."""

    runs_sandboxes = True  # the service submits (task, strategy, source), not callables

    def __init__(self, client: Any, cluster: Any = None, description: str = "dask") -> None:
        self.client = client
        self.cluster = cluster
        self.description = description
        self.token = uuid.uuid4().hex
        self._lock = threading.Lock()
        self._live: dict[Future, Any] = {}
        self._bundles: dict[Path, dict[str, bytes]] = {}

    @classmethod
    def local(cls, workers: int | None = None, **cluster_kwargs: Any) -> DaskExecutor:
        """A LocalCluster of `workers` processes with one thread each."""
        distributed = require_distributed()
        workers = workers or os.cpu_count() or 1
        if workers < 1:
            raise ValueError("dask-local needs at least 1 worker")
        options = {"n_workers": workers, "threads_per_worker": 1, "processes": True,
                   "dashboard_address": None, **cluster_kwargs}  # fmt: skip
        cluster = distributed.LocalCluster(**options)
        try:
            client = distributed.Client(cluster)
        except BaseException:
            cluster.close()
            raise
        return cls(client, cluster, f"dask-local:{workers}")

    @classmethod
    def connect(cls, host: str, port: int, timeout_s: float = CONNECT_TIMEOUT_S) -> DaskExecutor:
        """A client of the scheduler at host:port; unreachable is a one-line ValueError."""
        distributed = require_distributed()
        where = f"{host}:{port}"
        try:  # a plain connect first: a refused port is an immediate, clear error
            with socket.create_connection((host, port), timeout=timeout_s):
                pass
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise ValueError(f"cannot reach the Dask scheduler at {where}: {reason}") from None
        try:
            client = distributed.Client(f"tcp://{where}", timeout=timeout_s)
        except (OSError, TimeoutError) as exc:
            raise ValueError(f"cannot connect to the Dask scheduler at {where}: {exc}") from None
        return cls(client, None, f"dask://{where}")

    # -- Executor protocol -------------------------------------------------------------

    def submit_sandboxed(self, task: TaskSpec, strategy: str, source: str) -> Future:
        """Run one (task, strategy) on the cluster; the future's result is its result."""
        with self._lock:
            files = self._bundles.get(task.path)
            if files is None:
                files = self._bundles[task.path] = bundle_task(task)
        done: Future = Future()
        done.set_running_or_notify_cancel()
        remote = self.client.submit(
            run_on_worker, self.token, task, files, strategy, source,
            key=f"wb-sandbox-{task.name}-{strategy}-{uuid.uuid4().hex[:12]}",
            pure=False, retries=0,
        )  # fmt: skip
        with self._lock:
            self._live[done] = remote
        remote.add_done_callback(lambda f: self._settle(done, f, task, strategy))
        return done

    def _settle(self, done: Future, remote: Any, task: TaskSpec, strategy: str) -> None:
        """Turn the Dask future's outcome into an ExecutionResult (runs on a client thread)."""
        with self._lock:
            self._live.pop(done, None)
        if done.done():
            return
        try:
            # the status may turn "cancelled" between a check and result(): ask once
            result = remote.result()
        except CancelledError:  # distributed's FutureCancelledError is one
            result = ExecutionResult(task.name, strategy, "cancelled", reason="cancelled")
        except Exception as exc:  # KilledWorker and friends: recorded, not lost
            name = type(exc).__name__
            reason = f"dask: {name}: {exc}" if str(exc) else f"dask: {name}"
            if name == "KilledWorker":
                reason = f"the Dask worker running it died too often ({exc})"
            result = ExecutionResult(task.name, strategy, "crash", reason=reason[:500])
        if isinstance(result, ExecutionResult):
            done.set_result(result)
        else:
            done.set_result(
                ExecutionResult(task.name, strategy, "error", reason="dask: unexpected result")
            )

    def cancel_running(self) -> None:
        """Cancel pending submissions and kill this executor's sandboxes on every worker."""
        with self._lock:
            remotes = list(self._live.values())
        with contextlib.suppress(Exception):
            self.client.run(cancel_on_worker, self.token)
        if remotes:
            with contextlib.suppress(Exception):
                self.client.cancel(remotes)

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        """A plain callable on the cluster (it and its arguments must be picklable)."""
        done: Future = Future()
        done.set_running_or_notify_cancel()
        remote = self.client.submit(fn, *args, pure=False, **kwargs)

        def settle(f: Any) -> None:
            try:
                done.set_result(f.result())
            except BaseException as exc:
                done.set_exception(exc)

        remote.add_done_callback(settle)
        return done

    def map(self, fn: Callable[..., Any], *iterables: Iterable[Any]) -> Iterator[Any]:
        futures = [self.submit(fn, *args) for args in zip(*iterables, strict=False)]
        return (f.result() for f in futures)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        if cancel_futures:
            self.cancel_running()
        with contextlib.suppress(Exception):
            self.client.run(forget_on_worker, self.token)
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def make_executor(spec: str | None, workers: int | None = None):
    """`local`, `dask-local[:N]` or `dask://HOST:PORT` → an executor (ValueError if bad)."""
    from workbench.pipeline.executor import LocalExecutor

    spec = (spec or "local").strip()
    if spec == "local":
        return LocalExecutor(workers)
    if spec == "dask-local" or spec.startswith("dask-local:"):
        _, _, count = spec.partition(":")
        if count:
            if not count.isdigit() or int(count) < 1:
                raise ValueError(
                    f"--executor {spec}: N in dask-local:N must be a whole number >= 1"
                )
            workers = int(count)
        return DaskExecutor.local(workers)
    if spec.startswith("dask://"):
        parts = urlsplit(spec)
        try:
            port = parts.port
        except ValueError:
            port = None
        if not parts.hostname or port is None or parts.path not in ("", "/") or parts.query:
            raise ValueError(f"--executor {spec}: expected dask://HOST:PORT")
        return DaskExecutor.connect(parts.hostname, port)
    raise ValueError(f"--executor {spec!r}: use local, dask-local[:N] or dask://HOST:PORT")
