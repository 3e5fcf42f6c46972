"""How sandboxed code is isolated: Linux namespaces through bwrap or unshare, else limits.

One function, `wrap(argv, ...)`, turns any command (pytest, an agent's command step, a warm
pool server) into the command that runs it isolated. In a namespaced mode the command gets
new user, mount, PID, IPC, UTS and (unless `network=True`) network namespaces; a read-only
view of the system (/usr, /etc, the /bin-/lib links) and of the Python installation; the
sandbox directory (the task copy, its empty home, its report) as the only writable tree; a
private /tmp, /proc and /dev; no capabilities; and it dies with its parent. Its PID
namespace ends when its first process ends, which kills every process it started, even
one that left the process group with setsid.

Levels, best first:
- `bwrap`: bubblewrap builds the namespaces (Debian package `bubblewrap`);
- `unshare`: util-linux `unshare` makes the namespaces and a small launcher (`_NS_SETUP`)
  builds the same view with mount(2) and pivot_root(2) and drops every capability;
- `limits`: no namespaces (macOS, locked-down containers): only the rlimits, scrubbed
  environment and process-group kill of the sandbox apply. This is stated, never silent:
  `workbench doctor` prints it with the reason, every execution row records it.

`WORKBENCH_ISOLATION` picks a mode: `auto` (default: the best that works here),
`namespaces` (bwrap or unshare, else a one-line error), `bwrap`, `unshare` or `limits`.
"""

from __future__ import annotations

import functools
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ENV_VAR = "WORKBENCH_ISOLATION"
CHOICES = ("auto", "namespaces", "bwrap", "unshare", "limits")
BWRAP, UNSHARE, LIMITS = "bwrap", "unshare", "limits"
NAMESPACED = (BWRAP, UNSHARE)
PROBE_TIMEOUT_S = 10.0
# Top-level system paths the sandbox sees read-only (a symlink is recreated as a symlink).
SYSTEM_PATHS = ("/usr", "/etc", "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32")
NOBODY = 65534
_ENV = shutil.which("env", path="/usr/bin:/bin") or "/usr/bin/env"


class IsolationError(ValueError):
    """The isolation asked for cannot be had here (one line, says why)."""


@dataclass(frozen=True)
class Isolation:
    """The isolation level in use and why it is that one."""

    level: str  # bwrap | unshare | limits
    reason: str
    tool: str = ""  # path of bwrap / unshare

    @property
    def namespaced(self) -> bool:
        return self.level in NAMESPACED

    def as_dict(self) -> dict:
        return {"level": self.level, "namespaced": self.namespaced, "reason": self.reason,
                "tool": self.tool}  # fmt: skip


# -- what the sandbox sees -----------------------------------------------------------------


def python_paths() -> list[str]:
    """The Python installation the sandbox needs read-only (venv and base interpreter)."""
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    paths.add(str(Path(os.path.realpath(sys.executable)).parent.parent))
    out: list[str] = []
    for path in sorted(paths, key=len):
        if path in ("", "/") or not os.path.isdir(path):
            continue
        if any(path == p or path.startswith(p.rstrip("/") + "/") for p in out):
            continue
        out.append(path)
    return out


def view(root: Path, read_only: Sequence[str] = ()) -> dict:
    """The mount plan both namespaced modes follow (the launcher gets it as JSON).
    `read_only`: single files shown read-only besides (a command strategy's program)."""
    system = []
    for path in SYSTEM_PATHS:
        if os.path.islink(path):
            system.append({"kind": "symlink", "path": path, "target": os.readlink(path)})
        elif os.path.isdir(path):
            system.append({"kind": "ro", "path": path})
    python = [p for p in python_paths() if not any(p.startswith(s + "/") for s in ("/usr", "/etc"))]
    shown = [e["path"] for e in system] + python
    files = [
        str(p) for p in read_only
        if os.path.isfile(p) and not any(str(p).startswith(d.rstrip("/") + "/") for d in shown)
    ]  # fmt: skip
    return {"system": system, "python": python, "files": files, "rw": str(root)}


def sandbox_ids() -> tuple[int, int]:
    """The uid/gid sandboxed code runs as: the user's own, or nobody's when the user is root.
    Never 0 in its namespace, so nothing in it is root there, and the warm pool can still
    make nested namespaces (the kernel refuses to map root from a namespace whose creator
    could not set file capabilities)."""
    return (os.getuid() or NOBODY, os.getgid() or NOBODY)


# -- building the command ------------------------------------------------------------------


def wrap(
    argv: list[str],
    *,
    root: Path,
    cwd: Path,
    network: bool = False,
    writable: bool = True,
    isolation: Isolation | None = None,
    read_only: Sequence[str] = (),
) -> list[str]:
    """`argv` as the command that runs it isolated: `root` is the only writable tree, `cwd`
    (inside it) the working directory; no network unless `network`. With `writable=False`
    nothing at all is writable, not even /tmp (the warm pool's servers: each execution
    mounts its own). Limits mode returns `argv` unchanged (the caller's rlimits and process
    group are all there is)."""
    iso = isolation or current()
    if iso.level == BWRAP:
        # bwrap sets PWD after --chdir; env drops it so the environment stays the caller's
        bwrap_args = _bwrap_args(root, cwd, network, writable, read_only)
        return [iso.tool, *bwrap_args, "--", _ENV, "-u", "PWD", *argv]
    if iso.level == UNSHARE:
        uid, gid = sandbox_ids()
        spec = {**view(root, read_only), "cwd": str(cwd), "machine": platform.machine(), "uid": uid,
                "gid": gid, "writable": writable}  # fmt: skip
        flags = ["--user", "--map-root-user", "--mount", "--pid", "--fork", "--kill-child",
                 "--ipc", "--uts"]  # fmt: skip
        if not network:
            flags.append("--net")
        launcher = [sys.executable, "-I", "-S", _NS_SETUP, json.dumps(spec)]
        return [iso.tool, *flags, "--", *launcher, *argv]
    return list(argv)


