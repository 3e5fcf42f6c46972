"""Train several catalog models at once, each in its own process on the same store.

Each model is its own training run with its own live history (every process writes its
epochs to the store as it goes, so the Models pane charts them all). Training is seeded,
so a model trained here equals the same model trained alone.

Executors: `local` is a pool of threads in this process (a WASM kernel call releases the
GIL, so N threads train on N cores without paying for N interpreter start-ups — most
catalog models train in well under a second); `dask-local[:N]` and
`dask://HOST:PORT` run on a Dask cluster through its standard executor interface (remote
workers must reach the same store: a PostgreSQL URL, or a path on a shared filesystem).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

POLL_S = 0.25


def train_one(
    target: str, checkpoint_root: str, name: str, epochs: int | None, backend: str | None,
    busy_timeout_ms: int,
) -> dict[str, Any]:  # fmt: skip
    """Runs in a worker process: open the store, train one catalog model, close."""
    from workbench.neural.service import NeuralService
    from workbench.store.db import open_database

    db, _applied = open_database(target, busy_timeout_ms)
    try:
        service = NeuralService(Path(checkpoint_root), backend=backend or "wasm")
        try:
            return {"name": name, **service.train_catalog(name, epochs=epochs, backend=backend)}
        except (ValueError, LookupError, OSError) as exc:
            return {"name": name, "status": "failed", "error": " ".join(str(exc).split())}
    finally:
        db.close()


def _train_here(service: Any, name: str, epochs: int | None, backend: str | None) -> dict:
    try:
        return {"name": name, **service.train_catalog(name, epochs=epochs, backend=backend)}
    except (ValueError, LookupError, OSError) as exc:
        return {"name": name, "status": "failed", "error": " ".join(str(exc).split())}


@contextmanager
def training_executor(spec: str | None, workers: int):
    """`local`, `dask-local[:N]` or `dask://HOST:PORT` → a concurrent.futures Executor."""
    spec = (spec or "local").strip()
    if workers < 1:
        raise ValueError("--workers must be >= 1")
    if spec == "local":
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="wb-train") as pool:
            yield pool
        return
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ValueError(f"--executor {spec} needs Dask: pip install -e '.[scale]'") from None
    if spec == "dask-local" or spec.startswith("dask-local:"):
        _, _, count = spec.partition(":")
        if count and (not count.isdigit() or int(count) < 1):
            raise ValueError(f"--executor {spec}: N in dask-local:N must be a whole number >= 1")
        n = int(count) if count else workers
        with (
            LocalCluster(
                n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None
            ) as cluster,  # fmt: skip
            Client(cluster) as client,
        ):
            yield client.get_executor(pure=False)
        return
    if spec.startswith("dask://"):
        parts = urlsplit(spec)
        if not parts.hostname or parts.port is None:
            raise ValueError(f"--executor {spec}: expected dask://HOST:PORT")
        with Client(f"tcp://{parts.hostname}:{parts.port}", timeout=10) as client:
            yield client.get_executor(pure=False)
        return
    raise ValueError(f"--executor {spec!r}: use local, dask-local[:N] or dask://HOST:PORT")


def train_many(
    names: Sequence[str],
    *,
    target: str,
    checkpoint_root: Path,
    busy_timeout_ms: int,
    executor: Executor,
    epochs: int | None = None,
    backend: str | None = None,
    on_done: Callable[[dict[str, Any]], None] | None = None,
    on_poll: Callable[[], None] | None = None,
    service: Any = None,
) -> list[dict[str, Any]]:
    """Submit one training per name; results in the order of `names`."""
    if isinstance(executor, ThreadPoolExecutor):
        assert service is not None, "threads train through this process's service"
        submit = lambda name: executor.submit(  # noqa: E731
            _train_here, service, name, epochs, backend
        )
    else:
        submit = lambda name: executor.submit(  # noqa: E731
            train_one, target, str(checkpoint_root), name, epochs, backend, busy_timeout_ms
        )
    futures: dict[Future, str] = {submit(name): name for name in names}
    results: dict[str, dict[str, Any]] = {}
    pending = set(futures)
    while pending:
        done, pending = wait(pending, timeout=POLL_S, return_when=FIRST_COMPLETED)
        for future in done:
            name = futures[future]
            try:
                result = future.result()
            except Exception as exc:  # noqa: BLE001 - a dead worker is a failed training
                result = {"name": name, "status": "failed",
                          "error": f"{type(exc).__name__}: {exc}"}  # fmt: skip
            results[name] = result
            if on_done is not None:
                on_done(result)
        if on_poll is not None:
            on_poll()
    return [results[name] for name in names]


def default_workers() -> int:
    return max(1, min(4, os.cpu_count() or 1))
