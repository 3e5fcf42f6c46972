"""A warm pool of sandbox workers: pytest imported once, a fresh process per execution.

Each pool server (`_pool_server.py`) is started with `sandbox.isolated`, so it lives in the
same namespaces, rlimits, scrubbed environment and death-with-parent as a cold execution.
For every execution it forks a process that gets new user, mount, PID and IPC namespaces and
private tmpfs /tmp and /dev/shm, receives the task files over a pipe, and runs
`pytest.main` in the already-warm interpreter: no interpreter or pytest start-up, and nothing
one execution leaves (globals, monkeypatched modules, files, processes) is seen by the next,
because each is a fresh fork of a server that never runs task code.

The pool needs namespaces (bwrap or unshare); under `limits` isolation executions start cold.
A server that breaks is replaced; a cancelled or overrunning execution kills its server.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import queue
import select
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from workbench.pipeline import isolation as isolation_mod
from workbench.pipeline.isolation import Isolation, IsolationError
from workbench.pipeline.sandbox import (
    FILE_SIZE_LIMIT_BYTES,
    MEMORY_LIMIT_BYTES,
    POLL_S,
    Finished,
    ProcessRegistry,
    isolated,
    kill_group,
    make_sandbox_dir,
    scrubbed_env,
)

SERVER_SOURCE = Path(__file__).with_name("_pool_server.py").read_text(encoding="utf-8")
START_TIMEOUT_S = 60.0
SERVER_CPU_S = 7 * 24 * 3600  # the server's own CPU is tiny; executions get their own limit
MAX_SHIPPED_BYTES = 32 << 20  # a task copy larger than this starts cold
BACKSTOP_S = 10.0  # the server enforces the timeout; past it by this much, kill the server
IN_SANDBOX_HOME = "/tmp/home"


class PoolError(RuntimeError):
    """A pool server could not start or answer (one line)."""


class _Server:
    """One pool server process and its private dir."""

    def __init__(self, iso: Isolation, memory_bytes: int) -> None:
        self.root, self.box = make_sandbox_dir()
        launch = isolated(
            [sys.executable, "-I", "-c", SERVER_SOURCE], box=self.box, cwd=self.box,
            cpu_s=SERVER_CPU_S, memory_bytes=memory_bytes, isolation=iso, writable=False,
        )  # fmt: skip
        self.proc = subprocess.Popen(
            launch.argv, cwd=launch.cwd, env=launch.env, stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
        )  # fmt: skip
        self._buffer = b""
        self._stderr: list[bytes] = []
        threading.Thread(target=self._drain, daemon=True).start()
        hello = self._read_line(START_TIMEOUT_S)
        if hello is None or not json.loads(hello).get("ready"):
            self.close()
            tail = b"".join(self._stderr).decode("utf-8", "replace").strip().splitlines()
            raise PoolError(f"pool server did not start: {tail[-1] if tail else 'no output'}")

    def _drain(self) -> None:
        for line in self.proc.stderr:  # type: ignore[union-attr]
            self._stderr = (self._stderr + [line])[-20:]

    def _read_line(self, timeout_s: float, should_stop: Callable[[], bool] | None = None):
        """One reply line, or None on timeout / stop / a dead server."""
        deadline = time.monotonic() + timeout_s
        fd = self.proc.stdout.fileno()  # type: ignore[union-attr]
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or (should_stop is not None and should_stop()):
                return None
            ready, _, _ = select.select([fd], [], [], min(POLL_S, left))
            if ready:
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    return None
                self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line

    def request(self, req: dict, timeout_s: float, should_stop) -> dict | None:
        try:
            self.proc.stdin.write(json.dumps(req).encode() + b"\n")  # type: ignore[union-attr]
            self.proc.stdin.flush()  # type: ignore[union-attr]
        except (BrokenPipeError, OSError):
            return None
        line = self._read_line(timeout_s, should_stop)
        return None if line is None else json.loads(line)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def close(self) -> None:
        kill_group(self.proc)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)
        for stream in (self.proc.stdin, self.proc.stdout):
            with contextlib.suppress(OSError):
                stream.close()  # type: ignore[union-attr]
        shutil.rmtree(self.root, ignore_errors=True)


class WarmPool:
    """Up to `size` pool servers; `run` borrows one per execution (thread-safe)."""

    def __init__(
        self,
        size: int = 2,
        isolation: Isolation | None = None,
        memory_bytes: int = MEMORY_LIMIT_BYTES,
    ) -> None:
        self.isolation = isolation or isolation_mod.current()
        if not self.isolation.namespaced:
            raise IsolationError(
                f"the warm pool needs namespaces; isolation here is {self.isolation.level} "
                f"({self.isolation.reason})"
            )
        if size < 1:
            raise ValueError("pool size must be >= 1")
        self.size = size
        self.memory_bytes = memory_bytes
        self._idle: queue.Queue[_Server] = queue.Queue()
        self._lock = threading.Lock()
        self._started = 0
        self._closed = False
        self.replaced = 0  # servers killed (cancel, overrun) or found dead and replaced

    def __enter__(self) -> WarmPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def warm(self) -> None:
        """Start every server now (otherwise they start on first use)."""
        servers = [self._checkout() for _ in range(self.size)]
        for server in servers:
            self._give_back(server)

    def _checkout(self) -> _Server:
        """An idle server, a newly started one while fewer than `size` run, else wait."""
        while True:
            with self._lock:
                if self._closed:
                    raise PoolError("the warm pool is closed")
                try:
                    return self._idle.get_nowait()
                except queue.Empty:
                    pass
                start = self._started < self.size
                if start:
                    self._started += 1
            if start:
                try:
                    return _Server(self.isolation, self.memory_bytes)
                except BaseException:
                    with self._lock:
                        self._started -= 1
                    raise
            try:  # a retired server frees a start slot: look again now and then
                return self._idle.get(timeout=POLL_S)
            except queue.Empty:
                continue

    def _give_back(self, server: _Server) -> None:
        with self._lock:
            if not self._closed:
                self._idle.put(server)
                return
        server.close()

    def _retire(self, server: _Server) -> None:
        server.close()
        with self._lock:
            self._started -= 1
            self.replaced += 1

    def takes(self, iso: Isolation, network: bool, memory_bytes: int, work: Path) -> bool:
        """Whether an execution can start here (else it starts cold): same isolation, no
        network (pool servers have none), a memory limit within the servers', a task copy
        small enough to ship."""
        if iso != self.isolation or network or memory_bytes > self.memory_bytes:
            return False
        size = sum(p.stat().st_size for p in work.rglob("*") if p.is_file())
        return size <= MAX_SHIPPED_BYTES

    def run(
        self,
        work: Path,
        args: list[str],
        *,
        timeout_s: float,
        memory_bytes: int = MEMORY_LIMIT_BYTES,
        should_stop: Callable[[], bool] | None = None,
        registry: ProcessRegistry | None = None,
    ) -> tuple[Finished, str | None]:
        """Run pytest `args` on a copy of `work` in a fresh pooled process: how it ended,
        and the JUnit report text it wrote to /tmp/report.xml (None if none)."""
        files, total = {}, 0
        for path in sorted(work.rglob("*")):
            if path.is_file() and not path.is_symlink():
                data = path.read_bytes()
                total += len(data)
                files[path.relative_to(work).as_posix()] = base64.b64encode(data).decode()
        if total > MAX_SHIPPED_BYTES:
            raise PoolError(f"task copy too large for the pool ({total} bytes)")
        env = scrubbed_env(Path(IN_SANDBOX_HOME))
        req = {
            "files": files, "args": args, "timeout_s": timeout_s,
            "cpu_s": max(1, int(timeout_s + 1)),
            "memory_bytes": min(memory_bytes, self.memory_bytes),
            "fsize_bytes": FILE_SIZE_LIMIT_BYTES, "env": env, "pool_dir": "",
        }  # fmt: skip
        server = self._checkout()
        req["pool_dir"] = str(server.box)
        started = time.perf_counter()
        if registry is not None:  # a cancel kills the server (and so its execution)
            registry.add(server.proc)
        try:
            reply = server.request(req, timeout_s + BACKSTOP_S, should_stop)
        finally:
            if registry is not None:
                registry.discard(server.proc)
        exec_ms = round((time.perf_counter() - started) * 1000.0, 1)
        if reply is None or reply.get("error"):
            self._retire(server)
            if should_stop is not None and should_stop():
                return Finished(-9, "", exec_ms, "cancelled"), None
            if reply is None and server.alive() is False and exec_ms < timeout_s * 1000:
                why = "the pool server died"
            elif reply is None:
                return Finished(-9, "", exec_ms, "timeout"), None
            else:
                why = reply["error"]
            return Finished(-1, f"warm pool: {why}\n", exec_ms), None
        self._give_back(server)
        finished = Finished(int(reply["returncode"]), reply["output"], exec_ms, reply["outcome"])
        return finished, reply.get("report")

    def close(self) -> None:
        """Kill every server (idle ones now; busy ones as their run returns)."""
        with self._lock:
            self._closed = True
        while True:
            try:
                server = self._idle.get_nowait()
            except queue.Empty:
                break
            server.close()
