"""A command server for the CLI, as Mercurial's `chg` does it: a fresh `workbench` process
spends ~100 ms importing peewee, the store and numpy before it does anything, more than a
coding agent's hook may take (DESIGN: ≤ 100 ms per call). `workbench daemon start` keeps one
process with those imports done; the `workbench` entry point (the client, `forward`) hands it
its argv, working directory, environment and its stdin/stdout/stderr file descriptors over a
unix socket. The server forks a worker per command that takes those descriptors as its own,
runs the same `workbench.cli.main` and sends the exit status back. Output, exit status and
terminal detection are the in-process ones, because the worker writes to the client's own
descriptors.

The client falls back to running in-process whenever the server does not take the command:
no socket, refused, another install or version, code changed since the server started, or
no answer within a second. A worker runs nothing before the client's go, sent once it has
the worker's acknowledgement; from then on the command is the server's and is never run a
second time in-process.

This module's top level imports only `contextlib`, `os` and `sys`: the client path runs
before anything else in every `workbench` call.
"""

from __future__ import annotations

import contextlib
import os
import sys

PROTOCOL = 1
DISABLE_ENV = "WORKBENCH_DAEMON"  # "0" turns forwarding off
DIR_ENV = "WORKBENCH_DAEMON_DIR"
SOCKET_NAME = "cmd.sock"
LOG_NAME = "daemon.log"
DEFAULT_IDLE_S = 1800.0
ACK_TIMEOUT_S = 1.0
# Commands that go to the server: the calls an agent or a script makes often and that never
# read a terminal (a worker is not in the terminal's foreground process group). Everything
# else (the UI, `serve`, `mcp`, `daemon`, training, imports) runs in the calling process.
IN_WORKER = False  # set in a server's worker: its command runs there, never forwarded again
FORWARDED = {
    "store": {"stats"},
    "hub": {"query", "list", "popular", "show", "inbox"},
    "memory": {"search", "get", "stats"},
    "patterns": {"analyze"},
    "hooks": {"run"},
}


def socket_dir(env: dict[str, str] | None = None) -> str:
    """Per user: $WORKBENCH_DAEMON_DIR, else $XDG_RUNTIME_DIR/workbench, else
    /tmp/workbench-UID."""
    env = os.environ if env is None else env
    if env.get(DIR_ENV):
        return env[DIR_ENV]
    if env.get("XDG_RUNTIME_DIR"):
        return os.path.join(env["XDG_RUNTIME_DIR"], "workbench")
    return f"/tmp/workbench-{os.getuid()}"


def private_dir_problem(path: str) -> str | None:
    """Why `path` is not a directory only this user can reach (None when it is)."""
    import stat

    try:
        st = os.lstat(path)
    except OSError as exc:
        return f"{path}: {exc.strerror}"
    if not stat.S_ISDIR(st.st_mode):
        return f"{path} is not a directory"
    if st.st_uid != os.getuid():
        return f"{path} belongs to another user"
    if st.st_mode & 0o077:
        return f"{path} is open to other users (mode {stat.S_IMODE(st.st_mode):o}; want 700)"
    return None


def identity() -> dict[str, str]:
    """What a client and the server must share: the same interpreter running the same
    installed package."""
    import workbench

    return {
        "version": workbench.__version__,
        "executable": sys.executable,
        "package": os.path.dirname(os.path.abspath(workbench.__file__)),
    }


def forwarded_command(argv: list[str]) -> bool:
    """Whether this command line goes to the server."""
    from workbench.cli import command_of

    command = command_of(argv)
    if command not in FORWARDED or "-h" in argv or "--help" in argv:
        return False
    rest = argv[argv.index(command) + 1 :]
    return bool(rest) and rest[0] in FORWARDED[command]


# -- the client --------------------------------------------------------------------------


def forward(argv: list[str]) -> int | None:
    """Run `argv` on the server; None when it did not take the command (the caller then
    runs it in-process). Never raises."""
    if IN_WORKER or os.environ.get(DISABLE_ENV) == "0":
        return None
    path = os.path.join(socket_dir(), SOCKET_NAME)
    if not os.path.exists(path) or len(path.encode()) > 107:
        return None
    try:
        if not forwarded_command(argv) or private_dir_problem(os.path.dirname(path)):
            return None
        return _forward(path, argv)
    except Exception:  # the server is an accelerator: any failure before the ack falls back
        return None


