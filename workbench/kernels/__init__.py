"""Numeric kernels: WASM SIMD (default) with a numpy backend as oracle and fallback.

    from workbench.kernels import backend
    kb = backend("wasm")
    c = kb.matmul(a, b)
    scores, idx = kb.search(matrix, queries, k=10, quantized=True)
    result = kb.train_epoch(model, x, y, lr=1e-3, batch_size=32, order=rng.permutation(n))

One wasmtime Engine and Module per process; a Store/Instance per thread; big work is
split over lane threads (each call releases the GIL, so lanes use separate cores).
wasmtime itself (~150 M instructions to import) loads with the first kernel call
(``_runtime._load``), so a process that never runs one (a CLI search of a small
namespace, a hook call) does not pay for it.
"""

from __future__ import annotations

import threading

from ._base import Backend, SearchIndex
from ._numpy import NumpyBackend
from ._runtime import KernelMemoryError
from ._wasm import WasmBackend
from .mlp import MLP, EpochResult

BACKENDS = ("wasm", "numpy")
_shared: dict[str, Backend] = {}
_lock = threading.Lock()


def backend(name: str = "wasm", *, max_memory: int | None = None) -> Backend:
    """The shared backend called ``name``; a private one if ``max_memory`` (bytes) is set."""
    if name not in BACKENDS:
        raise ValueError(f"backend: unknown {name!r} (choose from {', '.join(BACKENDS)})")
    if max_memory is not None:
        if name != "wasm":
            raise ValueError("backend: max_memory only applies to the wasm backend")
        return WasmBackend(max_memory=max_memory)
    with _lock:
        if name not in _shared:
            _shared[name] = WasmBackend() if name == "wasm" else NumpyBackend()
        return _shared[name]


__all__ = [
    "BACKENDS",
    "Backend",
    "EpochResult",
    "KernelMemoryError",
    "MLP",
    "NumpyBackend",
    "SearchIndex",
    "WasmBackend",
    "backend",
]
