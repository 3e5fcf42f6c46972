"""The worker-pool interface the pipeline runs (task, strategy) pairs on.

`Executor` is the subset of `concurrent.futures.Executor` the service uses (submit, map,
shutdown); `LocalExecutor` is a thread pool (each worker only waits on its sandbox
subprocess, so threads suffice). A `SandboxExecutor` runs sandboxes in other processes or
machines (`dask_executor.DaskExecutor`): the service cannot ship itself there, so it hands
over the (task, strategy, transformed source) and asks it to cancel on a stop.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class Executor(Protocol):
    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future: ...

    def map(self, fn: Callable[..., Any], *iterables: Iterable[Any]) -> Iterator[Any]: ...

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None: ...


@runtime_checkable
class SandboxExecutor(Protocol):
    def submit_sandboxed(self, task: Any, strategy: str, source: str) -> Future:
        """A future whose result is the pair's `ExecutionResult` (never an exception)."""
        ...

    def cancel_running(self) -> None:
        """Cancel pending submissions and kill the running sandboxes wherever they are."""
        ...


class LocalExecutor:
    """A thread pool of `workers` threads (default: the core count)."""

    def __init__(self, workers: int | None = None) -> None:
        workers = workers or os.cpu_count() or 1
        if workers < 1:
            raise ValueError("workers must be >= 1")
        self.workers = workers
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="wb-pipeline")

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        return self._pool.submit(fn, *args, **kwargs)

    def map(self, fn: Callable[..., Any], *iterables: Iterable[Any]) -> Iterator[Any]:
        return self._pool.map(fn, *iterables)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._pool.shutdown(wait=wait, cancel_futures=cancel_futures)
