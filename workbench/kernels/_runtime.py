"""wasmtime loader: one Engine + Module per process, a Store/Instance/Arena per thread.

A wasmtime call releases the GIL, so two threads with their own instances use two
cores. Each Context owns its linear memory (a wasm-threads shared memory, so a second
instance -- ``Context.sibling`` -- can work in it at the same time: two-thread training);
the Arena hands out offsets in it and numpy views over them. Views are rebuilt from the
base pointer on every use (cheap, and safe whatever the memory does on ``grow``).

wasmtime itself is imported by the first Context (``_load``), not with this module: a
backend object costs nothing until a kernel runs (``kernels/__init__.py``).
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import wasmtime

WASM_PATH = Path(__file__).with_name("kernels.wasm")
PAGE = 65536
WASM32_MAX = 65535 * PAGE  # the module's declared maximum (see wasm/build.py)
ALIGN = 64
PAD = 64  # kernels may read a vector past the end of a buffer; keep that inside the arena

_engine_lock = threading.Lock()
_engine: wasmtime.Engine | None = None
_module: wasmtime.Module | None = None


class KernelMemoryError(MemoryError):
    """A request does not fit in WASM linear memory (raised before anything is touched)."""


def _load() -> tuple[wasmtime.Engine, wasmtime.Module]:
    global _engine, _module
    with _engine_lock:
        if _module is None:
            import wasmtime

            cfg = wasmtime.Config()
            cfg.wasm_simd = True
            cfg.wasm_relaxed_simd = True
            # relaxed_madd is fused on hosts with FMA and mul+add on hosts without, so the
            # same training gave different weights on different machines; deterministic
            # mode always fuses (hardware FMA where there is one: no cost on this machine
            # class, see BENCHMARKS.md), so same seed + same data = same model anywhere.
            cfg.wasm_relaxed_simd_deterministic = True
            cfg.wasm_threads = True  # atomics + shared memory (kernels.c, mlp_train_epoch)
            cfg.shared_memory = True
            cfg.cranelift_opt_level = "speed"
            _use_compile_cache(cfg)
            _engine = wasmtime.Engine(cfg)
            _module = wasmtime.Module(_engine, WASM_PATH.read_bytes())
            # wasmtime is imported after this module, so at interpreter exit its bindings
            # are torn down first; let the Module and Engine go while they still work
            atexit.register(_release)
        assert _engine is not None
        return _engine, _module


def _release() -> None:
    global _engine, _module
    with _engine_lock:
        _engine = _module = None


def _use_compile_cache(cfg: wasmtime.Config) -> None:
    """wasmtime's own cache of compiled modules (in the user's cache directory, keyed by
    the module's hash, the compiler settings and the wasmtime version): a new process
    loads the kernels in about 1 ms instead of compiling them (~120 ms; see
    BENCHMARKS.md, CLI start-up). WORKBENCH_KERNEL_CACHE=0 turns it off; a cache that
    cannot be set up is skipped, never fatal."""
    if os.environ.get("WORKBENCH_KERNEL_CACHE", "1") == "0":
        return
    import wasmtime

    with contextlib.suppress(wasmtime.WasmtimeError, OSError):
        cfg.cache = True


_shared_memory_cls: type | None = None


def _shared_memory_type() -> type:
    """wasmtime-py 50's ``SharedMemory._as_extern`` wraps the pointer once too often
    (``ctypes.pointer(self.ptr())``, a TypeError when imported); this subclass passes it
    as is. Defined on first use, when wasmtime is imported."""
    global _shared_memory_cls
    if _shared_memory_cls is None:
        import wasmtime
        from wasmtime import _ffi

        class _SharedMemory(wasmtime.SharedMemory):
            def _as_extern(self) -> Any:
                union = _ffi.wasmtime_extern_union(sharedmemory=self.ptr())
                return _ffi.wasmtime_extern_t(_ffi.WASMTIME_EXTERN_SHAREDMEMORY, union)

        _shared_memory_cls = _SharedMemory
    return _shared_memory_cls


def _new_memory(engine: wasmtime.Engine, module: wasmtime.Module, max_bytes: int) -> Any:
    """The linear memory the module imports (env.memory), capped at ``max_bytes``."""
    import wasmtime

    limits = module.imports[0].type.limits
    pages = max(limits.min, min(limits.max or 65535, max_bytes // PAGE))
    ty = wasmtime.MemoryType(wasmtime.Limits(limits.min, pages), shared=True)
    return _shared_memory_type()(engine, ty)


class Arena:
    """First-fit allocator over one instance's linear memory (offsets, not pointers)."""

    def __init__(self, ctx: Context, base: int, max_bytes: int) -> None:
        self._ctx = ctx
        self.base = (base + ALIGN - 1) // ALIGN * ALIGN
        self.max_bytes = max_bytes
        self._free: list[tuple[int, int]] = [(self.base, self.size - self.base)]
        self._used: dict[int, int] = {}

    @property
    def size(self) -> int:
        return self._ctx.memory.data_len()

    def alloc(self, nbytes: int) -> int:
        need = (int(nbytes) + PAD + ALIGN - 1) // ALIGN * ALIGN
        if self.base + need > self.max_bytes:
            raise KernelMemoryError(
                f"request of {nbytes / 2**20:.1f} MiB exceeds the WASM memory maximum of "
                f"{self.max_bytes / 2**20:.0f} MiB"
            )
        for i, (off, size) in enumerate(self._free):
            if size >= need:
                if size == need:
                    del self._free[i]
                else:
                    self._free[i] = (off + need, size - need)
                self._used[off] = need
                return off
        self._grow(need)
        return self.alloc(nbytes)

    def _grow(self, need: int) -> None:
        end = self.size
        tail = self._free[-1] if self._free and sum(self._free[-1]) == end else None
        missing = need - (tail[1] if tail else 0)
        pages = (missing + PAGE - 1) // PAGE
        if end + pages * PAGE > self.max_bytes:
            used = sum(self._used.values())
            raise KernelMemoryError(
                f"WASM memory would grow to {(end + pages * PAGE) / 2**20:.0f} MiB, above the "
                f"maximum of {self.max_bytes / 2**20:.0f} MiB ({used / 2**20:.1f} MiB in use)"
            )
        self._ctx.memory.grow(pages)
        if tail:
            self._free[-1] = (tail[0], tail[1] + pages * PAGE)
        else:
            self._free.append((end, pages * PAGE))

    def free(self, off: int) -> None:
        size = self._used.pop(off)
        free = self._free
        free.append((off, size))
        free.sort()
        merged: list[tuple[int, int]] = []
        for o, s in free:
            if merged and merged[-1][0] + merged[-1][1] == o:
                merged[-1] = (merged[-1][0], merged[-1][1] + s)
            else:
                merged.append((o, s))
        self._free = merged

    def view(self, off: int, dtype: Any, shape: tuple[int, ...] | int) -> np.ndarray:
        """A numpy view at ``off``; valid only until the next grow (never keep it)."""
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        dt = np.dtype(dtype)
        count = int(np.prod(shape, dtype=np.int64))
        nbytes = count * dt.itemsize
        ctx = self._ctx
        addr = ctypes.addressof(ctx.memory.data_ptr().contents) + off
        buf = (ctypes.c_ubyte * max(nbytes, 1)).from_address(addr)
        return np.frombuffer(buf, dtype=dt, count=count).reshape(shape)


