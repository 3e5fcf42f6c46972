"""A warm pool server: runs inside the sandbox's namespaces, pytest already imported.

Started by `pool.WarmPool` through `sandbox.isolated` (so it lives in the same user, mount,
PID and network namespaces as a cold execution) as `python -I -c SOURCE`. It reads one JSON
request per line on stdin, and for each forks a fresh process (never runs task code itself):

- C1 (the keeper): dies with the server; unshares new user, mount, PID and IPC namespaces;
  mounts private tmpfs over the pool's own dir, /tmp and /dev/shm (nothing one execution
  writes is seen by the next); writes the task files into /tmp/task; forks C2; waits for it
  with the timeout; sends back exit code, output and JUnit report through a pipe.
- C2 (the execution): PID 1 of its namespace, so every process it starts dies with it; fresh
  /proc; rlimits; stdout/stderr to a file; drops every capability, no_new_privs; the request's
  environment only; then `pytest.main(args)` in the already-warm interpreter.

Standard library and pytest only: the workbench package is not visible inside the sandbox.
"""

import base64
import contextlib
import ctypes
import gc
import json
import os
import select
import signal
import sys
import time
import traceback

import pytest  # the point of the pool: imported once, before any fork

# what pytest.main would otherwise import in every execution
_WARM = ["_pytest._argcomplete", "pdb", "faulthandler", "readline", "xml.etree.ElementTree"]
_WARM += [f"_pytest.{name}" for name in __import__("_pytest.config").config.default_plugins]
for _name in _WARM:
    with contextlib.suppress(ImportError):
        __import__(_name)

CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWIPC = 0x20000, 0x10000000, 0x20000000, 0x8000000
MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REC, MS_PRIVATE = 2, 4, 8, 16384, 1 << 18
PR_SET_PDEATHSIG, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = 1, 24, 38
OUTPUT_LIMIT = 64 * 1024

libc = ctypes.CDLL(None, use_errno=True)
libc.mount.argtypes = [ctypes.c_char_p] * 3 + [ctypes.c_ulong, ctypes.c_void_p]


def check(rc: int, what: str) -> None:
    if rc != 0:
        raise OSError(ctypes.get_errno(), f"{what}: {os.strerror(ctypes.get_errno())}")


def mount_tmpfs(path: str, flags: int = MS_NOSUID | MS_NODEV) -> None:
    if os.path.isdir(path):
        check(libc.mount(b"tmpfs", path.encode(), b"tmpfs", flags, None), f"tmpfs on {path}")


def write_file(path: str, text: str) -> None:
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def die_with_parent() -> None:
    parent = os.getppid()
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:
        os._exit(137)


def drop_privileges() -> None:
    for cap in range(64):
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) and ctypes.get_errno() == 22:
            break
    check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    header = (ctypes.c_uint32 * 2)(0x20080522, 0)
    check(libc.capset(header, (ctypes.c_uint32 * 6)()), "capset")


def execution(req: dict, write_fd: int) -> None:
    """C2: PID 1 of a fresh namespace; runs pytest and exits (never returns)."""
    code = 70
    try:
        os.close(write_fd)
        die_with_parent()
        os.setsid()
        # A /proc of its own where the kernel allows it (not under bwrap, whose /proc has
        # read-only overmounts); else it sees the pool's, whose files are all read-only.
        libc.mount(b"proc", b"/proc", b"proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None)
        import resource

        cpu, mem = int(req["cpu_s"]), int(req["memory_bytes"])
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
        resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
        resource.setrlimit(resource.RLIMIT_FSIZE, (req["fsize_bytes"], req["fsize_bytes"]))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        null = os.open("/dev/null", os.O_RDONLY)
        out = os.open("/tmp/output.log", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(null, 0)
        os.dup2(out, 1)
        os.dup2(out, 2)
        os.chdir("/tmp/task")
        drop_privileges()
        os.environ.clear()
        os.environ.update(req["env"])
        sys.argv = ["pytest", *req["args"]]
        code = int(pytest.main(req["args"]))
    except BaseException:  # noqa: BLE001 - anything here is the execution's crash, reported
        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def keeper(req: dict, write_fd: int) -> None:
    """C1: new namespaces and private temp dirs, then C2; reports (never returns)."""
    reply = {"returncode": -1, "outcome": "", "output": "", "report": None, "error": ""}
    try:
        die_with_parent()
        uid, gid = os.getuid(), os.getgid()
        flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC
        check(libc.unshare(flags), "unshare")
        write_file("/proc/self/setgroups", "deny")
        write_file("/proc/self/uid_map", f"0 {uid} 1")
        write_file("/proc/self/gid_map", f"0 {gid} 1")
        check(libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None), "make / private")
        mount_tmpfs(req["pool_dir"])  # first: it may live under /tmp
        mount_tmpfs("/tmp")
        mount_tmpfs("/dev/shm")
        os.makedirs("/tmp/task")
        for rel, data in req["files"].items():
            path = os.path.join("/tmp/task", rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as fh:
                fh.write(base64.b64decode(data))
        os.makedirs(req["env"]["HOME"], exist_ok=True)
        pid = os.fork()
        if pid == 0:
            execution(req, write_fd)
        pidfd = os.pidfd_open(pid)
        ready, _, _ = select.select([pidfd], [], [], float(req["timeout_s"]))
        if not ready:
            os.kill(pid, signal.SIGKILL)  # PID 1 of its namespace: everything it started dies
            reply["outcome"] = "timeout"
        _, status = os.waitpid(pid, 0)
        reply["returncode"] = os.waitstatus_to_exitcode(status)
        with open("/tmp/output.log", "rb") as fh:
            fh.seek(max(0, os.fstat(fh.fileno()).st_size - OUTPUT_LIMIT))
            reply["output"] = fh.read().decode("utf-8", "replace")
        if os.path.isfile("/tmp/report.xml"):
            with open("/tmp/report.xml", encoding="utf-8", errors="replace") as fh:
                reply["report"] = fh.read()
    except BaseException as exc:  # noqa: BLE001 - reported to the host as a pool failure
        reply["error"] = (
            f"{type(exc).__name__}: {exc} ({traceback.format_exc().splitlines()[-3].strip()})"
        )
    try:
        os.write(write_fd, json.dumps(reply).encode())
    finally:
        os._exit(0)


def serve() -> None:
    die_with_parent()
    gc.freeze()  # a fork's gc.collect (pytest runs five) must not touch the inherited heap
    stdout = os.fdopen(os.dup(1), "w")
    os.dup2(os.open("/dev/null", os.O_WRONLY), 1)  # only replies go to the real stdout
    stdout.write(json.dumps({"ready": True, "pid": os.getpid()}) + "\n")
    stdout.flush()
    for line in sys.stdin:
        req = json.loads(line)
        read_fd, write_fd = os.pipe()
        started = time.perf_counter()
        pid = os.fork()
        if pid == 0:
            os.close(read_fd)
            keeper(req, write_fd)
        os.close(write_fd)
        chunks = []
        while chunk := os.read(read_fd, 1 << 16):
            chunks.append(chunk)
        os.close(read_fd)
        os.waitpid(pid, 0)
        try:
            reply = json.loads(b"".join(chunks) or b"{}")
        except ValueError:
            reply = {}
        if "returncode" not in reply:
            reply = {"error": "the pool's keeper process died", **reply}
        reply["server_ms"] = round((time.perf_counter() - started) * 1000.0, 2)
        stdout.write(json.dumps(reply) + "\n")
        stdout.flush()


if __name__ == "__main__":
    serve()