def _forward(path: str, argv: list[str]) -> int | None:
    import json
    import signal
    import socket

    request = {"op": "run", "protocol": PROTOCOL, **identity(), "argv": argv,
               "cwd": os.getcwd(), "env": dict(os.environ)}  # fmt: skip
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(ACK_TIMEOUT_S)
        sock.connect(path)
        _send(sock, json.dumps(request).encode(), [0, 1, 2])
        reader = sock.makefile("rb")
        ack = reader.readline()
        if not ack.startswith(b"A "):
            return None  # refused (another version, stale code) or gone: run here
        worker = int(ack.split()[1])
        sock.sendall(b"G")  # the go: from here on the command is the server's, never rerun
        sock.settimeout(None)

        def relay(signum, _frame):
            with contextlib.suppress(ProcessLookupError):
                os.kill(worker, signum)

        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, relay)
        try:
            status = reader.readline()
        except OSError:
            status = b""
    from workbench.cli import command_of

    if command_of(argv) == "hooks":
        return 0  # a hook never disturbs its agent, whatever happened to the worker
    if status.startswith(b"S "):
        return int(status.split()[1])
    sys.stderr.write("workbench: the command server's worker ended without a status\n")
    return 1


def _send(sock, body: bytes, fds: list[int]) -> None:
    """One request: its length (4 bytes, big-endian) carrying the descriptors, then the
    JSON body (the server reads it in `Server._handle`)."""
    import socket

    socket.send_fds(sock, [len(body).to_bytes(4, "big")], fds)
    sock.sendall(body)


def request(op: str, env: dict[str, str] | None = None, timeout: float = 2.0) -> dict | None:
    """A control request (`status`, `stop`) to the server; None when none answers."""
    import json
    import socket

    path = os.path.join(socket_dir(env), SOCKET_NAME)
    if not os.path.exists(path):
        return None
    body = json.dumps({"op": op, "protocol": PROTOCOL, **identity()}).encode()
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(path)
            _send(sock, body, [])
            return json.loads(sock.makefile("rb").readline() or b"null")
    except (OSError, ValueError):
        return None


# -- the server ----------------------------------------------------------------------------

PRELOAD = (
    "workbench.cli", "workbench.cli.common", "workbench.cli.hub", "workbench.cli.memory",
    "workbench.cli.patterns", "workbench.cli.hooks", "workbench.agents.hookrun",
    "workbench.engine", "workbench.store", "workbench.store.models", "workbench.hub.service",
    "workbench.memory.service", "workbench.patterns.classifier", "numpy", "peewee",
)  # fmt: skip