class _Instance:
    """A Store + Instance over a given memory; its exports by name."""

    def __init__(self, memory: Any) -> None:
        import wasmtime

        engine, module = _load()
        self.memory = memory
        self.store = wasmtime.Store(engine)
        self._inst = wasmtime.Instance(self.store, module, [memory])
        exports = self._inst.exports(self.store)
        self.fn = {e.name: exports[e.name] for e in module.exports if e.name != "__stack_pointer"}
        self._sp = exports["__stack_pointer"]

    def call(self, name: str, *args: int | float) -> Any:
        return self.fn[name](self.store, *args)


class Context(_Instance):
    """One Store + Instance + Arena over its own memory; used by exactly one thread."""

    def __init__(self, max_bytes: int) -> None:
        engine, module = _load()
        super().__init__(_new_memory(engine, module, max_bytes))
        self.arena = Arena(self, self.call("heap_base"), max_bytes)

    def sibling(self, stack_bytes: int = 1 << 20) -> Sibling:
        """A second instance in this memory, with its own stack taken from the arena, for
        kernels written for two threads (mlp_train_epoch). ``close()`` frees the stack."""
        return Sibling(self, stack_bytes)

    def scratch(self, *nbytes: int) -> Scratch:
        return Scratch(self.arena, nbytes)


class Sibling(_Instance):
    """Another instance over a Context's memory; call it from one thread at a time."""

    def __init__(self, owner: Context, stack_bytes: int) -> None:
        super().__init__(owner.memory)
        self._arena = owner.arena
        self._stack: int | None = owner.arena.alloc(stack_bytes)
        top = (self._stack + stack_bytes) // 16 * 16  # the stack grows down from here
        import wasmtime

        self._sp.set_value(self.store, wasmtime.Val.i32(top))

    def close(self) -> None:
        if self._stack is not None:
            self._arena.free(self._stack)
            self._stack = None


class Scratch:
    """Allocate several buffers for one call and free them all afterwards."""

    def __init__(self, arena: Arena, sizes: tuple[int, ...]) -> None:
        self.arena = arena
        self.offs: list[int] = []
        try:
            for s in sizes:
                self.offs.append(arena.alloc(s))
        except BaseException:
            self.__exit__()
            raise

    def __enter__(self) -> list[int]:
        return self.offs

    def __exit__(self, *exc: object) -> None:
        for off in self.offs:
            self.arena.free(off)
        self.offs = []


class Runtime:
    """Per-thread contexts plus a fixed set of lane threads for splitting big work."""

    def __init__(self, max_bytes: int = WASM32_MAX, threads: int | None = None) -> None:
        self.max_bytes = min(int(max_bytes), WASM32_MAX)
        self.threads = max(1, threads or min(os.cpu_count() or 1, 8))
        self._local = threading.local()
        self._lanes: list[ThreadPoolExecutor] = []
        self._lanes_lock = threading.Lock()

    def ctx(self) -> Context:
        ctx = getattr(self._local, "ctx", None)
        if ctx is None:
            ctx = self._local.ctx = Context(self.max_bytes)
        return ctx

    def lane(self, i: int) -> ThreadPoolExecutor:
        with self._lanes_lock:
            while len(self._lanes) <= i:
                n = len(self._lanes)
                self._lanes.append(
                    ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"wasm-lane{n}")
                )
            return self._lanes[i]

    def on_lanes(self, jobs: list[Any]) -> list[Any]:
        """Run ``job(ctx)`` for each job, job i on lane i (its own thread and instance)."""
        futures: list[Future[Any]] = [
            self.lane(i).submit(lambda j=job: j(self.ctx())) for i, job in enumerate(jobs)
        ]
        return [f.result() for f in futures]