def _bwrap_args(
    root: Path, cwd: Path, network: bool, writable: bool = True, read_only: Sequence[str] = ()
) -> list[str]:
    plan = view(root, read_only)
    args = ["--unshare-user", "--unshare-pid", "--unshare-ipc", "--unshare-uts",
            "--unshare-cgroup-try", "--die-with-parent", "--new-session",
            "--cap-drop", "ALL"]  # fmt: skip
    if not network:
        args.append("--unshare-net")
    if os.getuid() == 0:  # never root in its own namespace (see sandbox_ids)
        uid, gid = sandbox_ids()
        args += ["--uid", str(uid), "--gid", str(gid)]
    for entry in plan["system"]:
        if entry["kind"] == "symlink":
            args += ["--symlink", entry["target"], entry["path"]]
        else:
            args += ["--ro-bind", entry["path"], entry["path"]]
    args += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]
    for path in [*plan["python"], *plan["files"]]:  # after /tmp: a venv under /tmp stays
        args += ["--ro-bind", path, path]
    args += ["--bind" if writable else "--ro-bind", plan["rw"], plan["rw"], "--chdir", str(cwd)]
    if not writable:
        args += ["--remount-ro", "/tmp", "--remount-ro", "/dev"]
    return args


# The unshare mode's launcher (a script run by path before the pivot; see its docstring).
_NS_SETUP = str(Path(__file__).with_name("_ns_setup.py"))


# -- choosing the level --------------------------------------------------------------------


def _probe(cmd: list[str]) -> str:
    """'' when `cmd` (a namespaced `true`) works, else the first line of why not."""
    with tempfile.TemporaryDirectory(prefix="wb-probe-") as tmp:
        try:
            done = subprocess.run(
                cmd,
                capture_output=True,
                text=True,
                timeout=PROBE_TIMEOUT_S,
                cwd=tmp,
                stdin=subprocess.DEVNULL,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if done.returncode == 0:
        return ""
    lines = (done.stderr or done.stdout).strip().splitlines()
    last = "".join(ch for ch in lines[-1] if ch.isprintable()) if lines else ""
    return last[:300] or f"exit code {done.returncode}"  # a tool's words: printable only


def _probe_level(level: str, tool: str) -> str:
    with tempfile.TemporaryDirectory(prefix="wb-probe-") as tmp:
        root = Path(tmp)
        probe = Isolation(level, "probe", tool)
        return _probe(wrap(["true"], root=root, cwd=root, isolation=probe))


def detect(mode: str | None = None) -> Isolation:
    """The isolation level `mode` gives on this machine (probes bwrap/unshare by running
    them). Raises IsolationError when a mode that was asked for by name cannot work."""
    mode = (mode or os.environ.get(ENV_VAR) or "auto").strip().lower()
    if mode not in CHOICES:
        raise IsolationError(f"{ENV_VAR}={mode!r}: choose one of {', '.join(CHOICES)}")
    if mode == LIMITS:
        return Isolation(LIMITS, f"{ENV_VAR}=limits: namespaces turned off by the user")
    if not sys.platform.startswith("linux"):
        if mode != "auto":
            raise IsolationError(f"{ENV_VAR}={mode}: namespaces need Linux ({sys.platform})")
        return Isolation(LIMITS, f"no Linux namespaces on {sys.platform}: limits only")
    notes = []
    if mode in ("auto", "namespaces", BWRAP):
        bwrap = shutil.which("bwrap")
        if bwrap is None:
            notes.append("bwrap is not installed")
        else:
            why = _probe_level(BWRAP, bwrap)
            if not why:
                return Isolation(BWRAP, "bubblewrap namespaces work here", bwrap)
            notes.append(f"bwrap is installed but fails ({why})")
        if mode == BWRAP:
            raise IsolationError(f"{ENV_VAR}=bwrap: {notes[-1]}")
    if mode in ("auto", "namespaces", UNSHARE):
        unshare = shutil.which("unshare")
        if unshare is None:
            notes.append("unshare (util-linux) is not installed")
        else:
            why = _probe_level(UNSHARE, unshare)
            if not why:
                notes.append("unshare namespaces work here")
                return Isolation(UNSHARE, "; ".join(notes), unshare)
            notes.append(f"unshare fails ({why})")
        if mode in (UNSHARE, "namespaces"):
            raise IsolationError(f"{ENV_VAR}={mode}: {'; '.join(notes)}")
    return Isolation(LIMITS, "; ".join(notes) + ": limits only (no namespaces)")


@functools.lru_cache(maxsize=8)
def _cached(mode: str) -> Isolation:
    return detect(mode)


def current() -> Isolation:
    """The level in use for this process's environment (probed once per mode)."""
    return _cached((os.environ.get(ENV_VAR) or "auto").strip().lower())


LABELS = {BWRAP: "namespaces (bwrap)", UNSHARE: "namespaces (unshare)", LIMITS: "limits only"}


def describe(level: str | None) -> str:
    """How a recorded isolation level reads to a user ("" when none was recorded)."""
    return LABELS.get(level or "", level or "")


def check_network(name: str, asked: bool, allowed: bool) -> None:
    """A task or command that asks for network needs the user's permission."""
    if asked and not allowed:
        raise ValueError(
            f"{name} asks for network access; allow it with --allow-network (default: none)"
        )