class Server:
    """One listening socket, one thread; a forked worker per command (forking a process
    with one thread is safe). Opens no store itself: each worker opens its own."""

    def __init__(self, directory: str, idle_s: float = DEFAULT_IDLE_S) -> None:
        import importlib
        import time

        self.directory = directory
        self.path = os.path.join(directory, SOCKET_NAME)
        self.idle_s = idle_s
        self.started = time.time()
        self.served = 0
        self.identity = identity()
        for name in PRELOAD:
            importlib.import_module(name)
        self.sources = self._sources()
        self.listener = self._listen()

    @staticmethod
    def _sources() -> dict[str, float]:
        """The workbench modules loaded, with their mtimes: a change means stale code."""
        root = identity()["package"]
        out = {}
        for module in list(sys.modules.values()):
            path = getattr(module, "__file__", None)
            if path and path.startswith(root):
                with contextlib.suppress(OSError):
                    out[path] = os.stat(path).st_mtime
        return out

    def stale(self) -> bool:
        for path, mtime in self.sources.items():
            try:
                if os.stat(path).st_mtime != mtime:
                    return True
            except OSError:
                return True
        return False

    def _listen(self):
        import socket

        os.makedirs(self.directory, mode=0o700, exist_ok=True)
        problem = private_dir_problem(self.directory)
        if problem:
            raise ValueError(f"daemon directory refused: {problem}")
        if len(self.path.encode()) > 107:
            raise ValueError(f"daemon socket path too long for a unix socket: {self.path}")
        if os.path.exists(self.path):
            if request("status", {DIR_ENV: self.directory}) is not None:
                raise ValueError(f"a workbench daemon already listens on {self.path}")
            os.unlink(self.path)  # left by a server that died
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old = os.umask(0o177)
        try:
            listener.bind(self.path)
        finally:
            os.umask(old)
        listener.listen(64)
        listener.settimeout(0.5)
        return listener

    def serve_forever(self) -> None:
        import signal
        import time

        stop = False

        def on_term(_signum, _frame):
            nonlocal stop
            stop = True

        signal.signal(signal.SIGTERM, on_term)
        signal.signal(signal.SIGINT, on_term)
        last = time.monotonic()
        try:
            while not stop and time.monotonic() - last < self.idle_s:
                self._reap()
                try:
                    conn, _ = self.listener.accept()
                except (TimeoutError, InterruptedError):
                    continue
                with conn:
                    op = self._handle(conn)
                stop = stop or op == "stop"
                if op == "run":  # a status or stop request does not keep it alive
                    last = time.monotonic()
        finally:
            self.close()

    def close(self) -> None:
        self.listener.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)

    @staticmethod
    def _reap() -> None:
        while True:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return

    def _handle(self, conn) -> str | None:
        """Answer one connection; the operation done ("run", "status", "stop"), if any."""
        import json
        import socket
        import struct

        fds: list[int] = []
        try:
            creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
            if struct.unpack("3i", creds)[1] != os.getuid():
                return None  # another user: not even an answer
            conn.settimeout(2.0)
            header, fds, _flags, _addr = socket.recv_fds(conn, 4, 3)
            size = struct.unpack("!I", header)[0] if len(header) == 4 else 0
            body = b""
            while len(body) < size:
                chunk = conn.recv(size - len(body))
                if not chunk:
                    return None
                body += chunk
            message = json.loads(body)
            if message.get("protocol") != PROTOCOL or any(
                message.get(k) != v for k, v in self.identity.items()
            ):
                conn.sendall(b"R another workbench\n")
                return None
            if self.stale():
                conn.sendall(b"R stale\n")
                return "stop"  # code changed under us: the next call runs in-process
            op = message.get("op")
            if op == "status":
                info = {**self.identity, "pid": os.getpid(), "socket": self.path,
                        "started": self.started, "served": self.served}  # fmt: skip
                conn.sendall(json.dumps(info).encode() + b"\n")
                return "status"
            if op == "stop":
                conn.sendall(json.dumps({"stopping": os.getpid()}).encode() + b"\n")
                return "stop"
            if op == "run" and len(fds) == 3:
                self.served += 1
                if os.fork() == 0:
                    self._run_worker(conn, fds, message)  # never returns
                return "run"
            conn.sendall(b"R bad request\n")
            return None
        except (OSError, ValueError, KeyError, TypeError):
            return None
        finally:
            for fd in fds:
                os.close(fd)

    def _run_worker(self, conn, fds: list[int], message: dict) -> None:
        """In the forked child: become the client's process and run its command."""
        import signal

        global IN_WORKER
        IN_WORKER = True
        code = 1
        try:
            self.listener.close()
            signal.signal(signal.SIGINT, signal.default_int_handler)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            conn.settimeout(5.0)
            conn.sendall(f"A {os.getpid()}\n".encode())
            if conn.recv(1) != b"G":  # the client gave up waiting and runs it itself
                os._exit(0)
            conn.settimeout(None)
            for target, fd in zip((0, 1, 2), fds, strict=True):
                os.dup2(fd, target)
            _reopen_stdio()
            os.chdir(message["cwd"])
            os.environ.clear()
            os.environ.update(message["env"])
            argv = [str(a) for a in message["argv"]]
            sys.argv = ["workbench", *argv]
            code = _exit_code(argv)
        except BaseException as exc:  # noqa: BLE001 - the client must get a status
            with contextlib.suppress(Exception):
                sys.stderr.write(f"workbench: {type(exc).__name__}: {exc}\n")
        finally:
            for stream in (sys.stdout, sys.stderr):
                with contextlib.suppress(Exception):
                    stream.flush()
            with contextlib.suppress(OSError):
                conn.sendall(f"S {code}\n".encode())
            os._exit(code)


def _reopen_stdio() -> None:
    """New stdio objects over fds 0-2, buffered as Python buffers them for such files (the
    server's own were made for its log file)."""
    import io

    encoding = sys.__stdout__.encoding if sys.__stdout__ else "utf-8"

    def text(fd: int, mode: str, **kwargs) -> io.TextIOWrapper:
        raw = io.FileIO(fd, mode, closefd=False)
        buffered = io.BufferedReader(raw) if mode == "r" else io.BufferedWriter(raw)
        return io.TextIOWrapper(buffered, encoding=encoding, **kwargs)

    sys.stdin = text(0, "r")
    sys.stdout = text(1, "w", line_buffering=os.isatty(1))
    sys.stderr = text(2, "w", errors="backslashreplace", line_buffering=True)


def _exit_code(argv: list[str]) -> int:
    from workbench.cli import main

    try:
        result = main(argv)
    except SystemExit as exc:
        result = exc.code
    except KeyboardInterrupt:
        return 130
    if result is None:
        return 0
    if isinstance(result, int):
        return result
    sys.stderr.write(f"{result}\n")
    return 1
