"""The unshare mode's launcher: `python -I -S _ns_setup.py SPEC_JSON ARGV...`.

It runs as root of fresh user, mount and PID (and network) namespaces made by `unshare`,
builds a new root on a tmpfs (read-only binds of the system and Python paths in SPEC, the
sandbox dir writable, a private /tmp, /proc and /dev), pivots into it, detaches the old
root, becomes a non-root user in a nested user namespace,
drops every capability (bounding set, then capset), sets no_new_privs and execs ARGV.
Standard library only: it runs before any isolation is in place, with `-S`.
"""

import ctypes
import json
import os
import sys

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
MNT_DETACH = 2
PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = 24, 38
CLONE_NEWUSER = 0x10000000
PIVOT_ROOT = {"x86_64": 155, "aarch64": 41, "riscv64": 41, "ppc64le": 203, "s390x": 217}
# statvfs flag -> mount flag, for the flags the kernel locks on a more privileged mount
LOCKED = ((1, 1), (2, 2), (4, 4), (8, 8), (1024, 1024), (2048, 2048), (4096, 1 << 21))

libc = ctypes.CDLL(None, use_errno=True)
libc.mount.argtypes = [ctypes.c_char_p] * 3 + [ctypes.c_ulong, ctypes.c_void_p]


def fail(what: str) -> None:
    err = ctypes.get_errno()
    sys.stderr.write(f"workbench sandbox: {what}: {os.strerror(err)}\n")
    os._exit(126)


def mount(src, dst: str, fstype, flags: int) -> None:
    if libc.mount(src and src.encode(), dst.encode(), fstype and fstype.encode(), flags, None):
        fail(f"mount {src} on {dst}")


def flags_of(path: str) -> int:
    f = os.statvfs(path).f_flag
    return sum(ms for st, ms in LOCKED if f & st)


def submounts(path: str) -> list[str]:
    with open("/proc/self/mountinfo") as fh:
        points = [line.split()[4].replace("\\040", " ") for line in fh]
    return [p for p in points if p == path or p.startswith(path.rstrip("/") + "/")]


def bind_ro(src: str, dst: str) -> None:
    os.makedirs(dst, exist_ok=True)
    mount(src, dst, None, MS_BIND | MS_REC)
    for point in submounts(dst):
        mount(None, point, None, MS_REMOUNT | MS_BIND | MS_RDONLY | flags_of(point))


def build_root(spec: dict) -> str:
    new = spec["rw"] + "/.nsroot"  # a mount point we own; gone from view after the pivot
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    os.makedirs(new, exist_ok=True)
    mount("tmpfs", new, "tmpfs", MS_NOSUID | MS_NODEV)
    for entry in spec["system"]:
        if entry["kind"] == "symlink":
            os.symlink(entry["target"], new + entry["path"])
        else:
            bind_ro(entry["path"], new + entry["path"])
    os.makedirs(new + "/proc")
    mount("proc", new + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    os.makedirs(new + "/tmp")
    mount("tmpfs", new + "/tmp", "tmpfs", MS_NOSUID | MS_NODEV)
    os.makedirs(new + "/dev")
    mount("tmpfs", new + "/dev", "tmpfs", MS_NOSUID)
    for node in ("null", "zero", "full", "random", "urandom", "tty"):
        if os.path.exists("/dev/" + node):
            open(new + "/dev/" + node, "w").close()
            mount("/dev/" + node, new + "/dev/" + node, None, MS_BIND)
    os.makedirs(new + "/dev/shm")
    mount("tmpfs", new + "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV)
    for i, name in enumerate(("stdin", "stdout", "stderr")):
        os.symlink(f"/proc/self/fd/{i}", new + "/dev/" + name)
    os.symlink("/proc/self/fd", new + "/dev/fd")
    for path in spec["python"]:  # after /tmp: a venv under /tmp stays visible
        bind_ro(path, new + path)
    for path in spec.get("files", ()):  # single files (a command strategy's program)
        os.makedirs(os.path.dirname(new + path), exist_ok=True)
        if not os.path.exists(new + path):
            open(new + path, "w").close()
        mount(path, new + path, None, MS_BIND)
        mount(None, new + path, None, MS_REMOUNT | MS_BIND | MS_RDONLY | flags_of(new + path))
    os.makedirs(new + spec["rw"], exist_ok=True)  # not recursive: the new root is under it
    mount(spec["rw"], new + spec["rw"], None, MS_BIND)
    if not spec["writable"]:  # a warm pool server: nothing writable at all
        for point in (spec["rw"], "/tmp", "/dev/shm", "/dev"):
            mount(None, new + point, None, MS_REMOUNT | MS_BIND | MS_RDONLY | flags_of(new + point))
    return new


def pivot(new: str, machine: str) -> None:
    os.chdir(new)
    number = PIVOT_ROOT.get(machine)
    if number is None or libc.syscall(number, b".", b"."):
        fail("pivot_root")
    if libc.umount2(b".", MNT_DETACH):
        fail("detach the old root")


def write(path: str, text: str) -> None:
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, text.encode())
    except OSError as exc:
        sys.stderr.write(f"workbench sandbox: write {path}: {exc.strerror}\n")
        os._exit(126)
    finally:
        os.close(fd)


def become(uid: int, gid: int) -> None:
    """A nested user namespace where we are `uid` (never 0) mapped to our root here."""
    if libc.unshare(CLONE_NEWUSER):
        fail("unshare the user namespace")
    write("/proc/self/setgroups", "deny")
    write("/proc/self/uid_map", f"{uid} 0 1")
    write("/proc/self/gid_map", f"{gid} 0 1")


def drop_privileges() -> None:
    for cap in range(64):  # exec can never give them back
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) and ctypes.get_errno() == 22:
            break
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0):
        fail("no_new_privs")
    header = (ctypes.c_uint32 * 2)(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this pid
    if libc.capset(header, (ctypes.c_uint32 * 6)()):
        fail("drop capabilities")


def main() -> None:
    spec, argv = json.loads(sys.argv[1]), sys.argv[2:]
    pivot(build_root(spec), spec["machine"])
    become(spec["uid"], spec["gid"])
    os.chdir(spec["cwd"])
    drop_privileges()
    os.execvp(argv[0], argv)


if __name__ == "__main__":
    main()
